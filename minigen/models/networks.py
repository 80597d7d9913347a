"""The networks the models share: MLPs, and W2's DCGAN generator and discriminator.

Shapes are for 28 × 28 images (MNIST); the comments give each layer's output for a batch
of N.
"""
import minigen

from .. import nn


def mlp(sizes, activation, *after):
    """Linear layers between consecutive ``sizes``, ``activation()`` after each hidden one,
    then the modules ``after`` (an output activation, a reshape)."""
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if index < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers, *after)


def dcgan_generator(latent_dim=100, channels=1, width=128):
    """W2's generator: z (N, latent_dim, 1, 1) → images (N, channels, 28, 28) in [-1, 1]."""
    return nn.Sequential(
        nn.ConvTranspose2d(latent_dim, 2 * width, 7, 1, 0),   # (N, 256, 7, 7)
        nn.BatchNorm2d(2 * width),
        nn.ReLU(),
        nn.ConvTranspose2d(2 * width, width, 4, 2, 1),        # (N, 128, 14, 14)
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.ConvTranspose2d(width, channels, 4, 2, 1),         # (N, 1, 28, 28)
        nn.Tanh(),                                            # no BatchNorm on the output
    )


def dcgan_features(channels=1, width=64, batch_norm=True):
    """The convolutional body of W2's discriminator and its output size:
    images (N, channels, 28, 28) → features (N, 2 * width, 7, 7)."""
    body = nn.Sequential(
        nn.Conv2d(channels, width, 4, 2, 1),                  # (N, 64, 14, 14), no BatchNorm on the input
        nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1),                 # (N, 128, 7, 7)
        *([nn.BatchNorm2d(2 * width)] if batch_norm else []),
        nn.LeakyReLU(0.2),
    )
    return body, 2 * width * 7 * 7


def dcgan_discriminator(channels=1, width=64, batch_norm=True, sigmoid=True):
    """W2's discriminator: images (N, channels, 28, 28) → one score per image, (N, 1, 1, 1).

    Without BatchNorm and Sigmoid it is W3's WGAN critic (the penalty is per sample, which
    batch statistics would break; a critic's score is unbounded).
    """
    body, _ = dcgan_features(channels, width, batch_norm)
    return nn.Sequential(
        *body,
        nn.Conv2d(2 * width, 1, 7, 1, 0),                     # (N, 1, 1, 1)
        *([nn.Sigmoid()] if sigmoid else []),
    )


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = ψ(φ(x)) + ⟨e(y), φ(x)⟩ (Miyato & Koyama, 2018) for features φ(x) of
    ``feature_dim`` entries, ψ a linear layer and e a learned embedding of the ``num_classes``
    labels: the label does not enter D's input but decides which direction of the features
    counts as real, so D judges "a real example *of class y*". The output is a raw score."""

    def __init__(self, features, feature_dim, num_classes):
        super().__init__()
        self.features = features
        self.score = nn.Linear(feature_dim, 1)                   # ψ
        self.embedding = nn.Embedding(num_classes, feature_dim)  # e
        nn.init.normal_(self.embedding.weight, 0.0, 0.02)        # the projection starts small

    def forward(self, x, labels):
        phi = self.features(x).reshape(len(x), -1)
        return self.score(phi).reshape(len(x)) + (self.embedding(labels) * phi).sum(dim=1)


class MinibatchStdDev(nn.Module):
    """Appends one feature to every sample of a (N, F) batch: the standard deviation of each
    feature across the batch, averaged over the features (Karras et al., 2018). A discriminator
    that sees it can tell a batch of near-copies from the variety of real data."""

    def forward(self, x):
        spread = (x.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        return minigen.cat([x, spread.expand(len(x), 1)], dim=1)


def spectral_normalized(module):
    """``module`` with spectral norm on every convolution and linear layer in it."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.utils.spectral_norm(layer)
    return module


def radford_init_(module):
    """DCGAN's initialisation: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)
    return module
