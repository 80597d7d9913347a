"""Activations: relu, leaky_relu (compiled kernel), sigmoid, tanh.

LeakyReLU runs ``csrc/cpu/activation.cc``. Its backward is a second op, ``LeakyReLUGrad``,
that multiplies the upstream gradient by 1 or the slope depending on the sign of x; that
op is linear in the gradient, so its own backward is itself. This is what lets WGAN-GP
differentiate a critic's gradient once more.
"""
import numpy as np

from .. import backend
from ..autograd import Function
from .common import floating
from .pointwise import MaskedPass


class LeakyReLU(Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return backend.kernels(x).leaky_relu_fwd(x, negative_slope)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return LeakyReLUGrad.apply(x, gy, ctx.negative_slope), None


class LeakyReLUGrad(Function):
    """gx = gy where x > 0, negative_slope * gy elsewhere (PyTorch's choice at x = 0)."""

    @staticmethod
    def forward(ctx, x, gy, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return backend.kernels(x).leaky_relu_bwd(x, gy, negative_slope)

    @staticmethod
    def backward(ctx, ggx):
        x, = ctx.saved_tensors
        # Linear in gy, so d/d(gy) is the same op; in x it is piecewise constant: no gradient.
        return None, LeakyReLUGrad.apply(x, ggx, ctx.negative_slope), None


class ReLU(MaskedPass):
    """max(x, 0); the gradient at 0 is 0, as in PyTorch."""

    @staticmethod
    def value(x):
        return np.maximum(x, 0)

    @staticmethod
    def mask(x):
        return x > 0


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        # 1 / (1 + e^-x) written so that exp never overflows: e = e^-|x| is in (0, 1].
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, gy):
        out, = ctx.saved_tensors
        return gy * out * (1 - out)


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, gy):
        out, = ctx.saved_tensors
        return gy * (1 - out * out)


# ``inplace`` is accepted where PyTorch's functional form has it (``F.relu(x, inplace=True)`` in
# DCGAN code): minigen has no in-place ops, so it returns the same values computed out of place
# and leaves the input as it was.

def relu(input, inplace=False):
    return ReLU.apply(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x if x > 0 else negative_slope * x``, elementwise, any shape.

    Example::

        >>> leaky_relu(minigen.tensor([-2.0, 3.0]), 0.2)
        tensor([-0.4000,  3.0000])

    See: torch.nn.functional.leaky_relu
    """
    return LeakyReLU.apply(floating("leaky_relu", input), float(negative_slope))


def sigmoid(input):
    return Sigmoid.apply(floating("sigmoid", input))


def tanh(input):
    return Tanh.apply(floating("tanh", input))
