"""The dtypes minigen knows and PyTorch's rules for combining them.

minigen's dtypes are NumPy's dtype objects, so arrays and tensors agree without translation.
Training runs in float32 (the default), gradient checking in float64; int64 and bool carry
indices, labels and masks and never require gradients.
"""
import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

default_float = float32
SUPPORTED = (float32, float64, int64, bool_)

# Category order used by promotion: a float beats an int beats a bool, whatever the width.
_CATEGORY = {bool_: 0, int64: 1, float32: 2, float64: 2}


def is_floating(dtype):
    return dtype in (float32, float64)


def canonical(dtype):
    """Map a requested dtype (NumPy dtype, type or string) to one minigen supports."""
    if dtype is None:
        return None
    dtype = np.dtype(dtype)
    if dtype in SUPPORTED:
        return dtype
    if dtype.kind in "iu":
        return int64
    raise TypeError(f"minigen supports float32, float64, int64 and bool tensors, not {dtype}")


def _scalar_dtype(value):
    # A Python float means the default float dtype, never float64.
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    return default_float


def _higher(a, b):
    """The wider of two dtypes: category first, then bytes (so int64 with float32 is float32)."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b, key=lambda d: (_CATEGORY[d], d.itemsize))


def result_type(*operands):
    """PyTorch's promotion: dimensioned tensors decide, then 0-dim tensors, then Python scalars.

    A lower group only changes the result when it brings a higher category, so
    float32 tensor * 2.5 is float32, float32 tensor + float64 0-dim tensor is float32,
    and int64 tensor * 0.5 is the default float dtype.
    """
    dimensioned = zero_dim = scalar = None
    for x in operands:
        if hasattr(x, "dtype") and hasattr(x, "ndim"):
            if x.ndim > 0:
                dimensioned = _higher(dimensioned, x.dtype)
            else:
                zero_dim = _higher(zero_dim, x.dtype)
        else:
            scalar = _higher(scalar, _scalar_dtype(x))
    result = dimensioned
    for group in (zero_dim, scalar):
        if group is not None and (result is None or _CATEGORY[group] > _CATEGORY[result]):
            result = group
    return result


def name(dtype):
    return "minigen." + ("bool" if dtype == bool_ else dtype.name)
