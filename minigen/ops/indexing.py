"""Indexing with ints, slices, None, Ellipsis, integer arrays and boolean masks.

``x[key]`` gathers; its gradient scatters ``gy`` back into zeros of ``x``'s shape, adding
where an index repeats. The gather and the scatter-add are each other's gradient.
"""
import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..tensor import Tensor


class Index(Function):
    @staticmethod
    def forward(ctx, x, key):
        ctx.in_shape = x.shape
        ctx.key = key
        return x[key]

    @staticmethod
    def backward(ctx, gy):
        return IndexAdd.apply(gy, ctx.key, ctx.in_shape), None


class IndexAdd(Function):
    """zeros(shape) with ``gy`` added at ``key`` (repeated indices add up)."""

    @staticmethod
    def forward(ctx, gy, key, shape):
        ctx.key = key
        xp = backend.array_module(gy)
        out = xp.zeros(shape, dtype=gy.dtype)
        if _is_advanced(key):
            xp.add.at(out, key, gy)
        else:  # basic indexing cannot name an element twice: plain assignment is enough
            out[key] = gy
        return out

    @staticmethod
    def backward(ctx, ggx):
        return Index.apply(ggx, ctx.key), None, None


def index(x, key):
    """``x[key]`` with NumPy's (and PyTorch's) rules for basic and advanced indexing."""
    # index arrays go where x is (a list or NumPy array indexing a tensor on the GPU)
    key = tuple(backend.to_device(part, x.device) if backend.is_array(part) else part
                for part in _normalize_key(key))
    return Index.apply(x, key)


def _normalize_key(key):
    parts = key if isinstance(key, tuple) else (key,)
    converted = []
    for part in parts:
        if isinstance(part, Tensor):
            if part.dtype not in (dtypes.int64, dtypes.bool_):
                raise IndexError(
                    f"tensors used as indices must be int64 or bool, not {dtypes.name(part.dtype)}")
            part = part._data
        elif isinstance(part, (list, np.ndarray)):
            part = np.asarray(part)
            if part.dtype.kind not in "iub" and part.size:
                raise IndexError(f"arrays used as indices must be integer or bool, not {part.dtype}")
            part = part.astype(np.int64) if part.dtype.kind != "b" else part
        elif not isinstance(part, (int, np.integer, slice, type(None), type(Ellipsis))):
            raise IndexError(f"index of type {type(part).__name__} is not supported")
        converted.append(part)
    return tuple(converted)


def _is_advanced(key):
    return any(backend.is_array(part) for part in key)
