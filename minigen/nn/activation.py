"""Activation modules: each applies its functional op elementwise and holds no parameters.

``inplace`` is accepted where PyTorch has it (``nn.ReLU(True)`` in DCGAN code) and shown in
the repr; minigen computes the same values out of place.
"""
from .. import ops
from .module import Module


class _Elementwise(Module):
    """A parameter-free module applying its ``function`` (set by each subclass) to the input."""

    def forward(self, input):
        return self.function(input)


class ReLU(_Elementwise):
    """max(x, 0)."""

    function = staticmethod(ops.relu)

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x where x > 0, negative_slope · x elsewhere."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return ops.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Tanh(_Elementwise):
    function = staticmethod(ops.tanh)


class Sigmoid(_Elementwise):
    function = staticmethod(ops.sigmoid)
