"""Matrix product with NumPy's (and PyTorch's) rules: 1-D operands are promoted to a row or
a column and the added dimension removed again, leading dimensions broadcast.

The gradient of C = A @ B is dA = dC @ Bᵀ and dB = Aᵀ @ dC, each summed over broadcast
batch dimensions: matmuls themselves, so the product is differentiable to any order. The
products run on minigen's GEMM (csrc/cpu/gemm.cc), which reads the transposed operands of the
backward in place: no transpose is copied.
"""
from .. import backend
from ..autograd import Function
from .common import broadcast_shape, promote
from .shape import reshape, sum_to, transpose, unsqueeze


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return backend.kernels(a).matmul(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = sum_to(matmul(gy, transpose(b, -2, -1)), a.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(matmul(transpose(a, -2, -1), gy), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


def matmul(a, b):
    """``a @ b``: (..., n, k) @ (..., k, m) -> (..., n, m); 1-D operands allowed."""
    a, b = promote("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                         f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
    if a.ndim == 1 or b.ndim == 1:
        # a vector is a (1, k) row on the left, a (k, 1) column on the right; drop it after
        out = matmul(unsqueeze(a, 0) if a.ndim == 1 else a, unsqueeze(b, 1) if b.ndim == 1 else b)
        kept = out.shape[-2:-1] * (a.ndim > 1) + out.shape[-1:] * (b.ndim > 1)
        return reshape(out, out.shape[:-2] + kept)
    broadcast_shape("matmul", a.shape[:-2], b.shape[:-2])
    return MatMul.apply(a, b)
