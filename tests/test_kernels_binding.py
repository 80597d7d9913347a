"""The compiled kernels in minigen._C, called directly with NumPy arrays.

What must hold whatever the build machine: the fast kernels equal the reference loops bit for bit
(both dtypes, any size, whatever ISA the CPU dispatches to), the results equal NumPy's bit for bit,
the thread count changes nothing, and every bad call raises ValueError instead of crashing.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigen import _C

# A kernel test module: scripts/sanitize.py and CI's pass on the AVX2 micro-kernels run these.
pytestmark = pytest.mark.kernels

DTYPES = [np.float32, np.float64]

# Empty, one element, odd and prime sizes (vector loop tails), and sizes past the chunk (16_384)
# and OpenMP thresholds (32_768 elements) in csrc/cpu/activation.cc.
SIZES = st.one_of(
    st.sampled_from([0, 1, 2, 3, 7, 31, 127, 16_381, 16_411, 32_771, 65_537, 199_999]),
    st.integers(0, 200_000),
)
SLOPES = st.one_of(st.sampled_from([0.01, 0.2, 0.0, 1.0, -0.5]), st.floats(-2, 2))
SPECIALS = [0.0, -0.0, 5e-324, -5e-324, 1e-45, -1e-45, 1e-300, -1e-300, np.inf, -np.inf]


def sample(n, dtype, seed):
    """n values of every magnitude the dtype has, down to subnormals; a tenth are SPECIALS."""
    rng = np.random.default_rng(seed)
    lowest = int(np.log10(np.finfo(dtype).smallest_subnormal)) - 1
    x = rng.standard_normal(n) * 10.0 ** rng.integers(lowest, 4, n)
    special = rng.random(n) < 0.1
    x[special] = rng.choice(SPECIALS, special.sum())
    return x.astype(dtype)


def numpy_fwd(x, slope):
    # In x's dtype, as the kernel computes with T(slope); 0 * inf warns in NumPy, not in C++.
    with np.errstate(invalid="ignore"):
        return np.where(x > 0, x, x.dtype.type(slope) * x)


def numpy_bwd(x, gy, slope):
    with np.errstate(invalid="ignore"):
        return np.where(x > 0, gy, gy.dtype.type(slope) * gy)


def assert_same_bits(actual, expected):
    """Equal as bit patterns: tells -0.0 from 0.0, unlike ==."""
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    uint = {4: np.uint32, 8: np.uint64}[actual.itemsize]
    np.testing.assert_array_equal(actual.view(uint), expected.view(uint))


def fwd(x, slope, impl):
    out = np.empty_like(x)
    _C.leaky_relu_fwd(x, out, slope, impl)
    return out


def bwd(x, gy, slope, impl):
    gx = np.empty_like(x)
    _C.leaky_relu_bwd(x, gy, gx, slope, impl)
    return gx


# --- results ---------------------------------------------------------------------------------


@settings(deadline=None)
@given(n=SIZES, slope=SLOPES, dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_fwd_fast_equals_ref_equals_numpy(n, slope, dtype, seed):
    x = sample(n, dtype, seed)
    ref = fwd(x, slope, "ref")
    assert_same_bits(ref, numpy_fwd(x, slope))
    assert_same_bits(fwd(x, slope, "fast"), ref)


@settings(deadline=None)
@given(n=SIZES, slope=SLOPES, dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_bwd_fast_equals_ref_equals_numpy(n, slope, dtype, seed):
    x, gy = sample(n, dtype, seed), sample(n, dtype, seed + 1)
    ref = bwd(x, gy, slope, "ref")
    assert_same_bits(ref, numpy_bwd(x, gy, slope))
    assert_same_bits(bwd(x, gy, slope, "fast"), ref)


@pytest.mark.parametrize("impl", ["ref", "fast"])
def test_float64_matches_python_float_arithmetic(impl):
    # A float32 operation hidden in the float64 path would round 0.1 * x differently.
    x = np.array([-3.0, -1e-300, -0.0, 0.0, 1e-300, 0.1, 2.5], dtype=np.float64)
    gy = np.linspace(-1, 1, x.size)
    slope = 0.1
    expected_y = [v if v > 0 else slope * v for v in x.tolist()]
    expected_gx = [g if v > 0 else slope * g for v, g in zip(x.tolist(), gy.tolist())]
    assert_same_bits(fwd(x, slope, impl), np.array(expected_y))
    assert_same_bits(bwd(x, gy, slope, impl), np.array(expected_gx))


def test_gradient_at_zero_is_slope():
    x = np.array([-0.0, 0.0, 1.0])
    gx = bwd(x, np.ones(3), 0.25, "fast")
    np.testing.assert_array_equal(gx, [0.25, 0.25, 1.0])


@pytest.mark.parametrize("shape", [(), (1,), (2, 3), (3, 0, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("impl", ["ref", "fast"])
def test_any_shape_is_treated_as_flat(shape, impl):
    x = sample(int(np.prod(shape)), np.float32, 0).reshape(shape)
    assert_same_bits(fwd(x, 0.2, impl), fwd(x.ravel(), 0.2, impl).reshape(shape))


@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place(dtype):
    x = sample(100_000, dtype, 1)
    gy = sample(100_000, dtype, 2)
    expected_y, expected_gx = fwd(x, 0.2, "ref"), bwd(x, gy, 0.2, "ref")
    _C.leaky_relu_bwd(x, gy, gy, 0.2)
    assert_same_bits(gy, expected_gx)
    _C.leaky_relu_fwd(x, x, 0.2)
    assert_same_bits(x, expected_y)


@pytest.mark.parametrize("dtype", DTYPES)
def test_thread_count_does_not_change_results(dtype, restore_threads):
    x, gy = sample(200_000, dtype, 3), sample(200_000, dtype, 4)
    results = []
    for n in (1, 2):
        _C.set_num_threads(n)
        assert _C.get_num_threads() == n
        results.append((fwd(x, 0.01, "fast"), bwd(x, gy, 0.01, "fast")))
    for one, two in zip(*results):
        assert_same_bits(one, two)


# --- bad calls -------------------------------------------------------------------------------

f32 = np.zeros((2, 3), np.float32)


def read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def misaligned(n):
    return np.frombuffer(bytearray(4 * n + 1), np.float32, n, offset=1)


shared = np.zeros(7, np.float32)

BAD_FWD = [
    pytest.param(np.zeros(3, np.int32), np.zeros(3, np.int32),
                 r"x has dtype int32; expected float32 or float64", id="int32"),
    pytest.param(np.zeros(3, np.float16), np.zeros(3, np.float16),
                 r"x has dtype float16", id="float16"),
    pytest.param(np.zeros(3, ">f4"), np.zeros(3, ">f4"), r"x has dtype >f4", id="big-endian"),
    pytest.param(f32, f32.astype(np.float64),
                 r"out has dtype float64 but x has dtype float32", id="mixed"),
    pytest.param(np.zeros((2, 6), np.float32)[:, ::2], f32,
                 r"x with shape \(2, 3\) and strides \(24, 8\) is not C-contiguous",
                 id="x-strided"),
    pytest.param(f32, np.zeros((3, 2), np.float32).T,
                 r"out with shape \(2, 3\) .* is not C-contiguous", id="out-transposed"),
    pytest.param(misaligned(6), np.zeros(6, np.float32),
                 r"x is not aligned to its 4-byte elements", id="x-misaligned"),
    pytest.param(np.zeros((3, 2), np.float32), f32,
                 r"out has shape \(2, 3\) but x has shape \(3, 2\)", id="shape"),
    pytest.param(np.zeros(6, np.float32), f32,
                 r"out has shape \(2, 3\) but x has shape \(6,\)", id="ndim"),
    pytest.param(f32, read_only(f32), r"out is read-only", id="read-only"),
    pytest.param(shared[:-1], shared[1:],
                 r"out overlaps x without being the same array", id="overlap"),
]


@pytest.mark.parametrize("x, out, message", BAD_FWD)
@pytest.mark.parametrize("impl", ["ref", "fast"])
def test_bad_fwd_arguments_raise(x, out, message, impl):
    with pytest.raises(ValueError, match="^leaky_relu_fwd: " + message):
        _C.leaky_relu_fwd(x, out, 0.1, impl)


BAD_BWD = [
    pytest.param(*(np.zeros(3, np.int32),) * 3, r"x has dtype int32", id="int32"),
    pytest.param(f32, f32.astype(np.float64), f32,
                 r"grad_out has dtype float64 but x has dtype float32", id="grad_out-dtype"),
    pytest.param(f32, f32, f32.astype(np.float64),
                 r"grad_in has dtype float64 but x has dtype float32", id="grad_in-dtype"),
    pytest.param(f32, np.zeros((2, 6), np.float32)[:, ::2], f32,
                 r"grad_out with shape \(2, 3\) .* is not C-contiguous", id="grad_out-strided"),
    pytest.param(f32, np.zeros((3, 2), np.float32), f32,
                 r"grad_out has shape \(3, 2\) but x has shape \(2, 3\)", id="grad_out-shape"),
    pytest.param(f32, f32, np.zeros(6, np.float32),
                 r"grad_in has shape \(6,\) but x has shape \(2, 3\)", id="grad_in-shape"),
    pytest.param(f32, f32, read_only(f32), r"grad_in is read-only", id="read-only"),
    pytest.param(np.zeros(6, np.float32), shared[:-1], shared[1:],
                 r"grad_in overlaps grad_out", id="overlap"),
]


@pytest.mark.parametrize("x, grad_out, grad_in, message", BAD_BWD)
@pytest.mark.parametrize("impl", ["ref", "fast"])
def test_bad_bwd_arguments_raise(x, grad_out, grad_in, message, impl):
    with pytest.raises(ValueError, match="^leaky_relu_bwd: " + message):
        _C.leaky_relu_bwd(x, grad_out, grad_in, 0.1, impl)


def test_bad_impl_lists_the_choices():
    message = "leaky_relu_fwd: impl must be 'ref' or 'fast', got 'simd'"
    with pytest.raises(ValueError, match=message):
        _C.leaky_relu_fwd(f32, f32.copy(), 0.1, "simd")
    with pytest.raises(ValueError, match=r"leaky_relu_bwd: impl must be 'ref' or 'fast'"):
        _C.leaky_relu_bwd(f32, f32, f32.copy(), 0.1, "")


@pytest.mark.parametrize("n", [0, -1])
def test_set_num_threads_rejects_less_than_one(n, restore_threads):
    with pytest.raises(ValueError, match="set_num_threads: n must be >= 1"):
        _C.set_num_threads(n)


def test_non_arrays_are_not_converted():
    # py::array without conversion: a list is refused by pybind11 (TypeError), never copied.
    with pytest.raises(TypeError):
        _C.leaky_relu_fwd([1.0, -1.0], np.zeros(2), 0.1)
