"""Spectral normalisation (Miyato et al., 2018), with PyTorch's names, semantics and state dict.

``spectral_norm(layer)`` replaces the layer's weight W by W / σ(W), σ the largest singular
value of W seen as a matrix (out × everything else). A GAN's discriminator made of such layers
is (close to) 1-Lipschitz without a penalty and without batch statistics.

σ is estimated by power iteration: vectors u (out) and v (in) are kept between calls as buffers
``weight_u``, ``weight_v``, and every training forward refines them by ``n_power_iterations``
steps, v ← Wᵀu/‖Wᵀu‖ then u ← Wv/‖Wv‖. Since W changes little per optimiser step, one step
per forward keeps up with it. σ = uᵀWv is differentiated through W (u and v are constants to
autograd, as in the paper). In eval mode the stored u, v are used as they are, so evaluation
never changes the model. The trained weight is the parameter ``weight_orig``.
"""
from ... import backend
from ...autograd import no_grad
from ...creation import randn
from ...tensor import Tensor
from ..layers import ConvTranspose2d
from ..module import Parameter


class SpectralNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_orig``."""

    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, weight):
        """``weight`` as a matrix: dimension ``dim`` becomes the rows."""
        if self.dim != 0:
            order = [self.dim, *(d for d in range(weight.ndim) if d != self.dim)]
            weight = weight.permute(*order)
        return weight.reshape(weight.shape[0], -1)

    def normalized(self, xp, vector):
        return vector / max(float(xp.linalg.norm(vector)), self.eps)

    def __call__(self, module, args):
        object.__setattr__(module, self.name, self.compute_weight(module, module.training))

    def compute_weight(self, module, do_power_iteration):
        """W / σ(W), after ``n_power_iterations`` steps of u and v if ``do_power_iteration``."""
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = self.matrix(weight)
        if do_power_iteration:
            # in minigen's own GEMM: numpy's BLAS threads would fight minigen's OpenMP threads
            with no_grad():
                xp, rows = backend.array_module(u._data), matrix.detach()
                for _ in range(self.n_power_iterations):
                    v._data[...] = self.normalized(xp, u.reshape(1, -1).matmul(rows)._data.ravel())
                    u._data[...] = self.normalized(xp, v.reshape(1, -1).matmul(rows.transpose(0, 1))._data.ravel())
        # σ = uᵀ W v = Σ W ∘ (u vᵀ): differentiable in W (twice), u and v constants
        sigma = (matrix * Tensor(u._data[:, None] * v._data[None, :])).sum()
        return weight / sigma


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Normalise ``module.<name>`` by its spectral norm before every forward; returns ``module``.

    ``dim`` is the output dimension of the weight: 1 for ConvTranspose2d (whose weight is
    in × out × kH × kW), 0 otherwise, as in PyTorch.
    """
    # first: a normalised weight is no parameter any more (it is <name>_orig)
    if any(isinstance(hook, SpectralNorm) and hook.name == name
           for hook in module._forward_pre_hooks.values()):
        raise RuntimeError(f"spectral_norm: {name!r} of {type(module).__name__} is already normalised")
    weight = module._parameters.get(name)
    if not isinstance(weight, Parameter):
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter named {name!r} "
                         f"(its parameters: {', '.join(module._parameters) or 'none'})")
    if not isinstance(n_power_iterations, int) or n_power_iterations < 1:
        raise ValueError(f"spectral_norm: n_power_iterations must be a positive integer, "
                         f"got {n_power_iterations!r}")
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose2d) else 0
    hook = SpectralNorm(name, n_power_iterations, dim, eps)
    rows, columns = hook.matrix(weight).shape
    xp = backend.array_module(weight._data)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", _random_unit(hook, xp, rows, weight))
    module.register_buffer(name + "_v", _random_unit(hook, xp, columns, weight))
    object.__setattr__(module, name, weight.detach())
    hook.handle = module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``<name>`` becomes a plain parameter again, holding W / σ."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            with no_grad():   # PyTorch's: W / σ by the stored u and v, no power iteration
                normalised = hook.compute_weight(module, do_power_iteration=False)
            module.__dict__.pop(name, None)
            hook.handle.remove()
            del module._parameters[name + "_orig"]
            del module._buffers[name + "_u"], module._buffers[name + "_v"]
            module.register_parameter(name, Parameter(normalised))
            return module
    raise ValueError(f"remove_spectral_norm: {name!r} of {type(module).__name__} is not normalised")


def _random_unit(hook, xp, size, like):
    """A random unit vector of ``size`` entries with ``like``'s dtype and device."""
    return Tensor(hook.normalized(xp, randn(size, dtype=like.dtype, device=like.device)._data))
