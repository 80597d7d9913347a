"""The three conv kernels of minigen._C (csrc/cpu/conv.cc), called directly:

    conv2d_fwd(x, w, y, ...)          y  = conv2d(x, w)
    conv2d_bwd_input(gy, w, gx, ...)  gx = d<y, gy>/dx   (also conv_transpose2d's forward)
    conv2d_bwd_weight(x, gy, gw, ...) gw = d<y, gy>/dw

Held to an independent NumPy implementation, the fast versions to the references, and all of
them to the identities <conv(x, w), y> = <x, bwd_input(y, w)> = <w, bwd_weight(x, y)>.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minigen import _C
from minigen.testing.strategies import ConvConfig, conv_configs

from helpers import gamma, longest_conv_sum, num_threads, unit_roundoff

# A kernel test module: scripts/sanitize.py and CI's pass on the AVX2 micro-kernels run these.
pytestmark = pytest.mark.kernels


def out_size(size, kernel, stride, padding, dilation):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def params(cfg):
    """The geometry arguments the kernels take after their arrays."""
    return cfg.stride, cfg.padding, cfg.dilation, cfg.groups


seeds = st.integers(0, 2**32 - 1)


def random_arrays(cfg, seed, dtype=np.float64):
    """x, w, gy (the last of y's shape) of standard normal values."""
    rng = np.random.default_rng(seed)
    shapes = cfg.x_shape, cfg.weight_shape, cfg.y_shape
    return tuple(rng.standard_normal(shape).astype(dtype) for shape in shapes)


# --- calling the kernels ----------------------------------------------------------------------


def fwd(x, w, cfg, impl="fast"):
    y = np.empty(cfg.y_shape, x.dtype)
    _C.conv2d_fwd(x, w, y, *params(cfg), impl=impl)
    return y


def bwd_input(gy, w, cfg, impl="fast"):
    gx = np.empty(cfg.x_shape, gy.dtype)
    _C.conv2d_bwd_input(gy, w, gx, *params(cfg), impl=impl)
    return gx


def bwd_weight(x, gy, cfg, impl="fast"):
    gw = np.empty(cfg.weight_shape, x.dtype)
    _C.conv2d_bwd_weight(x, gy, gw, *params(cfg), impl=impl)
    return gw


def all_three(x, w, gy, cfg, impl="fast"):
    return fwd(x, w, cfg, impl), bwd_input(gy, w, cfg, impl), bwd_weight(x, gy, cfg, impl)


def magnitudes(x, w, gy, cfg):
    """For each output of all_three, the sum of |terms| it adds up: the scale of its rounding error."""
    return all_three(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64),
                     np.abs(gy).astype(np.float64), cfg, "ref")


def assert_close(actual, expected, magnitude, rtol):
    """|actual - expected| <= rtol * (sum of |terms|): a tolerance that cancellation cannot break."""
    assert actual.shape == expected.shape
    excess = np.abs(actual.astype(np.float64) - expected) - rtol * magnitude - 1e-300
    assert np.all(excess <= 0), f"largest error beyond tolerance: {excess.max()}"


# --- an independent implementation: NumPy windows and einsum, float64 -------------------------


def windows(cfg):
    """Index arrays rows (H_out, 1, kH, 1), cols (1, W_out, 1, kW) into the padded input:
    xp[:, :, rows, cols] is (N, C, H_out, W_out, kH, kW), the window under every output pixel."""
    (oh, ow), (kh, kw) = cfg.conv_output, cfg.kernel
    (sh, sw), (dh, dw) = cfg.stride, cfg.dilation
    rows = (np.arange(oh) * sh)[:, None] + (np.arange(kh) * dh)[None, :]
    cols = (np.arange(ow) * sw)[:, None] + (np.arange(kw) * dw)[None, :]
    return rows[:, None, :, None], cols[None, :, None, :]


def group_slices(cfg):
    ci, co = cfg.in_channels // cfg.groups, cfg.out_channels // cfg.groups
    return [(slice(g * ci, (g + 1) * ci), slice(g * co, (g + 1) * co)) for g in range(cfg.groups)]


