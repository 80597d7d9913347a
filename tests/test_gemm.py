"""minigen._C.gemm: c = alpha * op(a) @ op(b) + beta * c, op(x) = x.T if trans_x.

The reference triple loop and the fast GEMM, run with every micro-kernel this CPU has
(isa="avx512", "avx2", "portable", and "auto"), are each held to NumPy in float64 within the
error bound of a length-k dot product, |error| <= 2 (k + 2) eps (|alpha| |op(a)| |op(b)| +
|beta c|); in float64 that is about 1e-13 relative, so a float32 instruction slipping into a
double path (1e-7) cannot pass. Sizes are drawn around the tile and block sizes of
csrc/cpu/gemm.cc, with all four transpose combinations, alpha and beta, both dtypes and 1 or 2
threads; beta == 0 must not read c (NaN in it must not leak); the thread count must not change a
bit of the result; and every bad call raises ValueError naming the op and the shapes.
"""
import os
import platform
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigen
from minigen import _C

from helpers import CPU_ISAS, GEMM_IMPLS, GEMM_ISAS, num_threads

# A kernel test module: scripts/sanitize.py and CI's pass on the AVX2 micro-kernels run these.
pytestmark = pytest.mark.kernels

DTYPES = [np.float32, np.float64]


# Sizes of csrc/cpu/gemm.cc (keep in step): tiles of 6 rows (4 for the portable kernel) and
# 8 to 64 columns (by ISA, dtype and n); kc = 384 floats / 192 doubles; mc = 192 rows;
# nc = 4096 floats / 2048 doubles; one thread below 64 * 64 * 128 multiply-adds. Each list holds
# the sizes themselves, one less and one more, and small primes.
EDGE_M = [1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 17, 63, 64, 65]
EDGE_N = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65]
EDGE_K = [0, 1, 2, 3, 13, 191, 192, 193, 383, 384, 385]
SMALL = st.integers(0, 12)


def dim(edges, most):
    return st.one_of(st.sampled_from(edges), st.integers(0, most))


# (m, n, k): all three moderate, or one long and the others small (tall-skinny, wide, deep),
# small enough for the reference loop.
SHAPES = st.one_of(
    st.tuples(dim(EDGE_M, 70), dim(EDGE_N, 70), dim(EDGE_K, 70)),
    st.tuples(dim([191, 192, 193, 385], 400), SMALL, SMALL),
    st.tuples(SMALL, dim([129, 2047, 2048, 2049, 4095, 4096, 4097], 4200), SMALL),
    st.tuples(SMALL, SMALL, dim([383, 384, 385, 767, 768, 769], 800)),
)
ALPHAS = st.sampled_from([1.0, -1.0, 0.5, 2.5, 0.0])
BETAS = st.sampled_from([0.0, 1.0, -0.75, 2.0])


def operands(m, n, k, trans_a, trans_b, dtype, seed):
    """a, b as stored (transposed when flagged), and a starting c, from N(0, 1)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    c = rng.standard_normal((m, n)).astype(dtype)
    return a, b, c


def exact(a, b, c, trans_a, trans_b, alpha, beta):
    """The result in float64, and the error bound's scale |alpha| |op(a)| |op(b)| + |beta c|."""
    a64, b64, c64 = (x.astype(np.float64) for x in (a, b, c))
    a64, b64 = (a64.T if trans_a else a64), (b64.T if trans_b else b64)
    expected = alpha * (a64 @ b64) + (beta * c64 if beta != 0 else 0.0)
    scale = abs(alpha) * (np.abs(a64) @ np.abs(b64)) + abs(beta) * np.abs(c64)
    return expected, scale


def assert_within(actual, expected, scale, k, dtype, factor=2.0):
    tol = factor * (k + 2) * np.finfo(dtype).eps * scale
    err = np.abs(actual.astype(np.float64) - expected)
    worst = np.unravel_index(np.argmax(err - tol), err.shape) if err.size else None
    assert np.all(err <= tol), f"error {err[worst]:.3g} > bound {tol[worst]:.3g} at {worst}"


def run(a, b, c0, trans_a, trans_b, alpha, beta, impl, isa):
    c = c0.copy()
    _C.gemm(a, b, c, trans_a, trans_b, alpha, beta, impl=impl, isa=isa)
    return c


# --- results ---------------------------------------------------------------------------------


