"""Where arrays live and which compiled kernel runs on them.

Only the CPU backend exists so far: arrays are NumPy arrays and kernels come from
``minigen._C``. A CUDA backend (CuPy arrays, ``minigen._cuda``) will sit beside it with the
same function table.
"""
from . import cpu


class Device:
    """A place where tensors live, named like PyTorch's: ``device(type='cpu')``."""

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


def device(spec):
    """Parse ``'cpu'`` or a ``Device``; any other device is refused with the reason."""
    if isinstance(spec, Device):
        return spec
    if spec is None or spec == "cpu":
        return CPU
    if isinstance(spec, str) and spec.split(":")[0] == "cuda":
        raise RuntimeError("minigen has no CUDA backend yet: use device='cpu'")
    raise ValueError(f"unknown device {spec!r}: expected 'cpu'")


def kernels(array):
    """The kernel table for the device that holds ``array`` (only the CPU's so far)."""
    return cpu
