"""conv2d and conv_transpose2d as ops: values, first and second derivatives, PyTorch, sizes,
adjointness, the modules, and the errors PyTorch raises too."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import minigen
import minigen.nn as nn
import minigen.nn.functional as F
from minigen.ops.conv import conv_transpose_output_size
from minigen.testing import gradcheck, gradgradcheck
from minigen.testing import strategies as mst

from helpers import DEVICES, assert_matches_torch, to_float64, torch

# Small configurations for the numeric checks (each Jacobian column is a forward pass).
SMALL = mst.conv_configs(max_side=5, max_channels=2, max_kernel=3, max_batch=2)


def arrays_for(config, seed, transposed=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(config.y_shape if transposed else config.x_shape)
    weight = 0.5 * rng.standard_normal(config.weight_shape)
    bias = rng.standard_normal(config.in_channels if transposed else config.out_channels)
    return x, weight, bias


@pytest.mark.parametrize("device", DEVICES)
@given(config=SMALL, seed=st.integers(0, 99))
def test_conv2d_gradients(device, config, seed):
    x, weight, bias = (minigen.tensor(a, requires_grad=True, device=device) for a in arrays_for(config, seed))

    def fn(x, weight, bias):
        return F.conv2d(x, weight, bias, **config.conv2d_kwargs())

    assert gradcheck(fn, [x, weight, bias])
    assert gradgradcheck(fn, [x, weight, bias], fast_mode=True)


@pytest.mark.parametrize("device", DEVICES)
@given(config=SMALL, seed=st.integers(0, 99))
def test_conv_transpose2d_gradients(device, config, seed):
    x, weight, bias = (minigen.tensor(a, requires_grad=True, device=device)
                       for a in arrays_for(config, seed, transposed=True))

    def fn(x, weight, bias):
        return F.conv_transpose2d(x, weight, bias, **config.conv_transpose2d_kwargs())

    assert gradcheck(fn, [x, weight, bias])
    assert gradgradcheck(fn, [x, weight, bias], fast_mode=True)


@pytest.mark.skipif(torch is None, reason="PyTorch is the reference")
@given(config=mst.conv_configs(), seed=st.integers(0, 99))
def test_conv2d_matches_pytorch(config, seed):
    assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, **config.conv2d_kwargs()),
                         lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **config.conv2d_kwargs()),
                         arrays_for(config, seed))


@pytest.mark.skipif(torch is None, reason="PyTorch is the reference")
@given(config=mst.conv_configs(), seed=st.integers(0, 99))
def test_conv_transpose2d_matches_pytorch(config, seed):
    kwargs = config.conv_transpose2d_kwargs()
    assert_matches_torch(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs),
                         lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **kwargs),
                         arrays_for(config, seed, transposed=True))


@given(config=mst.conv_configs(), seed=st.integers(0, 99))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(config, seed):
    x, weight, _ = arrays_for(config, seed)
    y = np.random.default_rng(seed + 1).standard_normal(config.y_shape)
    forward = F.conv2d(minigen.tensor(x), minigen.tensor(weight), **config.conv2d_kwargs())
    backward = F.conv_transpose2d(minigen.tensor(y), minigen.tensor(weight),
                                  **config.conv_transpose2d_kwargs())
    assert forward.shape == config.y_shape
    assert backward.shape == config.x_shape  # the size formula, output_padding included
    np.testing.assert_allclose(np.sum(forward.numpy() * y), np.sum(x * backward.numpy()),
                               rtol=1e-11, atol=1e-11)


@given(config=SMALL, seed=st.integers(0, 99))
def test_backward_is_linear_in_the_upstream_gradient(config, seed):
    x, weight, _ = (minigen.tensor(a, requires_grad=True) for a in arrays_for(config, seed))
    y = F.conv2d(x, weight, **config.conv2d_kwargs())
    rng = np.random.default_rng(seed)
    g1, g2 = (minigen.tensor(rng.standard_normal(y.shape)) for _ in range(2))
    grads = [minigen.autograd.grad(y, [x, weight], g, retain_graph=True) for g in (g1, g2, 2 * g1 + g2)]
    for i in range(2):
        np.testing.assert_allclose(grads[2][i].numpy(), 2 * grads[0][i].numpy() + grads[1][i].numpy(),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", [
    # (x shape, weight shape, kwargs): 1x1 kernel; kernel as large as the padded input;
    # stride larger than the kernel; batch 1 with groups
    ((2, 3, 5, 4), (4, 3, 1, 1), {}),
    ((1, 2, 3, 5), (3, 2, 5, 7), {"padding": 1}),
    ((2, 1, 9, 7), (2, 1, 2, 2), {"stride": 3}),
    ((1, 4, 6, 6), (4, 2, 3, 3), {"groups": 2, "dilation": 2, "padding": 2}),
])
def test_edge_cases(case):
    x_shape, w_shape, kwargs = case
    rng = np.random.default_rng(0)
    x, w = (minigen.tensor(rng.standard_normal(s), requires_grad=True) for s in (x_shape, w_shape))
    assert gradcheck(lambda x, w: F.conv2d(x, w, **kwargs), [x, w])
    if torch is not None:
        assert_matches_torch(lambda x, w: F.conv2d(x, w, **kwargs),
                             lambda x, w: torch.nn.functional.conv2d(x, w, **kwargs),
                             [x.detach().numpy(), w.detach().numpy()])


def test_the_dcgan_generator_input_layer():
    # W2's first layer: ConvTranspose2d(100, 256, k7) on a 1x1 input (64 here reduced to 3).
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 100, 1, 1)), 0.02 * rng.standard_normal((100, 256, 7, 7))
    out = F.conv_transpose2d(minigen.tensor(x), minigen.tensor(w))
    assert out.shape == (3, 256, 7, 7)
    np.testing.assert_allclose(out.numpy(), np.einsum("nc,cokl->nokl", x[:, :, 0, 0], w),
                               rtol=1e-12, atol=1e-13)


@pytest.mark.skipif(torch is None, reason="PyTorch is the reference")
@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Conv2d(3, 4, 3, stride=2, padding=1),
    lambda lib: lib.nn.Conv2d(4, 2, (2, 3), dilation=2, groups=2, bias=False),
    lambda lib: lib.nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1),
    lambda lib: lib.nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=1, groups=2),
])
def test_modules_match_pytorch_with_the_same_state(make):
    ours, theirs = make(minigen), make(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    # in float64, where sums of at most 28 terms of about 1 differ by about 1e-15, not by the
    # float32 rounding of each library's (and CPU's) order of summation
    to_float64(ours), theirs.double()
    x = np.random.default_rng(2).standard_normal((2, ours.in_channels, 7, 6))
    np.testing.assert_allclose(ours(minigen.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    assert repr(ours) == repr(theirs)


def test_default_initialisation_is_pytorchs():
    conv = nn.Conv2d(8, 16, 3)  # fan_in = 8 * 3 * 3
    bound = 1 / np.sqrt(72)
    for p in (conv.weight, conv.bias):
        values = p.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound and values.std() > bound / 3
    transposed = nn.ConvTranspose2d(8, 16, 3)  # PyTorch takes fan_in from dimension 1: 16 * 9
    assert np.abs(transposed.weight.detach().numpy()).max() <= 1 / np.sqrt(144)


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(minigen.zeros(1, 3, 5, 5), minigen.zeros(4, 2, 3, 3)),
     r"input \(1, 3, 5, 5\) has 3 channels but weight \(4, 2, 3, 3\) with groups=1 expects 2"),
    (lambda: F.conv2d(minigen.zeros(1, 1, 2, 2), minigen.zeros(1, 1, 5, 5)),
     r"kernel \(5, 5\) with dilation \(1, 1\) is larger than the padded input \(2, 2\)"),
    (lambda: F.conv2d(minigen.zeros(1, 1, 5, 5), minigen.zeros(1, 1, 3, 3), stride=0),
     r"stride must be >= 1, got 0"),
    (lambda: F.conv2d(minigen.zeros(1, 1, 5, 5), minigen.zeros(1, 1, 3, 3), dilation=(1, -1)),
     r"dilation must be >= 1"),
    (lambda: F.conv2d(minigen.zeros(1, 4, 5, 5), minigen.zeros(3, 2, 3, 3), groups=2),
     r"groups=2 does not divide the 3 output channels"),
    (lambda: F.conv2d(minigen.zeros(5, 5), minigen.zeros(1, 3, 3, 3)),
     r"expected a 4-D input \(N, C, H, W\) or a 3-D one \(C, H, W\)"),
    (lambda: F.conv2d(minigen.zeros(1, 1, 5, 5), minigen.zeros(1, 1, 3, 3), stride=2, padding="same"),
     r"padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(minigen.zeros(1, 1, 5, 5), minigen.zeros(1, 1, 3, 3), padding="full"),
     r"padding must be 'same', 'valid', an int or a pair of ints, got 'full'"),
    (lambda: nn.Conv2d(1, 1, 3, stride=2, padding="same"),
     r"Conv2d: padding='same' is not supported for strided convolutions"),
    (lambda: nn.Conv2d(1, 1, 3, padding_mode="reflect"),
     r"Conv2d: padding_mode='reflect' is not supported; only 'zeros'"),
    (lambda: F.conv_transpose2d(minigen.zeros(1, 2, 3, 3), minigen.zeros(2, 1, 3, 3), stride=2,
                                output_padding=2),
     r"output_padding \(2, 2\) must be smaller than either stride \(2, 2\) or dilation \(1, 1\)"),
    (lambda: F.conv_transpose2d(minigen.zeros(1, 3, 3, 3), minigen.zeros(2, 1, 3, 3)),
     r"input \(1, 3, 3, 3\) has 3 channels but weight \(2, 1, 3, 3\)"),
    (lambda: F.conv2d(minigen.zeros(1, 1, 5, 5), minigen.zeros(2, 1, 3, 3), minigen.zeros(3)),
     r"bias has shape \(3,\) but the output has 2 channels"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), r"groups=2 must divide in_channels=3"),
])
def test_invalid_convolutions_are_refused_with_the_numbers(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- what PyTorch takes beyond the kernels' geometry: unbatched inputs, padding by name, ---------
# --- output_padding up to the dilation ------------------------------------------------------------

def _op_and_kwargs(config, transposed):
    if transposed:
        return F.conv_transpose2d, config.conv_transpose2d_kwargs()
    return F.conv2d, config.conv2d_kwargs()


def _check_against_everything(op, kwargs, arrays):
    """gradcheck, gradgradcheck in float64 through the kernels, and PyTorch where installed."""
    fn = lambda x, w, b: op(x, w, b, **kwargs)  # noqa: E731
    inputs = [minigen.tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs, fast_mode=True)
    if torch is not None:
        torch_op = getattr(torch.nn.functional, op.__name__)
        assert_matches_torch(fn, lambda x, w, b: torch_op(x, w, b, **kwargs), arrays)
    return fn(*inputs)


@given(config=SMALL, seed=st.integers(0, 99), transposed=st.booleans())
def test_an_unbatched_input_is_a_batch_of_one(config, seed, transposed):
    op, kwargs = _op_and_kwargs(config, transposed)
    x, w, b = arrays_for(config, seed, transposed)
    batched = op(*(minigen.tensor(a) for a in (x[:1], w, b)), **kwargs)
    unbatched = _check_against_everything(op, kwargs, [x[0], w, b])
    np.testing.assert_array_equal(unbatched.detach().numpy(), batched.numpy()[0])


@st.composite
def same_padding_cases(draw):
    """A stride-1 convolution with any kernel (even ones too), dilation and input size."""
    groups = draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    hw = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    in_channels, out_channels = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    return ((draw(st.integers(1, 2)), in_channels) + hw,
            (out_channels, in_channels // groups) + kernel, dict(dilation=dilation, groups=groups))


# PyTorch warns that an even total padding copies the input: so does minigen (F.pad), silently.
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@given(case=same_padding_cases(), seed=st.integers(0, 99))
def test_padding_same_keeps_the_size(case, seed):
    x_shape, w_shape, kwargs = case
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in (x_shape, w_shape, w_shape[:1])]
    y = _check_against_everything(F.conv2d, dict(kwargs, padding="same"), arrays)
    assert y.shape[2:] == x_shape[2:]


@given(config=SMALL, seed=st.integers(0, 99))
def test_padding_valid_is_no_padding(config, seed):
    assume(all(n >= d * (k - 1) + 1 for n, k, d in zip(config.x_shape[2:], config.kernel, config.dilation)))
    kwargs = dict(config.conv2d_kwargs(), padding="valid")
    x, w, b = (minigen.tensor(a) for a in arrays_for(config, seed))
    np.testing.assert_array_equal(F.conv2d(x, w, b, **kwargs).numpy(),
                                  F.conv2d(x, w, b, **dict(kwargs, padding=0)).numpy())


@st.composite
def output_paddings_up_to_the_dilation(draw):
    """A transposed convolution whose output_padding is at least its stride somewhere (allowed
    while below the dilation): the kernels cannot map such sizes back under conv2d."""
    config = draw(mst.conv_configs(max_side=4, max_channels=2, max_kernel=3, max_dilation=4,
                                   max_batch=2))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                           for s, d in zip(config.stride, config.dilation))
    assume(any(o >= s for o, s in zip(output_padding, config.stride)))
    config = config._replace(output_padding=output_padding)
    assume(min(_transposed_output(config)) >= 1)
    return config


def _transposed_output(config):
    return tuple(map(conv_transpose_output_size, config.conv_output, config.kernel, config.stride,
                     config.padding, config.dilation, config.output_padding))


@given(config=output_paddings_up_to_the_dilation(), seed=st.integers(0, 99))
def test_output_padding_below_the_dilation_but_not_the_stride(config, seed):
    kwargs = config.conv_transpose2d_kwargs()
    y = _check_against_everything(F.conv_transpose2d, kwargs, arrays_for(config, seed, True))
    assert y.shape[2:] == _transposed_output(config)


def test_the_output_padding_case_pytorch_accepts_and_the_kernel_refused():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((2, 2, 4, 4), (2, 2, 4, 5), (4,))]
    kwargs = dict(stride=(3, 2), padding=(1, 2), output_padding=(2, 3), groups=2, dilation=(4, 4))
    assert _check_against_everything(F.conv_transpose2d, kwargs, arrays).shape == (2, 4, 22, 22)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Conv2d(3, 4, (2, 3), padding="same", dilation=(3, 1)),
    lambda lib: lib.nn.Conv2d(3, 4, 3, padding="valid"),
    lambda lib: lib.nn.ConvTranspose2d(2, 4, (4, 5), stride=(3, 2), padding=(1, 2),
                                       output_padding=(2, 3), groups=2, dilation=4),
])
def test_modules_take_what_the_functional_forms_take(make):
    ours = make(minigen)
    x = np.random.default_rng(3).standard_normal((ours.in_channels, 6, 5)).astype(np.float32)
    batched = ours(minigen.tensor(x[None])).detach().numpy()
    np.testing.assert_array_equal(ours(minigen.tensor(x)).detach().numpy(), batched[0])
    if torch is not None:
        theirs = make(torch)
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        np.testing.assert_allclose(ours(minigen.tensor(x.astype(np.float64))).detach().numpy(),
                                   theirs.double()(torch.tensor(x.astype(np.float64))).detach().numpy(),
                                   rtol=1e-12, atol=1e-12)
        assert repr(ours) == repr(theirs)


# --- the Python layer and the kernels agree on what is valid -----------------------------------

@st.composite
def any_geometry(draw):
    """Convolutions drawn without regard to validity: the small sizes where the rules bite."""
    groups = draw(st.integers(1, 3))
    transposed = draw(st.booleans())
    x_shape = (draw(st.integers(1, 2)), draw(st.integers(1, 4))) + (
        draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    w_shape = (draw(st.integers(1, 4)), draw(st.integers(1, 3))) + (
        draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    pair = lambda lo, hi: (draw(st.integers(lo, hi)), draw(st.integers(lo, hi)))  # noqa: E731
    kwargs = dict(stride=pair(1, 3), padding=pair(0, 3), dilation=pair(1, 3), groups=groups)
    if transposed:
        kwargs["output_padding"] = pair(0, 3)
    return transposed, x_shape, w_shape, kwargs


@given(case=any_geometry())
def test_what_the_python_layer_accepts_the_kernels_compute(case):
    """Each drawn call, forward and backward, either runs through the kernels or is refused by
    the op itself (its own name first, never a kernel binding's); PyTorch, where installed,
    accepts exactly the same calls and gives the same numbers."""
    transposed, x_shape, w_shape, kwargs = case
    op = F.conv_transpose2d if transposed else F.conv2d
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    ours = [minigen.tensor(a, requires_grad=True) for a in (x, w)]
    try:
        y = op(*ours, **kwargs)
    except ValueError as error:
        assert str(error).startswith(f"{op.__name__}: "), error
        y = None
    if y is not None:
        y.backward(minigen.ones_like(y))
    if torch is None:
        return
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w)]
    try:
        ref = getattr(torch.nn.functional, op.__name__)(*theirs, **kwargs)
    except RuntimeError:
        ref = None
    assert (y is None) == (ref is None), (y is None, kwargs)
    if ref is not None:
        ref.backward(torch.ones_like(ref))
        np.testing.assert_allclose(y.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
        for mine, reference in zip(ours, theirs):
            np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-12, atol=1e-12)
