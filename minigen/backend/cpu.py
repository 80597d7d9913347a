"""The CPU: NumPy arrays, kernels from ``minigen._C`` (C++, OpenMP threads)."""
import os

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


def cpu_isa():
    """The instruction set of the CPU kernels' micro-kernels: 'avx512', 'avx2' or 'portable'."""
    return _C.get_cpu_isa()


def _limit_isa_from_environment():
    """MINIGEN_CPU_ISA=avx2 (or portable, avx512, auto) caps the kernels' instruction set, so that
    a machine with AVX-512 can run the code an AVX2-only machine runs (CI does, for the tests)."""
    isa = os.environ.get("MINIGEN_CPU_ISA", "auto")
    try:
        _C.set_cpu_isa(isa)
    except ValueError as error:
        raise ValueError(f"MINIGEN_CPU_ISA={isa!r}: {error}") from None


_limit_isa_from_environment()
