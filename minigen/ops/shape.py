"""Ops that move elements without changing them: reshape, permute, expand and its adjoint
sum_to, cat, stack, pad.

Each backward is the inverse movement, so each is as differentiable as the forward:
reshape undoes reshape, permute undoes permute, expand and sum_to are each other's gradient,
pad is a slice put into zeros, whose gradient is the slice.
"""
import math

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Tensor
from .common import normalize_dim, normalize_dims, promote
from .indexing import IndexAdd, index


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return reshape(gy, ctx.in_shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, gy):
        return permute(gy, *np.argsort(ctx.dims)), None


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, gy):
        return sum_to(gy, ctx.in_shape), None


class SumTo(Function):
    """Sum a broadcast result back to the shape it was broadcast from."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        leading = x.ndim - len(shape)
        stretched = tuple(leading + i for i, n in enumerate(shape) if n == 1 and x.shape[leading + i] != 1)
        return x.sum(axis=tuple(range(leading)) + stretched, keepdims=True).reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return Expand.apply(gy, ctx.in_shape), None


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.bounds = np.cumsum([0] + [x.shape[dim] for x in xs])
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        lead = (slice(None),) * ctx.dim
        return (None,) + tuple(index(gy, lead + (slice(lo, hi),))
                               for lo, hi in zip(ctx.bounds[:-1], ctx.bounds[1:]))


def _shape_arg(shape):
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike, as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def reshape(x, *shape):
    """The same elements in a new shape; one entry may be -1 (inferred)."""
    shape = _resolve_shape(_shape_arg(shape), x)
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape)


def _resolve_shape(shape, x):
    numel = x.numel()
    known = math.prod(n for n in shape if n != -1)
    valid = shape.count(-1) <= 1 and all(n >= -1 for n in shape)
    if valid and -1 in shape:
        valid = known != 0 and numel % known == 0
        shape = tuple(numel // known if n == -1 else n for n in shape) if valid else shape
    if not valid or math.prod(shape) != numel:
        raise ValueError(f"reshape: shape {shape} is invalid for input of shape {x.shape} "
                         f"({numel} elements)")
    return shape


view = reshape


def permute(x, *dims):
    dims = _shape_arg(dims)
    axes = tuple(normalize_dim("permute", d, x.ndim) for d in dims)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} dimensions "
                         f"of a tensor of shape {x.shape}")
    return Permute.apply(x, axes)


def transpose(x, dim0, dim1):
    axes = list(range(x.ndim))
    d0, d1 = normalize_dim("transpose", dim0, x.ndim), normalize_dim("transpose", dim1, x.ndim)
    if x.ndim < 2:
        return x
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return Permute.apply(x, tuple(axes))


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, 1)
    start = normalize_dim("flatten", start_dim, x.ndim)
    end = normalize_dim("flatten", end_dim, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:]
    return reshape(x, shape)


def unsqueeze(x, dim):
    dim = normalize_dim("unsqueeze", dim, x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def squeeze(x, dim=None):
    """Drop dimensions of size 1 (all of them, or those in ``dim`` that have size 1)."""
    axes = normalize_dims("squeeze", dim, x.ndim)
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1)))


def expand(x, *sizes):
    """View ``x`` broadcast to ``sizes``; -1 keeps a dimension, new dimensions go in front."""
    sizes = _shape_arg(sizes)
    new = len(sizes) - x.ndim
    shape = tuple(sizes[:new]) + tuple(
        old if want == -1 else want for old, want in zip(x.shape, sizes[new:]))
    if new < 0 or any(n < 0 for n in shape) or any(
            old != 1 and old != want for old, want in zip(x.shape, shape[new:])):
        raise ValueError(f"expand: cannot expand shape {x.shape} to {sizes}")
    if shape == x.shape:
        return x
    return Expand.apply(x, shape)


def sum_to(x, shape):
    """Sum ``x`` down to ``shape``, the adjoint of broadcasting ``shape`` up to ``x.shape``."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo.apply(x, shape)


def cat(tensors, dim=0):
    """Join tensors along an existing dimension; they must agree in every other dimension."""
    tensors = promote("cat", *_tensor_list("cat", tensors))
    first = tensors[0]
    axis = normalize_dim("cat", dim, first.ndim)
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or first.ndim == 0 or any(
                a != b for d, (a, b) in enumerate(zip(t.shape, first.shape)) if d != axis):
            raise ValueError(f"cat: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{first.shape}; they may differ only in dimension {axis}")
    if len(tensors) == 1:
        return first
    return Cat.apply(axis, *tensors)


def stack(tensors, dim=0):
    """Join equally shaped tensors along a new dimension."""
    tensors = _tensor_list("stack", tensors)
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{tensors[0].shape}; stack needs equal shapes")
    axis = normalize_dim("stack", dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, axis) for t in tensors], axis)


def _tensor_list(op, tensors):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    return tensors


def pad(input, pad, mode="constant", value=None):
    """PyTorch's ``F.pad`` in constant mode: ``pad`` holds (before, after) pairs for the last
    dimension, then the one before it, and so on; a negative amount cuts elements off instead.

    See: torch.nn.functional.pad
    """
    if mode != "constant":
        raise ValueError(f"pad: mode={mode!r} is not supported; only mode='constant'")
    amounts = tuple(pad) if isinstance(pad, (tuple, list)) else None
    if amounts is None or len(amounts) % 2 or not all(isinstance(n, int) for n in amounts):
        raise ValueError(f"pad: pad must be a tuple of ints of even length, got {pad!r}")
    if len(amounts) // 2 > input.ndim:
        raise ValueError(f"pad: {pad} pads {len(amounts) // 2} dimensions but the input of shape "
                         f"{input.shape} has {input.ndim}")
    # (before, after) of each padded dimension, in the input's order
    sides = [(0, 0)] * (input.ndim - len(amounts) // 2) + [
        (amounts[i], amounts[i + 1]) for i in range(len(amounts) - 2, -1, -2)]
    shape = tuple(n + before + after for n, (before, after) in zip(input.shape, sides))
    if any(n < 0 for n in shape):
        raise ValueError(f"pad: {pad} leaves the input of shape {input.shape} with shape {shape}")
    cut = tuple(slice(max(-before, 0), n - max(-after, 0)) for n, (before, after) in zip(input.shape, sides))
    kept = index(input, cut) if any(before < 0 or after < 0 for before, after in sides) else input
    place = tuple(slice(max(before, 0), max(before, 0) + n) for n, (before, _) in zip(kept.shape, sides))
    out = IndexAdd.apply(kept, place, shape)
    if value:  # a constant, so the gradient is unchanged
        fill = backend.array_module(input.device).full(shape, value, dtype=input.dtype)
        fill[place] = 0
        out = out + Tensor._make(fill)
    return out
