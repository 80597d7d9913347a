import numpy as np
import pytest
from helpers import check_op
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen.testing import strategies as mst


@st.composite
def basic_keys(draw, shape):
    """A tuple of ints, slices (any step), None and Ellipsis valid for ``shape``."""
    key = []
    for n in shape[:draw(st.integers(0, len(shape)))]:
        kind = draw(st.sampled_from(["int", "slice", "none"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            key.append(slice(draw(st.none() | st.integers(-n, n)), draw(st.none() | st.integers(-n, n)),
                             draw(st.sampled_from([None, 1, 2, -1]))))
        else:
            key.extend([None, slice(None)])
    if draw(st.booleans()):
        key.append(Ellipsis)
    return tuple(key)


@given(data=st.data())
def test_basic_indexing(data):
    x = data.draw(mst.arrays(mst.shapes(min_dims=1, max_dims=3, max_side=5)))
    key = data.draw(basic_keys(x.shape))
    # PyTorch has no negative slice steps (minigen follows NumPy there): compare with NumPy only.
    backwards = any(isinstance(k, slice) and (k.step or 1) < 0 for k in key)
    check_op(lambda t: t[key], [x], lambda a: a[key], None if backwards else lambda t: t[key])


@given(data=st.data())
def test_integer_array_indexing_with_repeats(data):
    x = data.draw(mst.arrays(mst.shapes(min_dims=1, max_dims=3, max_side=4)))
    rows = data.draw(st.lists(st.integers(-x.shape[0], x.shape[0] - 1), min_size=1, max_size=6))
    as_tensor = minigen.tensor(rows)  # int64 tensor as the index
    check_op(lambda t: t[as_tensor], [x], lambda a: a[rows], lambda t: t[rows])
    check_op(lambda t: t[rows, ...], [x], lambda a: a[rows, ...], lambda t: t[rows, ...])


def test_repeated_indices_add_their_gradients():
    x = minigen.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 2, 0, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.float32([3.0, 0.0, 1.0]))


def test_boolean_mask_indexing():
    x = minigen.tensor([[1.0, -2.0], [3.0, -4.0]], requires_grad=True)
    picked = x[x > 0]
    np.testing.assert_array_equal(picked.detach().numpy(), np.float32([1.0, 3.0]))
    (picked * picked).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.float32([[2.0, 0.0], [6.0, 0.0]]))


def test_bad_indices_raise_index_errors():
    x = minigen.zeros(3)
    with pytest.raises(IndexError):
        x[5]
    with pytest.raises(IndexError, match="int64 or bool"):
        x[minigen.tensor([0.0])]
    with pytest.raises(IndexError, match="not supported"):
        x["a"]
