"""cnnlab.nn._common: the private toolbox of cnnlab.nn (device resolver, checks, eval mode ...)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from cnnlab.nn import _common as C  # noqa: E402
from cnnlab.nn import count_parameters, default_device  # noqa: E402

pytestmark = [pytest.mark.torch]

CUDA = torch.cuda.is_available()


# -- the device resolver ------------------------------------------------------------------------
def test_device_none_and_auto_never_need_a_gpu():
    best = torch.device("cuda" if CUDA else "cpu")
    assert C._device() == C._device(None) == C._device("auto") == default_device() == best
    assert C._device("auto", model=nn.Linear(2, 1)) == best          # 'auto' ignores the model


def test_device_none_with_a_model_is_where_its_parameters_are():
    assert C._device(model=nn.Linear(2, 1)) == torch.device("cpu")
    assert C._device(model=nn.ReLU()) == torch.device("cpu")           # no parameters: the CPU
    with torch.device("meta"):
        meta = nn.Linear(2, 1)
    assert C._device(model=meta) == torch.device("meta")               # reports, does not choose
    assert C._device("cpu", model=meta) == torch.device("cpu")         # an explicit choice wins


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu"), "cpu:0"])
def test_device_cpu_spellings(device):
    assert C._device(device).type == "cpu"


@pytest.mark.parametrize("device", [3.5, 0, True, ["cpu"], b"cpu", object()])
def test_device_wrong_type_is_a_type_error(device):
    with pytest.raises(TypeError, match=r"^device must be None, 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got "):
        C._device(device)


@pytest.mark.parametrize("device, message", [
    ("gpu0", r"device must be None, 'auto', .* got 'gpu0'"),
    ("", r"device must be None, 'auto', .* got ''"),
    ("Auto", r"device must be None, 'auto', .* got 'Auto'"),
    ("meta", r"device 'meta' holds no values"),
    (torch.device("meta"), r"device 'meta' holds no values"),
])
def test_device_bad_values_are_value_errors(device, message):
    with pytest.raises(ValueError, match=message):
        C._device(device)


def test_device_cuda_needs_a_gpu():
    if not CUDA:
        for device in ("cuda", "cuda:0", torch.device("cuda")):
            with pytest.raises(ValueError, match=r"requested but CUDA is not available here; use 'cpu' or None"):
                C._device(device)
    else:
        assert C._device("cuda").type == "cuda"
        with pytest.raises(ValueError, match="CUDA device"):
            C._device(f"cuda:{torch.cuda.device_count()}")


def test_device_names_the_parameter():
    with pytest.raises(TypeError, match="^where must be"):
        C._device(1.0, name="where")


# -- models -------------------------------------------------------------------------------------
def test_check_model_dtype_and_counting():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    assert C._check_model(net) is net
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got function"):
        C._check_model(lambda x: x)
    assert C._dtype(net) == torch.float32 and C._dtype(net.double()) == torch.float64
    assert C._dtype(nn.ReLU()) == torch.float32
    assert C._count_parameters(net) == (9 + 1) * 2 + 2 * 2 == count_parameters(net)
    net[0].weight.requires_grad_(False)
    assert C._count_parameters(net, trainable_only=True) == 2 + 4 == count_parameters(net, trainable_only=True)
    shared = nn.Linear(3, 3)
    assert C._count_parameters(nn.Sequential(shared, shared)) == 12     # a shared layer counts once


def test_count_parameters_flag_is_a_bool():
    with pytest.raises(TypeError, match="trainable_only must be True or False, got 'yes'"):
        count_parameters(nn.Linear(2, 2), "yes")


def test_sequential_carries_its_input_size():
    plain = C._sequential([1, 28, 28], nn.Flatten(), nn.Linear(784, 10))
    named = C._sequential((3, 8, 8), nn.Conv2d(3, 4, 3), nn.ReLU(), names=["conv", "relu"])
    assert plain.input_size == (1, 28, 28) and [n for n, _ in plain.named_children()] == ["0", "1"]
    assert named.input_size == (3, 8, 8) and isinstance(named.conv, nn.Conv2d)


def test_eval_mode_restores_every_submodule_mode_even_on_errors():
    net = nn.Sequential(nn.Dropout(0.5), nn.Sequential(nn.BatchNorm1d(2), nn.Dropout(0.1)))
    net.train()
    net[1][0].eval()                                     # a mixed state: restored as it was
    before = [m.training for m in net.modules()]
    with C._eval_mode(net):
        assert not any(m.training for m in net.modules())
    assert [m.training for m in net.modules()] == before
    with pytest.raises(RuntimeError):
        with C._eval_mode(net):
            raise RuntimeError("boom")
    assert [m.training for m in net.modules()] == before


# -- images and layers --------------------------------------------------------------------------
def test_as_images_moves_to_the_model_dtype_and_checks():
    x = C._as_images(np.zeros((2, 1, 4, 4)), model=nn.Conv2d(1, 1, 1))
    assert x.dtype == torch.float32 and x.device.type == "cpu"
    with pytest.raises(ValueError, match=r"x must be a 4-D \(N, C, H, W\) batch, got shape \(1, 4, 4\); use x\[None\]"):
        C._as_images(torch.zeros(1, 4, 4))
    with pytest.raises(TypeError, match="images must hold floats"):
        C._as_images(torch.zeros(1, 1, 4, 4, dtype=torch.uint8), "images")
    with pytest.raises(ValueError, match="only finite numbers"):
        C._as_images(torch.full((1, 1, 2, 2), float("nan")))


def test_forward_until_stops_at_the_layer():
    calls = []
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(18, 1))
    net[2].register_forward_hook(lambda *a: calls.append(1))
    out = C._forward_until(net, torch.zeros(1, 1, 9, 9), "0")   # the head would fail on 7x7 maps
    assert out.shape == (1, 2, 7, 7) and calls == []
    assert C._resolve_layer(net, net[2]) == ("2", net[2]) and C._resolve_layer(net, 0)[0] == "0"
    with pytest.raises(ValueError, match=r"layer must be one of '0', '1', '2', got 'fc'"):
        C._resolve_layer(net, "fc")
    with pytest.raises(TypeError, match="layer must be a layer name"):
        C._resolve_layer(net, 1.5)
    assert [n for n, _ in C._leaf_layers(net)] == ["0", "1", "2"]


def test_input_errors_turns_torch_runtime_errors_into_value_errors():
    @C._input_errors("images")
    def run(x):
        return nn.Linear(3, 1)(x)

    with pytest.raises(ValueError, match="images does not fit the model: "):
        run(torch.zeros(2, 4))
