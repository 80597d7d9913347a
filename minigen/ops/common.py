"""Helpers every op file shares: casts, device copies, operand conversion, dtype promotion,
argument checks."""
import numbers

import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..tensor import Tensor


class Cast(Function):
    """A change of dtype; between float dtypes the gradient is cast back."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, gy):
        return cast(gy, ctx.in_dtype), None


def cast(x, dtype):
    """``x`` converted to ``dtype``; differentiable between float dtypes."""
    dtype = dtypes.canonical(dtype)
    return x if x.dtype == dtype else Cast.apply(x, dtype)


class ToDevice(Function):
    """A copy to another device; the gradient is copied back."""

    crosses_devices = True

    @staticmethod
    def forward(ctx, x, device):
        ctx.in_device = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx, gy):
        return to_device(gy, ctx.in_device), None


def to_device(x, device):
    """``x`` on ``device`` (itself when it is there already); differentiable."""
    device = backend.device(device)
    return x if x.device == device else ToDevice.apply(x, device)


def as_tensor(op, value, dtype, device=backend.CPU):
    """``value`` as a Tensor of ``dtype``: Tensors are cast (differentiably), Python and NumPy
    numbers become constants on ``device``."""
    if isinstance(value, Tensor):
        return cast(value, dtype)
    if isinstance(value, (numbers.Number, np.bool_)):
        return Tensor._make(backend.array_module(device).asarray(value, dtype=dtype))
    raise TypeError(f"{op}: expected a Tensor or a number, got {type(value).__name__}")


def promote(op, *operands):
    """Convert all operands to their common dtype (PyTorch's promotion rules); numbers become
    constants on the device of the tensors."""
    dtype = dtypes.result_type(*operands)
    device = next((x.device for x in operands if isinstance(x, Tensor)), backend.CPU)
    return tuple(as_tensor(op, x, dtype, device) for x in operands)


def floating(op, x):
    """``x`` as a floating Tensor: integer and bool inputs become the default float dtype."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if dtypes.is_floating(x.dtype):
        return x
    return cast(x, dtypes.default_float)


def broadcast_shape(op, *shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ValueError(f"{op}: shapes {listed} cannot be broadcast together") from None


def normalize_dim(op, dim, ndim):
    """A dimension index in ``[-ndim, ndim)`` as a non-negative int (0-dim tensors take 0/-1)."""
    size = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)) or not -size <= dim < size:
        raise IndexError(
            f"{op}: dimension {dim} is out of range for a tensor with {ndim} dimensions "
            f"(expected a value in [{-size}, {size - 1}])")
    return int(dim) % size


def normalize_dims(op, dim, ndim):
    """``None`` (all dimensions), an int or a sequence of ints as a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    axes = tuple(sorted(normalize_dim(op, d, ndim) for d in dims))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dimension listed twice in {dim}")
    return axes if ndim else ()

