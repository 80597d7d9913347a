"""The checking kit must catch wrong derivatives, not only pass right ones."""
import numpy as np
import pytest
from hypothesis import given

import minigen
from minigen.autograd import Function
from minigen.testing import GradcheckError, gradcheck, gradgradcheck
from minigen.testing import strategies as mst


class Cube(Function):
    """x³ with a correct first and second derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * 3 * x * x


class CubeWrongSlope(Cube):
    """Planted bug: the first derivative is 10% too large."""

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * 3.3 * x * x


class CubeFlatSecondDerivative(Cube):
    """Planted bug: the first derivative is right, but computed from a detached x, so its
    own derivative (the second derivative, 6x) comes out as zero."""

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * 3 * x.detach() * x.detach()


def inputs(values=(0.5, -1.2, 2.0)):
    return [minigen.tensor(values, dtype=minigen.float64, requires_grad=True)]


@pytest.mark.parametrize("fast_mode", [False, True])
def test_a_correct_function_passes_both_checks(fast_mode):
    assert gradcheck(Cube.apply, inputs(), fast_mode=fast_mode)
    assert gradgradcheck(Cube.apply, inputs(), fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_a_wrong_first_derivative_is_caught(fast_mode):
    with pytest.raises(GradcheckError, match="mismatch"):
        gradcheck(CubeWrongSlope.apply, inputs(), fast_mode=fast_mode)
    assert not gradcheck(CubeWrongSlope.apply, inputs(), fast_mode=fast_mode,
                         raise_exception=False)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_a_wrong_second_derivative_passes_gradcheck_but_not_gradgradcheck(fast_mode):
    assert gradcheck(CubeFlatSecondDerivative.apply, inputs(), fast_mode=fast_mode)
    with pytest.raises(GradcheckError, match="mismatch"):
        gradgradcheck(CubeFlatSecondDerivative.apply, inputs(), fast_mode=fast_mode)


def test_the_report_names_the_worst_entry():
    with pytest.raises(GradcheckError) as failure:
        gradcheck(CubeWrongSlope.apply, inputs((0.1, 3.0)))
    message = str(failure.value)
    assert "input element 1" in message and "analytic 29.7" in message and "numeric 27\n" in message


def test_float32_inputs_are_refused_with_the_reason():
    x = minigen.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="float64.*rounding error"):
        gradcheck(Cube.apply, [x])


def test_several_inputs_and_outputs_and_non_tensor_arguments():
    def fn(a, scale, b):
        return a * b * scale, (a - b).exp()

    a, b = (minigen.tensor(np.linspace(-1, 1, 4).reshape(2, 2) + k, dtype=minigen.float64,
                           requires_grad=True) for k in (0.0, 0.3))
    assert gradcheck(fn, [a, 2.0, b])
    assert gradgradcheck(fn, [a, 2.0, b])


def test_a_wrong_gradient_in_one_of_several_outputs_is_caught():
    def fn(x):
        return Cube.apply(x), CubeWrongSlope.apply(x)

    with pytest.raises(GradcheckError, match="output 1 with respect to input 0"):
        gradcheck(fn, inputs())


@given(x=mst.tensors(shape=mst.shapes(max_dims=2, max_side=5), dtype="float64",
                     requires_grad=True))
def test_strategies_feed_gradcheck(x):
    assert x.dtype == minigen.float64 and x.requires_grad
    assert gradcheck(Cube.apply, [x], fast_mode=True)


@given(x=mst.arrays(mst.shapes(max_dims=3, max_side=5), away_from=0.0, margin=0.1))
def test_arrays_respect_bounds_and_stay_off_the_kink(x):
    assert x.dtype == np.float64 and all(1 <= n <= 5 for n in x.shape)
    assert np.all(np.abs(x) > 0.1) and np.all(np.abs(x) <= 2.0)
    assert np.all((x == 0) | (np.abs(x) >= np.finfo(np.float64).tiny))  # no subnormals


@given(shapes=mst.broadcastable_shapes())
def test_broadcastable_shapes_broadcast(shapes):
    np.broadcast_shapes(*shapes)


@given(shapes=mst.matmul_shapes())
def test_matmul_shapes_multiply(shapes):
    a, b = shapes
    np.matmul(np.zeros(a), np.zeros(b))
