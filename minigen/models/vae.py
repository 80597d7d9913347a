"""Variational autoencoder (Kingma & Welling, 2014), W4's network and loss.

The encoder maps a digit x to a Gaussian q(z | x) = N(mu, diag(exp(logvar))) over 20-D codes,
the decoder maps a code z to 784 pixel probabilities p(x | z), and the prior is p(z) = N(0, I).
Training maximises the evidence lower bound
    ELBO(x) = E_q[log p(x | z)] − KL(q(z | x) ‖ p(z)) ≤ log p(x),
that is, it minimises BCE(decoder(z), x) summed over the pixels plus the KL term, whose closed
form for Gaussians is −½ Σ (1 + logvar − mu² − exp(logvar)). The expectation is estimated with
one code per digit, drawn as z = mu + eps · exp(½ logvar) with eps ~ N(0, I): the
reparameterisation makes z a differentiable function of the encoder's outputs.

As in W4 (and PyTorch's VAE example) the loss is summed over the batch, not averaged, and Adam
(lr 1e-3) minimises that sum; ``train_step`` reports it divided by the batch size, in nats per
digit. Because the prior is N(0, I), decoding its draws samples new digits. Images only: the
Bernoulli decoder needs pixels in [0, 1].
"""
import minigen
import minigen.nn.functional as F

from .. import nn, optim
from .base import GenerativeModel, evaluating, take
from .networks import mlp


class VAE(GenerativeModel):
    name = "vae"
    data_kinds = ("image",)
    image_range = (0.0, 1.0)
    can_sample = True
    defaults = {"steps": 3000, "batch_size": 128, "lr": 1e-3}
    latent_dim, hidden = 20, 400

    def __init__(self, data_shape, lr=1e-3, num_classes=0):
        super().__init__(data_shape, lr, num_classes)
        self.encoder = nn.Sequential(
            nn.Flatten(),                                                  # (N, 784)
            nn.Linear(self.data_size, self.hidden),                        # (N, 400)
            nn.ReLU(),
        )
        self.mu = nn.Linear(self.hidden, self.latent_dim)                  # (N, 20)
        self.logvar = nn.Linear(self.hidden, self.latent_dim)              # (N, 20)
        self.decoder = mlp([self.latent_dim, self.hidden, self.data_size],  # (N, 20) → 400 → (N, 784)
                           nn.ReLU, nn.Sigmoid(), nn.Unflatten(1, self.data_shape))   # (N, 1, 28, 28)
        self.optimizer = optim.Adam(self.parameters(), lr=lr)

    def optimizers(self):
        return {"model": self.optimizer}

    def encode(self, x):
        """The mean and log-variance of q(z | x), each (N, latent_dim)."""
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def decode(self, z, labels=None):
        return self.decoder(z)

    def losses(self, x, eps):
        """W4's loss of the batch ``x`` with the noise ``eps`` (N, latent_dim), and its two parts,
        each summed over the batch."""
        mu, logvar = self.encode(x)
        z = mu + eps * (0.5 * logvar).exp()
        recon = F.binary_cross_entropy(self.decode(z), x, reduction="sum")
        kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum()
        return {"loss": recon + kl, "recon": recon, "kl": kl}

    def train_step(self, batch, step):
        x = batch[0]
        self.optimizer.zero_grad()
        losses = self.losses(x, minigen.randn(len(x), self.latent_dim, device=x.device))
        losses["loss"].backward()
        self.optimizer.step()
        return per_digit(take(losses), len(x))

    @minigen.no_grad()
    def reconstruct(self, x):
        """The decoded mean code of each digit of ``x`` (no noise), in eval mode."""
        with evaluating(self):
            return self.decode(self.encode(x)[0])

    @minigen.no_grad()
    def evaluate(self, held_out):
        """``neg_elbo``: the negative ELBO in nats per held-out digit, with its ``recon`` and ``kl``
        parts. The KL term is exact; the reconstruction term is estimated from one draw of eps
        per digit, so repeated calls differ a little (its expectation is the same)."""
        x = held_out[0]
        with evaluating(self):
            z = minigen.randn(len(x), self.latent_dim, device=x.device)
            losses = per_digit(take(self.losses(x, z)), len(x))
        return {"neg_elbo": losses["loss"], "recon": losses["recon"], "kl": losses["kl"]}


def per_digit(losses, count):
    """Sums over a batch of ``count`` digits to nats per digit."""
    return {name: value / count for name, value in losses.items()}
