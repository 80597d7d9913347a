"""The gradient penalty of WGAN-GP (Gulrajani et al., 2017), fused in csrc/cpu/penalty.cc.

``gradient_penalty(grads)`` = mean over samples i of (‖g_i‖₂ − target)², g_i the i-th
sample's gradient flattened. ``critic_gradient_penalty`` computes the whole term for a critic:
random interpolates between real and fake samples, the critic's gradient there with
``create_graph=True``, and its penalty; back-propagating it reaches the critic's parameters
through the double backward.
"""
from .. import autograd, backend
from ..autograd import Function
from ..creation import rand
from .common import floating
from .reduction import sum
from .shape import reshape


class GradientPenalty(Function):
    @staticmethod
    def forward(ctx, g, target):
        ctx.save_for_backward(g)
        ctx.target = target
        return backend.kernels(g).gradient_penalty_fwd(g, target)

    @staticmethod
    def backward(ctx, gy):
        g, = ctx.saved_tensors
        return GradientPenaltyGrad.apply(g, gy, ctx.target), None


class GradientPenaltyGrad(Function):
    """dL/dg_i = gy · (2/N) · (1 − target/n_i) · g_i with n_i = ‖g_i‖ (0 where n_i = 0)."""

    @staticmethod
    def forward(ctx, g, gy, target):
        ctx.save_for_backward(g, gy)
        ctx.target = target
        return backend.kernels(g).gradient_penalty_bwd(g, target, gy)

    @staticmethod
    def backward(ctx, u):
        # The forward is f(g, gy) = gy c (1 − t/n) g with c = 2/N. Its vector-Jacobian products
        # with u:  in gy: c Σ_i (1 − t/n_i) ⟨g_i, u_i⟩;
        #          in g:  gy c ((1 − t/n_i) u_i + t ⟨g_i, u_i⟩ g_i / n_i³).
        g, gy = ctx.saved_tensors
        t, c = ctx.target, 2.0 / g.shape[0]
        n = sum(g * g, 1, keepdim=True).sqrt()
        g_dot_u = sum(g * u, 1, keepdim=True)
        shrink = 1 - t / n
        grad_gy = c * sum(shrink * g_dot_u) if ctx.needs_input_grad[1] else None
        grad_g = gy * c * (shrink * u + t * g_dot_u * g / (n * n * n)) if ctx.needs_input_grad[0] else None
        return grad_g, grad_gy, None


def gradient_penalty(grads, target=1.0):
    """mean_i (‖grads[i]‖₂ − target)² over the first dimension, each sample flattened.

    Example::

        >>> g = minigen.ones(4, 1, 2, 2)           # every sample's norm is 2
        >>> gradient_penalty(g).item()             # (2 - 1)^2
        1.0
    """
    grads = floating("gradient_penalty", grads)
    if grads.ndim < 1:
        raise ValueError(f"gradient_penalty: grads needs a sample dimension, got shape {grads.shape}")
    flat = reshape(grads, grads.shape[0], -1) if grads.ndim != 2 else grads
    return GradientPenalty.apply(flat, float(target))


def critic_gradient_penalty(critic, real, fake, target=1.0):
    """The WGAN-GP penalty term for ``critic`` (λ not applied: multiply by it, typically 10).

    Interpolates x̂ = ε·real + (1 − ε)·fake with ε ~ U[0, 1) per sample, evaluates the critic
    there, takes ∇ₓ̂ critic(x̂) with ``create_graph=True`` and returns its penalty, which can be
    back-propagated to the critic's parameters. ``fake`` is detached: the penalty trains the
    critic only.
    """
    if real.shape != fake.shape:
        raise ValueError(f"critic_gradient_penalty: real {real.shape} and fake {fake.shape} differ")
    eps = rand(real.shape[0], *([1] * (real.ndim - 1)), dtype=real.dtype)
    interpolates = (eps * real.detach() + (1 - eps) * fake.detach()).detach().requires_grad_()
    scores = critic(interpolates)
    grads, = autograd.grad(sum(scores), interpolates, create_graph=True)
    return gradient_penalty(grads, target)
