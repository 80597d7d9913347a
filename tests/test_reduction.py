import numpy as np
import pytest
from helpers import check_op
from hypothesis import assume, given
from hypothesis import strategies as st

import minigen
from minigen.testing import strategies as mst


@st.composite
def array_and_dims(draw, single=False):
    x = draw(mst.arrays(mst.shapes(min_dims=1, max_dims=3, max_side=4)))
    axes = st.integers(-x.ndim, x.ndim - 1)
    if single:
        return x, draw(axes)
    dim = draw(st.one_of(st.none(), axes, st.lists(axes, min_size=1, max_size=x.ndim,
                                                   unique_by=lambda d: d % x.ndim).map(tuple)))
    return x, dim


@given(case=array_and_dims(), keepdim=st.booleans())
def test_sum(case, keepdim):
    x, dim = case
    check_op(lambda t: t.sum(dim, keepdim), [x], lambda a: a.sum(axis=dim, keepdims=keepdim),
             lambda t: t.sum(dim, keepdim) if dim is not None else _torch_full(t.sum(), keepdim, t))


@given(case=array_and_dims(), keepdim=st.booleans())
def test_mean(case, keepdim):
    x, dim = case
    check_op(lambda t: t.mean(dim, keepdim), [x], lambda a: a.mean(axis=dim, keepdims=keepdim),
             lambda t: t.mean(dim, keepdim) if dim is not None else _torch_full(t.mean(), keepdim, t))


@given(case=array_and_dims(), keepdim=st.booleans(), correction=st.sampled_from([0, 1]))
def test_var(case, keepdim, correction):
    x, dim = case
    count = x.size if dim is None else int(np.prod([x.shape[d] for d in np.atleast_1d(dim)]))
    assume(count > correction)
    check_op(lambda t: t.var(dim, keepdim=keepdim, correction=correction), [x],
             lambda a: a.var(axis=dim, ddof=correction, keepdims=keepdim),
             lambda t: t.var(dim, keepdim=keepdim, correction=correction))


def _torch_full(result, keepdim, t):
    return result.reshape((1,) * t.ndim) if keepdim else result


@given(case=array_and_dims(single=True), keepdim=st.booleans())
def test_max_over_a_dimension(case, keepdim):
    x, dim = case
    sorted_x = np.sort(x, axis=dim)
    assume(np.all(np.diff(sorted_x, axis=dim) > 1e-3))  # no ties: the maximum is unique
    check_op(lambda t: t.max(dim, keepdim).values, [x], lambda a: a.max(axis=dim, keepdims=keepdim),
             lambda t: t.max(dim, keepdim).values)
    indices = minigen.tensor(x).max(dim, keepdim).indices
    assert indices.dtype == minigen.int64
    np.testing.assert_array_equal(indices.numpy(), np.argmax(x, axis=dim, keepdims=keepdim)
                                  if keepdim else np.argmax(x, axis=dim))


@given(x=mst.arrays(mst.shapes(max_dims=3, max_side=4)))
def test_max_of_all_elements(x):
    assume(x.size == 1 or np.partition(x.ravel(), -2)[-2] < x.max() - 1e-3)
    check_op(lambda t: t.max(), [x], lambda a: a.max(), lambda t: t.max())


def test_max_shares_the_gradient_among_ties_like_pytorch():
    x = minigen.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5])


def test_sum_of_integers_is_int64_and_mean_of_integers_is_refused():
    x = minigen.tensor([[1, 2], [3, 4]])
    assert x.sum().dtype == minigen.int64 and x.sum().item() == 10
    with pytest.raises(TypeError, match="mean: needs a floating point tensor"):
        x.mean()


def test_dimension_out_of_range_is_an_index_error_naming_the_op():
    with pytest.raises(IndexError, match="sum: dimension 2 is out of range"):
        minigen.zeros(2, 3).sum(2)
    with pytest.raises(ValueError, match="max: cannot reduce an empty tensor"):
        minigen.zeros(0, 3).max()
