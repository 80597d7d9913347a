"""The CPU: NumPy arrays, kernels from ``minigen._C`` (C++, OpenMP threads)."""
import numpy as np

from .. import _C
from . import kernels as _table
from .kernels import use_impl  # noqa: F401  (tests and benchmarks pick kernels through here)


class CpuKernels(_table.Kernels):
    xp = np

    def launch(self, name, *args, **options):
        getattr(_C, name)(*args, _table.impl, **options)


kernels = CpuKernels()


def set_num_threads(n):
    """Number of OpenMP threads the CPU kernels use."""
    _C.set_num_threads(int(n))


def get_num_threads():
    return _C.get_num_threads()
