"""Elementwise arithmetic: + - * / ** neg, exp log sqrt abs clamp maximum minimum where,
and comparisons.

Operands are promoted to a common dtype first (PyTorch's rules) and broadcast by NumPy;
each backward sums the gradient back to its input's shape with ``sum_to``.
Masks that a gradient multiplies by (which side of a clamp, which argument of a maximum)
are saved as constants: their own derivative is zero almost everywhere.
"""
import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Tensor
from .common import broadcast_shape, floating, promote
from .shape import sum_to


def _binary(op, a, b):
    """Both operands as Tensors of one dtype, checked to broadcast together."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        return promote(op, a, b)  # a number on one side broadcasts with anything
    if a.dtype != b.dtype:
        a, b = promote(op, a, b)
    if a.shape != b.shape:
        broadcast_shape(op, a.shape, b.shape)
    return a, b


def _grads(ctx, ga, gb):
    """Input gradients reduced to the input shapes, computed only where asked for."""
    a, b = ctx.inputs[:2]
    return (sum_to(ga(), a.shape) if ctx.needs_input_grad[0] else None,
            sum_to(gb(), b.shape) if ctx.needs_input_grad[1] else None)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, gy):
        return _grads(ctx, lambda: gy, lambda: gy)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, gy):
        return _grads(ctx, lambda: gy, lambda: -gy)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return _grads(ctx, lambda: gy * b, lambda: gy * a)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return _grads(ctx, lambda: gy / b, lambda: -gy * a / (b * b))


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(all="ignore"):
            out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, gy):
        a, b, out = ctx.saved_tensors
        # d(a^b)/da = b a^(b-1);  d(a^b)/db = a^b log(a), asked for only when b is a tensor
        return _grads(ctx, lambda: gy * b * a ** (b - 1), lambda: gy * out * log(a))


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, gy):
        return -gy


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):
            out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, gy):
        out, = ctx.saved_tensors
        return gy * out


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, gy):
        out, = ctx.saved_tensors
        return gy / (2 * out)


class MaskedPass(Function):
    """Base of ops ``y = value(x, *args)`` whose derivative is a piecewise-constant mask
    ``mask(x, *args)``: the gradient is ``gy * mask``, and the mask's own derivative is zero
    almost everywhere, so it is saved as a constant."""

    @classmethod
    def forward(cls, ctx, x, *args):
        ctx.save_for_backward(cls.mask(x, *args).astype(x.dtype))
        return cls.value(x, *args).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        mask, = ctx.saved_tensors
        return (gy * mask,) + (None,) * (len(ctx.inputs) - 1)


class Abs(MaskedPass):
    value = staticmethod(np.abs)
    mask = staticmethod(np.sign)


class Clamp(MaskedPass):
    """Limits ``[lo, hi]``; the gradient passes where ``lo <= x <= hi`` (as in PyTorch)."""

    @staticmethod
    def value(x, lo, hi):
        return np.clip(x, lo, hi)

    @staticmethod
    def mask(x, lo, hi):
        return (x >= lo) & (x <= hi)


class Extremum(Function):
    """Base of maximum and minimum: the winner gets the gradient; at a tie each side gets
    half, as in PyTorch."""

    @classmethod
    def forward(cls, ctx, a, b):
        out = cls.ufunc(a, b)
        ctx.save_for_backward(np.where(a == b, 0.5, out == a).astype(out.dtype))
        return out

    @staticmethod
    def backward(ctx, gy):
        share_a, = ctx.saved_tensors
        return _grads(ctx, lambda: gy * share_a, lambda: gy * (1 - share_a))


class Maximum(Extremum):
    ufunc = np.maximum


class Minimum(Extremum):
    ufunc = np.minimum


class Where(Function):
    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.condition = condition
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, gy):
        zero = Tensor._make(backend.array_module(gy._data).zeros((), dtype=gy.dtype))
        return _grads(ctx, lambda: Where.apply(gy, zero, ctx.condition),
                      lambda: Where.apply(zero, gy, ctx.condition)) + (None,)


# --- functional forms ------------------------------------------------------------------------

def add(a, b):
    return Add.apply(*_binary("add", a, b))


def sub(a, b):
    return Sub.apply(*_binary("sub", a, b))


def mul(a, b):
    return Mul.apply(*_binary("mul", a, b))


def div(a, b):
    """True division: integer operands give the default float dtype, as in PyTorch."""
    a, b = _binary("div", a, b)
    return Div.apply(floating("div", a), floating("div", b))


def pow(a, b):
    """``a ** b`` for tensors and numbers on either side."""
    return Pow.apply(*_binary("pow", a, b))


def neg(x):
    return Neg.apply(x)


def exp(x):
    return Exp.apply(floating("exp", x))


def log(x):
    return Log.apply(floating("log", x))


def sqrt(x):
    return Sqrt.apply(floating("sqrt", x))


def abs(x):
    return Abs.apply(x)


def clamp(x, min=None, max=None):
    """Limit ``x`` to ``[min, max]``; the gradient passes where ``min <= x <= max``."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(x, -np.inf if min is None else min, np.inf if max is None else max)


def maximum(a, b):
    return Maximum.apply(*_binary("maximum", a, b))


def minimum(a, b):
    return Minimum.apply(*_binary("minimum", a, b))


def where(condition, a, b):
    """Elementwise ``a if condition else b``; ``condition`` is a bool tensor or array."""
    if isinstance(condition, Tensor):
        condition = condition._data
    if not backend.is_array(condition):
        condition = np.asarray(condition)
    if condition.dtype != np.bool_:
        raise TypeError(f"where: condition must be bool, not {condition.dtype}")
    a, b = promote("where", a, b)
    condition = backend.to_device(condition, a.device)  # a mask given as a list or NumPy array
    broadcast_shape("where", condition.shape, a.shape, b.shape)
    return Where.apply(a, b, condition)


def _compare(op, ufunc):
    def compare(a, b):
        a, b = _binary(op, a, b)
        return Tensor._make(ufunc(a._data, b._data))
    compare.__name__ = op
    compare.__doc__ = f"Elementwise ``{ufunc.__name__}`` as a bool tensor (no gradient)."
    return compare


lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
