import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import minigen
import minigen.nn.functional as F
from minigen import _C
from minigen.backend import cpu
from minigen.testing import gradgradcheck
from minigen.testing import strategies as mst

from helpers import check_op, torch

# A kernel test module: scripts/sanitize.py and CI's pass on the AVX2 micro-kernels run these.
pytestmark = pytest.mark.kernels


@st.composite
def batches(draw):
    """(N, C, *) inputs with at least two values per channel and some spread in each."""
    shape = draw(st.sampled_from([(2, 3), (3, 1), (1, 2, 3), (2, 2, 1, 3), (1, 2, 1, 5), (3, 2, 2)]))
    x = draw(mst.arrays(shape))
    per_channel = np.moveaxis(x, 1, 0).reshape(shape[1], -1)
    assume(np.all(per_channel.std(1) > 0.1))
    return x


@given(x=batches(), affine=st.booleans())
def test_batch_norm_in_training(x, affine):
    channels = x.shape[1]
    rng = np.random.default_rng(0)
    arrays = [x] + ([rng.normal(size=channels), rng.normal(size=channels)] if affine else [])

    def ours(t, w=None, b=None):
        return F.batch_norm(t, None, None, w, b, training=True)

    def theirs(t, w=None, b=None):
        return torch.nn.functional.batch_norm(t, None, None, w, b, training=True)

    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, channels) + (1,) * (x.ndim - 2)

    def reference(a, w=np.ones(channels), b=np.zeros(channels)):
        normalised = (a - a.mean(axes, keepdims=True)) / np.sqrt(a.var(axes, keepdims=True) + 1e-5)
        return normalised * w.reshape(shape) + b.reshape(shape)

    check_op(ours, arrays, reference, theirs if torch else None)


@given(x=batches())
def test_batch_norm_in_evaluation(x):
    channels = x.shape[1]
    rng = np.random.default_rng(1)
    running_mean, running_var = rng.normal(size=channels), rng.uniform(0.5, 2, channels)
    weight, bias = rng.normal(size=channels), rng.normal(size=channels)

    def ours(t, w, b):
        return F.batch_norm(t, minigen.tensor(running_mean, dtype=t.dtype),
                            minigen.tensor(running_var, dtype=t.dtype), w, b)

    def theirs(t, w, b):
        return torch.nn.functional.batch_norm(t, torch.tensor(running_mean, dtype=t.dtype),
                                              torch.tensor(running_var, dtype=t.dtype), w, b)
    check_op(ours, [x, weight, bias], torch_fn=theirs if torch else None)


def test_batch_norm_of_an_empty_vector_is_empty():
    assert F.batch_norm(minigen.zeros(0), minigen.zeros(0), minigen.ones(0), training=True).shape == (0,)


@pytest.mark.parametrize("shape", [(0, 3), (0, 2, 4), (2, 3, 0), (0, 2, 3, 3), (3, 2, 0, 4)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_of_an_empty_input(shape, training):
    """An empty batch: an empty output, zero gradients for weight and bias, and the running
    statistics left as they were (PyTorch's answer)."""
    channels = shape[1]
    rng = np.random.default_rng(2)
    running = [rng.normal(size=channels), rng.uniform(0.5, 2, channels)]
    weight, bias = (minigen.tensor(rng.normal(size=channels), requires_grad=True) for _ in range(2))
    x = minigen.zeros(*shape, dtype=minigen.float64, requires_grad=True)
    stats = [minigen.tensor(a.copy()) for a in running]
    y = F.batch_norm(x, *stats, weight, bias, training=training)
    assert y.shape == shape
    y.sum().backward()
    assert x.grad.shape == shape
    for p in (weight, bias):
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros(channels))
    for before, after in zip(running, stats):
        np.testing.assert_array_equal(after.numpy(), before)
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, *stats, w, b, training=training),
                         [x, weight, bias])


