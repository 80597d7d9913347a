"""Numerical edge cases of every kernel of minigen._C, held to PyTorch, and the float32 GEMM's
accuracy held to the bound its blocked summation guarantees.

Inputs carry NaN, +-inf, -0.0, subnormals and huge values at chosen positions, in both dtypes;
each kernel (ref and fast, every GEMM micro-kernel this CPU runs) must put NaN exactly where
PyTorch's op does, inf of the same sign where PyTorch's is inf, and agree with it elsewhere to
rounding. Deliberate differences, each pinned by a test:
  - conv2d: a tap in the zero padding multiplies a 0, so an infinite weight or output gradient
    gives NaN there (conv2d(pad(x), w) taken literally). PyTorch's result depends on its backend:
    its im2col path does the same, oneDNN skips such taps; the reference here is the im2col path.
  - batch norm and the gradient penalty sum in double for both dtypes (csrc/cpu/norm.cc,
    penalty.cc): their float32 results are PyTorch's formula evaluated in float64 and rounded,
    finite where PyTorch's float32 squares overflow.
  - BCE from logits at x = +-inf gives the loss's limit (0 or inf; documented in _C.pyi), where
    PyTorch's formula (1 - t) x - log_sigmoid(x) gives inf - inf = NaN.
  - BCE from probabilities: NaN in p propagates (PyTorch raises); the target's gradient is that
    of the clamped loss (+-100 at p = 0 or 1, where PyTorch's logit gives +-inf).
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen import _C
from minigen.testing.strategies import ConvConfig, conv_configs

from helpers import GEMM_IMPLS, gamma, longest_conv_sum

# A kernel test module: scripts/sanitize.py and CI's pass on the AVX2 micro-kernels run these.
pytestmark = pytest.mark.kernels

DTYPES = [np.float32, np.float64]
IMPLS = ["ref", "fast"]
seeds = st.integers(0, 2**32 - 1)
# sizes of elementwise arrays: one element, odd tails of the vector loops, a few vectors
sizes = st.one_of(st.sampled_from([1, 2, 7, 17, 33, 65]), st.integers(1, 200))




# --- inputs and comparison ---------------------------------------------------------------------

def huge(dtype):
    """Large but finite: a product of two overflows, a sum of a few does not."""
    return dtype(1e30) if dtype == np.float32 else dtype(1e200)


def specials(dtype, big=None):
    tiny = np.finfo(dtype).smallest_subnormal
    big = huge(dtype) if big is None else dtype(big)
    return np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, tiny, -3 * tiny, big, -big], dtype)


def sprinkled(rng, shape, dtype, fraction=0.15, values=None):
    """Standard normal values with special ones (``specials``) at random positions."""
    x = rng.standard_normal(shape).astype(dtype)
    where = rng.random(shape) < fraction
    x[where] = rng.choice(specials(dtype) if values is None else values, int(where.sum()))
    return x


def assert_ieee_close(actual, expected, rtol, scale=None, what="", atol=0.0):
    """NaN exactly where expected has NaN, inf of the same sign where it has inf, and elsewhere
    |actual - expected| <= rtol * scale + atol (scale: |expected| unless given)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=f"{what}: NaN at")
    inf = np.isinf(expected)
    np.testing.assert_array_equal(np.isinf(actual), inf, err_msg=f"{what}: inf at")
    np.testing.assert_array_equal(actual[inf], expected[inf], err_msg=f"{what}: inf signs")
    finite = np.isfinite(expected)
    scale = np.abs(expected) if scale is None else np.broadcast_to(scale, expected.shape)
    error = np.abs(actual[finite].astype(np.float64) - expected[finite].astype(np.float64))
    bound = rtol * scale[finite].astype(np.float64) + np.broadcast_to(atol, expected.shape)[finite]
    bad = error > bound
    assert not bad.any(), (f"{what}: {bad.sum()} values off, e.g. {actual[finite][bad][:4]} "
                           f"instead of {expected[finite][bad][:4]}")


def eps(dtype):
    return float(np.finfo(dtype).eps)


def tt(a, requires_grad=False):
    return torch.tensor(a, requires_grad=requires_grad)


