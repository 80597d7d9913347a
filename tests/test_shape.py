import numpy as np
import pytest
from helpers import check_op, torch
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen.testing import strategies as mst

SHAPES = mst.shapes(max_dims=4, max_side=4)


@given(x=mst.arrays(SHAPES), data=st.data())
def test_reshape_and_view(x, data):
    shape = data.draw(st.sampled_from([(-1,), (x.size,), (1, x.size), (x.size, 1, 1), x.shape[::-1]]))
    check_op(lambda t: t.reshape(shape), [x], lambda a: a.reshape(shape),
             lambda t: t.reshape(shape))
    check_op(lambda t: t.view(*shape), [x], second_order=False)


@given(x=mst.arrays(mst.shapes(min_dims=1, max_dims=4, max_side=4)), data=st.data())
def test_permute_and_transpose(x, data):
    dims = tuple(data.draw(st.permutations(range(x.ndim))))
    check_op(lambda t: t.permute(*dims), [x], lambda a: np.transpose(a, dims),
             lambda t: t.permute(*dims))
    d0, d1 = data.draw(st.integers(-x.ndim, x.ndim - 1)), data.draw(st.integers(0, x.ndim - 1))
    check_op(lambda t: t.transpose(d0, d1), [x], lambda a: np.swapaxes(a, d0, d1),
             lambda t: t.transpose(d0, d1))


@given(x=mst.arrays(mst.shapes(min_dims=1, max_dims=4, max_side=3)), data=st.data())
def test_flatten_unsqueeze_squeeze(x, data):
    start = data.draw(st.integers(0, x.ndim - 1))
    end = data.draw(st.integers(start, x.ndim - 1))
    check_op(lambda t: t.flatten(start, end), [x], torch_fn=lambda t: t.flatten(start, end))
    dim = data.draw(st.integers(-x.ndim - 1, x.ndim))
    check_op(lambda t: t.unsqueeze(dim), [x], lambda a: np.expand_dims(a, dim),
             lambda t: t.unsqueeze(dim))
    check_op(lambda t: t.squeeze(), [x], np.squeeze, lambda t: t.squeeze())


@given(shapes=mst.broadcastable_shapes(max_dims=3, max_side=4), data=st.data())
def test_expand(shapes, data):
    small, other = shapes
    target = np.broadcast_shapes(small, other)
    x = data.draw(mst.arrays(small))
    check_op(lambda t: t.expand(target), [x], lambda a: np.broadcast_to(a, target),
             lambda t: t.expand(target))


def test_expand_keeps_dimensions_given_as_minus_one_and_refuses_bad_sizes():
    assert minigen.zeros(3, 1).expand(2, -1, 4).shape == (2, 3, 4)
    with pytest.raises(ValueError, match=r"expand: cannot expand shape \(3, 2\)"):
        minigen.zeros(3, 2).expand(3, 4)


@given(data=st.data(), count=st.integers(1, 3))
def test_cat(data, count):
    base = data.draw(mst.shapes(min_dims=1, max_dims=3, max_side=3))
    dim = data.draw(st.integers(-len(base), len(base) - 1))
    arrays = []
    for _ in range(count):
        shape = list(base)
        shape[dim] = data.draw(st.integers(1, 3))
        arrays.append(data.draw(mst.arrays(tuple(shape))))
    check_op(lambda *ts: minigen.cat(ts, dim), arrays, lambda *a: np.concatenate(a, dim),
             lambda *ts: torch.cat(ts, dim))


@given(data=st.data(), count=st.integers(1, 3))
def test_stack(data, count):
    shape = data.draw(mst.shapes(max_dims=3, max_side=3))
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [data.draw(mst.arrays(shape)) for _ in range(count)]
    check_op(lambda *ts: minigen.stack(ts, dim), arrays, lambda *a: np.stack(a, dim),
             lambda *ts: torch.stack(ts, dim))


def test_shape_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"reshape: shape \(4,\) is invalid for input of shape \(2, 3\)"):
        minigen.zeros(2, 3).reshape(4)
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\) but tensor 0 has shape \(2, 3\)"):
        minigen.cat([minigen.zeros(2, 3), minigen.zeros(2, 4)], dim=0)
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(3,\)"):
        minigen.stack([minigen.zeros(2), minigen.zeros(3)])
    with pytest.raises(ValueError, match="permute"):
        minigen.zeros(2, 3).permute(0, 0)


def test_cat_promotes_dtypes_like_pytorch():
    out = minigen.cat([minigen.zeros(2), minigen.zeros(2, dtype=minigen.float64)])
    assert out.dtype == minigen.float64


@st.composite
def paddings(draw):
    """An input and a pad for its last 1-3 dimensions: before/after amounts from -2 (a cut that
    leaves at least one element) to 3."""
    x = draw(mst.arrays(mst.shapes(min_dims=1, max_dims=3, max_side=4)))
    amounts = []
    for n in x.shape[::-1][:draw(st.integers(1, x.ndim))]:
        before = draw(st.integers(max(-2, 1 - n), 3))
        amounts += [before, draw(st.integers(max(-2, 1 - n - min(before, 0)), 3))]
    return x, tuple(amounts)


def numpy_pad(x, amounts, value):
    """F.pad in NumPy: (before, after) pairs from the last dimension back; negative ones cut."""
    sides = [(0, 0)] * x.ndim
    for i in range(len(amounts) // 2):
        sides[x.ndim - 1 - i] = amounts[2 * i], amounts[2 * i + 1]
    out = np.pad(x, [(max(b, 0), max(a, 0)) for b, a in sides], constant_values=value)
    return out[tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(out.shape, sides))]


@given(case=paddings(), value=st.sampled_from([0.0, -1.5]))
def test_pad(case, value):
    x, amounts = case
    check_op(lambda t: minigen.nn.functional.pad(t, amounts, value=value), [x],
             lambda a: numpy_pad(a, amounts, value),
             lambda t: torch.nn.functional.pad(t, amounts, value=value))


@pytest.mark.parametrize("pad, message", [
    ((1,), r"pad: pad must be a tuple of ints of even length, got \(1,\)"),
    ((1, 1, 1, 1, 1, 1), r"pad: \(1, 1, 1, 1, 1, 1\) pads 3 dimensions but the input of shape \(2, 3\) has 2"),
    ((-2, -2), r"pad: \(-2, -2\) leaves the input of shape \(2, 3\) with shape \(2, -1\)"),
])
def test_pad_refuses_what_it_cannot_do(pad, message):
    with pytest.raises(ValueError, match=message):
        minigen.nn.functional.pad(minigen.zeros(2, 3), pad)