def pad(x, cfg):
    (ph, pw) = cfg.padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def numpy_fwd(x, w, cfg):
    patches = pad(x, cfg)[(slice(None), slice(None), *windows(cfg))]
    return np.concatenate([np.einsum("ncijpq,kcpq->nkij", patches[:, cin], w[cout])
                           for cin, cout in group_slices(cfg)], axis=1)


def numpy_bwd_input(gy, w, cfg):
    gxp = pad(np.zeros(cfg.x_shape), cfg)
    for cin, cout in group_slices(cfg):
        terms = np.einsum("nkij,kcpq->ncijpq", gy[:, cout], w[cout])
        np.add.at(gxp, (slice(None), cin, *windows(cfg)), terms)
    (ph, pw) = cfg.padding
    return gxp[:, :, ph:ph + cfg.height, pw:pw + cfg.width]


def numpy_bwd_weight(x, gy, cfg):
    patches = pad(x, cfg)[(slice(None), slice(None), *windows(cfg))]
    return np.concatenate([np.einsum("ncijpq,nkij->kcpq", patches[:, cin], gy[:, cout])
                           for cin, cout in group_slices(cfg)], axis=0)


# --- (a) the references against NumPy; (b) fast against the references ------------------------


@settings(deadline=None)
@given(cfg=conv_configs(), seed=seeds)
def test_reference_matches_numpy(cfg, seed):
    x, w, gy = random_arrays(cfg, seed)
    expected = numpy_fwd(x, w, cfg), numpy_bwd_input(gy, w, cfg), numpy_bwd_weight(x, gy, cfg)
    for ours, theirs, scale in zip(all_three(x, w, gy, cfg, "ref"), expected, magnitudes(x, w, gy, cfg)):
        assert_close(ours, theirs, scale, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(deadline=None)
@given(cfg=conv_configs(), seed=seeds)
def test_fast_matches_reference(dtype, cfg, seed):
    x, w, gy = random_arrays(cfg, seed, dtype)
    # two orders of summation, each within gamma_n sum |terms| of the exact sum
    rtol = 2 * gamma(longest_conv_sum(cfg), unit_roundoff(dtype))
    for fast, ref, scale in zip(all_three(x, w, gy, cfg, "fast"), all_three(x, w, gy, cfg, "ref"),
                                magnitudes(x, w, gy, cfg)):
        assert fast.dtype == ref.dtype == dtype
        assert_close(fast, ref, scale, rtol)


# --- (c, d) adjointness: <conv(x, w), y> = <x, bwd_input(y, w)> = <w, bwd_weight(x, y)> -------


def assert_adjoint(x, w, gy, cfg, impl):
    y, gx, gw = all_three(x, w, gy, cfg, impl)
    scale = np.sum(magnitudes(x, w, gy, cfg)[0] * np.abs(gy))  # sum of |x w gy| over all terms
    lhs = np.sum(y * gy)
    assert abs(lhs - np.sum(x * gx)) <= 1e-10 * scale
    assert abs(lhs - np.sum(w * gw)) <= 1e-10 * scale


@pytest.mark.parametrize("impl", ["ref", "fast"])
@settings(deadline=None)
@given(cfg=conv_configs(), seed=seeds)
def test_adjointness(impl, cfg, seed):
    assert_adjoint(*random_arrays(cfg, seed), cfg, impl)


@pytest.mark.parametrize("impl", ["ref", "fast"])
@settings(deadline=None)
@given(cfg=conv_configs(min_stride=2), seed=seeds)
def test_adjointness_with_output_padding(impl, cfg, seed):
    """gx one pixel larger, in height and width, than the smallest that gives gy's size: what
    conv_transpose2d(..., output_padding=1) asks for. The extra row and column are still inputs
    of the conv (the last windows may reach them), so they get their share of the gradient."""
    sides = []
    for out, k, s, p, d in zip(cfg.conv_output, cfg.kernel, cfg.stride, cfg.padding, cfg.dilation):
        smallest = max(1, (out - 1) * s - 2 * p + d * (k - 1) + 1)
        # (one more pixel would add an output when the padding alone nearly fills a window)
        sides.append(smallest + 1 if out_size(smallest + 1, k, s, p, d) == out else smallest)
    larger = cfg._replace(height=sides[0], width=sides[1])
    assert larger.conv_output == cfg.conv_output
    assert_adjoint(*random_arrays(larger, seed), larger, impl)


# --- (e) edge cases ---------------------------------------------------------------------------


def config(x_shape, w_shape, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    n, c_in, height, width = x_shape
    return ConvConfig(n, c_in, w_shape[0], height, width, tuple(w_shape[2:]), stride, padding,
                      dilation, groups, output_padding=(0, 0))


EDGE_CASES = {
    "1x1 kernel": config((2, 4, 5, 3), (6, 4, 1, 1)),
    "1x1 kernel, groups": config((3, 4, 5, 3), (6, 2, 1, 1), groups=2),
    "1x1 kernel, stride 2": config((2, 3, 5, 4), (2, 3, 1, 1), stride=(2, 2)),
    "1x1 kernel, padding": config((2, 3, 3, 4), (2, 3, 1, 1), padding=(1, 0)),
    "kernel = padded input": config((2, 3, 5, 3), (4, 3, 7, 5), padding=(1, 1)),
    "kernel = input": config((2, 3, 5, 4), (4, 3, 5, 4)),
    "kernel = input, batch 1": config((1, 3, 5, 4), (4, 3, 5, 4)),
    "kernel = input, groups": config((2, 4, 3, 3), (6, 2, 3, 3), groups=2),
    "dilated kernel = input": config((2, 2, 5, 5), (3, 2, 3, 3), dilation=(2, 2)),
    "stride larger than kernel": config((2, 3, 9, 8), (4, 3, 2, 2), stride=(3, 3)),
    "batch 1": config((1, 3, 6, 7), (5, 3, 3, 3), padding=(1, 1)),
    "W2 first ConvTranspose2d, small": config((4, 6, 7, 7), (10, 6, 7, 7)),  # gy (4, 10, 1, 1)
    "W2 D's strided conv, small": config((3, 8, 14, 14), (16, 8, 4, 4), stride=(2, 2), padding=(1, 1)),
}


@pytest.mark.parametrize("cfg", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases(cfg):
    x, w, gy = random_arrays(cfg, 0)
    expected = numpy_fwd(x, w, cfg), numpy_bwd_input(gy, w, cfg), numpy_bwd_weight(x, gy, cfg)
    for impl in ("ref", "fast"):
        for ours, theirs, scale in zip(all_three(x, w, gy, cfg, impl), expected, magnitudes(x, w, gy, cfg)):
            assert_close(ours, theirs, scale, rtol=1e-12)
    assert_adjoint(x, w, gy, cfg, "fast")


def test_empty_batch():
    cfg = config((0, 3, 5, 5), (4, 3, 3, 3))
    x, w, gy = random_arrays(cfg, 0)
    for impl in ("ref", "fast"):
        y, gx, gw = all_three(x, w, gy, cfg, impl)
        assert y.shape == (0, 4, 3, 3) and gx.shape == (0, 3, 5, 5)
        np.testing.assert_array_equal(gw, np.zeros(cfg.weight_shape))


# --- (f) threads ------------------------------------------------------------------------------


def results_with_threads(n, x, w, gy, cfg):
    with num_threads(n):
        results = all_three(x, w, gy, cfg)
        assert _C.get_num_threads() == n  # the kernels leave the setting as they found it
    return results


@settings(deadline=None, max_examples=10)
@given(cfg=conv_configs(), seed=seeds)
def test_thread_count_does_not_change_results(cfg, seed):
    x, w, gy = random_arrays(cfg, seed)
    one_thread, two_threads = (results_with_threads(n, x, w, gy, cfg) for n in (1, 2))
    for one, two, scale in zip(one_thread, two_threads, magnitudes(x, w, gy, cfg)):
        assert_close(two, one, scale, rtol=1e-12)


@pytest.mark.parametrize("cfg", [
    config((4, 32, 14, 14), (64, 32, 4, 4), stride=(2, 2), padding=(1, 1)),
    config((2, 128, 12, 12), (128, 128, 1, 1)),
    config((64, 64, 4, 4), (96, 64, 4, 4)),  # one window: the batch is one GEMM
], ids=["strided", "1x1", "one window"])
def test_threads_with_products_large_enough_to_split(cfg):
    """Each chunk's product here is large enough that the GEMM would split it across threads if
    asked: run inside the conv's own threads, it must still compute all of it."""
    x, w, gy = random_arrays(cfg, 1)
    reference, scales = all_three(x, w, gy, cfg, "ref"), magnitudes(x, w, gy, cfg)
    for n in (1, 2):
        for ours, ref, scale in zip(results_with_threads(n, x, w, gy, cfg), reference, scales):
            assert_close(ours, ref, scale, rtol=1e-12)


@pytest.mark.parametrize("n", [5, 23])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_samples_lowered_in_chunks(n, n_threads):
    """The fast kernels lower a few samples side by side (up to a few hundred GEMM columns, and
    at least one chunk per thread): batches that do not split evenly leave a last, shorter chunk."""
    cfg = config((n, 4, 5, 6), (6, 2, 3, 3), padding=(1, 0), groups=2)  # 20 output pixels
    x, w, gy = random_arrays(cfg, n)
    expected = numpy_fwd(x, w, cfg), numpy_bwd_input(gy, w, cfg), numpy_bwd_weight(x, gy, cfg)
    for ours, theirs, scale in zip(results_with_threads(n_threads, x, w, gy, cfg), expected,
                                   magnitudes(x, w, gy, cfg)):
        assert_close(ours, theirs, scale, rtol=1e-12)


# --- against PyTorch, where it is installed ---------------------------------------------------


@settings(deadline=None, max_examples=10)
@given(cfg=conv_configs(), seed=seeds)
def test_matches_torch(cfg, seed):
    torch = pytest.importorskip("torch")
    x, w, gy = random_arrays(cfg, seed)
    stride, padding, dilation, groups = params(cfg)
    tx, tw, tgy = (torch.from_numpy(a) for a in (x, w, gy))
    expected = (torch.nn.functional.conv2d(tx, tw, None, stride, padding, dilation, groups),
                torch.nn.grad.conv2d_input(x.shape, tw, tgy, stride, padding, dilation, groups),
                torch.nn.grad.conv2d_weight(tx, w.shape, tgy, stride, padding, dilation, groups))
    for ours, theirs, scale in zip(all_three(x, w, gy, cfg), expected, magnitudes(x, w, gy, cfg)):
        assert_close(ours, theirs.numpy(), scale, rtol=1e-12)


def test_w2_first_transposed_conv_matches_torch():
    """G's ConvTranspose2d(100, 256, k7, s1, p0) on z (64, 100, 1, 1), at full size, float32."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    z = rng.standard_normal((64, 100, 1, 1)).astype(np.float32)
    w = (0.05 * rng.standard_normal((100, 256, 7, 7))).astype(np.float32)  # ConvTranspose2d's weight
    out = np.empty((64, 256, 7, 7), np.float32)
    _C.conv2d_bwd_input(z, w, out, (1, 1), (0, 0), (1, 1), 1)
    expected, scale = (torch.nn.functional.conv_transpose2d(torch.from_numpy(a.astype(np.float64)),
                                                            torch.from_numpy(b.astype(np.float64))).numpy()
                       for a, b in ((z, w), (np.abs(z), np.abs(w))))
    # sums of 100 products (one per input channel), ours in float32 and PyTorch's in float64
    assert_close(out, expected, scale, rtol=gamma(100, unit_roundoff(np.float32))
                 + gamma(100, unit_roundoff(np.float64)))


def test_output_padding_matches_torch_conv_transpose2d():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2, 4, 3, 4))
    w = rng.standard_normal((4, 6, 3, 2))
    out = np.empty((2, 6, 8, 9))  # (3 - 1) * 3 - 2 + 3 + 1 = 8, (4 - 1) * 2 - 0 + 2 + 1 = 9
    _C.conv2d_bwd_input(z, w, out, (3, 2), (1, 0), (1, 1), 1)
    expected = torch.nn.functional.conv_transpose2d(torch.from_numpy(z), torch.from_numpy(w), stride=(3, 2),
                                                    padding=(1, 0), output_padding=(1, 1)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


# --- (g) bad calls: ValueError naming the op, the argument and the numbers --------------------

X = np.zeros((2, 3, 5, 5))
W = np.zeros((4, 3, 3, 3))
Y = np.zeros((2, 4, 3, 3))
OK = ((1, 1), (0, 0), (1, 1), 1)


def fwd_call(x=X, w=W, y=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, impl="fast"):
    _C.conv2d_fwd(x, w, np.zeros_like(Y) if y is None else y, stride, padding, dilation, groups, impl)


BAD_FWD_CALLS = [
    (dict(stride=(0, 1)), r"conv2d_fwd: stride must be positive, got \(0, 1\)"),
    (dict(padding=(0, -1)), r"conv2d_fwd: padding must be non-negative, got \(0, -1\)"),
    (dict(dilation=(1, 0)), r"conv2d_fwd: dilation must be positive, got \(1, 0\)"),
    (dict(groups=0), "conv2d_fwd: groups must be >= 1, got 0"),
    (dict(groups=2), r"conv2d_fwd: groups = 2 must divide C_in = 3 and C_out = 4 \(x \(N, C_in, H, W\) = "
                     r"\(2, 3, 5, 5\), w \(C_out, C_in / groups, kH, kW\) = \(4, 3, 3, 3\)\)"),
    (dict(w=np.zeros((4, 2, 3, 3))), r"w \(C_out, C_in / groups, kH, kW\) = \(4, 2, 3, 3\) does not fit x "
                                     r"\(N, C_in, H, W\) = \(2, 3, 5, 5\) with groups = 1: expected "
                                     r"C_in / groups = 3 in dimension 1"),
    (dict(w=np.zeros((4, 3, 0, 3))), r"\(4, 3, 0, 3\): the kernel must be at least 1 x 1"),
    (dict(w=np.zeros((4, 3, 3, 7))), r"conv2d_fwd: the kernel \(3, 7\) with dilation \(1, 1\) spans \(3, 7\) "
                                     r"pixels, more than the padded input: x \(N, C_in, H, W\) = "
                                     r"\(2, 3, 5, 5\) with padding \(0, 0\) is \(5, 5\)"),
    (dict(dilation=(3, 1)), r"the kernel \(3, 3\) with dilation \(3, 1\) spans \(7, 3\) pixels"),
    (dict(y=np.zeros((2, 4, 3, 4))), r"conv2d_fwd: y has shape \(2, 4, 3, 4\) but x \(N, C_in, H, W\) = "
                                     r"\(2, 3, 5, 5\), w \(C_out, C_in / groups, kH, kW\) = \(4, 3, 3, 3\), "
                                     r"stride \(1, 1\), padding \(0, 0\), dilation \(1, 1\), groups 1 give "
                                     r"\(N, C_out, H_out, W_out\) = \(2, 4, 3, 3\)"),
    (dict(y=np.zeros((3, 4, 3, 3))), r"y has shape \(3, 4, 3, 3\) but .* give \(N, C_out, H_out, W_out\) = "
                                     r"\(2, 4, 3, 3\)"),
    (dict(x=np.zeros((3, 5, 5))), r"conv2d_fwd: x must be 4-D \(N, C_in, H, W\), got shape \(3, 5, 5\)"),
    (dict(w=np.zeros((4, 27))), r"w must be 4-D \(C_out, C_in / groups, kH, kW\), got shape \(4, 27\)"),
    (dict(y=np.zeros((2, 4, 9))), r"y must be 4-D \(N, C_out, H_out, W_out\), got shape \(2, 4, 9\)"),
    (dict(w=W.astype(np.float32)), "conv2d_fwd: w has dtype float32 but x has dtype float64"),
    (dict(y=Y.astype(np.float32)), "conv2d_fwd: y has dtype float32 but x has dtype float64"),
    (dict(x=X.astype(np.int64), w=W.astype(np.int64), y=Y.astype(np.int64)),
     "conv2d_fwd: x has dtype int64; expected float32 or float64"),
    (dict(x=np.zeros((2, 3, 5, 10))[..., ::2]), "conv2d_fwd: x with shape .* is not C-contiguous"),
    (dict(y=np.asfortranarray(np.zeros_like(Y))), "conv2d_fwd: y with shape .* is not C-contiguous"),
    (dict(impl="slow"), "conv2d_fwd: impl must be 'ref' or 'fast', got 'slow'"),
]


@pytest.mark.parametrize("kwargs, message", BAD_FWD_CALLS)
def test_bad_fwd_calls(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fwd_call(**kwargs)


def test_output_must_be_writeable_and_separate():
    y = np.zeros_like(Y)
    y.flags.writeable = False
    with pytest.raises(ValueError, match="conv2d_fwd: y is read-only"):
        _C.conv2d_fwd(X, W, y, *OK)
    buffer = np.zeros(X.size + Y.size)
    x, y = buffer[:X.size].reshape(X.shape), buffer[X.size - 1:-1].reshape(Y.shape)
    with pytest.raises(ValueError, match="conv2d_fwd: y overlaps x; pass a separate output"):
        _C.conv2d_fwd(x, W, y, *OK)
    x = np.zeros((2, 3, 5, 5))  # padding 1 keeps the size: y could be x itself, but may not
    with pytest.raises(ValueError, match="conv2d_fwd: y overlaps x; pass a separate output"):
        _C.conv2d_fwd(x, np.zeros((3, 3, 3, 3)), x, (1, 1), (1, 1), (1, 1), 1)
    buffer = np.zeros(W.size + X.size)
    w, gx = buffer[:W.size].reshape(W.shape), buffer[W.size - 1:-1].reshape(X.shape)
    with pytest.raises(ValueError, match="conv2d_bwd_input: gx overlaps w; pass a separate output"):
        _C.conv2d_bwd_input(Y, w, gx, *OK)


BAD_GRADIENT_CALLS = {
    "gx too tall for gy": (
        lambda: _C.conv2d_bwd_input(Y, W, np.zeros((2, 3, 6, 5)), *OK),
        r"conv2d_bwd_input: gy has shape \(2, 4, 3, 3\) but gx \(N, C_in, H, W\) = \(2, 3, 6, 5\), "
        r".* give \(N, C_out, H_out, W_out\) = \(2, 4, 4, 3\)"),
    "gx smaller than the kernel": (
        lambda: _C.conv2d_bwd_input(Y, W, np.zeros((2, 3, 2, 2)), *OK),
        r"conv2d_bwd_input: the kernel \(3, 3\) .* is \(2, 2\)"),
    "bwd_input stride": (
        lambda: _C.conv2d_bwd_input(Y, W, np.zeros_like(X), (1, -2), (0, 0), (1, 1), 1),
        r"conv2d_bwd_input: stride must be positive, got \(1, -2\)"),
    "gw channels": (
        lambda: _C.conv2d_bwd_weight(X, Y, np.zeros((4, 1, 3, 3)), *OK),
        r"conv2d_bwd_weight: gw \(C_out, C_in / groups, kH, kW\) = \(4, 1, 3, 3\) does not fit x"),
    "gw kernel": (
        lambda: _C.conv2d_bwd_weight(X, Y, np.zeros((4, 3, 4, 4)), *OK),
        r"conv2d_bwd_weight: gy has shape \(2, 4, 3, 3\) but .* give "
        r"\(N, C_out, H_out, W_out\) = \(2, 4, 2, 2\)"),
    "bwd_weight dtypes": (
        lambda: _C.conv2d_bwd_weight(X, Y.astype(np.float32), np.zeros_like(W), *OK),
        "conv2d_bwd_weight: gy has dtype float32 but x has dtype float64"),
    "bwd_weight impl": (
        lambda: _C.conv2d_bwd_weight(X, Y, np.zeros_like(W), *OK, impl=""),
        "conv2d_bwd_weight: impl must be 'ref' or 'fast', got ''"),
}


@pytest.mark.parametrize("call, message", BAD_GRADIENT_CALLS.values(), ids=BAD_GRADIENT_CALLS.keys())
def test_bad_gradient_calls(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_hyper_parameters_must_be_pairs_of_ints():
    """pybind11 rejects other types before the kernel's own checks: a TypeError, as for any
    Python function called with arguments of the wrong type."""
    for bad in ((1, 1, 1), (1.0, 1), 1, (2**40, 1)):
        with pytest.raises(TypeError):
            _C.conv2d_fwd(X, W, np.zeros_like(Y), bad, (0, 0), (1, 1), 1)
