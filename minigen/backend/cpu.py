"""CPU kernels: NumPy allocates every output, ``minigen._C`` fills it.

Each wrapper makes its inputs C-contiguous (copying only what is not: the GEMM reads a
transposed view in place), allocates the output and calls the compiled kernel. ``impl``
chooses the plain reference loop (``"ref"``) or the fast version (``"fast"``); tests hold one
to the other.
"""
import contextlib

import numpy as np

from .. import _C

impl = "fast"


@contextlib.contextmanager
def use_impl(name):
    """Run the kernels called inside the block as ``name``: "ref" or "fast"."""
    global impl
    if name not in ("ref", "fast"):
        raise ValueError(f"kernel impl must be 'ref' or 'fast', not {name!r}")
    previous, impl = impl, name
    try:
        yield
    finally:
        impl = previous


def set_num_threads(n):
    """Number of OpenMP threads the CPU kernels use."""
    _C.set_num_threads(int(n))


def get_num_threads():
    return _C.get_num_threads()


def _contiguous(*arrays):
    """The arrays C-contiguous (copied only where needed; a 0-d array stays 0-d)."""
    return [np.asarray(a, order="C") for a in arrays]


# --- activations -------------------------------------------------------------------------------

def leaky_relu_fwd(x, negative_slope):
    x, = _contiguous(x)
    out = np.empty_like(x)
    _C.leaky_relu_fwd(x, out, negative_slope, impl)
    return out


def leaky_relu_bwd(x, grad_out, negative_slope):
    x, grad_out = _contiguous(x, grad_out)
    grad_in = np.empty_like(x)
    _C.leaky_relu_bwd(x, grad_out, grad_in, negative_slope, impl)
    return grad_in


# --- matrix products -----------------------------------------------------------------------------

def _gemm_operand(a):
    """``a`` as a C-contiguous matrix and whether the GEMM should read it transposed.

    A transposed view (``x.T``, what ``transpose`` produces) is passed as the contiguous array
    it views, with the transpose flag set: the GEMM's packing absorbs the transpose and no copy
    is made. Anything else that is not contiguous (a broadcast, a strided slice) is copied.
    """
    if a.flags.c_contiguous:
        return a, False
    if a.T.flags.c_contiguous:
        return a.T, True
    return np.ascontiguousarray(a), False


def gemm(a, b, out=None, alpha=1.0, beta=0.0):
    """``out = alpha * a @ b + beta * out`` for matrices; allocates ``out`` when not given."""
    if out is None:
        out = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    (a, trans_a), (b, trans_b) = _gemm_operand(a), _gemm_operand(b)
    _C.gemm(a, b, out, trans_a, trans_b, alpha, beta, impl)
    return out


def matmul(a, b):
    """``a @ b`` for arrays of two or more dimensions (batch dimensions broadcast)."""
    if b.ndim == 2 and a.ndim > 2 and a.flags.c_contiguous:
        # A stack of matrices times one matrix is one tall product: (B*m, k) @ (k, n).
        return gemm(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + (b.shape[1],))
    if a.ndim == 2 and b.ndim == 2:
        return gemm(a, b)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + (a.shape[-2], b.shape[-1]), dtype=a.dtype)
    for index in np.ndindex(*batch):
        gemm(a[index], b[index], out[index])
    return out


def linear(x, weight, bias):
    """``x @ weight.T + bias`` for x (M, in), weight (out, in).

    Computed as its transpose, ``weight @ x.T`` (out, M), then copied back: with a small batch
    (M = 64) the GEMM runs faster with the large weight as its row operand (W1's 64 x 784 x 1024:
    0.96 ms with the copy against 1.21 ms, measured). The bias is written into the output first
    and the GEMM adds onto it (beta = 1).
    """
    out_t = np.empty((weight.shape[0], x.shape[0]), dtype=x.dtype)
    if bias is None:
        gemm(weight, x.T, out_t)
    else:
        out_t[...] = bias[:, None]
        gemm(weight, x.T, out_t, beta=1.0)
    return np.ascontiguousarray(out_t.T)


# --- losses --------------------------------------------------------------------------------------

def bce_fwd(p, t):
    p, t = _contiguous(p, t)
    out = np.empty_like(p)
    _C.bce_fwd(p, t, out, impl)
    return out


