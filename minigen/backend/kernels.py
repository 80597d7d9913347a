"""The kernel table: what a device's backend does around its compiled kernels.

Each method makes its inputs C-contiguous (copying only what is not: the GEMM reads a transposed
view in place), allocates the outputs with the device's array module ``xp`` and calls the compiled
kernel by name through ``launch``. The CPU (``backend/cpu.py``: NumPy, ``minigen._C``) and CUDA
(``backend/cuda.py``: CuPy, ``minigen._cuda``) share every method here and differ only in ``xp`` and
``launch``, since both compiled modules have the same function table.

``impl`` chooses the plain reference kernels (``"ref"``) or the fast ones (``"fast"``) on every
device; tests hold one to the other.
"""
import contextlib
import math

import numpy as np

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


class Kernels:
    """The wrappers of one device; a subclass gives ``xp`` and ``launch``."""

    xp = np

    def launch(self, name, *args, **options):
        """Call the compiled kernel ``name`` with ``args``, the current ``impl`` and ``options``."""
        raise NotImplementedError

    def gemm_options(self, dtype):
        """Extra keyword arguments of the compiled gemm (the CPU's ISA choice is its own)."""
        return {}

    def conv2d_bwd_weight_options(self, x, gy, gw, geometry):
        """Extra keyword arguments of the compiled conv2d_bwd_weight (none on the CPU)."""
        return {}

    def _contiguous(self, *arrays):
        """The arrays C-contiguous (copied only where needed; a 0-d array stays 0-d)."""
        return [self.xp.asarray(a, order="C") for a in arrays]

    # --- activations ---------------------------------------------------------------------------

    def leaky_relu_fwd(self, x, negative_slope):
        x, = self._contiguous(x)
        out = self.xp.empty_like(x)
        self.launch("leaky_relu_fwd", x, out, negative_slope)
        return out

    def leaky_relu_bwd(self, x, grad_out, negative_slope):
        x, grad_out = self._contiguous(x, grad_out)
        grad_in = self.xp.empty_like(x)
        self.launch("leaky_relu_bwd", x, grad_out, grad_in, negative_slope)
        return grad_in

    # --- matrix products -------------------------------------------------------------------------

    def _gemm_operand(self, a):
        """``a`` as a C-contiguous matrix and whether the GEMM should read it transposed.

        A transposed view (``x.T``, what ``transpose`` produces) is passed as the contiguous array
        it views, with the transpose flag set: the GEMM absorbs the transpose and no copy is made.
        Anything else that is not contiguous (a broadcast, a strided slice) is copied.
        """
        if a.flags.c_contiguous:
            return a, False
        if a.T.flags.c_contiguous:
            return a.T, True
        return self.xp.ascontiguousarray(a), False

    def gemm(self, a, b, out=None, alpha=1.0, beta=0.0):
        """``out = alpha * a @ b + beta * out`` for matrices; allocates ``out`` when not given."""
        if out is None:
            out = self.xp.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
        (a, trans_a), (b, trans_b) = self._gemm_operand(a), self._gemm_operand(b)
        self.launch("gemm", a, b, out, trans_a, trans_b, alpha, beta, **self.gemm_options(a.dtype))
        return out

    def matmul(self, a, b):
        """``a @ b`` for arrays of two or more dimensions (batch dimensions broadcast)."""
        if b.ndim == 2 and a.ndim > 2 and a.flags.c_contiguous:
            # A stack of matrices times one matrix is one tall product: (B*m, k) @ (k, n).
            rows = math.prod(a.shape[:-1])  # not -1: that is ambiguous when k == 0
            return self.gemm(a.reshape(rows, a.shape[-1]), b).reshape(a.shape[:-1] + (b.shape[1],))
        if a.ndim == 2 and b.ndim == 2:
            return self.gemm(a, b)
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a = self.xp.broadcast_to(a, batch + a.shape[-2:])
        b = self.xp.broadcast_to(b, batch + b.shape[-2:])
        out = self.xp.empty(batch + (a.shape[-2], b.shape[-1]), dtype=a.dtype)
        for index in np.ndindex(*batch):
            self.gemm(a[index], b[index], out[index])
        return out

    def linear(self, x, weight, bias):
        """``x @ weight.T + bias`` for x (M, in), weight (out, in).

        Computed as its transpose, ``weight @ x.T`` (out, M), then copied back: with a small batch
        (M = 64) the CPU GEMM runs faster with the large weight as its row operand (W1's
        64 x 784 x 1024: 0.96 ms with the copy against 1.21 ms, measured). The bias is written into
        the output first and the GEMM adds onto it (beta = 1).
        """
        out_t = self.xp.empty((weight.shape[0], x.shape[0]), dtype=x.dtype)
        if bias is None:
            self.gemm(weight, x.T, out_t)
        else:
            out_t[...] = bias[:, None]
            self.gemm(weight, x.T, out_t, beta=1.0)
        return self.xp.ascontiguousarray(out_t.T)

    # --- losses --------------------------------------------------------------------------------

    def _elementwise(self, name, *inputs):
        """A kernel with inputs of one shape and one output like the first."""
        inputs = self._contiguous(*inputs)
        out = self.xp.empty_like(inputs[0])
        self.launch(name, *inputs, out)
        return out

    def bce_fwd(self, p, t):
        return self._elementwise("bce_fwd", p, t)

    def bce_bwd(self, p, t, grad_out):
        return self._elementwise("bce_bwd", p, t, grad_out)

    def bce_logits_fwd(self, x, t):
        return self._elementwise("bce_logits_fwd", x, t)

    def bce_logits_bwd(self, x, t, grad_out):
        return self._elementwise("bce_logits_bwd", x, t, grad_out)

    def gradient_penalty_fwd(self, grads, target):
        grads, = self._contiguous(grads)
        out = self.xp.empty((), dtype=grads.dtype)
        self.launch("gradient_penalty_fwd", grads, target, out)
        return out

    def gradient_penalty_bwd(self, grads, target, grad_out):
        grads, = self._contiguous(grads)
        grad_in = self.xp.empty_like(grads)
        self.launch("gradient_penalty_bwd", grads, target, float(grad_out), grad_in)
        return grad_in

    # --- normalisation ---------------------------------------------------------------------------

    def batch_norm_fwd(self, x, weight, bias, eps):
        """x (N, C, S) -> y, and the batch's per-channel mean and biased variance."""
        x, weight, bias = self._contiguous(x, weight, bias)
        y = self.xp.empty_like(x)
        mean, var = self.xp.empty(x.shape[1], x.dtype), self.xp.empty(x.shape[1], x.dtype)
        self.launch("batch_norm_fwd", x, weight, bias, eps, y, mean, var)
        return y, mean, var

    def batch_norm_bwd(self, x, grad_out, weight, mean, var, eps):
        x, grad_out, weight = self._contiguous(x, grad_out, weight)
        grad_in = self.xp.empty_like(x)
        grad_weight, grad_bias = self.xp.empty_like(weight), self.xp.empty_like(weight)
        self.launch("batch_norm_bwd", x, grad_out, weight, mean, var, eps, grad_in, grad_weight,
                    grad_bias)
        return grad_in, grad_weight, grad_bias

    # --- convolution -----------------------------------------------------------------------------
    # geometry = (stride, padding, dilation) as pairs, and groups; output sizes come from the caller.

    def conv2d_fwd(self, x, w, stride, padding, dilation, groups):
        """x (N, C_in, H, W), w (C_out, C_in/groups, kH, kW) -> y (N, C_out, H_out, W_out)."""
        x, w = self._contiguous(x, w)
        out_hw = [(n + 2 * p - d * (k - 1) - 1) // s + 1
                  for n, k, s, p, d in zip(x.shape[2:], w.shape[2:], stride, padding, dilation)]
        y = self.xp.empty((x.shape[0], w.shape[0], *out_hw), dtype=x.dtype)
        self.launch("conv2d_fwd", x, w, y, stride, padding, dilation, groups)
        return y

    def conv2d_bwd_input(self, gy, w, in_hw, stride, padding, dilation, groups):
        """The input gradient of conv2d (= conv_transpose2d): -> gx (N, C_in, *in_hw)."""
        gy, w = self._contiguous(gy, w)
        gx = self.xp.empty((gy.shape[0], w.shape[1] * groups, *in_hw), dtype=gy.dtype)
        self.launch("conv2d_bwd_input", gy, w, gx, stride, padding, dilation, groups)
        return gx

    def conv2d_bwd_weight(self, x, gy, w_shape, stride, padding, dilation, groups):
        """The weight gradient of conv2d: -> gw of shape w_shape."""
        x, gy = self._contiguous(x, gy)
        gw = self.xp.empty(w_shape, dtype=x.dtype)
        geometry = stride, padding, dilation, groups
        self.launch("conv2d_bwd_weight", x, gy, gw, *geometry,
                    **self.conv2d_bwd_weight_options(x, gy, gw, geometry))
        return gw

    # --- optimisers ------------------------------------------------------------------------------

    def adam_step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps):
        """One Adam step in place on ``param`` and its averages (C-contiguous arrays of its shape);
        ``max_exp_avg_sq`` is None without AMSGrad. A non-contiguous parameter is updated through a
        contiguous copy, written back."""
        target = param if param.flags.c_contiguous else self.xp.ascontiguousarray(param)
        grad, = self._contiguous(grad)
        self.launch("adam_step", target, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1,
                    beta2, eps)
        if target is not param:
            param[...] = target
