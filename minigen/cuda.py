"""The GPU, as ``torch.cuda`` names it: ``minigen.cuda.is_available()`` and friends.

Tensors go to the GPU with ``t.cuda()``, ``t.to('cuda')`` or ``device='cuda'`` at creation, and
models with ``model.to('cuda')``. Arrays there are CuPy arrays, allocated from CuPy's memory pool;
kernels are queued on CuPy's current stream, so ``synchronize()`` before reading a clock.
"""
import contextlib

from .backend import cuda as _backend


def is_available():
    """Whether tensors can go to the GPU: minigen._cuda is built, CuPy is installed, a GPU answers."""
    return _backend.is_available()


def unavailable_reason():
    """Why ``is_available()`` is False (None when it is True)."""
    return _backend.unavailable_reason()


def device_count():
    return _backend.cupy().cuda.runtime.getDeviceCount() if is_available() else 0


def synchronize():
    """Wait until every kernel queued on the GPU has finished."""
    _backend.cupy().cuda.get_current_stream().synchronize()


@contextlib.contextmanager
def allow_tf32(enabled=True):
    """float32 matrix products (GEMM, Linear) inside the block run on TF32 tensor cores.

    TF32 keeps 10 bits of each input's mantissa (float32 keeps 23) and accumulates in float32:
    about 1e-3 relative error per product instead of 6e-8, like PyTorch's
    ``torch.backends.cuda.matmul.allow_tf32 = True``. Off by default; convolutions never use it.
    """
    previous, _backend.allow_tf32 = _backend.allow_tf32, bool(enabled)
    try:
        yield
    finally:
        _backend.allow_tf32 = previous