def bce_bwd(p, t, grad_out):
    p, t, grad_out = _contiguous(p, t, grad_out)
    grad_in = np.empty_like(p)
    _C.bce_bwd(p, t, grad_out, grad_in, impl)
    return grad_in


def bce_logits_fwd(x, t):
    x, t = _contiguous(x, t)
    out = np.empty_like(x)
    _C.bce_logits_fwd(x, t, out, impl)
    return out


def bce_logits_bwd(x, t, grad_out):
    x, t, grad_out = _contiguous(x, t, grad_out)
    grad_in = np.empty_like(x)
    _C.bce_logits_bwd(x, t, grad_out, grad_in, impl)
    return grad_in


def gradient_penalty_fwd(grads, target):
    grads, = _contiguous(grads)
    out = np.empty((), dtype=grads.dtype)
    _C.gradient_penalty_fwd(grads, target, out, impl)
    return out


def gradient_penalty_bwd(grads, target, grad_out):
    grads, = _contiguous(grads)
    grad_in = np.empty_like(grads)
    _C.gradient_penalty_bwd(grads, target, float(grad_out), grad_in, impl)
    return grad_in


# --- normalisation -------------------------------------------------------------------------------

def batch_norm_fwd(x, weight, bias, eps):
    """x (N, C, S) -> y, and the batch's per-channel mean and biased variance."""
    x, weight, bias = _contiguous(x, weight, bias)
    y = np.empty_like(x)
    mean, var = np.empty(x.shape[1], x.dtype), np.empty(x.shape[1], x.dtype)
    _C.batch_norm_fwd(x, weight, bias, eps, y, mean, var, impl)
    return y, mean, var


def batch_norm_bwd(x, grad_out, weight, mean, var, eps):
    x, grad_out, weight = _contiguous(x, grad_out, weight)
    grad_in = np.empty_like(x)
    grad_weight, grad_bias = np.empty_like(weight), np.empty_like(weight)
    _C.batch_norm_bwd(x, grad_out, weight, mean, var, eps, grad_in, grad_weight, grad_bias, impl)
    return grad_in, grad_weight, grad_bias


# --- convolution ---------------------------------------------------------------------------------
# geometry = (stride, padding, dilation) as pairs, and groups; output sizes come from the caller.

def conv2d_fwd(x, w, stride, padding, dilation, groups):
    """x (N, C_in, H, W), w (C_out, C_in/groups, kH, kW) -> y (N, C_out, H_out, W_out)."""
    x, w = _contiguous(x, w)
    out_hw = [(n + 2 * p - d * (k - 1) - 1) // s + 1
              for n, k, s, p, d in zip(x.shape[2:], w.shape[2:], stride, padding, dilation)]
    y = np.empty((x.shape[0], w.shape[0], *out_hw), dtype=x.dtype)
    _C.conv2d_fwd(x, w, y, stride, padding, dilation, groups, impl)
    return y


def conv2d_bwd_input(gy, w, in_hw, stride, padding, dilation, groups):
    """The input gradient of conv2d (= conv_transpose2d): -> gx (N, C_in, *in_hw)."""
    gy, w = _contiguous(gy, w)
    gx = np.empty((gy.shape[0], w.shape[1] * groups, *in_hw), dtype=gy.dtype)
    _C.conv2d_bwd_input(gy, w, gx, stride, padding, dilation, groups, impl)
    return gx


def conv2d_bwd_weight(x, gy, w_shape, stride, padding, dilation, groups):
    """The weight gradient of conv2d: -> gw of shape w_shape."""
    x, gy = _contiguous(x, gy)
    gw = np.empty(w_shape, dtype=x.dtype)
    _C.conv2d_bwd_weight(x, gy, gw, stride, padding, dilation, groups, impl)
    return gw


# --- optimisers ----------------------------------------------------------------------------------

def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps):
    """One Adam step in place on ``param`` and its averages (C-contiguous arrays of its shape);
    ``max_exp_avg_sq`` is None without AMSGrad. A non-contiguous parameter is updated through a
    contiguous copy, written back."""
    target = param if param.flags.c_contiguous else np.ascontiguousarray(param)
    grad, = _contiguous(grad)
    _C.adam_step(target, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps, impl)
    if target is not param:
        param[...] = target
