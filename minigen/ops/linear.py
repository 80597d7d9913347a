"""``linear(x, weight, bias) = x @ weightᵀ + bias``, the affine layer, on the GEMM.

The forward writes the bias into the output and lets the GEMM add the product onto it,
reading the transposed operand where it lies (see ``backend.cpu.linear``). The backward is
made of matmuls (which read their transposed operands in place too) and a sum, so it is
differentiable again:
dx = gy @ weight, dweight = gyᵀ @ x, dbias = gy summed over the batch.
"""
from .. import backend
from ..autograd import Function
from .common import promote
from .matmul import matmul
from .reduction import sum
from .shape import reshape, transpose


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return backend.kernels(x).linear(x, weight, bias)

    @staticmethod
    def backward(ctx, gy):
        x, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        return (matmul(gy, weight) if need_x else None,
                matmul(transpose(gy, 0, 1), x) if need_weight else None,
                sum(gy, 0) if need_bias else None)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` for input (..., in_features), weight (out_features,
    in_features), bias (out_features,) or None.

    Example::

        >>> y = linear(minigen.ones(64, 784), minigen.zeros(1024, 784), minigen.ones(1024))
        >>> y.shape
        (64, 1024)

    See: torch.nn.functional.linear
    """
    input, weight, *rest = promote("linear", *[t for t in (input, weight, bias) if t is not None])
    bias = rest[0] if rest else None
    if weight.ndim != 2 or input.ndim < 1 or input.shape[-1] != weight.shape[1] or (
            bias is not None and bias.shape != (weight.shape[0],)):
        raise ValueError(
            f"linear: input {input.shape}, weight {weight.shape} and bias "
            f"{None if bias is None else bias.shape} do not fit: expected input (..., in), "
            "weight (out, in) and bias (out,)")
    batch = input.shape[:-1]
    flat = reshape(input, -1, input.shape[-1]) if input.ndim != 2 else input
    out = Linear.apply(flat, weight, bias)
    return reshape(out, batch + (weight.shape[0],)) if input.ndim != 2 else out
