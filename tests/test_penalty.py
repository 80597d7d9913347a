import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import minigen
import minigen.nn.functional as F
from minigen import _C
from minigen.autograd import grad
from minigen.backend import cpu
from minigen.testing import gradcheck
from minigen.testing import strategies as mst

from helpers import check_op, torch

# A kernel test module: scripts/sanitize.py and CI's pass on the AVX2 micro-kernels run these.
pytestmark = pytest.mark.kernels


def composed_penalty(g, target=1.0):
    """The same quantity from basic ops: the oracle for the fused kernel."""
    norms = (g.reshape(g.shape[0], -1) ** 2).sum(1).sqrt()
    return ((norms - target) ** 2).mean()


@given(data=st.data(), target=st.sampled_from([1.0, 0.5]))
def test_gradient_penalty(data, target):
    g = data.draw(mst.arrays(mst.shapes(min_dims=1, max_dims=4, max_side=4)))
    assume(np.all(np.sqrt((g.reshape(g.shape[0], -1) ** 2).sum(1)) > 1e-2))  # off the kink at 0
    check_op(lambda t: F.gradient_penalty(t, target), [g],
             lambda a: np.mean((np.sqrt((a.reshape(a.shape[0], -1) ** 2).sum(1)) - target) ** 2),
             lambda t: composed_penalty(t, target))