def torch_in_float64(fn, *arrays, dtype):
    """fn's results (a tuple of tensors) computed in float64 and rounded to dtype, as arrays:
    torch's own rounding (NumPy would warn where a value overflows float32)."""
    results = fn(*(tt(a.astype(np.float64), True) for a in arrays))
    return [r.detach().to(getattr(torch, np.dtype(dtype).name)).numpy() for r in results]


# --- leaky_relu --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("slope", [0.0, 0.01, 0.2])
@given(n=sizes, seed=seeds)
def test_leaky_relu(dtype, slope, n, seed):
    rng = np.random.default_rng(seed)
    x, gy = sprinkled(rng, n, dtype), sprinkled(rng, n, dtype)
    xt = tt(x, True)
    y_ref = F.leaky_relu(xt, slope)
    gx_ref, = torch.autograd.grad(y_ref, xt, tt(gy))
    for impl in IMPLS:
        y, gx = np.empty_like(x), np.empty_like(x)
        _C.leaky_relu_fwd(x, y, slope, impl)
        _C.leaky_relu_bwd(x, gy, gx, slope, impl)
        # elementwise: one multiplication, so the same bits
        np.testing.assert_array_equal(y, y_ref.detach().numpy(), err_msg=impl)
        np.testing.assert_array_equal(gx, gx_ref.numpy(), err_msg=impl)


# --- binary cross-entropy ----------------------------------------------------------------------

def grid(*columns):
    """Every combination of the given values, each flattened to one array per column."""
    return [a.ravel() for a in np.meshgrid(*columns, indexing="ij")]


def probabilities(dtype):
    tiny, e = np.finfo(dtype).smallest_subnormal, np.finfo(dtype).eps
    return np.array([0.0, tiny, 1e-30, 1e-7, 1e-3, 0.25, 0.5, 1 - 4 * e, 1 - e / 2, 1.0], dtype)


TARGETS = [0.0, 0.3, 0.5, 1.0]


def kernel_out(kernel, impl, *arrays):
    out = np.empty_like(arrays[0])
    kernel(*arrays, out, impl)
    return out


def torch_loss_on_grid(loss_fn, inputs, seed):
    """Every input beside every one of TARGETS, a random upstream gradient, and PyTorch's
    elementwise loss and input gradient there: (x, t, gy, loss, grad), all arrays."""
    x, t = grid(inputs, np.array(TARGETS, inputs.dtype))
    gy = np.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)
    xt = tt(x, True)
    loss = loss_fn(xt, tt(t), reduction="none")
    grad, = torch.autograd.grad(loss, xt, tt(gy))
    return x, t, gy, loss.detach().numpy(), grad.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_at_probabilities_zero_and_one(dtype):
    p, t, gy, loss, gp_ref = torch_loss_on_grid(F.binary_cross_entropy, probabilities(dtype), seed=0)
    assert np.isfinite(loss).all() and np.isfinite(gp_ref).all()
    for impl in IMPLS:
        assert_ieee_close(kernel_out(_C.bce_fwd, impl, p, t), loss, 8 * eps(dtype), what="loss")
        assert_ieee_close(kernel_out(_C.bce_bwd, impl, p, t, gy), gp_ref, 8 * eps(dtype),
                          what="gradient")


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_nan_propagates(dtype):
    # PyTorch raises on NaN (outside [0, 1] for its check); minigen's contract is to propagate it
    p, t = np.array([np.nan, 0.5, np.nan], dtype), np.array([0.0, np.nan, 1.0], dtype)
    for impl in IMPLS:
        np.testing.assert_array_equal(np.isnan(kernel_out(_C.bce_fwd, impl, p, t)), True)
        gp = kernel_out(_C.bce_bwd, impl, p, t, np.ones_like(p))
        np.testing.assert_array_equal(np.isnan(gp), True)


def logits(dtype):
    tiny = np.finfo(dtype).smallest_subnormal
    return np.array([-np.inf, -1e30, -1e4, -100, -20, -1, -tiny, -0.0, 0.0, tiny, 1, 20, 100,
                     1e4, 1e30, np.inf, np.nan], dtype)