def test_running_statistics_follow_pytorch():
    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, size=(8, 3, 4, 4))
    running_mean = minigen.zeros(3, dtype=minigen.float64)
    running_var = minigen.ones(3, dtype=minigen.float64)
    for _ in range(3):
        F.batch_norm(minigen.tensor(x), running_mean, running_var, training=True, momentum=0.2)
    count = 8 * 4 * 4
    expected_mean, expected_var = np.zeros(3), np.ones(3)
    for _ in range(3):
        expected_mean = 0.8 * expected_mean + 0.2 * x.mean((0, 2, 3))
        expected_var = 0.8 * expected_var + 0.2 * x.var((0, 2, 3)) * count / (count - 1)
    np.testing.assert_allclose(running_mean.numpy(), expected_mean, rtol=1e-12)
    np.testing.assert_allclose(running_var.numpy(), expected_var, rtol=1e-12)
    if torch is not None:
        trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
        for _ in range(3):
            torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.2)
        np.testing.assert_allclose(running_mean.numpy(), trm.numpy(), rtol=1e-12)
        np.testing.assert_allclose(running_var.numpy(), trv.numpy(), rtol=1e-12)


def test_the_backward_kernel_and_the_differentiable_backward_agree(monkeypatch):
    rng = np.random.default_rng(3)
    x = minigen.tensor(rng.normal(size=(4, 3, 5)), requires_grad=True)
    w = minigen.tensor(rng.normal(size=3), requires_grad=True)
    b = minigen.tensor(rng.normal(size=3), requires_grad=True)
    gy = minigen.tensor(rng.normal(size=(4, 3, 5)))
    calls = []
    kernel = cpu._C.batch_norm_bwd
    monkeypatch.setattr(cpu._C, "batch_norm_bwd", lambda *a: calls.append(1) or kernel(*a))
    fused = minigen.autograd.grad(F.batch_norm(x, None, None, w, b, training=True), [x, w, b], gy)
    assert calls == [1]
    composed = minigen.autograd.grad(F.batch_norm(x, None, None, w, b, training=True), [x, w, b], gy,
                                     create_graph=True)
    assert calls == [1]  # create_graph takes the path written in ops
    for f, c in zip(fused, composed):
        np.testing.assert_allclose(f.numpy(), c.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(n=st.integers(1, 9), c=st.integers(1, 9), s=st.integers(1, 3000), seed=st.integers(0, 99))
def test_fast_kernels_equal_the_reference(dtype, n, c, s, seed):
    rng = np.random.default_rng(seed)
    x, gy = (rng.normal(size=(n, c, s)).astype(dtype) for _ in range(2))
    w, b = (rng.normal(size=c).astype(dtype) for _ in range(2))
    results = {}
    for impl in ("ref", "fast"):
        y, mean, var = np.empty_like(x), np.empty(c, dtype), np.empty(c, dtype)
        _C.batch_norm_fwd(x, w, b, 1e-5, y, mean, var, impl)
        gx, gw, gb = np.empty_like(x), np.empty(c, dtype), np.empty(c, dtype)
        _C.batch_norm_bwd(x, gy, w, mean, var, 1e-5, gx, gw, gb, impl)
        results[impl] = (y, mean, var, gx, gw, gb)
    for ref, fast in zip(results["ref"], results["fast"]):
        np.testing.assert_array_equal(ref, fast)
    if dtype == np.float64:
        y, mean, var = results["fast"][:3]
        np.testing.assert_allclose(mean, x.mean((0, 2)), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(var, x.var((0, 2)), rtol=1e-12, atol=1e-14)


def test_bad_input():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(minigen.zeros(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"weight has shape \(2,\) but the input has 3 channels"):
        F.batch_norm(minigen.zeros(4, 3), None, None, minigen.ones(2), training=True)
    with pytest.raises(ValueError, match="evaluation mode needs running_mean"):
        F.batch_norm(minigen.zeros(4, 3), None, None)
    with pytest.raises(ValueError, match="channel dimension"):
        F.batch_norm(minigen.zeros(4), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm_fwd: x must be 3-D \(N, C, S\)"):
        _C.batch_norm_fwd(np.zeros((2, 3)), np.ones(3), np.zeros(3), 1e-5, np.zeros((2, 3)),
                          np.zeros(3), np.zeros(3))
    assert np.isnan(F.batch_norm(minigen.tensor([[np.nan], [1.0]]), None, None, training=True)
                    .numpy()).all()
