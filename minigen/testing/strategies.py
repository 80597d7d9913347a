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
def matmul_shapes(draw, max_batch_dims=2, max_side=7):
    """Shapes ``(a, b)`` that ``a @ b`` accepts: 1-D or matrices with broadcast batch dims."""
    n, k, m = (draw(st.integers(1, max_side)) for _ in range(3))
    batch_a, batch_b = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, max_dims=max_batch_dims, max_side=3)).input_shapes
    a = draw(st.sampled_from([(k,), batch_a + (n, k)]))
    b = draw(st.sampled_from([(k,), batch_b + (k, m)]))
    return a, b