@settings(deadline=None)
@given(shape=SHAPES, trans_a=st.booleans(), trans_b=st.booleans(), alpha=ALPHAS, beta=BETAS,
       dtype=st.sampled_from(DTYPES), threads=st.sampled_from([1, 2]),
       seed=st.integers(0, 2**32 - 1))
def test_every_impl_matches_numpy_and_ref(shape, trans_a, trans_b, alpha, beta, dtype, threads,
                                          seed):
    m, n, k = shape
    a, b, c0 = operands(m, n, k, trans_a, trans_b, dtype, seed)
    expected, scale = exact(a, b, c0, trans_a, trans_b, alpha, beta)
    with num_threads(threads):
        ref = run(a, b, c0, trans_a, trans_b, alpha, beta, "ref", "auto")
        assert_within(ref, expected, scale, k, dtype)
        for impl, isa in GEMM_IMPLS[1:]:
            fast = run(a, b, c0, trans_a, trans_b, alpha, beta, impl, isa)
            assert fast.dtype == dtype and fast.shape == (m, n)
            assert_within(fast, expected, scale, k, dtype)
            assert_within(fast, ref.astype(np.float64), scale, k, dtype, factor=4.0)


@pytest.mark.parametrize("isa", ["auto"] + GEMM_ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sizes_around_the_tile_edges(dtype, isa):
    # Every combination, in the two layouts that pack differently (as given, both transposed).
    for m in [1, 5, 6, 7, 13]:
        for n in [1, 7, 8, 9, 16, 17, 31, 33, 63, 65]:
            for k in [1, 5, 193, 385]:
                for trans in (False, True):
                    a, b, c0 = operands(m, n, k, trans, trans, dtype, seed=m * n + k)
                    expected, scale = exact(a, b, c0, trans, trans, 0.5, 1.0)
                    c = run(a, b, c0, trans, trans, 0.5, 1.0, "fast", isa)
                    assert_within(c, expected, scale, k, dtype)


# Several cache blocks in each direction and past the parallel threshold, cut along m or n.
BIG_SHAPES = [(391, 150, 769), (64, 1024, 784), (40, 4097, 20), (1000, 7, 300), (130, 200, 385)]


@pytest.mark.parametrize("isa", ["auto"] + GEMM_ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BIG_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_blocks_and_threads(shape, dtype, isa):
    m, n, k = shape
    for trans_a in (False, True):
        for trans_b in (False, True):
            a, b, c0 = operands(m, n, k, trans_a, trans_b, dtype, seed=m + n + k)
            expected, scale = exact(a, b, c0, trans_a, trans_b, 1.5, -0.5)
            with num_threads(1):
                one = run(a, b, c0, trans_a, trans_b, 1.5, -0.5, "fast", isa)
            with num_threads(2):
                two = run(a, b, c0, trans_a, trans_b, 1.5, -0.5, "fast", isa)
            assert_within(two, expected, scale, k, dtype)
            # each element is summed in the same order whatever the thread count
            np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("impl,isa", GEMM_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_float64_is_computed_in_float64(impl, isa, dtype):
    # A float32 operation anywhere in the double path would leave errors near 1e-7 relative.
    m, n, k = 13, 70, 500
    a, b, c0 = operands(m, n, k, False, True, dtype, seed=7)
    expected, scale = exact(a, b, c0, False, True, 1.0, 0.0)
    c = run(a, b, c0, False, True, 1.0, 0.0, impl, isa)
    worst = np.max(np.abs(c - expected) / scale)
    assert worst <= k * np.finfo(dtype).eps   # k eps = 2 k u >= gamma_k: k products in any order


@pytest.mark.parametrize("impl,isa", GEMM_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fill", [np.nan, np.inf])
@pytest.mark.parametrize("shape", [(1, 1, 1), (7, 65, 13), (13, 17, 385), (64, 130, 300)])
def test_beta_zero_does_not_read_c(shape, fill, dtype, impl, isa):
    m, n, k = shape
    a, b, _ = operands(m, n, k, False, False, dtype, seed=3)
    c = np.full((m, n), fill, dtype)
    with num_threads(2):
        _C.gemm(a, b, c, alpha=2.0, beta=0.0, impl=impl, isa=isa)
    expected, scale = exact(a, b, np.zeros_like(c), False, False, 2.0, 0.0)
    assert_within(c, expected, scale, k, dtype)


@pytest.mark.parametrize("impl,isa", GEMM_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_k_zero_scales_c_by_beta(impl, isa, dtype):
    a, b = np.ones((5, 0), dtype), np.ones((0, 7), dtype)
    c = np.full((5, 7), 3.0, dtype)
    _C.gemm(a, b, c, alpha=2.0, beta=-0.5, impl=impl, isa=isa)
    np.testing.assert_array_equal(c, np.full((5, 7), -1.5, dtype))
    c = np.full((5, 7), np.nan, dtype)
    _C.gemm(a, b, c, alpha=2.0, beta=0.0, impl=impl, isa=isa)
    np.testing.assert_array_equal(c, np.zeros((5, 7), dtype))


@pytest.mark.parametrize("impl,isa", GEMM_IMPLS)
@pytest.mark.parametrize("shape", [(0, 5, 3), (4, 0, 3), (0, 0, 0), (0, 3, 0)])
def test_empty_c_is_fine(shape, impl, isa):
    m, n, k = shape
    a, b, c = np.ones((m, k)), np.ones((k, n)), np.ones((m, n))
    _C.gemm(a, b, c, beta=1.0, impl=impl, isa=isa)
    assert c.shape == (m, n)


@pytest.mark.parametrize("impl,isa", GEMM_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (True, True)])
def test_nan_and_inf_propagate_as_ieee_says(trans_a, trans_b, dtype, impl, isa):
    # One inf in a row of op(a), one NaN in a column of op(b), one NaN in c (beta != 0): the sums
    # they enter are inf, -inf or NaN whatever the order of summation, so NumPy's pattern holds.
    m, n, k = 9, 70, 40
    a, b, c0 = operands(m, n, k, trans_a, trans_b, dtype, seed=11)
    op_a = a.T if trans_a else a
    op_b = b.T if trans_b else b
    op_a[2, 5] = np.inf
    op_b[7, 30] = np.nan
    op_b[5, 3] = 0.0  # inf * 0 = NaN in c[2, 3]
    c0[4, 4] = np.nan
    with np.errstate(invalid="ignore"):
        expected, _ = exact(a, b, c0, trans_a, trans_b, 1.0, 0.5)
    c = run(a, b, c0, trans_a, trans_b, 1.0, 0.5, impl, isa)
    np.testing.assert_array_equal(np.isnan(c), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(c), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(c), np.isneginf(expected))
    assert np.isnan(c[2, 3]) and np.isnan(c[4, 4]) and np.isnan(c[0, 30])


def test_a_and_b_may_be_the_same_array():
    x = np.random.default_rng(0).standard_normal((30, 20))
    c = np.empty((30, 30))
    _C.gemm(x, x, c, trans_b=True)
    np.testing.assert_allclose(c, x @ x.T, rtol=1e-13, atol=1e-13)


def test_buffers_follow_the_size_and_thread_count_of_each_call():
    # The packing buffers are kept between calls and grown as needed: alternate sizes and threads.
    for threads, shape in [(2, (300, 500, 400)), (1, (3, 5, 2)), (2, (70, 2100, 30)),
                           (1, (200, 64, 500)), (2, (5, 7, 1))]:
        m, n, k = shape
        a, b, c0 = operands(m, n, k, False, False, np.float32, seed=m)
        expected, scale = exact(a, b, c0, False, False, 1.0, 1.0)
        with num_threads(threads):
            assert_within(run(a, b, c0, False, False, 1.0, 1.0, "fast", "auto"), expected, scale,
                          k, np.float32)


# --- ISAs ------------------------------------------------------------------------------------


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].split() for line in f if line.startswith("flags"))
    except (OSError, StopIteration):
        return None


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64") or _cpu_flags() is None,
                    reason="needs an x86-64 CPU that lists its flags in /proc/cpuinfo")
def test_isa_detection_matches_cpuinfo():
    flags = set(_cpu_flags())
    assert ("avx512" in CPU_ISAS) == ("avx512f" in flags)
    assert ("avx2" in CPU_ISAS) == ({"avx2", "fma"} <= flags)
    assert "portable" in CPU_ISAS
    for isa in {"avx512", "avx2"} - set(GEMM_ISAS):
        x = np.ones((2, 2), np.float32)
        with pytest.raises(ValueError, match=f"gemm: isa '{isa}' is not supported by this CPU"):
            _C.gemm(x, x.copy(), np.empty_like(x), isa=isa)


def _isa_seen_by_a_new_process(setting, folder):
    env = dict(os.environ, MINIGEN_CPU_ISA=setting)
    # run from elsewhere: from the checkout, python -c would import its uncompiled sources
    return subprocess.run([sys.executable, "-c", "import minigen; print(minigen.cpu_isa())"],
                          env=env, capture_output=True, text=True, cwd=folder)


@pytest.mark.parametrize("isa", CPU_ISAS)
def test_the_environment_caps_the_isa_at_import(isa, tmp_path):
    run = _isa_seen_by_a_new_process(isa, tmp_path)
    # not the exit status: under scripts/sanitize.py, LeakSanitizer fails the interpreter's exit
    assert "Traceback" not in run.stderr, run.stderr
    assert run.stdout.strip() == isa


@pytest.mark.parametrize("setting", ["avx1024", "AVX2", ""]
                         + [isa for isa in ("avx512", "avx2") if isa not in CPU_ISAS])
def test_a_bad_isa_setting_stops_the_import_naming_the_variable(setting, tmp_path):
    run = _isa_seen_by_a_new_process(setting, tmp_path)
    assert run.returncode != 0
    assert f"ValueError: MINIGEN_CPU_ISA={setting!r}" in run.stderr


@pytest.mark.parametrize("isa", CPU_ISAS)
def test_the_cap_picks_the_micro_kernel_of_auto_and_the_convolutions(isa, restore_isa):
    """Under a cap, 'auto' is the named micro-kernel (the same bits; AVX-512 and AVX2 chain the
    same FMAs for each element, so only the portable kernel's bits differ) and wider ones are
    refused."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((50, 700), np.float32), rng.standard_normal((700, 90), np.float32)
    c0 = np.zeros((50, 90), np.float32)
    _C.set_cpu_isa(isa)
    assert minigen.cpu_isa() == isa
    capped = run(a, b, c0, False, False, 1.0, 0.0, "fast", isa)
    np.testing.assert_array_equal(run(a, b, c0, False, False, 1.0, 0.0, "fast", "auto"), capped)
    # a convolution is lowered onto the same GEMM: a 1 x 1 kernel over one pixel is the product
    y = np.empty((50, 90, 1, 1), np.float32)
    _C.conv2d_fwd(a.reshape(50, 700, 1, 1), np.ascontiguousarray(b.T).reshape(90, 700, 1, 1), y,
                  (1, 1), (0, 0), (1, 1), 1, "fast")
    np.testing.assert_array_equal(y.reshape(50, 90), capped)
    for wider in CPU_ISAS[:CPU_ISAS.index(isa)]:
        with pytest.raises(ValueError, match="wider than MINIGEN_CPU_ISA allows"):
            run(a, b, c0, False, False, 1.0, 0.0, "fast", wider)


# --- bad calls -------------------------------------------------------------------------------


def f32(*shape):
    return np.ones(shape, np.float32)


def _misaligned():
    x = np.frombuffer(bytearray(4 * 12 + 1), dtype=np.float32, count=12, offset=1)
    return x.reshape(3, 4)


def _read_only():
    c = f32(3, 6)
    c.flags.writeable = False
    return c


_shared = f32(6, 3)

BAD_CALLS = [
    ("inner", lambda: _C.gemm(f32(3, 4), f32(5, 6), f32(3, 6)),
     "gemm: op(a) is (3, 4) and op(b) is (5, 6): inner dimensions 4 and 5 differ"),
    ("inner_trans", lambda: _C.gemm(f32(4, 3), f32(6, 5), f32(3, 6), True, True),
     "gemm: op(a) is (3, 4) and op(b) is (5, 6): inner dimensions 4 and 5 differ "
     "(a (4, 3) with trans_a=True, b (6, 5) with trans_b=True)"),
    ("c_shape", lambda: _C.gemm(f32(3, 4), f32(4, 6), f32(3, 5)),
     "gemm: c has shape (3, 5) but op(a) @ op(b) is (3, 6)"),
    ("inner_trans_a", lambda: _C.gemm(f32(3, 4), f32(4, 6), f32(3, 6), True, False),
     "gemm: op(a) is (4, 3) and op(b) is (4, 6): inner dimensions 3 and 4 differ"),
    ("a_1d", lambda: _C.gemm(f32(4), f32(4, 6), f32(1, 6)), "gemm: a must be 2-D, got shape (4,)"),
    ("b_3d", lambda: _C.gemm(f32(3, 4), f32(1, 4, 6), f32(3, 6)),
     "gemm: b must be 2-D, got shape (1, 4, 6)"),
    ("c_0d", lambda: _C.gemm(f32(3, 4), f32(4, 6), f32()), "gemm: c must be 2-D, got shape ()"),
    ("int", lambda: _C.gemm(np.ones((3, 4), np.int64), f32(4, 6), f32(3, 6)),
     "gemm: a has dtype int64; expected float32 or float64"),
    ("half", lambda: _C.gemm(np.ones((3, 4), np.float16), np.ones((4, 6), np.float16),
                             np.ones((3, 6), np.float16)), "a has dtype float16"),
    ("mixed", lambda: _C.gemm(f32(3, 4), np.ones((4, 6)), f32(3, 6)),
     "gemm: b has dtype float64 but a has dtype float32"),
    ("c_dtype", lambda: _C.gemm(f32(3, 4), f32(4, 6), np.ones((3, 6))),
     "gemm: c has dtype float64 but a has dtype float32"),
    ("big_endian", lambda: _C.gemm(np.ones((3, 4), ">f8"), np.ones((4, 6), ">f8"),
                                   np.ones((3, 6), ">f8")), "expected float32 or float64"),
    ("strided", lambda: _C.gemm(f32(3, 8)[:, ::2], f32(4, 6), f32(3, 6)),
     "gemm: a with shape (3, 4) and strides (32, 8) is not C-contiguous"),
    ("fortran", lambda: _C.gemm(f32(4, 3).T, f32(4, 6), f32(3, 6)),
     "gemm: a with shape (3, 4) and strides (4, 12) is not C-contiguous"),
    ("c_strided", lambda: _C.gemm(f32(3, 4), f32(4, 6), f32(3, 12)[:, ::2]),
     "gemm: c with shape (3, 6) and strides (48, 8) is not C-contiguous"),
    ("misaligned", lambda: _C.gemm(_misaligned(), f32(4, 6), f32(3, 6)),
     "gemm: a is not aligned to its 4-byte elements"),
    ("read_only", lambda: _C.gemm(f32(3, 4), f32(4, 6), _read_only()), "gemm: c is read-only"),
    ("c_is_a", lambda: (lambda x: _C.gemm(x, f32(3, 3), x))(f32(3, 3)),
     "gemm: c overlaps a; pass a separate output"),
    ("c_overlaps_b", lambda: _C.gemm(f32(3, 3), _shared[:3], _shared[2:5]),
     "gemm: c overlaps b; pass a separate output"),
    ("impl", lambda: _C.gemm(f32(3, 4), f32(4, 6), f32(3, 6), impl="fastest"),
     "gemm: impl must be 'ref' or 'fast', got 'fastest'"),
    ("isa", lambda: _C.gemm(f32(3, 4), f32(4, 6), f32(3, 6), isa="sse"),
     "gemm: isa must be 'auto', 'avx512', 'avx2' or 'portable', got 'sse'"),
    ("isa_with_ref", lambda: _C.gemm(f32(3, 4), f32(4, 6), f32(3, 6), impl="ref", isa="portable"),
     "gemm: isa 'portable' picks a micro-kernel of impl='fast'; impl='ref' has none"),
]


@pytest.mark.parametrize("call,message", [(c, msg) for _, c, msg in BAD_CALLS],
                         ids=[name for name, _, _ in BAD_CALLS])
def test_bad_call_raises_value_error(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


@pytest.mark.parametrize("call", [
    lambda: _C.gemm([[1.0]], f32(1, 1), f32(1, 1)),
    lambda: _C.gemm(f32(1, 1), f32(1, 1), f32(1, 1), alpha="2"),
    lambda: _C.gemm(f32(1, 1), f32(1, 1)),
], ids=["list", "alpha_str", "missing_c"])
def test_wrong_python_types_raise_type_error(call):
    # pybind11 rejects arguments that are not arrays / numbers before the binding runs
    with pytest.raises(TypeError):
        call()
