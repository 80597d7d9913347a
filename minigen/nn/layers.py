"""The layers models are built from: affine, convolution, batch norm, dropout, embedding,
reshaping (the activations are in ``activation.py``).

Each is a thin Module over a functional op, with PyTorch's constructor arguments, parameter
names (so ``state_dict`` keys match) and default initialisation.
"""
import math

import numpy as np

from .. import dtypes, ops
from ..ops.common import normalize_dim
from ..ops.conv import check_padding_name
from ..ops.dropout import check_probability
from ..ops.embedding import padding_row, refuse_unsupported_embedding_options
from ..tensor import Tensor, array_of
from . import init
from .module import Module, Parameter


def _empty(*shape):
    return Parameter(np.empty(shape, dtype=dtypes.default_float))


def _factory_arguments(module, device, dtype):
    """PyTorch's ``device`` and ``dtype`` of a layer's constructor: the floating parameters and
    buffers become ``dtype`` (float32 or float64), then everything moves to ``device``."""
    if dtype is not None:
        dtype = dtypes.canonical(dtype)
        if not dtypes.is_floating(dtype):
            raise TypeError(f"{type(module).__name__}: dtype must be float32 or float64, got {dtype}")
        for t in (*module._parameters.values(), *module._buffers.values()):
            if t is not None and dtypes.is_floating(t.dtype):
                t._data = t._data.astype(dtype)
    if device is not None:
        module.to(device)


class Linear(Module):
    """y = x Wᵀ + b, weight (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty(out_features, in_features)
        self.register_parameter("bias", _empty(out_features) if bias else None)
        init.default_layer_init_(self.weight, self.bias)
        _factory_arguments(self, device, dtype)

    def forward(self, x):
        return ops.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: geometry, parameters, initialisation, repr."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                 bias, padding_mode, weight_shape, device, dtype):
        super().__init__()
        name = type(self).__name__
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels="
                             f"{in_channels} and out_channels={out_channels}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode={padding_mode!r} is not supported; only 'zeros'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        # 'same' and 'valid' stay names: F.conv2d works out the amounts (and checks the stride)
        self.padding = padding if isinstance(padding, str) else _pair(padding)
        self.dilation, self.groups, self.padding_mode = _pair(dilation), groups, padding_mode
        self.weight = _empty(*weight_shape, *self.kernel_size)
        self.register_parameter("bias", _empty(out_channels) if bias else None)
        init.default_layer_init_(self.weight, self.bias)
        _factory_arguments(self, device, dtype)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        for name, default in (("padding", (0, 0)), ("dilation", (1, 1)),
                              ("output_padding", (0, 0)), ("groups", 1)):
            if getattr(self, name, default) != default:
                text += f", {name}={getattr(self, name)}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    """2-D convolution; weight (out_channels, in_channels / groups, kH, kW)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, (out_channels, in_channels // groups), device, dtype)
        if isinstance(padding, str):
            check_padding_name("Conv2d", padding, self.stride)

    def forward(self, x):
        return ops.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                          self.groups)


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution; weight (in_channels, out_channels / groups, kH, kW)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, (in_channels, out_channels // groups), device, dtype)
        self.output_padding = _pair(output_padding)

    def forward(self, x):
        return ops.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                    self.output_padding, self.groups, self.dilation)


class _BatchNorm(Module):
    """Batch normalisation over the channel dimension (1) of its expected input ranks."""

    ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", Parameter(np.ones(num_features)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features)) if affine and bias else None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._make(np.zeros(num_features, dtypes.float32)))
            self.register_buffer("running_var", Tensor._make(np.ones(num_features, dtypes.float32)))
            self.register_buffer("num_batches_tracked", Tensor._make(np.zeros((), dtypes.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        _factory_arguments(self, device, dtype)

    def reset_running_stats(self):
        """Running mean 0, variance 1, no batches counted (PyTorch's)."""
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def forward(self, x):
        if x.ndim not in self.ranks:
            raise ValueError(f"{type(self).__name__}: expected a {' or '.join(map(str, self.ranks))}-D "
                             f"input, got shape {x.shape}")
        use_batch_statistics = self.training or not self.track_running_stats
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if momentum is None:  # PyTorch's cumulative average: batch k weighs 1 / k
                momentum = 1.0 / float(self.num_batches_tracked._data)
        return ops.batch_norm(x, self.running_mean if self.track_running_stats else None,
                              self.running_var if self.track_running_stats else None,
                              self.weight, self.bias, use_batch_statistics, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """For (N, C) or (N, C, L) inputs."""
    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """For (N, C, H, W) inputs."""
    ranks = (4,)


class Dropout(Module):
    """``F.dropout`` with probability ``p`` while training, the identity in eval mode.
    ``inplace`` is accepted as in PyTorch; the result is computed out of place."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        check_probability(p)
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return ops.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Embedding(Module):
    """A lookup table: index i of an int64 input picks row i of ``weight`` (num_embeddings,
    embedding_dim), initialised N(0, 1) as in PyTorch (or ``_weight``, frozen with ``_freeze``);
    the row ``padding_idx`` starts at zeros and is never learned. ``max_norm``,
    ``scale_grad_by_freq`` and ``sparse`` are refused as by ``F.embedding``."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None,
                 dtype=None):
        super().__init__()
        refuse_unsupported_embedding_options("Embedding", max_norm, scale_grad_by_freq, sparse)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else padding_row("Embedding", padding_idx,
                                                                        num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = init.normal_(_empty(num_embeddings, embedding_dim))
            if self.padding_idx is not None:
                self.weight._data[self.padding_idx] = 0
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(array_of(_weight), requires_grad=not _freeze)  # shared, as in PyTorch
        _factory_arguments(self, device, dtype)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is ``embeddings`` (2-D), not learned unless ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{tuple(embeddings.shape)}")
        return cls(*embeddings.shape, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def forward(self, input):
        return ops.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


class Flatten(Module):
    """Merge dimensions ``start_dim`` to ``end_dim`` into one (by default all but the batch's)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return ops.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (a tuple or list of ints, one of which
    may be -1, inferred): the inverse of Flatten."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not (isinstance(unflattened_size, (tuple, list))
                and all(isinstance(n, int) for n in unflattened_size)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, "
                            f"got {unflattened_size!r}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        if input.ndim == 0:
            raise IndexError("Unflatten: a 0-D tensor has no dimension to unflatten")
        dim = normalize_dim("Unflatten", self.dim, input.ndim)
        sizes = self._sizes(input.shape[dim], input.shape)
        return ops.reshape(input, input.shape[:dim] + sizes + input.shape[dim + 1:])

    def _sizes(self, length, shape):
        """``unflattened_size`` with its -1 inferred, checked to multiply up to ``length``."""
        sizes = tuple(self.unflattened_size)
        known = math.prod(n for n in sizes if n != -1)
        if sizes.count(-1) == 1 and known > 0 and length % known == 0:
            sizes = tuple(length // known if n == -1 else n for n in sizes)
        if any(n < 0 for n in sizes) or math.prod(sizes) != length:
            raise ValueError(f"Unflatten: sizes {tuple(self.unflattened_size)} do not multiply up to "
                             f"the size {length} of dimension {self.dim} of the input of shape {shape}")
        return sizes

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
