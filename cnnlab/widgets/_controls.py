"""Small control builders shared by the explorers."""
from __future__ import annotations

import ipywidgets as widgets

STYLE = {"description_width": "120px"}


def slider(kind, value, lo, hi, description, *, step=None, continuous=False, width="340px", **kw):
    """An Int/FloatSlider with the course's label width; ``continuous_update`` off by default."""
    from .._validate import _check_int, _check_real

    # the initial value usually comes from a constructor argument: the contract's errors,
    # not a TraitError (an out-of-range number is clamped, as the slider always did)
    if kind is int:
        _check_int(value, description)
        value = max(lo, min(hi, value))
    else:
        value = max(lo, min(hi, _check_real(value, description)))
    cls = widgets.IntSlider if kind is int else widgets.FloatSlider
    if step is not None:
        kw["step"] = step
    return cls(value=value, min=lo, max=hi, description=description, style=STYLE,
               continuous_update=continuous, layout=widgets.Layout(width=width), **kw)


def stepper(description="position", *, interval=900):
    """An IntSlider and a Play button linked together (Play drives the slider).

    Returns
    -------
    (slider, play)
        Set both ``max`` values when the range changes (:func:`set_range`).
    """
    pos = widgets.IntSlider(value=0, min=0, max=0, description=description, style=STYLE,
                            layout=widgets.Layout(width="340px"))
    play = widgets.Play(value=0, min=0, max=0, step=1, interval=interval, description="play",
                        show_repeat=True)
    play.add_class("cnnlab-play")
    widgets.link((play, "value"), (pos, "value"))
    return pos, play


def set_range(pos, play, last):
    """Let ``pos`` and ``play`` run over ``0 .. last`` (clamping the current value)."""
    last = max(int(last), 0)
    if pos.value > last:
        pos.value = last
    pos.max = play.max = last
