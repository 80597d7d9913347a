"""Conditional GAN (Mirza & Osindero, 2014): G and D both see the class label.

Each network learns its own label embedding (``nn.Embedding(10, 10)``), concatenated to its
input: the generator gets [z, e_G(y)], the discriminator [x, e_D(y)]. D then judges whether
x is a real example *of class y*, so G must produce the class it was asked for. Losses and
optimisers are the GAN's (gan.py); the networks are W1's MLPs with the wider inputs.
"""
import minigen

from .. import nn
from .gan import GAN
from .networks import mlp


class Labelled(nn.Module):
    """``network([input, embedding(label)])``: a network conditioned on a class label."""

    def __init__(self, num_classes, network):
        super().__init__()
        self.embedding = nn.Embedding(num_classes, num_classes)
        self.network = network

    def forward(self, x, labels):
        return self.network(minigen.cat([x.reshape(len(x), -1), self.embedding(labels)], dim=1))


class ConditionalGAN(GAN):
    name = "cgan"
    default_data = "digits"
    data_kinds = ("image",)
    conditional = True
    defaults = {"steps": 3000, "batch_size": 64, "lr": 2e-4}

    def __init__(self, data_shape, lr=2e-4, num_classes=10):
        if num_classes < 2:
            raise ValueError(f"cgan needs labelled data with at least 2 classes, got {num_classes}")
        super().__init__(data_shape, lr, num_classes)

    def build_networks(self):
        labels = self.num_classes
        generator = mlp([self.latent_dim + labels, 256, 512, 1024, self.data_size],  # (N, 784)
                        lambda: nn.LeakyReLU(0.01), nn.Tanh(), nn.Unflatten(1, self.data_shape))
        discriminator = mlp([self.data_size + labels, 1024, 512, 256, 1],           # (N, 1)
                            lambda: nn.LeakyReLU(0.01), nn.Sigmoid())
        return Labelled(labels, generator), Labelled(labels, discriminator)

    def decode(self, z, labels=None):
        return self.generator(z, labels)

    def discriminate(self, x, labels=None):
        return self.discriminator(x, labels).reshape(len(x))

    def sample(self, count, labels=None):
        """Samples of the given classes; by default 0, 1, ..., 9, 0, 1, ... (a row per class)."""
        if labels is None:
            labels = minigen.tensor([i % self.num_classes for i in range(count)], device=self.device)
        return super().sample(count, labels)
