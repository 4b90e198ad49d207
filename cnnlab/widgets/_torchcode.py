"""The ``torch.nn.functional`` call equivalent to a convolution geometry, and a live check of it.

torch is imported lazily inside :func:`torch_check`, never when this module is imported.
"""
from __future__ import annotations

import numpy as np

from ..geometry import ConvGeometry, conv_geometry  # noqa: F401  (conv_geometry: used in the doctest)

__all__ = ["torch_code", "torch_check"]


def _arr(a):
    """A numpy array as a compact, exact-enough Python literal for the torch snippet."""
    return np.array2string(np.asarray(a), separator=", ", precision=4, suppress_small=True,
                           max_line_width=88, threshold=10_000).replace("\n", "\n" + " " * 4)


def _torch_args(geom, padding_mode):
    """(pad, padding) for the torch call: F.pad amounts (or None) and the conv's padding argument."""
    pads = geom.padding
    if padding_mode == "same":
        return None, "same"
    if all(b == a for b, a in pads):
        p = [b for b, _ in pads]
        return None, p[0] if len(set(p)) == 1 else tuple(p)
    flat = []
    for before, after in reversed(pads):  # F.pad lists the last axis first
        flat += [before, after]
    return tuple(flat), 0


def _check_geom(geom):
    if not isinstance(geom, ConvGeometry):
        raise TypeError(f"geom must be a ConvGeometry from cnnlab.geometry.conv_geometry, got {geom!r:.80}")


def torch_code(geom, padding_mode="symmetric"):
    """The ``torch.nn.functional`` code that computes the same output as ``geom``.

    Examples
    --------
    >>> g = conv_geometry([1, 2, 3, 4], [1, 0], padding=(0, 1))
    >>> print(torch_code(g, "asymmetric").splitlines()[-2])
    x = F.pad(x, (0, 1))  # torch pads symmetrically; uneven padding goes through F.pad
    """
    _check_geom(geom)
    nd = geom.ndim
    fn = f"conv{nd}d"
    lines = ["import torch", "import torch.nn.functional as F", ""]
    shape_x = "(N=1, C=1, L)" if nd == 1 else "(N=1, C=1, H, W)"
    shape_w = "(C_out=1, C_in=1, k)" if nd == 1 else "(C_out=1, C_in=1, kH, kW)"
    lines.append(f"x = torch.tensor({_arr(geom.x)}, dtype=torch.float64)[None, None]  # {shape_x}")
    lines.append(f"w = torch.tensor({_arr(geom.kernel)}, dtype=torch.float64)[None, None]  # {shape_w}")
    if geom.operation == "convolution":
        dims = [-1] if nd == 1 else [-2, -1]
        lines.append(f"w = torch.flip(w, dims={dims})  # torch correlates: flip the kernel to convolve")
    pad, padding = _torch_args(geom, padding_mode)
    if pad is not None:
        lines.append(f"x = F.pad(x, {pad})  # torch pads symmetrically; uneven padding goes through F.pad")
    s = geom.stride[0] if len(set(geom.stride)) == 1 else geom.stride
    d = geom.dilation[0] if len(set(geom.dilation)) == 1 else geom.dilation
    lines.append(f"y = F.{fn}(x, w, stride={s}, padding={padding!r}, dilation={d})")
    return "\n".join(lines)


def torch_check(geom, padding_mode="symmetric"):
    """Run the call of :func:`torch_code` and compare it with ``geom.output``.

    torch is imported here, lazily, never when cnnlab.widgets is imported.

    Returns
    -------
    (max_abs_difference or None, message)
        ``None`` when torch is not installed (the message says so).
    """
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None, "torch is not installed here, so only cnnlab and the matrix product were compared"
    _check_geom(geom)
    nd = geom.ndim
    x = torch.as_tensor(np.asarray(geom.x, dtype=np.float64))[None, None]
    w = torch.as_tensor(np.asarray(geom.kernel, dtype=np.float64))[None, None]
    if geom.operation == "convolution":
        w = torch.flip(w, dims=[-1] if nd == 1 else [-2, -1])
    pad, padding = _torch_args(geom, padding_mode)
    if pad is not None:
        x = F.pad(x, pad)
    conv = F.conv1d if nd == 1 else F.conv2d
    try:
        y = conv(x, w, stride=geom.stride, padding=padding, dilation=geom.dilation)
    except (RuntimeError, ValueError) as exc:  # torch refuses: report, do not crash the explorer
        return float("inf"), f"torch refused the call: {exc}"
    y = y[0, 0].numpy()
    if y.shape != geom.output.shape:
        return float("inf"), f"torch returned shape {y.shape}, cnnlab {geom.output.shape}"
    return float(np.max(np.abs(y - geom.output))), f"torch.nn.functional.conv{nd}d"
