"""cnnlab.nn.synthesis: Gaussian blur, activation maximisation, DeepDream."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
ndimage = pytest.importorskip("scipy.ndimage")
from hypothesis import given, settings, strategies as st  # noqa: E402
from torch import nn  # noqa: E402

from cnnlab.nn.synthesis import deepdream, gaussian_blur, maximise_activation  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("one_thread")]


def small_cnn(seed=0, classes=3):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(6 * 3 * 3, classes))


@settings(max_examples=25, deadline=None)
@given(st.floats(0.3, 2.0), st.integers(9, 16), st.integers(0, 10**6))
def test_gaussian_blur_matches_scipy(sigma, size, seed):
    x = np.random.default_rng(seed).random((2, 3, size, size))
    radius = int(np.ceil(3 * sigma))
    ref = ndimage.gaussian_filter(x, sigma=(0, 0, sigma, sigma), mode="mirror", radius=(0, 0, radius, radius))
    np.testing.assert_allclose(gaussian_blur(torch.from_numpy(x), sigma).numpy(), ref, atol=1e-12)


def test_gaussian_blur_zero_sigma_and_errors():
    x = torch.rand(1, 1, 6, 6)
    assert gaussian_blur(x, 0) is x
    with pytest.raises(ValueError, match="sigma must be >= 0.0, got -1.0"):
        gaussian_blur(x, -1.0)
    with pytest.raises(ValueError, match="needs images larger than 6 pixels"):
        gaussian_blur(x, 2.0)


def test_maximise_class_logit_raises_it_and_the_model_agrees():
    model = small_cnn(1)
    res = maximise_activation(model, [0, 1, 2], shape=(1, 12, 12), steps=60, lr=0.1, l2=1e-3, jitter=1, blur_sigma=0.5)
    assert res.images.shape == (3, 1, 12, 12)
    assert res.objective[-1] > res.objective[0]
    assert model(res.images).argmax(1).tolist() == [0, 1, 2]
    assert res.images.min() >= 0 and res.images.max() <= 1
    assert all(p.grad is None for p in model.parameters())


def test_regularisers_do_what_they_say():
    model = small_cnn(2)
    common = dict(shape=(1, 12, 12), steps=40, lr=0.1, clip=None, jitter=0, blur_every=0, seed=3)
    free = maximise_activation(model, 1, l2=0.0, **common).images
    damped = maximise_activation(model, 1, l2=0.5, **common).images
    assert damped.norm() < 0.5 * free.norm()
    blurred = maximise_activation(model, 1, l2=0.0, **{**common, "blur_every": 1, "blur_sigma": 1.0}).images
    roughness = lambda im: (im[..., 1:, :] - im[..., :-1, :]).abs().mean()  # noqa: E731
    assert roughness(blurred) < roughness(free)
    a = maximise_activation(model, 1, **{**common, "jitter": 2}).images
    b = maximise_activation(model, 1, **{**common, "jitter": 2}).images
    torch.testing.assert_close(a, b)          # seeded


def test_maximise_a_feature_map():
    model = small_cnn(3)
    res = maximise_activation(model, layer="0", channel=[0, 2], shape=(1, 12, 12), steps=30, lr=0.1)
    before = model[0](torch.full((2, 1, 12, 12), 0.5))[[0, 1], [0, 2]].mean()
    after = model[0](res.images)[[0, 1], [0, 2]].mean()
    assert res.images.shape == (2, 1, 12, 12) and after > before


def test_maximise_errors():
    model = small_cnn()
    with pytest.raises(ValueError, match="either target"):
        maximise_activation(model)
    with pytest.raises(ValueError, match="either target"):
        maximise_activation(model, 1, layer="1", channel=0)
    with pytest.raises(ValueError, match="channel is required with layer"):
        maximise_activation(model, layer="1")
    with pytest.raises(ValueError, match="channel must index the feature maps of layer '1'"):
        maximise_activation(model, layer="1", channel=9, shape=(1, 12, 12), steps=1)
    with pytest.raises(ValueError, match="target must be a class index below 3"):
        maximise_activation(model, 5, shape=(1, 12, 12), steps=1)
    with pytest.raises(ValueError, match="steps must be a positive int, got 0"):
        maximise_activation(model, 1, steps=0)
    with pytest.raises(TypeError, match="shape must be a \\(C, H, W\\) tuple"):
        maximise_activation(model, 1, shape=(12, 12))
    with pytest.raises(ValueError, match="init must hold one image per target"):
        maximise_activation(model, [0, 1], init=torch.rand(1, 1, 12, 12))


def test_deepdream_follows_the_seed_recipe():
    """One step moves x along ∂(½Σa²)/∂x = backprop of δ = a, normalised by mean |g|."""
    model = small_cnn(4)
    x = torch.rand(2, 1, 12, 12)
    xr = x.clone().requires_grad_(True)
    a = model[:2](xr)
    (g,) = torch.autograd.grad(a, xr, grad_outputs=a)       # δ at the layer = its activations
    expected = (x + 0.01 * g / g.abs().flatten(1).mean(1).view(-1, 1, 1, 1)).clamp(0, 1)
    res = deepdream(model, x, "1", steps=1, step_size=0.01)
    torch.testing.assert_close(res.images, expected)
    assert res.objective[0] == pytest.approx(float(0.5 * (a.detach() ** 2).sum() / 2))


def test_deepdream_amplifies_the_layer_on_any_image_size():
    model = small_cnn(5)
    photo = torch.rand(1, 1, 40, 30)
    res = deepdream(model, photo, "4", steps=10, step_size=0.02, jitter=1)
    assert res.images.shape == photo.shape
    assert res.objective[-1] > 1.2 * res.objective[0]
    one = deepdream(model, photo, "1", channel=3, steps=5)
    assert one.objective[-1] > one.objective[0]
    with pytest.raises(ValueError, match="channel must be below 4"):
        deepdream(model, photo, "1", channel=4)
    with pytest.raises(ValueError, match="step_size must be positive"):
        deepdream(model, photo, "1", step_size=0)
