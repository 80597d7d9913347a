"""The fused Adam update (minigen._C.adam_step), called directly with NumPy arrays.

It must equal, bit for bit, torch.optim.Adam's single-tensor arithmetic written out in NumPy
(the oracle below, one NumPy operation per torch operation), in both dtypes, with and without
AMSGrad, for any size and thread count; the fast kernel must equal the reference loop; and every
bad call must raise ValueError naming the argument. Agreement with torch itself, over many steps
and options, is tests/test_optim.py's.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigen import _C, set_num_threads

# A kernel test module: scripts/sanitize.py and CI's pass on the AVX2 micro-kernels run these.
pytestmark = pytest.mark.kernels

DTYPES = [np.float32, np.float64]
# One element, odd sizes (vector tails), and sizes past the chunk (16_384) and the OpenMP
# threshold (32_768) of csrc/cpu/parallel.h.
SIZES = st.one_of(st.sampled_from([1, 2, 7, 31, 16_385, 32_769, 70_001]), st.integers(1, 5000))
# beta1 < 0.5 and >= 0.5 take torch's two lerp forms; beta1 = 0 is WGAN-GP's.
BETAS = st.tuples(st.sampled_from([0.0, 0.3, 0.5, 0.9, 0.99]), st.sampled_from([0.9, 0.999, 0.0]))


def numpy_adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps):
    """torch.optim.Adam's single-tensor step, one NumPy operation per torch operation, in place."""
    t = param.dtype.type
    weight = 1 - beta1
    if weight < 0.5:    # exp_avg.lerp_(grad, weight)
        exp_avg += t(weight) * (grad - exp_avg)
    else:
        exp_avg[...] = grad - (grad - exp_avg) * t(1 - weight)
    exp_avg_sq *= t(beta2)                            # .mul_(beta2).addcmul_(grad, grad, 1 - beta2)
    exp_avg_sq += t(1 - beta2) * grad * grad
    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        second = np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    denom = np.sqrt(second) / t(np.sqrt(1 - beta2 ** step)) + t(eps)
    param -= t(lr / (1 - beta1 ** step)) * (exp_avg / denom)


def state(n, dtype, seed, amsgrad):
    """A parameter, its gradient and averages as a few steps of training leave them."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(n), rng.standard_normal(n), 0.1 * rng.standard_normal(n),
              rng.random(n) * 0.01]
    if amsgrad:
        arrays.append(arrays[3] * rng.uniform(0.5, 2.0, n))
    return [a.astype(dtype) for a in arrays]


def run(arrays, impl, steps, lr, betas, eps=1e-8, update=_C.adam_step):
    """``steps`` steps from a copy of ``arrays``; returns the updated copies."""
    param, grad, exp_avg, exp_avg_sq, *vmax = [a.copy() for a in arrays]
    for step in range(1, steps + 1):
        args = (param, grad, exp_avg, exp_avg_sq, vmax[0] if vmax else None, step, lr, *betas, eps)
        update(*args, impl) if impl else update(*args)
    return [param, exp_avg, exp_avg_sq, *vmax]


def assert_same_bits(actual, expected):
    for a, e in zip(actual, expected, strict=True):
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), e.view(f"u{e.itemsize}"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
@given(n=SIZES, betas=BETAS, lr=st.sampled_from([1e-3, 2e-4, 0.5]), steps=st.integers(1, 3))
def test_adam_step_is_torchs_arithmetic_bit_for_bit(dtype, amsgrad, n, betas, lr, steps):
    arrays = state(n, dtype, n, amsgrad)
    expected = run(arrays, None, steps, lr, betas, update=numpy_adam)
    assert_same_bits(run(arrays, "ref", steps, lr, betas), expected)
    assert_same_bits(run(arrays, "fast", steps, lr, betas), expected)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_adam_step_does_not_depend_on_the_thread_count(threads):
    arrays = state(100_003, np.float32, 0, amsgrad=True)
    expected = run(arrays, "ref", 2, 1e-3, (0.5, 0.999))
    set_num_threads(threads)
    try:
        assert_same_bits(run(arrays, "fast", 2, 1e-3, (0.5, 0.999)), expected)
    finally:
        set_num_threads(2)


def test_adam_step_moves_the_parameter_against_the_gradient():
    param, grad = np.zeros(3, np.float32), np.array([1.0, -2.0, 0.0], np.float32)
    exp_avg, exp_avg_sq = np.zeros(3, np.float32), np.zeros(3, np.float32)
    _C.adam_step(param, grad, exp_avg, exp_avg_sq, None, 1, 0.1, 0.9, 0.999, 1e-8)
    # first step: m_hat = g, v_hat = g², so the step is lr * sign(g) (0 where g is 0)
    np.testing.assert_allclose(param, [-0.1, 0.1, 0.0], rtol=1e-6)


def arrays_for_errors():
    return {name: np.zeros((2, 3), np.float32) for name in ("param", "grad", "exp_avg", "exp_avg_sq")}


def call(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq=None, step=1, impl="fast"):
    _C.adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, 1e-3, 0.9, 0.999, 1e-8, impl)


BAD_CALLS = [
    (lambda a: call(**{**a, "grad": np.zeros((3, 2), np.float32)}), r"grad has shape \(3, 2\) but param"),
    (lambda a: call(**{**a, "exp_avg": np.zeros((2, 3), np.float64)}), "exp_avg has dtype float64"),
    (lambda a: call(**{**a, "param": np.zeros((2, 3), np.int64)}), "param has dtype int64"),
    (lambda a: call(**{**a, "exp_avg_sq": np.zeros((3, 2), np.float32).T}), "exp_avg_sq .* not C-contiguous"),
    (lambda a: call(**a, max_exp_avg_sq=np.zeros(6, np.float32)), "max_exp_avg_sq has shape"),
    (lambda a: call(**{**a, "exp_avg": a["param"]}), "exp_avg overlaps param"),
    (lambda a: call(**{**a, "exp_avg_sq": a["grad"]}), "exp_avg_sq overlaps grad"),
    (lambda a: call(**a, step=0), "step must be >= 1"),
    (lambda a: call(**a, impl="slow"), "impl must be 'ref' or 'fast'"),
]


@pytest.mark.parametrize("bad_call, message", BAD_CALLS)
def test_adam_step_rejects_bad_arguments(bad_call, message):
    with pytest.raises(ValueError, match=message):
        bad_call(arrays_for_errors())


def test_adam_step_refuses_a_read_only_average():
    arrays = arrays_for_errors()
    arrays["exp_avg"].flags.writeable = False
    with pytest.raises(ValueError, match="exp_avg is read-only"):
        call(**arrays)
