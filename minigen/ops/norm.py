"""Batch normalisation: ``F.batch_norm`` with PyTorch's arguments, on csrc/cpu/norm.cc.

In training mode each channel is normalised with the statistics of the batch (mean and
biased variance over every dimension but the channels), then scaled and shifted; the running
statistics move towards the batch's by ``momentum``, the variance in its unbiased form. In
evaluation mode the running statistics are used instead, as a fixed affine map.

The training-mode backward runs the fused kernel. Under ``create_graph=True`` it runs the same
formula written in minigen ops instead, so that it can be differentiated once more.
"""
import math

from .. import autograd, backend
from ..autograd import Function
from ..tensor import Tensor
from .common import floating, promote
from .reduction import mean, sum
from .shape import reshape


class BatchNorm(Function):
    """x (N, C, S) normalised per channel with the batch's statistics; updates the running
    statistics (arrays, changed in place) when they are given."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        y, batch_mean, batch_var = backend.kernels(x).batch_norm_fwd(x, weight, bias, eps)
        if running_mean is not None:
            count = x.shape[0] * x.shape[2]
            running_mean *= 1 - momentum
            running_mean += momentum * batch_mean
            running_var *= 1 - momentum
            running_var += momentum * batch_var * (count / (count - 1))  # unbiased, as PyTorch
        ctx.save_for_backward(x, weight)
        ctx.batch_mean, ctx.batch_var, ctx.eps = batch_mean, batch_var, eps
        return y

    @staticmethod
    def backward(ctx, gy):
        x, weight = ctx.saved_tensors
        if autograd.is_grad_enabled():
            gx, gw, gb = _batch_norm_backward_in_ops(x, gy, weight, ctx.eps)
        else:
            gx, gw, gb = (Tensor._make(a) for a in backend.kernels(x._data).batch_norm_bwd(
                x._data, gy._data, weight._data, ctx.batch_mean, ctx.batch_var, ctx.eps))
        need = ctx.needs_input_grad
        return (gx if need[0] else None, gw if need[1] else None, gb if need[2] else None,
                None, None, None, None)


def _batch_norm_backward_in_ops(x, gy, weight, eps):
    """The kernel's formula in differentiable ops, x and gy (N, C, S):
    x̂ = (x - mean) / sqrt(var + eps), gb = Σ gy, gw = Σ gy x̂,
    gx = w / sqrt(var + eps) · (gy − gb / M − x̂ gw / M), sums over N and S."""
    dims, count = (0, 2), x.shape[0] * x.shape[2]
    centred = x - mean(x, dims, keepdim=True)
    invstd = (mean(centred * centred, dims, keepdim=True) + eps) ** -0.5
    xhat = centred * invstd
    gb = sum(gy, dims, keepdim=True)
    gw = sum(gy * xhat, dims, keepdim=True)
    gx = reshape(weight, 1, -1, 1) * invstd * (gy - gb / count - xhat * gw / count)
    return gx, reshape(gw, -1), reshape(gb, -1)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise ``input`` (N, C, *) per channel C, then scale by ``weight`` and shift by ``bias``.

    ``training=True`` uses the batch's statistics and, when ``running_mean``/``running_var``
    are given, updates them in place: ``running = (1 - momentum) * running + momentum * batch``
    (the variance unbiased). ``training=False`` uses the running statistics.

    See: torch.nn.functional.batch_norm
    """
    input = floating("batch_norm", input)
    if input.ndim < 2 and input.numel() == 0:  # PyTorch answers an empty vector with an empty one
        return input * 1
    if input.ndim < 2:
        raise ValueError(f"batch_norm: input needs a channel dimension (N, C, *), got {input.shape}")
    channels = input.shape[1]
    xp = backend.array_module(input._data)
    weight = Tensor._make(xp.ones(channels, input.dtype)) if weight is None else weight
    bias = Tensor._make(xp.zeros(channels, input.dtype)) if bias is None else bias
    input, weight, bias = promote("batch_norm", input, weight, bias)
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and t.shape != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {t.shape} but the input has "
                             f"{channels} channels (shape {input.shape})")
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
        scale = reshape(weight, shape) / (reshape(running_var, shape) + eps).sqrt()
        return (input - reshape(running_mean, shape)) * scale + reshape(bias, shape)
    if input.numel() == 0:
        # no statistics to take or update (PyTorch's answer): an empty output, still connected
        # to weight and bias so that their gradients are zeros
        return input * reshape(weight, shape) + reshape(bias, shape)
    if input.numel() == channels:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {input.shape}")
    x = reshape(input, input.shape[0], channels, math.prod(input.shape[2:]))
    y = BatchNorm.apply(x, weight, bias, running_mean, running_var, float(momentum), float(eps))
    return reshape(y, input.shape)
