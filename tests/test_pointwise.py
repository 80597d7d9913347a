import numpy as np
import pytest
from helpers import check_op, torch
from hypothesis import assume, given
from hypothesis import strategies as st

import minigen
from minigen.testing import strategies as mst


@st.composite
def array_pairs(draw, low=-2.0, high=2.0):
    shape_a, shape_b = draw(mst.broadcastable_shapes(max_dims=3, max_side=4))
    return (draw(mst.arrays(shape_a, min_value=low, max_value=high)),
            draw(mst.arrays(shape_b, min_value=low, max_value=high)))


BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=array_pairs())
def test_binary_arithmetic(name, pair):
    op, numpy_op = BINARY[name]
    check_op(op, pair, numpy_op, op)


@given(pair=array_pairs())
def test_div(pair):
    a, b = pair
    assume(np.all(np.abs(b) > 0.2))  # stay away from the pole at b = 0
    check_op(lambda x, y: x / y, (a, b), np.divide, lambda x, y: x / y)


@given(pair=array_pairs(low=0.3, high=2.0))
def test_pow_of_two_tensors(pair):
    check_op(lambda x, y: x ** y, pair, np.power, lambda x, y: x ** y)


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5])
@given(x=mst.arrays(mst.shapes(max_dims=3, max_side=4), min_value=0.3, max_value=2.0))
def test_pow_with_number(exponent, x):
    check_op(lambda t: t ** exponent, [x], lambda a: a ** exponent, lambda t: t ** exponent)
    check_op(lambda t: exponent ** t if exponent > 0 else (-exponent) ** t, [x],
             lambda a: abs(exponent) ** a, lambda t: abs(exponent) ** t)


@pytest.mark.parametrize("scalar", [2.5, -3, 0.5])
@given(x=mst.arrays(mst.shapes(max_dims=3, max_side=4), min_value=0.5, max_value=2.0))
def test_number_on_either_side(scalar, x):
    for op in (lambda t: t + scalar, lambda t: scalar + t, lambda t: t - scalar,
               lambda t: scalar - t, lambda t: t * scalar, lambda t: scalar * t,
               lambda t: t / scalar, lambda t: scalar / t, lambda t: -t):
        check_op(op, [x], torch_fn=op)


UNARY = {
    # name: (minigen op, numpy reference, torch op, low, high)
    "exp": (minigen.exp, np.exp, "exp", -2.0, 2.0),
    "log": (minigen.log, np.log, "log", 0.2, 3.0),
    "sqrt": (minigen.sqrt, np.sqrt, "sqrt", 0.2, 3.0),
    "abs": (minigen.abs, np.abs, "abs", -2.0, 2.0),
    "neg": (minigen.neg, np.negative, "neg", -2.0, 2.0),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary(name, data):
    op, numpy_op, torch_name, low, high = UNARY[name]
    x = data.draw(mst.arrays(mst.shapes(max_dims=3, max_side=4), min_value=low,
                             max_value=high, away_from=0.0 if name == "abs" else None))
    check_op(op, [x], numpy_op, lambda t: getattr(t, torch_name)())


@given(x=mst.arrays(mst.shapes(max_dims=3, max_side=4), min_value=-2.0, max_value=2.0),
       bounds=st.sampled_from([(-0.5, 0.7), (None, 0.3), (-0.2, None)]))
def test_clamp(x, bounds):
    lo, hi = bounds
    assume(all(np.all(np.abs(x - b) > 1e-3) for b in bounds if b is not None))
    check_op(lambda t: t.clamp(lo, hi), [x], lambda a: np.clip(a, lo, hi),
             lambda t: t.clamp(lo, hi))


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(pair=array_pairs())
def test_maximum_minimum(name, pair):
    a, b = pair
    assume(np.all(np.abs(a - b) > 1e-3))  # the kink is where they meet
    check_op(getattr(minigen, name), pair, getattr(np, name),
             getattr(torch, name) if torch else None)


def test_maximum_splits_the_gradient_at_a_tie():
    a = minigen.tensor([1.0, 2.0], requires_grad=True)
    b = minigen.tensor([1.0, 0.0], requires_grad=True)
    minigen.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0.0])


@given(pair=array_pairs(), data=st.data())
def test_where(pair, data):
    a, b = pair
    shape = np.broadcast_shapes(a.shape, b.shape)
    condition = data.draw(mst.arrays(shape)) > 0
    check_op(lambda x, y: minigen.where(minigen.tensor(condition), x, y), pair,
             lambda x, y: np.where(condition, x, y),
             lambda x, y: torch.where(torch.tensor(condition), x, y))


def test_where_needs_a_bool_condition():
    with pytest.raises(TypeError, match="where: condition must be bool"):
        minigen.where(minigen.tensor([1.0]), minigen.tensor([1.0]), minigen.tensor([2.0]))


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a * b, minigen.maximum,
                                lambda a, b: a @ b])
def test_shape_mismatch_names_the_op_and_both_shapes(op):
    a, b = minigen.zeros(2, 3), minigen.zeros(4, 5)
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        op(a, b)


def test_add_error_names_the_op():
    with pytest.raises(ValueError, match="^add: shapes"):
        minigen.zeros(2) + minigen.zeros(3)


def test_comparisons_give_bool_tensors_without_gradient():
    x = minigen.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in ((x > 2, [0, 0, 1]), (x >= 2, [0, 1, 1]), (x < 2, [1, 0, 0]),
                             (x <= 2, [1, 1, 0]), (x == 2, [0, 1, 0]), (x != 2, [1, 0, 1])):
        assert result.dtype == minigen.bool and not result.requires_grad
        np.testing.assert_array_equal(result.numpy(), np.array(expected, dtype=bool))


def test_operations_stay_silent_at_the_edges_of_their_domain():
    # log 0, 1/0 and overflowing exp give inf as IEEE and PyTorch do, without NumPy warnings
    # (the suite turns warnings into errors).
    zero = minigen.tensor([0.0])
    assert minigen.log(zero).item() == -np.inf
    assert (1 / zero).item() == np.inf
    assert minigen.exp(minigen.tensor([1000.0])).item() == np.inf
    assert np.isnan(minigen.sqrt(minigen.tensor([-1.0])).item())
