"""Binary cross-entropy, from probabilities and from logits, on csrc/cpu/loss.cc.

The kernels compute the elementwise loss and its gradient; weights and the reduction are
minigen ops. Each first-order gradient is an op of its own (``BCEGrad``, ``BCEWithLogitsGrad``)
that is linear in the upstream gradient, so its backward is itself in that argument, and
whose derivative in the prediction is written in ops: the losses are differentiable twice.
"""
import warnings

from .. import backend
from ..autograd import Function
from ..creation import ones_like
from .activation import sigmoid
from .common import broadcast_shape, floating, promote
from .pointwise import clamp, log
from .reduction import mean, sum


class BCE(Function):
    """l = -(t log p + (1 - t) log(1 - p)), each log clamped at -100 (PyTorch's choice)."""

    @staticmethod
    def forward(ctx, p, t):
        ctx.save_for_backward(p, t)
        return backend.kernels(p).bce_fwd(p, t)

    @staticmethod
    def backward(ctx, gy):
        p, t = ctx.saved_tensors
        gp = BCEGrad.apply(p, t, gy) if ctx.needs_input_grad[0] else None
        gt = gy * (_clamped_log(1 - p) - _clamped_log(p)) if ctx.needs_input_grad[1] else None
        return gp, gt


class BCEGrad(Function):
    """gp = gy (p - t) / max(p (1 - p), 1e-12)."""

    @staticmethod
    def forward(ctx, p, t, gy):
        ctx.save_for_backward(p, t, gy)
        return backend.kernels(p).bce_bwd(p, t, gy)

    @staticmethod
    def backward(ctx, ggp):
        p, t, gy = ctx.saved_tensors
        q = p * (1 - p)
        # d/dp (p - t) / q = (q - (p - t)(1 - 2p)) / q^2 and d/dt = -1 / q, where q > 1e-12
        return (ggp * gy * (q - (p - t) * (1 - 2 * p)) / (q * q),
                -ggp * gy / q,
                BCEGrad.apply(p, t, ggp))


class BCEWithLogits(Function):
    """l = max(x, 0) - x t + log(1 + exp(-|x|)) = BCE(sigmoid(x), t) without overflow."""

    @staticmethod
    def forward(ctx, x, t):
        ctx.save_for_backward(x, t)
        return backend.kernels(x).bce_logits_fwd(x, t)

    @staticmethod
    def backward(ctx, gy):
        x, t = ctx.saved_tensors
        gx = BCEWithLogitsGrad.apply(x, t, gy) if ctx.needs_input_grad[0] else None
        return gx, (-gy * x if ctx.needs_input_grad[1] else None)


class BCEWithLogitsGrad(Function):
    """gx = gy (sigmoid(x) - t)."""

    @staticmethod
    def forward(ctx, x, t, gy):
        ctx.save_for_backward(x, t, gy)
        return backend.kernels(x).bce_logits_bwd(x, t, gy)

    @staticmethod
    def backward(ctx, ggx):
        x, t, gy = ctx.saved_tensors
        s = sigmoid(x)
        return ggx * gy * s * (1 - s), -ggx * gy, BCEWithLogitsGrad.apply(x, t, ggx)


def _clamped_log(v):
    return clamp(log(v), min=-100)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy between probabilities ``input`` and ``target`` (same shape).

    ``-w (t log p + (1 - t) log(1 - p))`` elementwise, logs clamped at -100 so that a
    saturated prediction gives a large finite loss; ``weight`` broadcasts to the input;
    ``reduction`` is ``'mean'``, ``'sum'`` or ``'none'``. Probabilities outside [0, 1] raise
    ``ValueError``; NaN propagates. ``size_average`` and ``reduce`` are PyTorch's deprecated
    spellings of ``reduction`` (read as PyTorch reads them, with its warning).

    See: torch.nn.functional.binary_cross_entropy
    """
    op = "binary_cross_entropy"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    input, target = _operands(op, input, target)
    return _weighted(BCE.apply(input, target), weight, reduction, op)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross-entropy of ``sigmoid(input)`` and ``target``, computed from the logits in
    the stable form ``max(x, 0) - x t + log(1 + exp(-|x|))``: no overflow at any logit.
    ``pos_weight`` (broadcast to the target, one per class in the last dimension) weighs the
    positive term: ``-(pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x)))``.

    See: torch.nn.functional.binary_cross_entropy_with_logits
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    input, target = _operands(op, input, target)
    loss = BCEWithLogits.apply(input, target)
    if pos_weight is not None:
        _check_broadcasts(op, "pos_weight", pos_weight, "the target's", target.shape)
        # the positive term -t log sigmoid(x) = t softplus(-x), the loss at target 1, once more
        # for each unit of pos_weight above 1
        loss = loss + (pos_weight - 1) * target * BCEWithLogits.apply(input, ones_like(input))
    return _weighted(loss, weight, reduction, op)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Squared error ``(input - target)²`` elementwise, then ``reduction`` ('mean', 'sum' or
    'none'); input and target have the same shape. A composition of ops. ``weight`` (the input's
    shape) weighs each error, and the mean is then the weighted mean, Σ w e / Σ w, as PyTorch's.

    See: torch.nn.functional.mse_loss
    """
    op = "mse_loss"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    input, target = _operands(op, input, target)
    difference = input - target
    loss = difference * difference
    if weight is None:
        return _weighted(loss, None, reduction, op)
    if weight.shape != input.shape:
        raise ValueError(f"{op}: weight has shape {weight.shape} but input has shape {input.shape}; "
                         "they must be equal")
    if reduction == "mean":
        return sum(loss * weight) / sum(weight)
    return _weighted(loss, weight, reduction, op)


def _operands(op, input, target):
    input = floating(op, input)
    input, target = promote(op, input, target)
    if input.shape != target.shape:
        raise ValueError(f"{op}: target has shape {target.shape} but input has shape "
                         f"{input.shape}; they must be equal")
    return input, target


def _weighted(loss, weight, reduction, op):
    if weight is not None:
        _check_broadcasts(op, "weight", weight, "the input's", loss.shape)
        loss = loss * weight
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def _check_broadcasts(op, name, tensor, whose, shape):
    try:
        fits = broadcast_shape(op, tensor.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {name} of shape {tensor.shape} does not broadcast to {whose} "
                         f"shape {shape}")


def _legacy_reduction(op, size_average, reduce, reduction):
    """``reduction`` as PyTorch reads its deprecated ``size_average`` and ``reduce`` (None: True):
    'none' without reduce, else 'sum' without size_average, else 'mean'."""
    if size_average is None and reduce is None:
        return reduction
    reduced = reduce is None or reduce
    reduction = "none" if not reduced else "mean" if size_average is None or size_average else "sum"
    warnings.warn(f"{op}: size_average and reduce are deprecated, as in PyTorch; "
                  f"use reduction={reduction!r} instead", UserWarning, stacklevel=3)
    return reduction
