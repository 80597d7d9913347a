"""CUDA: CuPy arrays (CuPy's memory pool, its current stream) and kernels from ``minigen._cuda``.

Both are optional: CuPy is installed with ``pip install ".[cuda]"`` and ``minigen._cuda`` is built
where nvcc is found. ``is_available()`` says whether both are there and a GPU answers;
``unavailable_reason()`` says what is missing otherwise, and every attempt to put a tensor on
the GPU raises RuntimeError with that reason.
"""
import functools

from . import kernels as _table

allow_tf32 = False  # minigen.cuda.set_allow_tf32: float32 GEMMs on TF32 tensor cores


@functools.cache
def _probe():
    """(cupy, _cuda, None) when the GPU can be used, else (None, None, the reason)."""
    try:
        from .. import _cuda
    except ImportError as error:
        return None, None, f"minigen._cuda is not built (no nvcc when minigen was installed): {error}"
    try:
        import cupy
    except ImportError as error:
        return None, None, f"CuPy is not installed (pip install \"minigen[cuda]\"): {error}"
    if _cuda.device_count() == 0:
        return None, None, "no CUDA GPU is visible (CUDA reports no device, or no driver)"
    return cupy, _cuda, None


def is_available():
    return _probe()[2] is None


def unavailable_reason():
    """Why the GPU cannot be used, or None when it can."""
    return _probe()[2]


def cupy():
    """The CuPy module; RuntimeError saying why when the GPU cannot be used."""
    module, _, reason = _probe()
    if reason is not None:
        raise RuntimeError(f"CUDA is not available: {reason}")
    return module


def is_cuda_array(array):
    return hasattr(array, "__cuda_array_interface__")


class CudaKernels(_table.Kernels):
    """The kernel table on the GPU: CuPy allocates, ``minigen._cuda`` runs on the current stream."""

    @property
    def xp(self):
        return cupy()

    def launch(self, name, *args, **options):
        _, module, _ = _probe()
        stream = cupy().cuda.get_current_stream().ptr
        getattr(module, name)(*args, _table.impl, stream=stream, **options)

    def bce_fwd(self, p, t):
        out = super().bce_fwd(p, t)
        # The kernel does not check its input (that would stop the GPU for every call): this
        # does, with the CPU kernel's message, at the cost of one wait for the GPU.
        outside = self.xp.flatnonzero((p < 0) | (p > 1))
        if outside.size:
            index = int(outside[0])
            raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1, "
                             f"but element {index} (flat index) is {float(p.ravel()[index]):f}")
        return out

    def gemm_options(self, dtype):
        return {"isa": "tf32"} if allow_tf32 and dtype == "float32" and _table.impl == "fast" else {}

    def conv2d_bwd_weight_options(self, x, gy, gw, geometry):
        # The fast kernel splits its long sum over samples and pixels into partial sums in a
        # workspace, so that more blocks run at once; CuPy's memory pool keeps it cheap to take.
        _, module, _ = _probe()
        size = module.conv2d_bwd_weight_workspace_size(x.shape, gw.shape, gy.shape, *geometry)
        if size == 0 or _table.impl != "fast":
            return {}
        return {"workspace": self.xp.empty(size, dtype=x.dtype)}


kernels = CudaKernels()