@given(g=mst.arrays(mst.shapes(min_dims=2, max_dims=2, max_side=6), min_value=0.1))
def test_fused_penalty_equals_the_composed_one(g):
    ours = minigen.tensor(g, requires_grad=True)
    theirs = minigen.tensor(g, requires_grad=True)
    F.gradient_penalty(ours).backward()
    composed_penalty(theirs).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_a_zero_gradient_row_gets_zero_gradient_as_in_pytorch():
    g = minigen.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=minigen.float64, requires_grad=True)
    penalty = F.gradient_penalty(g)
    assert penalty.item() == (1.0 + 16.0) / 2
    penalty.backward()
    # row 2: 2/N * (||g|| - 1) / ||g|| * g = 1 * 4/5 * (3, 4)
    np.testing.assert_allclose(g.grad.numpy(), [[0.0, 0.0], [2.4, 3.2]], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(n=st.integers(0, 70), d=st.integers(1, 1100), seed=st.integers(0, 2**16))
def test_fast_kernels_equal_the_reference(dtype, n, d, seed):
    g = np.random.default_rng(seed).normal(size=(n, d)).astype(dtype)
    results = {}
    for impl in ("ref", "fast"):
        loss, grad_in = np.empty((), dtype), np.empty_like(g)
        _C.gradient_penalty_fwd(g, 1.0, loss, impl)
        _C.gradient_penalty_bwd(g, 1.0, 0.7, grad_in, impl)
        results[impl] = loss, grad_in
    np.testing.assert_array_equal(results["ref"][0], results["fast"][0])
    np.testing.assert_array_equal(results["ref"][1], results["fast"][1])
    if dtype == np.float64 and n:
        norms = np.sqrt((g * g).sum(1))
        np.testing.assert_allclose(results["fast"][0], np.mean((norms - 1) ** 2), rtol=1e-12)
        np.testing.assert_allclose(results["fast"][1], 0.7 * 2 / n * ((norms - 1) / norms)[:, None] * g,
                                   rtol=1e-12, atol=1e-15)


def test_the_compiled_kernels_run(monkeypatch):
    calls = []
    for name in ("gradient_penalty_fwd", "gradient_penalty_bwd"):
        kernel = getattr(cpu._C, name)
        monkeypatch.setattr(cpu._C, name, lambda *a, _k=kernel, _n=name: calls.append(_n) or _k(*a))
    g = minigen.ones(3, 4, requires_grad=True)
    F.gradient_penalty(g).backward()
    assert calls == ["gradient_penalty_fwd", "gradient_penalty_bwd"]


def test_bad_input():
    with pytest.raises(ValueError, match="gradient_penalty: grads needs a sample dimension"):
        F.gradient_penalty(minigen.tensor(1.0))
    with pytest.raises(ValueError, match=r"grads must be 2-D, got shape \(3,\)"):
        _C.gradient_penalty_fwd(np.zeros(3), 1.0, np.empty(()))
    assert np.isnan(F.gradient_penalty(minigen.zeros(0, 3)).item())  # a mean over no samples
    assert np.isnan(F.gradient_penalty(minigen.tensor([[np.nan, 1.0]])).item())


# --- the whole WGAN-GP term ----------------------------------------------------------------------

class Critic:
    """A small critic: 4 -> 8 -> 1 with LeakyReLU(0.2), parameters as minigen leaves."""

    def __init__(self, rng, dtype=minigen.float64):
        shapes = [(8, 4), (8,), (1, 8), (1,)]
        self.params = [minigen.tensor(rng.normal(0, 0.5, s), dtype=dtype, requires_grad=True)
                       for s in shapes]

    def __call__(self, x):
        w1, b1, w2, b2 = self.params
        return F.linear(F.leaky_relu(F.linear(x, w1, b1), 0.2), w2, b2).squeeze(1)


def critic_loss(critic, real, fake, penalty_weight, seed):
    minigen.manual_seed(seed)
    gp = F.critic_gradient_penalty(critic, real, fake)
    return critic(fake).mean() - critic(real).mean() + penalty_weight * gp


def test_the_penalty_changes_the_critics_parameter_gradients():
    rng = np.random.default_rng(0)
    critic = Critic(rng)
    real, fake = (minigen.tensor(rng.normal(size=(6, 4)), dtype=minigen.float64) for _ in range(2))
    without = grad(critic_loss(critic, real, fake, 0.0, seed=1), critic.params)
    with_penalty = grad(critic_loss(critic, real, fake, 10.0, seed=1), critic.params)
    # The input gradient depends on the weights; on the biases only through LeakyReLU's
    # piecewise-constant slope, so the penalty moves the weights' gradients, not the biases'.
    for weight in (0, 2):
        assert np.abs(without[weight].numpy() - with_penalty[weight].numpy()).max() > 1e-3
    for bias in (1, 3):
        np.testing.assert_allclose(without[bias].numpy(), with_penalty[bias].numpy(), atol=1e-12)


def test_the_penalty_term_matches_ops_and_numeric_gradients():
    rng = np.random.default_rng(1)
    critic = Critic(rng)
    real, fake = (minigen.tensor(rng.normal(size=(5, 4)), dtype=minigen.float64) for _ in range(2))
    minigen.manual_seed(3)
    eps = minigen.rand(5, 1, dtype=minigen.float64)
    xhat = (eps * real + (1 - eps) * fake).requires_grad_()
    g, = grad(critic(xhat).sum(), xhat, create_graph=True)
    minigen.manual_seed(3)
    np.testing.assert_allclose(F.critic_gradient_penalty(critic, real, fake).item(),
                               composed_penalty(g).item(), rtol=1e-12)

    def penalty_of(*params):
        critic.params = list(params)
        minigen.manual_seed(3)
        return F.critic_gradient_penalty(critic, real, fake)

    assert gradcheck(penalty_of, critic.params)


@pytest.mark.skipif(torch is None, reason="PyTorch is the reference")
def test_the_penalty_term_and_its_parameter_gradients_match_pytorch():
    rng = np.random.default_rng(2)
    critic = Critic(rng)
    real, fake = (rng.normal(size=(5, 4)) for _ in range(2))
    minigen.manual_seed(4)
    eps = minigen.rand(5, 1, dtype=minigen.float64).numpy()
    minigen.manual_seed(4)
    ours = F.critic_gradient_penalty(critic, minigen.tensor(real), minigen.tensor(fake))
    # The last bias shifts every score equally: the input gradient, and so the penalty, never
    # sees it (None in both libraries).
    ours_grads = grad(ours, critic.params, allow_unused=True)

    params = [torch.tensor(p.detach().numpy(), requires_grad=True) for p in critic.params]
    xhat = torch.tensor(eps * real + (1 - eps) * fake, requires_grad=True)
    hidden = torch.nn.functional.leaky_relu(torch.nn.functional.linear(xhat, params[0], params[1]), 0.2)
    scores = torch.nn.functional.linear(hidden, params[2], params[3]).squeeze(1)
    g, = torch.autograd.grad(scores.sum(), xhat, create_graph=True)
    theirs = ((g.reshape(5, -1).norm(dim=1) - 1) ** 2).mean()
    theirs_grads = torch.autograd.grad(theirs, params, allow_unused=True)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-10)
    assert ours_grads[3] is None and theirs_grads[3] is None
    for a, b in zip(ours_grads[:3], theirs_grads[:3]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)
