"""The GAN building blocks: spectral norm (against SVD and PyTorch), DiffAugment, the EMA of G's
weights with BatchNorm recalibration, the hinge and BCE losses, the projection discriminator,
and the training options (lr_g, lr_d, ema, sample --label) that reach them."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
import minigen.nn as nn
from helpers import to_float64, torch
from minigen.cli import ema_decay, main
from minigen.models import DCGAN, GAN, SNGAN, ConditionalGAN
from minigen.models.augment import diff_augment
from minigen.models.networks import MinibatchStdDev, ProjectionDiscriminator
from minigen.models.ema import CALIBRATION_BATCHES, CALIBRATION_SIZE, AveragedModule
from minigen.nn.utils import remove_spectral_norm, spectral_norm
from minigen.testing import gradcheck, gradgradcheck
from minigen.train import TrainConfig, build

F64 = minigen.float64


def needs_torch():
    pytest.importorskip("torch", exc_type=ImportError)  # as helpers: a broken install counts as none


def f64(array, requires_grad=False):
    return minigen.tensor(np.asarray(array, dtype=np.float64), dtype=F64, requires_grad=requires_grad)


# --- spectral norm ------------------------------------------------------------------------------

# (name, build(library) -> layer, input shape, the weight's output dimension)
LAYERS = {
    "linear": (lambda lib: lib.nn.Linear(5, 3), (4, 5), 0),
    "conv2d": (lambda lib: lib.nn.Conv2d(2, 4, 3, padding=1), (2, 2, 5, 5), 0),
    "conv_transpose2d": (lambda lib: lib.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), (2, 3, 4, 4), 1),
}


def minigen_layer(kind, seed=0):
    minigen.manual_seed(seed)
    return spectral_norm(to_float64(LAYERS[kind][0](minigen)))


def torch_layer(kind, seed=0):
    torch.manual_seed(seed)
    return torch.nn.utils.spectral_norm(LAYERS[kind][0](torch).double())


def layer_input(kind, seed=1):
    return np.random.default_rng(seed).standard_normal(LAYERS[kind][1])


def as_matrix(weight, dim):
    """``weight`` with dimension ``dim`` as the rows, the rest flattened into the columns."""
    return np.moveaxis(weight, dim, 0).reshape(weight.shape[dim], -1)


def numpy_state(module):
    return {key: value.numpy().copy() for key, value in module.state_dict().items()}


def torch_state(module):
    return {key: value.detach().numpy().copy() for key, value in module.state_dict().items()}


@pytest.mark.parametrize("kind", LAYERS)
def test_spectral_norm_keeps_pytorchs_state_dict_keys_and_shapes(kind):
    layer = minigen_layer(kind)
    weight = layer.weight_orig.detach().numpy()
    rows, columns = as_matrix(weight, LAYERS[kind][2]).shape
    state = layer.state_dict()
    assert set(state) == {"bias", "weight_orig", "weight_u", "weight_v"}
    assert state["weight_u"].shape == (rows,) and state["weight_v"].shape == (columns,)
    for key in ("weight_u", "weight_v"):
        assert np.linalg.norm(state[key].numpy()) == pytest.approx(1.0, rel=1e-12)
    assert {name for name, _ in layer.named_parameters()} == {"bias", "weight_orig"}
    if torch is not None:
        reference = torch_layer(kind).state_dict()
        assert set(reference) == set(state)
        assert all(tuple(reference[key].shape) == state[key].shape for key in state)


def with_spectrum(shape, dim, seed):
    """A weight of ``shape`` whose matrix (``dim`` as rows) has singular values 2, 1.4, 0.98, ...:
    power iteration converges as 0.49 per step."""
    rng = np.random.default_rng(seed)
    order = [dim, *(d for d in range(len(shape)) if d != dim)]
    permuted = [shape[d] for d in order]
    rows, columns = permuted[0], int(np.prod(permuted[1:]))
    u, _, vt = np.linalg.svd(rng.standard_normal((rows, columns)), full_matrices=False)
    matrix = u @ np.diag(2 * 0.7 ** np.arange(len(u.T))) @ vt
    return np.moveaxis(matrix.reshape(permuted), 0, dim)


@given(kind=st.sampled_from(sorted(LAYERS)), a=st.integers(1, 5), b=st.integers(1, 5),
       k=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_training_forwards_converge_to_the_largest_singular_value(kind, a, b, k, seed):
    minigen.manual_seed(seed)
    if kind == "linear":
        layer, x = nn.Linear(a, b, dtype=F64), np.ones((1, a))
    elif kind == "conv2d":
        layer, x = nn.Conv2d(a, b, k, dtype=F64), np.ones((1, a, 3, 3))
    else:
        layer, x = nn.ConvTranspose2d(a, b, k, dtype=F64), np.ones((1, a, 2, 2))
    spectral_norm(layer)
    dim = LAYERS[kind][2]
    state = numpy_state(layer)
    state["weight_orig"] = with_spectrum(state["weight_orig"].shape, dim, seed)
    layer.load_state_dict(state)
    for _ in range(60):
        layer(f64(x))
    weight = layer.weight_orig.detach().numpy()
    largest = np.linalg.svd(as_matrix(weight, dim), compute_uv=False)[0]
    assert largest == pytest.approx(2.0, rel=1e-12)
    np.testing.assert_allclose(weight / layer.weight.detach().numpy(), np.full(weight.shape, largest),
                               rtol=1e-10)


@pytest.mark.parametrize("kind", LAYERS)
def test_eval_forwards_divide_by_the_stored_estimate_and_change_nothing(kind):
    layer = minigen_layer(kind)
    x = f64(layer_input(kind))
    layer(x)
    trained = numpy_state(layer)
    layer(x)                          # training: the power iteration moves u and v
    assert not np.array_equal(trained["weight_u"], layer.weight_u.numpy())
    assert not np.array_equal(trained["weight_v"], layer.weight_v.numpy())
    before = numpy_state(layer)
    layer.eval()
    first = layer(x).detach().numpy()
    for _ in range(3):
        np.testing.assert_array_equal(layer(x).detach().numpy(), first)
    for key, value in numpy_state(layer).items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    u, v, weight = before["weight_u"], before["weight_v"], before["weight_orig"]
    sigma = u @ as_matrix(weight, LAYERS[kind][2]) @ v
    np.testing.assert_allclose(layer.weight.detach().numpy(), weight / sigma, rtol=1e-13)


def assert_same_eval_output(ours, theirs, x):
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(f64(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", LAYERS)
def test_pytorchs_state_dict_loads_and_gives_the_same_eval_output(kind):
    needs_torch()
    theirs = torch_layer(kind, seed=3)
    x = layer_input(kind)
    for _ in range(3):
        theirs(torch.tensor(x))
    ours = minigen_layer(kind)
    ours.load_state_dict({key: value.detach() for key, value in theirs.state_dict().items()})
    assert_same_eval_output(ours, theirs, x)


@pytest.mark.parametrize("kind", LAYERS)
def test_minigens_state_dict_loads_into_pytorch_with_the_same_eval_output(kind):
    needs_torch()
    ours = minigen_layer(kind, seed=4)
    x = layer_input(kind)
    for _ in range(3):
        ours(f64(x))
    theirs = torch_layer(kind)
    theirs.load_state_dict({key: torch.tensor(value) for key, value in numpy_state(ours).items()})
    assert_same_eval_output(ours, theirs, x)


@pytest.mark.parametrize("kind", LAYERS)
def test_one_training_forward_and_backward_match_pytorch(kind):
    needs_torch()
    ours, theirs = minigen_layer(kind), torch_layer(kind)
    theirs.load_state_dict({key: torch.tensor(value) for key, value in numpy_state(ours).items()})
    x = layer_input(kind)
    out, ref = ours(f64(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    for key in ("weight_u", "weight_v"):
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), theirs.state_dict()[key].numpy(),
                                   rtol=1e-12, atol=1e-14, err_msg=key)
    upstream = np.random.default_rng(2).standard_normal(out.shape)
    (out * f64(upstream)).sum().backward()
    (ref * torch.tensor(upstream)).sum().backward()
    for name in ("weight_orig", "bias"):   # u and v are constants to both
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), getattr(theirs, name).grad.numpy(),
                                   rtol=1e-10, atol=1e-12, err_msg=name)


def with_weight(layer, weight, x):
    """``layer(x)`` with ``weight`` (any tensor, differentiable) in place of ``weight_orig``."""
    trained = layer._parameters["weight_orig"]
    layer._parameters["weight_orig"] = weight
    try:
        return layer(x)
    finally:
        layer._parameters["weight_orig"] = trained


@pytest.mark.parametrize("kind", LAYERS)
def test_gradients_through_a_spectrally_normalised_layer(kind):
    layer = minigen_layer(kind)
    x = layer_input(kind)[:1]
    layer(f64(x))            # u, v away from their random start
    layer.eval()             # then held fixed, as autograd treats them
    inputs = (f64(layer.weight_orig.detach().numpy(), requires_grad=True), f64(x, requires_grad=True))

    def fn(weight, x):
        return with_weight(layer, weight, x)

    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)
    # scaling W leaves W / σ(W) as it is: the weight's gradient is orthogonal to W itself,
    # which a gradient taking σ as a constant would not be
    gw, = minigen.autograd.grad(fn(*inputs).sum(), [inputs[0]])
    weight = inputs[0].detach().numpy()
    assert abs((gw.numpy() * weight).sum()) < 1e-12 * np.abs(gw.numpy()).sum() * np.abs(weight).max()
    assert np.abs(gw.numpy()).max() > 1e-3


def test_spectral_norm_refuses_what_it_cannot_normalise():
    with pytest.raises(ValueError, match="'weight'"):
        spectral_norm(nn.ReLU())
    with pytest.raises(ValueError, match="'kernel'"):
        spectral_norm(nn.Linear(2, 2), name="kernel")
    layer = spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="already"):
        spectral_norm(layer)
    for count in (0, -1):
        with pytest.raises(ValueError, match="n_power_iterations"):
            spectral_norm(nn.Linear(2, 2), n_power_iterations=count)
    with pytest.raises(ValueError, match="'weight'"):
        remove_spectral_norm(nn.Linear(2, 2))
    assert set(nn.Linear(2, 2).state_dict()) == {"weight", "bias"}   # a refusal changes nothing


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("kind", LAYERS)
def test_remove_spectral_norm_restores_a_plain_weight_of_w_over_sigma(kind, training):
    layer = minigen_layer(kind)
    x = f64(layer_input(kind))
    layer(x)
    layer.train(training)
    state = numpy_state(layer)
    expected = layer(x).detach().numpy() if not training else None
    sigma = state["weight_u"] @ as_matrix(state["weight_orig"], LAYERS[kind][2]) @ state["weight_v"]
    assert remove_spectral_norm(layer) is layer
    assert set(layer.state_dict()) == {"weight", "bias"}
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad
    assert {name for name, _ in layer.named_parameters()} == {"weight", "bias"}
    # PyTorch's removal: W / σ with the stored u and v, no power iteration
    np.testing.assert_allclose(layer.weight.detach().numpy(), state["weight_orig"] / sigma, rtol=1e-13)
    if expected is not None:
        np.testing.assert_allclose(layer(x).detach().numpy(), expected, rtol=1e-13, atol=1e-13)
    before = layer.weight.detach().numpy().copy()
    layer.train()
    layer(x)                                   # no hook left to change it
    np.testing.assert_array_equal(layer.weight.detach().numpy(), before)
    spectral_norm(layer)                       # and it can be normalised anew
    assert "weight_orig" in layer.state_dict()


def test_remove_spectral_norm_matches_pytorch_in_training_mode():
    needs_torch()
    ours, theirs = minigen_layer("linear"), torch_layer("linear")
    theirs.load_state_dict({key: torch.tensor(value) for key, value in numpy_state(ours).items()})
    remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-13)


# --- DiffAugment --------------------------------------------------------------------------------

def images(shape, seed=0, dtype=np.float64):
    return minigen.tensor(np.random.default_rng(seed).uniform(-1, 1, shape).astype(dtype))


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout", ""])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_augmentation_keeps_shape_and_dtype(policy, dtype):
    x = images((3, 2, 28, 28), dtype=dtype)
    out = diff_augment(x, policy)
    assert out.shape == x.shape and out.dtype == x.dtype
    if not policy:
        np.testing.assert_array_equal(out.numpy(), x.numpy())


def test_unknown_policies_are_refused_naming_the_valid_ones():
    with pytest.raises(ValueError, match="'flip'.*color, translation, cutout"):
        diff_augment(images((1, 1, 8, 8)), "translation,flip")


def test_augmentation_is_reproducible_under_manual_seed():
    x = images((4, 3, 16, 16))
    policy = "color,translation,cutout"
    minigen.manual_seed(7)
    first = diff_augment(x, policy).numpy()
    minigen.manual_seed(7)
    np.testing.assert_array_equal(diff_augment(x, policy).numpy(), first)
    assert not np.array_equal(diff_augment(x, policy).numpy(), first)   # a fresh draw differs


def shifted(image, dy, dx):
    """out[i, j] = image[i + dy, j + dx], zero where that falls outside."""
    height, width = image.shape[-2:]
    out = np.zeros_like(image)
    rows, columns = slice(max(0, -dy), min(height, height - dy)), slice(max(0, -dx), min(width, width - dx))
    source_rows = slice(rows.start + dy, rows.stop + dy)
    source_columns = slice(columns.start + dx, columns.stop + dx)
    out[..., rows, columns] = image[..., source_rows, source_columns]
    return out


def test_translation_shifts_each_image_by_at_most_an_eighth_zero_filled():
    x = images((300, 2, 28, 28), seed=1) + 2.0   # no zero pixel: each shift is told apart
    minigen.manual_seed(0)
    out = diff_augment(x, "translation").numpy()
    seen = set()
    for image, moved in zip(x.numpy(), out):
        matches = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)
                   if np.array_equal(moved, shifted(image, dy, dx))]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) > 60   # of the 81 shifts, drawn for each image


@given(row=st.integers(0, 27), column=st.integers(0, 27), seed=st.integers(0, 2**16))
def test_translation_moves_a_bright_pixel_by_at_most_four_or_drops_it(row, column, seed):
    x = np.zeros((8, 1, 28, 28))
    x[:, 0, row, column] = 1.0
    minigen.manual_seed(seed)
    out = diff_augment(minigen.tensor(x), "translation").numpy()
    for moved in out[:, 0]:
        lit = np.argwhere(moved != 0)
        assert len(lit) <= 1 and set(np.unique(moved)) <= {0.0, 1.0}
        if len(lit):
            dy, dx = lit[0] - (row, column)
            assert abs(dy) <= 4 and abs(dx) <= 4
        else:   # it fell off: only a pixel within 4 of an edge can
            assert min(row, column, 27 - row, 27 - column) < 4


def test_cutout_zeros_one_clipped_14_pixel_square_in_every_channel():
    x = minigen.ones(500, 3, 28, 28, dtype=F64)
    minigen.manual_seed(0)
    out = diff_augment(x, "cutout").numpy()
    assert set(np.unique(out)) == {0.0, 1.0}
    sizes = set()
    for image in out:
        assert (image == image[0]).all()        # the same square in every channel
        zeroed = image[0] == 0
        assert 1 <= zeroed.sum() <= 196
        rows, columns = np.flatnonzero(zeroed.any(axis=1)), np.flatnonzero(zeroed.any(axis=0))
        top, bottom, left, right = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
        assert zeroed[top:bottom, left:right].all() and zeroed.sum() == (bottom - top) * (right - left)
        for start, stop in ((top, bottom), (left, right)):   # 14 wide, or cut by the border
            assert stop - start == 14 or (stop - start < 14 and (start == 0 or stop == 28))
        sizes.add(int(zeroed.sum()))
    assert 196 in sizes and min(sizes) < 196


def test_color_on_one_channel_shifts_the_mean_and_scales_the_contrast():
    """With one channel saturation is the identity; brightness adds b in [-0.5, 0.5), contrast
    scales the distance from the mean by c in [0.5, 1.5)."""
    x = images((200, 1, 6, 6), seed=2)
    minigen.manual_seed(0)
    out = diff_augment(x, "color").numpy()
    centred_in = x.numpy() - x.numpy().mean(axis=(1, 2, 3), keepdims=True)
    centred_out = out - out.mean(axis=(1, 2, 3), keepdims=True)
    scale = (centred_out * centred_in).sum(axis=(1, 2, 3)) / (centred_in ** 2).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(centred_out, scale[:, None, None, None] * centred_in, atol=1e-12)
    shift = out.mean(axis=(1, 2, 3)) - x.numpy().mean(axis=(1, 2, 3))
    assert ((0.5 <= scale) & (scale < 1.5)).all() and ((-0.5 <= shift) & (shift < 0.5)).all()
    assert np.ptp(scale) > 0.8 and np.ptp(shift) > 0.8   # spread over the ranges


@pytest.mark.parametrize("policy, shape", [("color", (2, 3, 4, 4)), ("translation", (2, 1, 16, 16)),
                                           ("cutout", (2, 2, 8, 8)), ("color,translation,cutout", (1, 2, 8, 8))])
def test_augmentation_gradients_with_the_draws_fixed(policy, shape):
    def fn(x):
        minigen.manual_seed(11)   # every evaluation draws the same transformation
        return diff_augment(x, policy)

    x = images(shape, seed=3)
    x.requires_grad_(True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_the_gradient_of_a_translation_is_the_mask_of_the_pixels_kept():
    x = images((64, 2, 28, 28), seed=4) + 2.0
    x.requires_grad_(True)
    minigen.manual_seed(5)
    out = diff_augment(x, "translation")
    grad, = minigen.autograd.grad(out.sum(), [x])
    grad = grad.numpy()
    assert set(np.unique(grad)) <= {0.0, 1.0}   # every output pixel from at most one input pixel
    for image, moved, g in zip(x.detach().numpy(), out.detach().numpy(), grad):
        # the pixels that reach the output are those whose value the output holds
        assert g.sum() == (moved != 0).sum()
        kept = g[0] == 1
        rows, columns = np.flatnonzero(kept.any(axis=1)), np.flatnonzero(kept.any(axis=0))
        assert kept.sum() == len(rows) * len(columns) >= 24 * 24
        np.testing.assert_array_equal(np.sort(moved[moved != 0]), np.sort(image[g == 1]))


# --- the average of G's weights ------------------------------------------------------------------

def tiny_net(momentum=0.1):
    return to_float64(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=momentum), nn.ReLU()))


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5, -0.2])
def test_the_average_refuses_a_decay_outside_0_1(decay):
    with pytest.raises(ValueError, match="decay"):
        AveragedModule(tiny_net(), decay)


def perturb(module, rng):
    with minigen.no_grad():
        for p in module.parameters():
            p._data += rng.standard_normal(p.shape)


def test_updates_follow_the_warmed_up_decay():
    minigen.manual_seed(0)
    live = tiny_net()
    average = AveragedModule(live, 0.5)
    assert all(not p.requires_grad for p in average.average.parameters())
    expected = [p.detach().numpy().copy() for p in live.parameters()]
    rng = np.random.default_rng(0)
    decays = []
    for t in range(12):
        perturb(live, rng)
        average.update(live)
        decay = min(0.5, (1 + t) / (10 + t))
        decays.append(decay)
        expected = [decay * old + (1 - decay) * p.detach().numpy() for old, p in zip(expected, live.parameters())]
        for mine, value in zip(average.average.parameters(), expected):
            np.testing.assert_allclose(mine.numpy(), value, rtol=1e-13, atol=1e-14)
        assert int(average.updates.numpy()) == t + 1
    assert decays[0] == pytest.approx(0.1) and decays[-1] == 0.5   # the cap was reached (t = 8)
    # the live module's BatchNorm statistics are not averaged in
    np.testing.assert_array_equal(average.average[1].running_mean.numpy(), np.zeros(4))


def test_the_average_and_its_update_count_are_saved_and_resumed():
    minigen.manual_seed(0)
    live = tiny_net()
    average = AveragedModule(live, 0.95)
    rng = np.random.default_rng(1)
    for _ in range(5):
        perturb(live, rng)
        average.update(live)
    state = numpy_state(average)
    assert {"updates", "average.0.weight", "average.0.bias", "average.1.weight", "average.1.bias",
            "average.1.running_mean", "average.1.running_var"} <= set(state)
    assert int(state["updates"]) == 5
    resumed = AveragedModule(tiny_net(), 0.95)
    resumed.load_state_dict(state)
    perturb(live, rng)
    average.update(live)
    resumed.update(live)   # at t = 5, as the original: not from t = 0
    for key, value in numpy_state(average).items():
        np.testing.assert_array_equal(numpy_state(resumed)[key], value, err_msg=key)
    assert int(resumed.updates.numpy()) == 6


def test_recalibration_sets_batchnorm_statistics_to_those_of_the_averages_own_activations():
    minigen.manual_seed(0)
    live = tiny_net(momentum=0.3)
    average = AveragedModule(live, 0.9)
    rng = np.random.default_rng(2)
    for _ in range(3):
        perturb(live, rng)
        average.update(live)
    average.average[1].running_mean._data[...] = 5.0   # stale statistics, to be replaced
    live_mean = live[1].running_mean.numpy().copy()
    drawn = []

    def inputs(n):
        batch = rng.standard_normal((n, 3))
        drawn.append(batch)
        return (f64(batch),)

    average.recalibrate(inputs)
    assert len(drawn) == CALIBRATION_BATCHES and all(len(b) == CALIBRATION_SIZE for b in drawn)
    linear, norm = average.average[0], average.average[1]
    weight, bias = linear.weight.numpy(), linear.bias.numpy()
    activations = [b @ weight.T + bias for b in drawn]
    np.testing.assert_allclose(norm.running_mean.numpy(), np.concatenate(activations).mean(axis=0),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(norm.running_var.numpy(), np.mean([a.var(axis=0, ddof=1) for a in activations],
                                                                 axis=0), rtol=1e-12)
    assert norm.momentum == 0.3 and not average.average.training
    np.testing.assert_array_equal(live[1].running_mean.numpy(), live_mean)   # the live G is untouched


# --- the GAN losses --------------------------------------------------------------------------------

class HingeGAN(GAN):
    loss = "hinge"


def test_hinge_losses_are_the_formulas():
    assert SNGAN.loss == "hinge" and GAN.loss == "bce"
    model = HingeGAN((2,), lr=1e-3)
    rng = np.random.default_rng(0)
    real, fake = rng.uniform(-3, 3, 50), rng.uniform(-3, 3, 40)   # on both sides of the margins
    real_t, fake_t = f64(real, requires_grad=True), f64(fake, requires_grad=True)
    loss_d = model.discriminator_loss(real_t, fake_t)
    expected = np.maximum(0, 1 - real).mean() + np.maximum(0, 1 + fake).mean()
    assert loss_d.item() == pytest.approx(expected, rel=1e-14)
    g_real, g_fake = minigen.autograd.grad(loss_d, [real_t, fake_t])
    np.testing.assert_allclose(g_real.numpy(), -(real < 1.0).astype(float) / len(real), rtol=1e-14)
    np.testing.assert_allclose(g_fake.numpy(), (fake > -1.0).astype(float) / len(fake), rtol=1e-14)
    assert model.generator_loss(fake_t).item() == pytest.approx(-fake.mean(), rel=1e-14)


def test_bce_losses_are_the_formulas():
    model = GAN((2,), lr=1e-3)
    rng = np.random.default_rng(1)
    real, fake = rng.uniform(0.01, 0.99, 30), rng.uniform(0.01, 0.99, 20)
    loss_d = model.discriminator_loss(f64(real), f64(fake))
    assert loss_d.item() == pytest.approx(-np.log(real).mean() - np.log(1 - fake).mean(), rel=1e-13)
    assert model.generator_loss(f64(fake)).item() == pytest.approx(-np.log(fake).mean(), rel=1e-13)


# --- the projection discriminator -------------------------------------------------------------------

def projection_discriminator():
    minigen.manual_seed(0)
    features = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.LeakyReLU(0.2))   # (N, 2, 2, 2)
    return to_float64(ProjectionDiscriminator(features, 8, num_classes=3))


def test_the_projection_discriminator_is_linear_plus_the_embedding_projection():
    model = projection_discriminator()
    x = np.random.default_rng(0).standard_normal((5, 1, 6, 6))
    labels = np.array([0, 2, 1, 2, 0])
    out = model(f64(x), minigen.tensor(labels)).detach().numpy()
    phi = model.features(f64(x)).detach().numpy().reshape(5, -1)
    weights = {key: value.numpy() for key, value in model.state_dict().items()}
    expected = (phi @ weights["score.weight"].T)[:, 0] + weights["score.bias"][0] \
        + (weights["embedding.weight"][labels] * phi).sum(axis=1)
    assert out.shape == (5,)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    # the label matters: the same images of other classes are scored otherwise
    other = model(f64(x), minigen.tensor((labels + 1) % 3)).detach().numpy()
    assert not np.allclose(other, out)


def test_the_projection_discriminator_passes_gradcheck_in_x():
    model = projection_discriminator()
    labels = minigen.tensor(np.array([1, 0, 2]))
    x = f64(np.random.default_rng(1).standard_normal((3, 1, 6, 6)), requires_grad=True)
    assert gradcheck(lambda x: model(x, labels), (x,))


# --- packing (PacGAN) --------------------------------------------------------------------------------

class PackedGAN(GAN):
    pack = 3
    points_recipe = {**GAN.points_recipe, "clusters": 0}   # packs take no per-sample labels


def test_a_packed_discriminator_scores_consecutive_samples_together():
    minigen.manual_seed(0)
    model = to_float64(PackedGAN((2,), lr=1e-3))
    points = np.random.default_rng(0).standard_normal((6, 2))
    scores = model.score(f64(points)).detach().numpy()
    assert scores.shape == (2,)
    expected = model.discriminator(f64(points.reshape(2, 6))).detach().numpy().reshape(2)
    np.testing.assert_array_equal(scores, expected)
    # the order within a pack matters to D: it sees the pack side by side, not a set
    swapped = points[[1, 0, 2, 3, 4, 5]]
    assert model.score(f64(swapped)).detach().numpy()[0] != scores[0]
    np.testing.assert_allclose(model.discriminate(f64(points)).detach().numpy(), 1 / (1 + np.exp(-scores)),
                               rtol=1e-14)   # the BCE loss's probability


def test_a_packed_image_discriminator_stacks_the_pack_as_channels():
    minigen.manual_seed(0)
    dcgan = type("PackedDCGAN", (DCGAN,), {"pack": 2, "clusters": 0})((1, 28, 28))
    assert dcgan.discriminator[0].in_channels == 2
    mlp_gan = type("PackedMLP", (GAN,), {"pack": 2, "mlp_recipe": {**GAN.mlp_recipe, "clusters": 0}})((1, 28, 28))
    assert mlp_gan.discriminator[1].in_features == 2 * 784
    images = minigen.randn(4, 1, 28, 28)
    assert mlp_gan.discriminate(images).shape == (2,) and dcgan.discriminate(images).shape == (2,)


def test_packing_refuses_a_batch_it_cannot_split_and_labels_it_cannot_share():
    with pytest.raises(ValueError, match="batch of 7 .* packs of 3"):
        PackedGAN((2,), lr=1e-3).discriminate(minigen.randn(7, 2))
    with pytest.raises(ValueError, match="pack=2.*label"):
        type("PackedCGAN", (ConditionalGAN,), {"pack": 2})((1, 28, 28), num_classes=10)


def test_a_packed_gan_trains_a_step():
    minigen.manual_seed(0)
    model = PackedGAN((2,), lr=1e-3)
    losses = model.train_step((minigen.randn(12, 2),), 0)
    assert set(losses) == {"loss_d", "loss_g"} and all(np.isfinite(list(losses.values())))


# --- training options ------------------------------------------------------------------------------

@pytest.mark.parametrize("ema", [1.5, 1, 0, 0.0, -0.5])
def test_an_ema_decay_outside_0_1_is_refused(ema):
    with pytest.raises(ValueError, match="ema"):
        TrainConfig("dcgan", ema=ema).resolved()


def test_ema_off_and_within_0_1_are_taken():
    assert TrainConfig("dcgan", ema=0.999).resolved().ema == 0.999
    assert TrainConfig("dcgan", ema=False).resolved().ema is False


@pytest.mark.parametrize("option", [dict(lr_g=1e-3), dict(lr_d=1e-3), dict(ema=0.99)])
def test_gan_options_are_refused_for_a_model_that_is_not_a_gan(option):
    with pytest.raises(ValueError, match=f"{next(iter(option))}.*not one"):
        TrainConfig("vae", **option).resolved()


def test_build_passes_the_learning_rates_and_the_decay_to_the_gan():
    _, model = build(TrainConfig("gan", data="ring8", lr=2e-4, lr_g=1e-4, lr_d=4e-4, ema=0.99).resolved())
    assert model.opt_g.param_groups[0]["lr"] == 1e-4 and model.opt_d.param_groups[0]["lr"] == 4e-4
    assert model.generator_ema is not None and model.generator_ema.decay == 0.99
    _, model = build(TrainConfig("gan", data="ring8", lr=2e-4, lr_d=4e-4).resolved())
    assert model.opt_g.param_groups[0]["lr"] == 2e-4 and model.opt_d.param_groups[0]["lr"] == 4e-4
    assert model.generator_ema is None


def test_the_command_line_rejects_an_ema_decay_outside_0_1(tmp_path, capsys):
    assert ema_decay("off") is False and ema_decay("0.999") == 0.999
    for text in ("1.5", "0", "1"):
        with pytest.raises(SystemExit):
            main(["train", "dcgan", "--ema", text, "--out", str(tmp_path / "x"), "--quiet"])
        assert "--ema" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def tiny_run(tmp_path, model, *options):
    out = tmp_path / model
    assert main(["train", model, *options, "--steps", "2", "--batch-size", "16", "--out", str(out), "--quiet",
                 "--sample-every", "1000", "--checkpoint-every", "1000"]) == 0
    return str(out / "checkpoint.npz")


def test_sample_label_is_refused_for_an_unconditional_model(tmp_path, capsys):
    checkpoint = tiny_run(tmp_path, "gan", "--data", "ring8")
    capsys.readouterr()
    assert main(["sample", checkpoint, "--label", "3"]) == 1
    assert "--label" in capsys.readouterr().err
    assert not (tmp_path / "gan" / "sampled.png").exists()


def test_sample_label_draws_a_class_of_a_conditional_model_and_refuses_others(tmp_path, capsys):
    checkpoint = tiny_run(tmp_path, "cgan")
    capsys.readouterr()
    for label in ("12", "-1", "10"):
        assert main(["sample", checkpoint, "--label", label]) == 1
        assert "--label" in capsys.readouterr().err
    assert not (tmp_path / "cgan" / "sampled.png").exists()
    assert main(["sample", checkpoint, "--label", "3", "--count", "4"]) == 0
    assert (tmp_path / "cgan" / "sampled.png").stat().st_size > 0


# --- minibatch standard deviation -------------------------------------------------------------------

def test_minibatch_stddev_appends_the_mean_spread_of_the_features_to_every_sample():
    x = np.random.default_rng(0).standard_normal((6, 4))
    out = MinibatchStdDev()(f64(x)).numpy()
    assert out.shape == (6, 5)
    np.testing.assert_array_equal(out[:, :4], x)
    np.testing.assert_allclose(out[:, 4], np.sqrt(x.var(axis=0) + 1e-8).mean(), rtol=1e-14)
    # copies have no spread: the feature a collapsed generator cannot fake
    copies = MinibatchStdDev()(f64(np.tile(x[:1], (6, 1)))).numpy()
    np.testing.assert_allclose(copies[:, 4], 1e-4, rtol=1e-12)


@given(n=st.integers(2, 5), features=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_minibatch_stddev_passes_gradcheck_and_gradgradcheck(n, features, seed):
    x = f64(np.random.default_rng(seed).standard_normal((n, features)), requires_grad=True)
    assert gradcheck(MinibatchStdDev(), (x,))
    assert gradgradcheck(MinibatchStdDev(), (x,))
