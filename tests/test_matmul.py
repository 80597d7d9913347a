import numpy as np
import pytest
from helpers import check_op
from hypothesis import given

import minigen
from minigen.testing import strategies as mst


@given(shapes=mst.matmul_shapes(max_side=4))
def test_matmul(shapes):
    a_shape, b_shape = shapes
    rng = np.random.default_rng(sum(a_shape) * 31 + sum(b_shape))
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    check_op(lambda x, y: x @ y, [a, b], np.matmul, lambda x, y: x @ y)


@given(shapes=mst.matmul_shapes(max_side=3, min_side=0))
def test_matmul_with_empty_dimensions(shapes):
    """A zero-length contraction is a sum of nothing: zeros, as in NumPy and PyTorch."""
    a_shape, b_shape = shapes
    rng = np.random.default_rng(sum(a_shape) * 31 + sum(b_shape))
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    check_op(lambda x, y: x @ y, [a, b], np.matmul, lambda x, y: x @ y)


def test_matmul_refuses_mismatched_and_zero_dim_operands():
    expected = r"matmul: shapes \(2, 3\) and \(4, 2\) cannot be multiplied \(3 != 4\)"
    with pytest.raises(ValueError, match=expected):
        minigen.zeros(2, 3) @ minigen.zeros(4, 2)
    with pytest.raises(ValueError, match="matmul: shapes"):
        minigen.zeros(2, 2, 3) @ minigen.zeros(3, 3, 4)
    with pytest.raises(ValueError, match="at least one dimension"):
        minigen.matmul(minigen.tensor(2.0), minigen.zeros(2))
