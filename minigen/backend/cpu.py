"""CPU kernels: NumPy allocates every output, ``minigen._C`` fills it.

Each wrapper makes its inputs C-contiguous (a transposed view becomes a copy; 0-d arrays stay
0-d, which ``np.ascontiguousarray`` would not do), allocates the output and calls the compiled
kernel. ``impl`` chooses the plain reference loop (``"ref"``) or
the fast version (``"fast"``); tests hold one to the other.
"""
import contextlib

import numpy as np

from .. import _C

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


def set_num_threads(n):
    """Number of OpenMP threads the CPU kernels use."""
    _C.set_num_threads(int(n))


def get_num_threads():
    return _C.get_num_threads()


def leaky_relu_fwd(x, negative_slope):
    x = np.asarray(x, order="C")
    out = np.empty_like(x)
    _C.leaky_relu_fwd(x, out, negative_slope, impl)
    return out


def leaky_relu_bwd(x, grad_out, negative_slope):
    x = np.asarray(x, order="C")
    grad_out = np.asarray(grad_out, order="C")
    grad_in = np.empty_like(x)
    _C.leaky_relu_bwd(x, grad_out, grad_in, negative_slope, impl)
    return grad_in