def logit_limits(x, t, loss):
    """PyTorch's loss with its inf - inf at x = +-inf replaced by the limit of the loss there:
    t = 1 at +inf and t = 0 at -inf give 0, anything else +inf."""
    limit = np.where(t == (x > 0), 0.0, np.inf)
    return np.where(np.isinf(x), limit, loss).astype(loss.dtype)


def logit_loss_scale(x, loss):
    """What PyTorch's (1 - t) x - log_sigmoid(x) rounds: terms of size |x| cancel to leave a
    loss as small as e^-|x| (0 at x = -100 in float64, where the loss is 3.7e-44)."""
    return np.abs(loss) + np.where(np.isfinite(x), np.abs(x), 0)


def below_normal(gy):
    """The absolute error allowed a gradient gy * sigmoid(x) where the sigmoid is subnormal:
    PyTorch's float32 sigmoid is 1 / (1 + e^-x), 0 once e^-x overflows (x < -88), where
    minigen's e^x / (1 + e^x) keeps e.g. sigmoid(-100) = 3.7e-44."""
    return np.abs(gy.astype(np.float64)) * np.finfo(gy.dtype).tiny


def assert_softplus_accurate(x, t, loss):
    """At t = 0 and x < 0 the loss is log(1 + e^x), which minigen's stable form keeps to a few
    ulps however small (PyTorch's cancels): held to log1p(exp(x)) in float64."""
    at = (t == 0) & (x < 0) & np.isfinite(x)
    exact = np.log1p(np.exp(x[at].astype(np.float64)))
    assert_ieee_close(loss[at], exact.astype(loss.dtype), 4 * eps(loss.dtype), what="softplus")


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_extreme_logits(dtype):
    x, t, gy, loss, gx_ref = torch_loss_on_grid(F.binary_cross_entropy_with_logits, logits(dtype),
                                                seed=1)
    expected = logit_limits(x, t, loss)
    for impl in IMPLS:
        loss = kernel_out(_C.bce_logits_fwd, impl, x, t)
        assert_ieee_close(loss, expected, 8 * eps(dtype), logit_loss_scale(x, expected),
                          what="loss")
        assert_softplus_accurate(x, t, loss)
        assert_ieee_close(kernel_out(_C.bce_logits_bwd, impl, x, t, gy), gx_ref,
                          8 * eps(dtype), what="gradient", atol=below_normal(gy))


