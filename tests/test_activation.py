import numpy as np
import pytest
from helpers import check_op, torch
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen.backend import cpu
from minigen.testing import strategies as mst

# A kernel test module: scripts/sanitize.py and CI's pass on the AVX2 micro-kernels run these.
pytestmark = pytest.mark.kernels

SHAPES = mst.shapes(max_dims=3, max_side=5)


@pytest.mark.parametrize("impl", ["ref", "fast"])
@given(x=mst.arrays(SHAPES, away_from=0.0), slope=st.sampled_from([0.01, 0.2, 1.5]))
def test_leaky_relu(impl, x, slope):
    with cpu.use_impl(impl):
        check_op(lambda t: minigen.leaky_relu(t, slope), [x],
                 lambda a: np.where(a > 0, a, slope * a),
                 lambda t: torch.nn.functional.leaky_relu(t, slope))


def test_leaky_relu_runs_the_compiled_kernel(monkeypatch):
    calls = []
    for name in ("leaky_relu_fwd", "leaky_relu_bwd"):
        kernel = getattr(cpu._C, name)
        monkeypatch.setattr(cpu._C, name,
                            lambda *args, _k=kernel, _n=name: calls.append(_n) or _k(*args))
    x = minigen.tensor([-1.0, 2.0], requires_grad=True)
    minigen.leaky_relu(x, 0.2).sum().backward()
    assert calls == ["leaky_relu_fwd", "leaky_relu_bwd"]
    np.testing.assert_array_equal(x.grad.numpy(), np.float32([0.2, 1.0]))


def test_leaky_relu_gradient_at_zero_is_the_slope_as_in_pytorch():
    x = minigen.tensor([0.0, -0.0], requires_grad=True)
    minigen.leaky_relu(x, 0.3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.float32([0.3, 0.3]))


def test_leaky_relu_second_derivative_in_the_upstream_gradient():
    # The backward is linear in gy with the same slope mask, so d(gx)/d(gy) is leaky_relu's mask.
    x = minigen.tensor([-2.0, 0.5, 3.0], dtype=minigen.float64, requires_grad=True)
    gy = minigen.tensor([1.0, 2.0, 3.0], dtype=minigen.float64, requires_grad=True)
    gx, = minigen.autograd.grad(minigen.leaky_relu(x, 0.1), x, gy, create_graph=True)
    ggy, = minigen.autograd.grad(gx.sum(), gy)
    np.testing.assert_array_equal(ggy.numpy(), [0.1, 1.0, 1.0])


@given(x=mst.arrays(SHAPES, away_from=0.0))
def test_relu(x):
    check_op(minigen.relu, [x], lambda a: np.maximum(a, 0), lambda t: t.relu())


@given(x=mst.arrays(SHAPES, min_value=-6.0, max_value=6.0))
def test_sigmoid(x):
    check_op(minigen.sigmoid, [x], lambda a: 1 / (1 + np.exp(-a)), lambda t: t.sigmoid())


@given(x=mst.arrays(SHAPES, min_value=-3.0, max_value=3.0))
def test_tanh(x):
    check_op(minigen.tanh, [x], np.tanh, lambda t: t.tanh())


def test_sigmoid_saturates_without_overflow():
    out = minigen.sigmoid(minigen.tensor([-1000.0, 0.0, 1000.0])).numpy()
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])


def test_activations_of_integer_tensors_are_float():
    x = minigen.tensor([-1, 2])
    assert minigen.leaky_relu(x, 0.5).dtype == minigen.float32
    np.testing.assert_array_equal(minigen.leaky_relu(x, 0.5).numpy(), [-0.5, 2.0])
