"""Dropout: in training, zero each element with probability p and scale the survivors by
1 / (1 - p), so that every element keeps its expected value.

The mask is drawn from minigen's generator (``minigen.manual_seed`` makes it reproducible) and
already holds the scale: the output is ``x * mask``, the gradient is ``gy * mask``, and that
product's own gradient in ``gy`` is the same mask again.
"""
import numpy as np

from .. import backend, random
from .common import floating
from .pointwise import MaskedPass


class Dropout(MaskedPass):
    """y = x * mask, for a mask of zeros and 1 / (1 - p) drawn by ``dropout``."""

    @staticmethod
    def value(x, mask):
        return x * mask

    @staticmethod
    def mask(x, mask):
        return mask


def check_probability(p):
    """Raise ``ValueError`` (PyTorch's message) unless ``p`` is a probability."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) when
    ``training``; otherwise (or with p = 0) return ``input`` itself. With p = 1 every element is
    zero. Integer inputs become the default float dtype, as for the activations. ``inplace`` is
    accepted as in PyTorch; the result is computed out of place.

    Example::

        >>> _ = minigen.manual_seed(0)
        >>> dropout(minigen.ones(6), 0.5)  # each element 0 or 2; the same seed, the same zeros
        tensor([2.0000, 0.0000, 0.0000, 0.0000, 2.0000, 2.0000])

    See: torch.nn.functional.dropout
    """
    check_probability(p)
    input = floating("dropout", input)
    if not training or p == 0:
        return input
    if p == 1:  # every element dropped (and 1 / (1 - p) would divide by zero)
        mask = np.zeros(input.shape, input.dtype)
    else:  # drawn on the CPU generator (see minigen.creation), copied to the input's device
        keep = random.generator().random(input.shape) >= p  # true with probability 1 - p
        mask = keep * np.asarray(1 / (1 - p), input.dtype)
    return Dropout.apply(input, backend.to_device(mask, input.device))
