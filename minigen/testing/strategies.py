"""Hypothesis strategies for testing ops: awkward shapes, finite values, compatible pairs.

Shapes favour what breaks kernels: dimensions of size 1, odd sizes, sizes that are not a
multiple of any block. Elements are finite and never subnormal, so no test hinges on
denormal arithmetic. ``tensors(..., away_from=0.0)`` keeps values off a kink.

    >>> from hypothesis import given
    >>> from minigen.testing import strategies as mst
    >>> @given(mst.tensors(dtype="float64"))
    ... def test_double_negation(x):
    ...     assert ((-(-x)) == x).numpy().all()
"""
from typing import NamedTuple

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .. import dtypes
from ..tensor import Tensor


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=7):
    """Array shapes with small, often odd, sides."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def elements(dtype="float64", min_value=-2.0, max_value=2.0):
    width = np.dtype(dtype).itemsize * 8
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False,
                     allow_subnormal=False, width=width)


@st.composite
def arrays(draw, shape=None, dtype="float64", min_value=-2.0, max_value=2.0, away_from=None,
           margin=1e-3):
    """NumPy arrays; with ``away_from`` every element is at least ``margin`` from that point."""
    shape = draw(shapes()) if shape is None else shape
    if not isinstance(shape, tuple):
        shape = draw(shape)
    array = draw(hnp.arrays(np.dtype(dtype), shape,
                            elements=elements(dtype, min_value, max_value)))
    if away_from is not None:
        assume(np.all(np.abs(array - away_from) > margin))
    return array


@st.composite
def tensors(draw, shape=None, dtype=None, requires_grad=False, **array_kwargs):
    """Tensors of float32 or float64 (drawn, unless ``dtype`` is given)."""
    dtype = draw(st.sampled_from(["float32", "float64"])) if dtype is None else dtype
    array = draw(arrays(shape, dtype, **array_kwargs))
    return Tensor(array, dtype=dtypes.canonical(dtype), requires_grad=requires_grad)


@st.composite
def broadcastable_shapes(draw, max_dims=4, max_side=6):
    """Two shapes that broadcast together (either may have fewer or size-1 dimensions)."""
    shape_a, shape_b = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, max_dims=max_dims, max_side=max_side)).input_shapes
    return shape_a, shape_b


@st.composite
def matmul_shapes(draw, max_batch_dims=2, max_side=7, min_side=1):
    """Shapes ``(a, b)`` that ``a @ b`` accepts: 1-D or matrices with broadcast batch dims
    (``min_side=0`` draws empty ones too, the contracted dimension included)."""
    n, k, m = (draw(st.integers(min_side, max_side)) for _ in range(3))
    batch_a, batch_b = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, max_dims=max_batch_dims, min_side=min_side, max_side=3)).input_shapes
    a = draw(st.sampled_from([(k,), batch_a + (n, k)]))
    b = draw(st.sampled_from([(k,), batch_b + (k, m)]))
    return a, b


class ConvConfig(NamedTuple):
    """One valid 2-D convolution, usable as conv2d and as conv_transpose2d.

    As conv2d it maps x (batch, in_channels, height, width) with weight (out_channels,
    in_channels / groups, *kernel) to (batch, out_channels, *conv_output); as
    conv_transpose2d it maps (batch, out_channels, *conv_output) with the same weight back to
    (batch, in_channels, *transposed_output), where transposed_output = (height, width) when
    output_padding is the one that undoes the conv2d's rounding.
    """
    batch: int
    in_channels: int
    out_channels: int
    height: int
    width: int
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int
    output_padding: tuple

    @property
    def x_shape(self):
        return (self.batch, self.in_channels, self.height, self.width)

    @property
    def weight_shape(self):
        return (self.out_channels, self.in_channels // self.groups) + self.kernel

    @property
    def conv_output(self):
        return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in
                     zip((self.height, self.width), self.kernel, self.stride, self.padding,
                         self.dilation))

    @property
    def y_shape(self):
        return (self.batch, self.out_channels) + self.conv_output

    @property
    def transposed_output(self):
        return tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, k, s, p, d, o in
                     zip(self.conv_output, self.kernel, self.stride, self.padding, self.dilation,
                         self.output_padding))

    def conv2d_kwargs(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                    groups=self.groups)

    def conv_transpose2d_kwargs(self):
        return dict(self.conv2d_kwargs(), output_padding=self.output_padding)


@st.composite
def conv_configs(draw, max_side=9, max_channels=4, max_kernel=5, min_stride=1, max_stride=3,
                 max_dilation=2, max_batch=3):
    """Valid convolution configurations, awkward ones included: spatial sizes 1 to 9 (odd,
    non-square), 1 to 4 channels per group, kernels 1 to 5, strides 1 to 3, any padding below
    the kernel, dilation, groups, output_padding below the stride, batch 1 to 3.

    Every drawn configuration is valid for conv2d and for the conv_transpose2d that maps its
    output back to its input's size (``output_padding`` absorbs conv2d's rounding).
    """
    groups = draw(st.integers(1, 2))
    in_channels = groups * draw(st.integers(1, max_channels))
    out_channels = groups * draw(st.integers(1, max_channels))
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    padding = tuple(draw(st.integers(0, k - 1)) for k in kernel)
    stride = (draw(st.integers(min_stride, max_stride)), draw(st.integers(min_stride, max_stride)))
    # the smallest input the kernel fits in, then anything up to max_side
    sizes = []
    for k, p, d in zip(kernel, padding, dilation):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        assume(smallest <= max_side)
        sizes.append(draw(st.integers(smallest, max_side)))
    height, width = sizes
    # output_padding that maps the conv2d output back to exactly (height, width)
    output_padding = tuple((n + 2 * p - d * (k - 1) - 1) % s
                           for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation))
    assume(all(o < s or o < d for o, s, d in zip(output_padding, stride, dilation)))
    return ConvConfig(draw(st.integers(1, max_batch)), in_channels, out_channels, height, width,
                      kernel, stride, padding, dilation, groups, output_padding)
