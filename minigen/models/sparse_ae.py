"""Sparse autoencoder (Ng, "Sparse autoencoder", CS294A lecture notes, 2011).

The code units are sigmoids, and a penalty keeps each unit's mean activation ρ̂_j over a
batch near a small target ρ = 0.05: each unit must stay quiet for most samples and fire for
a few, so it comes to stand for something only some samples have. The penalty is
Σ_j KL(ρ ‖ ρ̂_j) = Σ_j ρ log(ρ / ρ̂_j) + (1 − ρ) log((1 − ρ) / (1 − ρ̂_j)), the divergence
between Bernoulli distributions of means ρ and ρ̂_j, added to the reconstruction loss with
weight β = 3 (the notes' value; their weight decay is left out). On 2-D points the code has
16 units rather than the plain autoencoder's 1: with sparsity the code may be wider than
the data, each unit covering one region of the plane. Everything else is autoencoder.py's.
"""
import minigen

from .autoencoder import Autoencoder
from .base import evaluating


class SparseAutoencoder(Autoencoder):
    name = "sparse-ae"
    points_code = 16
    sigmoid_code = True
    rho = 0.05      # the target mean activation of a code unit
    beta = 3.0      # the penalty's weight

    def losses(self, x):
        code = self.encode(x)
        recon = self.reconstruction_loss(self.decode(code), x)
        penalty = sparsity_penalty(code, self.rho)
        return {"loss": recon + self.beta * penalty, "recon": recon, "sparsity": penalty}

    @minigen.no_grad()
    def evaluate(self, held_out):
        """``recon``, and the unweighted ``sparsity`` penalty of all the held-out codes at once."""
        figures = super().evaluate(held_out)
        with evaluating(self):
            figures["sparsity"] = sparsity_penalty(self.encode(held_out[0]), self.rho).item()
        return figures


def sparsity_penalty(code, rho):
    """Σ_j KL(ρ ‖ ρ̂_j) for codes (N, units) in (0, 1), ρ̂_j the mean of column j."""
    rho_hat = code.mean(dim=0).clamp(1e-6, 1 - 1e-6)   # a unit saturated on every sample: no log 0
    return (rho * (rho / rho_hat).log() + (1 - rho) * ((1 - rho) / (1 - rho_hat)).log()).sum()
