"""Reductions over dimensions: sum, mean, max, var, each with ``keepdim``.

The gradient of a reduction spreads ``gy`` back over the reduced dimensions: reshape it to
the kept-dimension shape, then expand it to the input's shape (times a mask for max).
"""
import builtins
import math
from collections import namedtuple

import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..tensor import Tensor
from .common import normalize_dim, normalize_dims
from .shape import expand, reshape


def _spread(gy, in_shape, axes):
    """``gy`` of a reduction over ``axes`` broadcast back to ``in_shape``."""
    if gy.ndim != 0:  # a 0-d gradient (full reduction) expands as it is
        gy = reshape(gy, tuple(1 if i in axes else n for i, n in enumerate(in_shape)))
    return expand(gy, in_shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes = x.shape, axes
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, gy):
        return _spread(gy, ctx.in_shape, ctx.axes), None, None


class Max(Function):
    """The maximum over ``axes``. The gradient goes to the element picked by ``indices``
    (one dimension, as PyTorch's max(dim)), or is shared evenly among tied maxima (max())."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, indices):
        ctx.in_shape, ctx.axes = x.shape, axes
        if indices is None:
            out = x.max(axis=axes, keepdims=True)
            mask = (x == out).astype(x.dtype)
            mask /= mask.sum(axis=axes, keepdims=True)
        else:
            axis = axes[0]
            out = np.take_along_axis(x, indices, axis=axis)
            # 1 where the position along axis is the index (indices broadcast over that axis)
            positions = backend.array_module(x).arange(x.shape[axis]).reshape(
                [-1 if i == axis else 1 for i in range(x.ndim)])
            mask = (positions == indices).astype(x.dtype)
        ctx.save_for_backward(mask)
        return out if keepdim else out.reshape([n for i, n in enumerate(out.shape) if i not in axes])

    @staticmethod
    def backward(ctx, gy):
        mask, = ctx.saved_tensors
        return _spread(gy, ctx.in_shape, ctx.axes) * mask, None, None, None


MaxResult = namedtuple("MaxResult", ["values", "indices"])


def sum(x, dim=None, keepdim=False):
    """Sum over ``dim`` (an int, a tuple of ints, or None for all). Integer and bool
    inputs sum to int64, as in PyTorch."""
    if not dtypes.is_floating(x.dtype):
        xp = backend.array_module(x._data)
        return Tensor._make(xp.asarray(x._data.sum(axis=normalize_dims("sum", dim, x.ndim),
                                                   keepdims=keepdim), dtype=dtypes.int64))
    return Sum.apply(x, normalize_dims("sum", dim, x.ndim), keepdim)


def mean(x, dim=None, keepdim=False):
    _require_floating("mean", x)
    axes = normalize_dims("mean", dim, x.ndim)
    count = math.prod(x.shape[a] for a in axes)
    return sum(x, axes, keepdim) / count


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's correction by default (``correction=1``)."""
    _require_floating("var", x)
    if unbiased is not None and correction is not None:
        raise ValueError("var: pass either unbiased or correction, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = normalize_dims("var", dim, x.ndim)
    count = math.prod(x.shape[a] for a in axes)
    centred = x - mean(x, axes, keepdim=True)
    return sum(centred * centred, axes, keepdim) / builtins.max(count - correction, 0)


def max(x, dim=None, keepdim=False):
    """``max(x)``: the largest element. ``max(x, dim)``: ``(values, indices)`` along ``dim``."""
    if x.numel() == 0:
        raise ValueError(f"max: cannot reduce an empty tensor of shape {x.shape}")
    if dim is None:
        return Max.apply(x, tuple(range(x.ndim)), False, None)
    axis = normalize_dim("max", dim, x.ndim)
    xp = backend.array_module(x._data)
    if x.ndim == 0:
        return MaxResult(x, Tensor._make(xp.zeros((), dtype=dtypes.int64)))
    indices = xp.expand_dims(xp.argmax(x._data, axis=axis), axis)
    values = Max.apply(x, (axis,), keepdim, indices)
    return MaxResult(values, Tensor._make(indices if keepdim else xp.squeeze(indices, axis)))


def _require_floating(op, x):
    if not dtypes.is_floating(x.dtype):
        raise TypeError(f"{op}: needs a floating point tensor, got {dtypes.name(x.dtype)}; "
                        "convert it with .float() first")