def ops_and_torch(fn_minigen, fn_torch, arrays):
    """Value and input gradients (upstream ones) of an op, minigen's and PyTorch's, as arrays.
    Any RuntimeWarning (overflow, invalid) is an error here, as under pytest's settings."""
    ours = [minigen.tensor(a, requires_grad=True) for a in arrays]
    theirs = [tt(a, True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn_minigen(*ours)
        grads = minigen.autograd.grad(out, ours, minigen.tensor(np.ones(out.shape, out.dtype)))
    ref = fn_torch(*theirs)
    ref_grads = torch.autograd.grad(ref, theirs, torch.ones_like(ref))
    return ([out.detach().numpy()] + [g.numpy() for g in grads],
            [ref.detach().numpy()] + [g.numpy() for g in ref_grads])


@pytest.mark.parametrize("dtype", DTYPES)
def test_logit_ops_never_overflow(dtype):
    # The Python-level ops over these kernels and the sigmoid: no overflow warning at any
    # logit, and PyTorch's value and gradients (the loss's limits at +-inf, as above).
    x, t = grid(logits(dtype), np.array(TARGETS, dtype))
    finite_x = np.isfinite(x)
    ours, ref = ops_and_torch(
        lambda a, b: minigen.nn.functional.binary_cross_entropy_with_logits(a, b, reduction="none"),
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"), [x, t])
    ref[0] = logit_limits(x, t, ref[0])
    assert_ieee_close(ours[0], ref[0], 8 * eps(dtype), logit_loss_scale(x, ref[0]), what="loss")
    assert_softplus_accurate(x, t, ours[0])
    for what, a, b in zip(["d/dx", "d/dt"], ours[1:], ref[1:]):
        assert_ieee_close(a, b, 8 * eps(dtype), what=what, atol=below_normal(np.ones_like(x)))
    assert np.isfinite(ours[1][finite_x]).all()
    ours, ref = ops_and_torch(minigen.sigmoid, torch.sigmoid, [logits(dtype)])
    for what, a, b in zip(["sigmoid", "its gradient"], ours, ref):
        assert_ieee_close(a, b, 4 * eps(dtype), what=what, atol=below_normal(np.ones_like(a)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_op_at_probabilities_zero_and_one(dtype):
    p, t = grid(probabilities(dtype), np.array(TARGETS, dtype))
    ours, ref = ops_and_torch(
        lambda a, b: minigen.nn.functional.binary_cross_entropy(a, b, reduction="none"),
        lambda a, b: F.binary_cross_entropy(a, b, reduction="none"), [p, t])
    for what, a, b in zip(["loss", "d/dp"], ours, ref):
        assert_ieee_close(a, b, 8 * eps(dtype), what=what)
    # d/dt = log(1 - p) - log(p) with each log clamped at -100 as in the loss: PyTorch's where
    # no log is clamped (its -logit(p) is unclamped: +-inf at p = 0 or 1)
    with np.errstate(divide="ignore"):
        log_p, log_q = np.log(p.astype(np.float64)), np.log1p(-p.astype(np.float64))
    clamped = (np.maximum(log_q, -100) - np.maximum(log_p, -100)).astype(dtype)
    assert_ieee_close(ours[2], clamped, 64 * eps(dtype), what="d/dt")
    unclamped = (log_p > -100) & (log_q > -100)
    assert_ieee_close(ours[2][unclamped], ref[2][unclamped], 64 * eps(dtype), what="d/dt")


# --- gradient penalty --------------------------------------------------------------------------

def penalty_scales(g, target=1.0):
    """The sizes of the terms the penalty and its gradient round: ||g_i|| - target cancels to
    0 where the norm is near the target, leaving rounding noise of size eps (||g_i|| + target)."""
    with np.errstate(all="ignore"):
        norm = np.sqrt((g.astype(np.float64) ** 2).sum(axis=1, keepdims=True))
        bound = norm + target
        scales = (np.mean(bound ** 2), 2 / len(g) * bound / norm * np.abs(g))
    return [np.nan_to_num(a, nan=0.0) for a in scales]


def torch_penalty(g):
    penalty = ((torch.linalg.vector_norm(g, dim=1) - 1) ** 2).mean()
    return penalty, *torch.autograd.grad(penalty, g)


@pytest.mark.parametrize("dtype", DTYPES)
@given(rows=st.integers(1, 9), cols=st.sampled_from([1, 2, 3, 17, 64]), seed=seeds)
def test_gradient_penalty(dtype, rows, cols, seed):
    if dtype == np.float64 and cols == 1:
        # torch's norm of one element is |g|, no square: of 1e200 or a subnormal it is finite
        # where the sum of squares that minigen (and torch for two elements) takes over- or
        # underflows. Not a case to match.
        cols = 2
    rng = np.random.default_rng(seed)
    g = sprinkled(rng, (rows, cols), dtype, fraction=0.5 / cols)
    g[rng.integers(rows)] = 0  # a zero row: its norm has no gradient, torch gives it 0
    g[rng.integers(rows), 0] = np.finfo(dtype).smallest_subnormal  # a row of one subnormal
    penalty, grad = torch_in_float64(torch_penalty, g, dtype=dtype)
    penalty_scale, grad_scale = penalty_scales(g)
    rtol = 4 * (cols + 4) * eps(dtype)
    for impl in IMPLS:
        out, gg = np.empty((), dtype), np.empty_like(g)
        _C.gradient_penalty_fwd(g, 1.0, out, impl)
        _C.gradient_penalty_bwd(g, 1.0, 1.0, gg, impl)
        assert_ieee_close(out, penalty, rtol, penalty_scale, what=f"{impl} penalty")
        assert_ieee_close(gg, grad, rtol, grad_scale, what=f"{impl} gradient",
                          atol=2 * np.finfo(dtype).smallest_subnormal)


# --- batch norm --------------------------------------------------------------------------------

def torch_batch_norm(x, w, b, gy):
    y = F.batch_norm(x, None, None, w, b, training=True, eps=1e-5)
    # torch.mean's mean (inf for a channel holding inf; var_mean's Welford update gives NaN)
    mean, var = x.mean(dim=(0, 2)), x.var(dim=(0, 2), correction=0)
    return y, mean, var, *torch.autograd.grad(y, (x, w, b), gy)


def batch_norm_scales(x, gy, w, b, eps=1e-5):
    """The sizes of the terms each output of batch norm sums (float64, per element), which
    bound its rounding error: y = (x - mean) invstd w + b, mean = sum x / M, and
    gx = w invstd (gy - mean(gy) - x^ mean(gy x^)), which cancels to 0 exactly when a channel
    has two values, leaving only rounding noise to compare; gw, gb."""
    x, gy, w, b = (a.astype(np.float64) for a in (x, gy, w, b))

    def channel_mean(a):
        return a.mean(axis=(0, 2), keepdims=True)

    with np.errstate(all="ignore"):
        centred = x - channel_mean(x)
        invstd = 1 / np.sqrt(channel_mean(centred ** 2) + eps)
        xhat = centred * invstd
        gx = np.abs(w[:, None] * invstd) * (np.abs(gy) + channel_mean(np.abs(gy))
                                            + np.abs(xhat) * channel_mean(np.abs(gy * xhat)))
        gw, gb = np.abs(gy * xhat).sum(axis=(0, 2)), np.abs(gy).sum(axis=(0, 2))
        mean = channel_mean(np.abs(x))
        y = np.abs(w[:, None] * invstd) * (np.abs(x) + mean) + np.abs(b[:, None])
    scales = y, mean.ravel(), None, gx, gw, gb
    return [None if a is None else np.nan_to_num(a, nan=0.0) for a in scales]


@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(1, 4), c=st.integers(1, 5), s=st.sampled_from([1, 2, 3, 9, 16]),
       seed=seeds)
def test_batch_norm(dtype, n, c, s, seed):
    if n * s == 1:
        n = 2  # one value per channel has no variance (the op refuses it)
    rng = np.random.default_rng(seed)
    # Values whose variance still fits the dtype: the kernel returns var in it, and its backward
    # reads it from there (1e18 for float32, whose max is 3.4e38).
    big = 1e18 if dtype == np.float32 else 1e150
    x = sprinkled(rng, (n, c, s), dtype, fraction=0.3 / (n * s), values=specials(dtype, big))
    # No infinite weight: inf times gx's bracket, which cancels to rounding noise, has no sign.
    w = sprinkled(rng, c, dtype, 0.3, specials(dtype)[[0, 3, 4, 5]])  # NaN, -0, 0, subnormal
    b, gy = rng.standard_normal(c).astype(dtype), rng.standard_normal(x.shape).astype(dtype)
    # A channel whose only special value is one NaN, another with one inf: all of it NaN.
    x[0, 0, 0], x[-1, -1, -1] = np.nan, np.inf
    expected = torch_in_float64(torch_batch_norm, x, w, b, gy, dtype=dtype)
    scales = batch_norm_scales(x, gy, w, b)
    rtol = 4 * (n * s + 4) * eps(dtype)
    for impl in IMPLS:
        y, mean, var = np.empty_like(x), np.empty_like(w), np.empty_like(w)
        _C.batch_norm_fwd(x, w, b, 1e-5, y, mean, var, impl)
        gx, gw, gb = np.empty_like(x), np.empty_like(w), np.empty_like(w)
        _C.batch_norm_bwd(x, gy, w, mean, var, 1e-5, gx, gw, gb, impl)
        for what, a, e, scale in zip(["y", "mean", "var", "gx", "gw", "gb"],
                                     [y, mean, var, gx, gw, gb], expected, scales):
            assert_ieee_close(a, e, rtol, scale, what=f"{impl} {what}",
                              atol=2 * np.finfo(dtype).smallest_subnormal)


# --- Adam --------------------------------------------------------------------------------------

def torch_adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, **options):
    """torch.optim.Adam's single-tensor step from the given state, on copies."""
    p = tt(param.copy())
    opt = torch.optim.Adam([p], foreach=False, amsgrad=max_exp_avg_sq is not None, **options)
    p.grad = tt(grad)
    state = {"step": torch.tensor(float(step - 1)), "exp_avg": tt(exp_avg.copy()),
             "exp_avg_sq": tt(exp_avg_sq.copy())}
    if max_exp_avg_sq is not None:
        state["max_exp_avg_sq"] = tt(max_exp_avg_sq.copy())
    opt.state[p] = state
    opt.step()
    return [p.detach().numpy(), state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()] + (
        [state["max_exp_avg_sq"].numpy()] if max_exp_avg_sq is not None else [])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
@given(n=sizes, step=st.sampled_from([1, 2, 10]), beta1=st.sampled_from([0.0, 0.5, 0.9]),
       seed=seeds)
def test_adam_step(dtype, amsgrad, n, step, beta1, seed):
    rng = np.random.default_rng(seed)
    squares = np.abs(specials(dtype))  # NaN, inf, 0, subnormal, huge: what a square can be
    arrays = [sprinkled(rng, n, dtype), sprinkled(rng, n, dtype), sprinkled(rng, n, dtype),
              np.abs(sprinkled(rng, n, dtype, values=squares))]
    if amsgrad:
        arrays.append(np.abs(sprinkled(rng, n, dtype, values=squares)))
    options = dict(lr=1e-3, betas=(beta1, 0.999), eps=1e-8)
    expected = torch_adam(*arrays[:4], arrays[4] if amsgrad else None, step, **options)
    with np.errstate(all="ignore"):
        # exp_avg rounds terms of size |m| + |g|; the update carries that error over denom
        p, g, m = (np.abs(a.astype(np.float64)) for a in arrays[:3])
        second = expected[-1].astype(np.float64)  # exp_avg_sq, or its running maximum
        denom = np.sqrt(second) / np.sqrt(1 - 0.999**step) + options["eps"]
        update = options["lr"] / (1 - beta1**step) * (m + g) / denom
        scales = [p + np.abs(expected[0]) + update, m + g, None, None]
    for impl in IMPLS:
        param, grad, exp_avg, exp_avg_sq, *vmax = [a.copy() for a in arrays]
        _C.adam_step(param, grad, exp_avg, exp_avg_sq, vmax[0] if amsgrad else None, step,
                     options["lr"], beta1, 0.999, options["eps"], impl)
        # torch's arithmetic (csrc/cpu/optim.cc), to rounding: its vector kernels may fuse
        # multiply-adds, so a value can differ in its last bits, relative to the terms that
        # cancel (param - update, exp_avg + w (grad - exp_avg)). The update is
        # step_size * (exp_avg / denom) here, (-step_size * exp_avg) / denom in torch's addcdiv,
        # whose product may underflow: off by half a subnormal, over denom >= eps = 1e-8.
        quantum = np.finfo(dtype).smallest_subnormal
        for what, a, e, scale, atol in zip(
                ["param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
                [param, exp_avg, exp_avg_sq, *vmax], expected, scales,
                [quantum / options["eps"], 4 * quantum, 4 * quantum, 4 * quantum]):
            assert_ieee_close(a, e, 8 * eps(dtype), scale, what=f"{impl} {what}", atol=atol)


# --- GEMM --------------------------------------------------------------------------------------

def finite_abs(a):
    """|a| in float64 with non-finite values as 0: where a result is finite, they took no part."""
    a = np.abs(a.astype(np.float64))
    return np.where(np.isfinite(a), a, 0.0) / 2 ** 20  # scaled: 1e150 * 1e150 * K must fit


def sum_scale(scale):
    """finite_abs's products, sums of |terms|, back to their size."""
    return scale * 2.0 ** 40


def sum_specials(dtype):
    """Special values for sums of products: the large ones below the square root of the
    dtype's maximum. A product that overflows is order-dependent under fused multiply-adds:
    fma(a, b, -inf) is -inf, while rounded first, a b = +inf makes -inf + inf = NaN."""
    return specials(dtype, 1e18 if dtype == np.float32 else 1e150)


def gemm(a, b, c0, trans_a, trans_b, beta, impl, isa):
    c = c0.copy()
    _C.gemm(a, b, c, trans_a, trans_b, 1.0, beta, impl=impl, isa=isa)
    return c


edge = st.one_of(st.sampled_from([1, 2, 5, 7, 17, 65]), st.integers(1, 40))


@pytest.mark.parametrize("dtype", DTYPES)
@given(m=edge, n=edge, k=st.one_of(st.just(0), edge), trans_a=st.booleans(),
       trans_b=st.booleans(), beta=st.sampled_from([0.0, 1.0]), seed=seeds)
def test_gemm(dtype, m, n, k, trans_a, trans_b, beta, seed):
    rng = np.random.default_rng(seed)
    op_a, op_b = (sprinkled(rng, shape, dtype, 0.1, sum_specials(dtype))
                  for shape in ((m, k), (k, n)))
    if k:  # the classic trap: a kernel that skips a zero of a never sees 0 * inf = NaN
        i, p, j = rng.integers(m), rng.integers(k), rng.integers(n)
        op_a[i, p], op_b[p, j] = 0.0, np.inf
    # beta == 0: c is not read, so NaN in it must not leak (torch.addmm says the same)
    c0 = (np.full((m, n), np.nan, dtype) if beta == 0
          else sprinkled(rng, (m, n), dtype, values=sum_specials(dtype)))
    expected = torch.addmm(tt(c0), tt(op_a), tt(op_b), beta=beta).numpy()
    scale = sum_scale(finite_abs(op_a) @ finite_abs(op_b)) + beta * finite_abs(c0) * 2 ** 20
    a = np.ascontiguousarray(op_a.T) if trans_a else op_a
    b = np.ascontiguousarray(op_b.T) if trans_b else op_b
    for impl, isa in GEMM_IMPLS:
        assert_ieee_close(gemm(a, b, c0, trans_a, trans_b, beta, impl, isa), expected,
                          2 * (k + 2) * eps(dtype), scale, what=f"{impl} {isa}")


def test_gemm_keeps_subnormals():
    # products and sums of subnormals are exact here: nothing may flush them to zero
    tiny = np.finfo(np.float32).smallest_subnormal
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4, (7, 9)), rng.integers(0, 4, (9, 5))
    expected = (a @ b) * tiny
    for impl, isa in GEMM_IMPLS:
        c = np.empty((7, 5), np.float32)
        _C.gemm((a * tiny).astype(np.float32), b.astype(np.float32), c, impl=impl, isa=isa)
        np.testing.assert_array_equal(c, expected.astype(np.float32), err_msg=f"{impl} {isa}")


# --- conv2d ------------------------------------------------------------------------------------

def torch_conv(x, w, gy, cfg):
    """y = conv2d(x, w) and its gradients in x and w under gy, by PyTorch's im2col path: oneDNN
    skips the taps in the padding, which changes 0 * inf there (see the module's docstring)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "TF32 acceleration on top of oneDNN"
        with torch.backends.mkldnn.flags(enabled=False):
            x, w = tt(x, True), tt(w, True)
            y = F.conv2d(x, w, **cfg.conv2d_kwargs())
            return [y.detach().numpy(), *(g.numpy() for g in torch.autograd.grad(y, (x, w), tt(gy)))]


def conv_kernels(x, w, gy, cfg, impl):
    geometry = cfg.stride, cfg.padding, cfg.dilation, cfg.groups
    y, gx, gw = np.empty(cfg.y_shape, x.dtype), np.empty_like(x), np.empty_like(w)
    _C.conv2d_fwd(x, w, y, *geometry, impl=impl)
    _C.conv2d_bwd_input(gy, w, gx, *geometry, impl=impl)
    _C.conv2d_bwd_weight(x, gy, gw, *geometry, impl=impl)
    return y, gx, gw


@pytest.mark.parametrize("dtype", DTYPES)
@given(cfg=conv_configs(max_side=7, max_channels=3, max_kernel=3, max_stride=2), seed=seeds)
def test_conv2d(dtype, cfg, seed):
    rng = np.random.default_rng(seed)
    x, w, gy = (sprinkled(rng, shape, dtype, 0.05, sum_specials(dtype))
                for shape in (cfg.x_shape, cfg.weight_shape, cfg.y_shape))
    expected = torch_conv(x, w, gy, cfg)
    scales = [sum_scale(s) for s in torch_conv(finite_abs(x), finite_abs(w), finite_abs(gy), cfg)]
    terms = longest_conv_sum(cfg)
    for impl in IMPLS:
        for what, a, e, scale in zip(["y", "gx", "gw"], conv_kernels(x, w, gy, cfg, impl),
                                     expected, scales):
            assert_ieee_close(a, e, 2 * (terms + 2) * eps(dtype), scale, what=f"{impl} {what}")


def test_conv2d_padding_multiplies_zeros():
    # an infinite weight on a tap in the padding: 0 * inf = NaN in ref and fast alike, as
    # conv2d(pad(x), w); the output gradient's inf likewise reaches gw through padded taps
    x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3))
    w[0, 0, 0, 0] = np.inf
    gy = np.ones((1, 1, 3, 3))
    gy[0, 0, 0, 0] = np.inf
    cfg = ConvConfig(1, 1, 1, 3, 3, (3, 3), (1, 1), (1, 1), (1, 1), 1, (0, 0))
    nan = np.zeros((3, 3), bool)
    nan[0, :] = nan[:, 0] = True
    for impl in IMPLS:
        y, gx, gw = conv_kernels(x, w, gy, cfg, impl)
        np.testing.assert_array_equal(np.isnan(y[0, 0]), nan, err_msg=impl)
        np.testing.assert_array_equal(np.isnan(gw[0, 0]), nan, err_msg=impl)
        assert not np.isnan(gx).any()


# --- float32 accuracy of long sums: the bound the GEMM's blocking guarantees -------------------
#
# gemm_fast (csrc/cpu/gemm.cc) cuts k into B = ceil(K / kc) blocks of L = ceil(K / B) steps
# (even_block; kc = 384 floats). Within a block a micro-kernel accumulates its L products from 0,
# one rounding per step (an FMA, or a product and a sum whose first addend is 0); the blocks'
# sums then go into c one addition (one rounding) each: c = s_1, c = fl(c + s_b) for b = 2..B.
# A product of block b at step i is so rounded at most (L - i + 1) + (B - max(b, 2) + 1) <=
# L + B - 1 times, each by a factor (1 + d), |d| <= u = 2^-24, hence (Higham, Accuracy and
# Stability, 3.1 and 3.4) |c - exact| <= gamma_{L+B-1} sum_p |a_ip b_pj|, gamma_n = n u / (1 - n u).
# At K = 2^16: B = 171, L = 384, gamma_554 = 3.3e-5, against gamma_K = 3.9e-3 for one running sum,
# which the reference loop is. Threads split m and n, never k, so the bound holds for any count.
# The float64 reference adds gamma_{K-1} in double (products of floats are exact in double).
# Inputs: rows of a repeating one value of 0.1, 1/3, 0.7 (rounded to float32), b all ones, a
# sum whose roundings all go the same way: a single float32 running sum over K then errs by
# ~u K / 4 = 1e-3, thirty times the bound (checked below, so that the bound is seen to bite).

def blocked_gemm_bound(k, kc=384):
    blocks = -(-k // kc)
    return gamma(-(-k // blocks) + blocks - 1, 2.0**-24)


def normalised_error(c, a, b):
    """max_ij |c - a @ b| / (|a| @ |b|), the reference in float64."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    return np.max(np.abs(c - a @ b) / (np.abs(a) @ np.abs(b)))


def test_float32_gemm_long_sum_within_blocked_bound():
    k = 2**16
    a = np.repeat(np.float32([0.1, 1 / 3, 0.7, -0.1, 0.3])[:, None], k, axis=1)
    b = np.ones((k, 3), np.float32)
    reference_error = gamma(k - 1, 2.0**-53)
    # the bound is tight enough to catch a plain float32 running sum
    running = np.add.accumulate(a[:, :, None] * b[None], axis=1, dtype=np.float32)[:, -1]
    assert normalised_error(running, a, b) > 10 * blocked_gemm_bound(k)
    for impl, isa in GEMM_IMPLS:
        c = np.empty((5, 3), np.float32)
        _C.gemm(a, b, c, impl=impl, isa=isa)
        bound = gamma(k, 2.0**-24) if impl == "ref" else blocked_gemm_bound(k)
        assert normalised_error(c, a, b) <= bound + reference_error, (impl, isa)
