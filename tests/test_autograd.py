"""Structural properties of the engine, checked without finite differences."""
import numpy as np
import pytest

import minigen
from minigen.autograd import Function, grad
from minigen.testing import gradcheck


def leaf(values, dtype=minigen.float64):
    return minigen.tensor(values, dtype=dtype, requires_grad=True)


def test_two_backward_calls_accumulate_exactly_twice():
    x = leaf([1.0, -2.0, 3.0])
    y = (x * x * x).sum()
    y.backward(retain_graph=True)
    once = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * once)
    np.testing.assert_array_equal(once, 3 * np.array([1.0, 4.0, 9.0]))


def test_a_tensor_used_twice_gets_both_contributions():
    x = leaf([2.0])
    (x * x + x).sum().backward()  # d/dx (x^2 + x) = 2x + 1
    assert x.grad.item() == 5.0


def test_paths_of_different_length_are_summed_before_the_shared_node_runs():
    x = leaf([1.5])
    a = x * 2
    b = a * 3
    c = (a + b).exp()  # c = exp(8x); the node of `a` must wait for both a and b's gradients
    c.backward()
    np.testing.assert_allclose(x.grad.numpy(), 8 * np.exp(8 * 1.5), rtol=1e-14)


def test_unused_inputs_get_no_gradient_as_in_pytorch():
    x, unused = leaf([1.0]), leaf([2.0])
    (x * 3).sum().backward()
    assert unused.grad is None
    assert grad((x * 3).sum(), [x, unused], allow_unused=True)[1] is None
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        grad((x * 3).sum(), [x, unused])


def test_grad_leaves_dot_grad_alone_and_reaches_intermediates():
    x = leaf([1.0, 2.0])
    h = x * x
    out = (h * 3).sum()
    gh, gx = grad(out, [h, x])
    np.testing.assert_array_equal(gh.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(gx.numpy(), [6.0, 12.0])
    assert x.grad is None


def test_grad_of_grad():
    x = leaf([1.0, -2.0])
    g, = grad((x ** 3).sum(), x, create_graph=True)
    assert g.grad_fn is not None
    gg, = grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [6.0, -12.0])


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x = leaf([3.0])
    (x ** 2).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None
    g2, = grad(x.grad.sum(), x)
    assert g2.item() == 2.0


def test_grad_runs_only_the_part_of_the_graph_it_needs():
    seen = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, gy):
            seen.append(ctx.needs_input_grad)
            a, b = ctx.inputs
            return gy * b, gy * a

    weight, x = leaf([2.0]), leaf([5.0])
    grad(Spy.apply(weight, x).sum(), x)
    assert seen == [(False, True)]


def test_gradient_penalty_reaches_the_weights_through_double_backward():
    # A WGAN-GP style penalty on a tiny critic: leaky_relu(x @ W) summed, penalised on the norm
    # of its input gradient. The penalty's own gradient w.r.t. W is checked numerically.
    rng = np.random.default_rng(0)
    x = minigen.tensor(rng.standard_normal((3, 4)), dtype=minigen.float64, requires_grad=True)

    def penalty(weight):
        scores = minigen.leaky_relu(x @ weight, 0.2).sum()
        g, = grad(scores, x, create_graph=True)
        norms = (g * g).sum(1).sqrt()
        return ((norms - 1) ** 2).mean()

    weight = minigen.tensor(rng.standard_normal((4, 5)), dtype=minigen.float64, requires_grad=True)
    penalty(weight).backward()
    assert weight.grad is not None and np.abs(weight.grad.numpy()).sum() > 0
    assert gradcheck(penalty, [weight])


def test_deep_graphs_do_not_hit_the_recursion_limit():
    x = leaf([1.0])
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_no_grad_records_nothing_and_enable_grad_turns_it_back_on():
    x = leaf([1.0])
    with minigen.no_grad():
        y = x * 2
        with minigen.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    assert minigen.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = leaf([1.0])
    y = (x * 2).detach() * x
    y.sum().backward()
    assert x.grad.item() == 2.0


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="only be created implicitly for a scalar.*gradient="):
        (x * 2).backward()
    (x * 2).backward(minigen.tensor([1.0, 10.0], dtype=minigen.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 20.0])


def test_a_second_backward_through_a_freed_graph_says_to_retain_it():
    x = leaf([1.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_differentiating_something_without_grad_says_what_to_do():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigen.tensor([1.0]).sum().backward()
    x = minigen.tensor([1.0])
    with pytest.raises(RuntimeError, match="requires_grad_"):
        grad((leaf([1.0]) * 2).sum(), x)


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="only floating point tensors"):
        minigen.tensor([1, 2], requires_grad=True)
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    assert minigen.tensor([1.0]).requires_grad_().requires_grad


def test_a_custom_function_returning_bad_gradients_is_caught():
    class WrongCount(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, gy):
            return gy, gy

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, gy):
            return gy.sum()

    with pytest.raises(RuntimeError, match="returned 2 gradients but its forward took 1"):
        WrongCount.apply(leaf([1.0, 2.0])).sum().backward()
    with pytest.raises(RuntimeError, match=r"gradient of shape \(\) for input 0, which has shape \(2,\)"):
        WrongShape.apply(leaf([1.0, 2.0])).sum().backward()


def test_gradients_keep_the_dtype_of_their_leaf_under_promotion():
    x32, x64 = leaf([1.0], minigen.float32), leaf([2.0])
    (x32 * x64).sum().backward()
    assert x32.grad.dtype == minigen.float32 and x64.grad.dtype == minigen.float64


def test_an_input_reached_only_through_zero_derivatives_gets_zeros():
    # leaky_relu's input gradient does not depend on x (away from 0): the second derivative
    # in x is zero, and grad() says so with zeros rather than calling x unused.
    x = leaf([-1.0, 2.0])
    g, = grad(minigen.leaky_relu(x, 0.2).sum(), x, create_graph=True)
    gg, = grad(g.sum(), x, retain_graph=True)
    np.testing.assert_array_equal(gg.numpy(), [0.0, 0.0])
    with pytest.raises(RuntimeError, match="input 1 was not used"):
        grad(g.sum(), [x, leaf([1.0])])
