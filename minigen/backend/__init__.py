"""Where arrays live and which compiled kernel runs on them.

Two devices: the CPU (NumPy arrays, kernels from ``minigen._C``) and CUDA (CuPy arrays in CuPy's
memory pool, kernels from ``minigen._cuda`` queued on CuPy's current stream). A tensor's device is
its array's. This module tells which device an array is on, moves arrays between devices, and hands
each op the array module (``numpy`` or ``cupy``) and the kernel table (``backend/kernels.py``) of
that device.
"""
import numpy as np

from . import cpu, cuda


class Device:
    """A place where tensors live, named like PyTorch's: ``device(type='cpu')``, ``device(type='cuda')``.

    minigen drives one GPU, so ``'cuda'`` and ``'cuda:0'`` name the same device.
    """

    __slots__ = ("type",)

    def __init__(self, type):
        self.type = type

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, Device) and other.type == self.type

    def __hash__(self):
        return hash(self.type)

    def __repr__(self):
        return f"device(type='{self.type}')"

    def __str__(self):
        return self.type


CPU = Device("cpu")
CUDA = Device("cuda")


def device(spec):
    """Parse ``'cpu'``, ``'cuda'``, ``'cuda:0'`` or a ``Device`` (None: the CPU)."""
    if isinstance(spec, Device):
        return spec
    if spec is None or spec == "cpu":
        return CPU
    if spec in ("cuda", "cuda:0"):
        return CUDA
    if isinstance(spec, str) and spec.startswith("cuda:"):
        raise ValueError(f"unknown device {spec!r}: minigen drives one GPU, 'cuda' (or 'cuda:0')")
    raise ValueError(f"unknown device {spec!r}: expected 'cpu' or 'cuda'")


def is_array(value):
    """Whether ``value`` is an array of either device (not a list, not a number)."""
    return isinstance(value, np.ndarray) or cuda.is_cuda_array(value)


def device_of(array):
    """The device that holds ``array``: a NumPy array is on the CPU, a CUDA array on the GPU."""
    return CPU if isinstance(array, (np.ndarray, np.generic)) or not cuda.is_cuda_array(array) else CUDA


def array_module(where):
    """``numpy`` or ``cupy``: the array module of a device, or of the device holding an array."""
    where = where if isinstance(where, Device) else device_of(where)
    return np if where is CPU else cuda.cupy()


def kernels(array):
    """The kernel table for the device that holds ``array``."""
    return cpu.kernels if device_of(array) is CPU else cuda.kernels


def to_device(array, target):
    """``array`` on device ``target``: itself when it is already there, else a copy."""
    target = device(target)
    if device_of(array) is target:
        return array
    return cuda.cupy().asarray(array) if target is CUDA else array.get()


def to_numpy(array):
    """``array`` as a NumPy array (copied from the GPU when it is there)."""
    return to_device(array, CPU)


def require_same_device(op, arrays):
    """ValueError naming ``op`` and the devices when ``arrays`` are not all on one device."""
    devices = {device_of(a) for a in arrays}
    if len(devices) > 1:
        raise ValueError(f"{op}: expected all tensors on one device, got tensors on "
                         f"{' and '.join(sorted(map(str, devices)))}; move them with .to(device)")
