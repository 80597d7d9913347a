"""Functions that make tensors: from data, filled with a constant, random, or a range.

Names and arguments follow PyTorch: ``zeros(2, 3)`` and ``zeros((2, 3))`` both work, float
tensors default to float32, and random ones come from the generator ``manual_seed`` resets.
``device='cuda'`` makes the tensor on the GPU: constants are filled there; random numbers are
drawn on the CPU (minigen's one generator) and copied, so a seed gives the same numbers on either
device, and a checkpoint's generator state resumes a GPU run as exactly as a CPU one.
"""
import numpy as np

from . import backend, dtypes, random
from .tensor import Tensor


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)


def _new(array, requires_grad, device):
    """A tensor of the NumPy ``array``, on ``device``."""
    return Tensor._make(backend.to_device(array, device)).requires_grad_(requires_grad)


def _filled(fill, size, dtype, requires_grad, device):
    """A tensor made directly on its device by ``fill(xp, size, dtype)`` (xp: numpy or cupy)."""
    device = backend.device(device)
    return Tensor._make(fill(backend.array_module(device), size, dtype)).requires_grad_(requires_grad)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    size = tuple(int(n) for n in size)
    if any(n < 0 for n in size):
        raise ValueError(f"sizes must be non-negative, got {size}")
    return size


def _float_dtype(dtype):
    return dtypes.default_float if dtype is None else dtypes.canonical(dtype)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if dtype is None:
        dtype = dtypes.result_type(fill_value)
    return _filled(lambda xp, size, dtype: xp.full(size, fill_value, dtype=dtype), _size((size,)),
                   dtypes.canonical(dtype), requires_grad, device)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _filled(lambda xp, *a: xp.zeros(*a), _size(size), _float_dtype(dtype), requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _filled(lambda xp, *a: xp.ones(*a), _size(size), _float_dtype(dtype), requires_grad, device)


def randn(*size, dtype=None, requires_grad=False, device=None):
    """Samples of the standard normal distribution."""
    dtype = _float_dtype(dtype)
    _require_float("randn", dtype)
    array = random.generator().standard_normal(_size(size), dtype=dtype)
    return _new(array, requires_grad, device)


def rand(*size, dtype=None, requires_grad=False, device=None):
    """Samples of the uniform distribution on [0, 1)."""
    dtype = _float_dtype(dtype)
    _require_float("rand", dtype)
    array = random.generator().random(_size(size), dtype=dtype)
    return _new(array, requires_grad, device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """``start, start + step, ...`` up to but excluding ``end``; int64 unless a bound is a float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if dtype is None:
        dtype = dtypes.result_type(start, end, step)
    return _new(np.arange(start, end, step, dtype=dtypes.canonical(dtype)), requires_grad, device)


def _like(fill):
    def like(input, dtype=None, requires_grad=False, device=None):
        return fill(input.shape, dtype=input.dtype if dtype is None else dtype,
                    requires_grad=requires_grad, device=input.device if device is None else device)
    like.__name__ = fill.__name__ + "_like"
    like.__doc__ = f"``{fill.__name__}`` with the shape (and by default dtype and device) of ``input``."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
randn_like = _like(randn)
rand_like = _like(rand)


def full_like(input, fill_value, dtype=None, requires_grad=False, device=None):
    return full(input.shape, fill_value, dtype=input.dtype if dtype is None else dtype,
                requires_grad=requires_grad, device=input.device if device is None else device)


def _require_float(op, dtype):
    if not dtypes.is_floating(dtype):
        raise TypeError(f"{op}: dtype must be float32 or float64, not {dtypes.name(dtype)}")
