"""Conditional GAN (Mirza & Osindero, 2014) with a projection discriminator (Miyato & Koyama, 2018).

Both networks see the class label y. The generator is the DCGAN generator with the label's
one-hot code appended to z: G([z, onehot(y)]). The discriminator is the SNGAN recipe's critic
(spectral norm, hinge loss) whose score is split in two: D(x, y) = ψ(φ(x)) + ⟨e(y), φ(x)⟩,
φ(x) the convolutional features, ψ a linear layer and e a learned embedding per class. The
projection term is what makes D judge "a real digit *of class y*": measured against appending
the label to D's input (Mirza & Osindero's way), with which generated digits ignored their
labels, see docs/samples.md.

``minigen sample CKPT --label 3`` draws one class; the pictures show one row per class.
"""
import numpy as np

import minigen

from .. import backend, nn
from ..tensor import Tensor
from .networks import dcgan_features
from .sngan import SNGAN


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = ψ(φ(x)) + ⟨e(y), φ(x)⟩ for features φ(x) of ``feature_dim`` entries."""

    def __init__(self, features, feature_dim, num_classes):
        super().__init__()
        self.features = features
        self.score = nn.Linear(feature_dim, 1)                   # ψ
        self.embedding = nn.Embedding(num_classes, feature_dim)  # e
        nn.init.normal_(self.embedding.weight, 0.0, 0.02)

    def forward(self, x, labels):
        phi = self.features(x).reshape(len(x), -1)
        return self.score(phi).reshape(len(x)) + (self.embedding(labels) * phi).sum(dim=1)


class ConditionalGAN(SNGAN):
    name = "cgan"
    conditional = True

    def __init__(self, data_shape, lr=2e-4, num_classes=10, **options):
        if num_classes < 2:
            raise ValueError(f"cgan needs labelled data with at least 2 classes, got {num_classes}")
        super().__init__(data_shape, lr, num_classes, **options)

    def build_networks(self):
        generator, _ = super().build_networks()   # the DCGAN generator, fed latent_dim + classes channels
        features, feature_dim = dcgan_features(self.data_shape[0], self.widths[1])
        return generator, ProjectionDiscriminator(features, feature_dim, self.num_classes)

    @property
    def generator_input_dim(self):
        return self.latent_dim + self.num_classes

    def generator_arguments(self, z, labels):
        onehot = backend.array_module(z._data).eye(self.num_classes, dtype=z.dtype)[labels._data]
        return (minigen.cat([z, Tensor(onehot.reshape(len(z), -1, 1, 1))], dim=1),)

    def discriminator_arguments(self, x, labels):
        return x, labels

    def prior(self, count):
        labels = np.floor(minigen.rand(count).numpy() * self.num_classes).astype(np.int64)
        return self.latent(count), minigen.tensor(labels, device=self.device)

    def sample(self, count, labels=None):
        """Samples of the given classes (a sequence), all of one class (an int), or by default
        every class in turn in equal runs: 0, 0, ..., 1, 1, ... (a row per class in a grid)."""
        if labels is None:
            labels = [i * self.num_classes // count for i in range(count)]
        elif isinstance(labels, int):
            labels = [labels] * count
        return super().sample(count, minigen.tensor(labels, device=self.device))
