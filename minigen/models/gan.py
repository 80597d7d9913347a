"""GAN (Goodfellow et al., 2014) with the non-saturating generator loss, and the techniques
the image GANs build on.

On images it uses W1's networks, MLPs over the flattened 28 × 28 digits; on 2D points,
smaller MLPs; with ``convolutional`` set (DCGAN, SNGAN, the WGANs on images), the DCGAN
networks. With ``loss = "bce"`` the discriminator ends in a Sigmoid and is trained with binary
cross-entropy: real → 1, fake → 0; the generator maximises log D(G(z)) (it minimises
BCE(D(G(z)), 1)) rather than minimising log(1 − D(G(z))), whose gradient vanishes while D
wins easily. With ``loss = "hinge"`` (SNGAN) D outputs a raw score s and minimises
mean(relu(1 − s(real))) + mean(relu(1 + s(fake))) while G maximises mean(s(fake)).

Options every subclass (and ``minigen train``) can turn on, each measured in docs/samples.md:
``augment`` (DiffAugment, augment.py) on everything D sees, ``spectral_norm`` on D's layers,
an EMA of G's weights for samples (``ema``, ema.py), separate learning rates for G and D, and
``pack``: D judges ``pack`` samples at once, all real or all fake (PacGAN, Lin et al., 2018), so
a generator that repeats itself is caught by the lack of variety within a pack.
"""
import numpy as np

import minigen
import minigen.nn.functional as F

from .. import backend, nn, optim, random
from ..tensor import Tensor
from .augment import check_policy, diff_augment
from .base import GenerativeModel, frozen, take
from .clusters import kmeans
from .ema import AveragedModule
from .networks import (MinibatchStdDev, ProjectionDiscriminator, dcgan_discriminator, dcgan_features,
                       dcgan_generator, mlp, radford_init_, spectral_normalized)


class GAN(GenerativeModel):
    name = "gan"
    default_data = "ring8"   # on the digits (W1's MLPs) dcgan's samples are far better
    defaults = {"steps": 6000, "batch_size": 64, "lr": 2e-4}
    points_defaults = {"steps": 10000, "batch_size": 256, "lr": 1e-3}
    betas = (0.5, 0.999)   # Radford et al.'s Adam settings, also W1's
    image_latent_dim, points_latent_dim = 64, 8
    convolutional = False              # DCGAN's networks (28 × 28 images) instead of MLPs
    discriminator_batch_norm = True    # in the convolutional discriminator
    widths = (64, 32)                  # the convolutional G's and D's base widths (half W2's)
    loss = "bce"                       # or "hinge"
    augment = ""                       # DiffAugment policy for D's inputs, "" for none
    spectral_norm = False              # spectral normalisation of D's weights
    ema = None                         # decay of G's weight average used for samples, None for none
    clusters = 0                       # self-conditioning on this many k-means clusters (clusters.py)
    d_lr_scale = 1.0                   # D's learning rate as a share of --lr, unless --lr-d is given
    # Where the networks differ, so do the recipes, each measured apart. On the 2-D toy data
    # (docs/toy.md): self-conditioning on 50 clusters, the learning rate decayed to 0. With W1's
    # MLPs on images (docs/samples.md, G10): 20 clusters, the decay, the weight average, and D
    # learning at a tenth of G's rate, or it wins outright and G collapses.
    points_recipe = {"spectral_norm": False, "ema": None, "clusters": 50, "lr_decay": True}
    mlp_recipe = {"clusters": 20, "ema": 0.999, "lr_decay": True, "d_lr_scale": 0.1}
    pack = 1                           # samples D judges together (PacGAN); 1: one at a time
    minibatch_std = False              # the MLP D sees the batch's spread (networks.MinibatchStdDev)

    def __init__(self, data_shape, lr=2e-4, num_classes=0, lr_g=None, lr_d=None, ema=None, augment=None):
        super().__init__(data_shape, lr, num_classes)
        recipe = self.points_recipe if not self.is_image else {} if self.convolutional else self.mlp_recipe
        for name, value in recipe.items():
            setattr(self, name, value)
        self.lr_g, self.lr_d = lr_g or lr, lr_d or lr * self.d_lr_scale
        if augment is not None:
            self.augment = augment
        if self.augment:
            check_policy(self.augment)   # a typo fails now, not at the first step
        self.latent_dim = self.image_latent_dim if self.is_image else self.points_latent_dim
        if self.pack > 1 and self.condition_count:
            raise ValueError(f"{self.name}: packing (pack={self.pack}) would need one label per pack; "
                             "labels and clusters give one per sample")
        if self.clusters:   # filled by ``prepare`` from the training data, saved with the model
            self.register_buffer("cluster_centroids", minigen.zeros(self.clusters, self.data_size))
            self.register_buffer("cluster_shares", minigen.zeros(self.clusters))
        self.generator, self.discriminator = self.build_networks()
        if self.spectral_norm:
            spectral_normalized(self.discriminator)
        self.opt_g = self.make_optimizer(self.generator.parameters(), self.lr_g)
        self.opt_d = self.make_optimizer(self.discriminator.parameters(), self.lr_d)
        decay = self.ema if ema is None else ema   # ema=False turns a default average off
        self.generator_ema = AveragedModule(self.generator, decay) if decay else None
        self._calibrated_at = None   # the average's update count its BatchNorm statistics fit

    def build_networks(self):
        """G and D; D outputs raw scores (``score``), to which ``discriminate`` applies the Sigmoid."""
        if self.convolutional:
            if self.data_shape[1:] != (28, 28):
                raise ValueError(f"{self.name}: the convolutional networks are for 28 × 28 images, "
                                 f"not {self.data_shape}")
            channels, (width_g, width_d) = self.data_shape[0], self.widths
            generator = dcgan_generator(self.latent_dim + self.condition_count, channels, width_g)
            if not self.condition_count:   # a pack enters D as one image of pack × channels
                return radford_init_(generator), radford_init_(dcgan_discriminator(
                    self.pack * channels, width_d, self.discriminator_batch_norm, sigmoid=False))
            # the projection discriminator keeps the layers' default initialisation (as measured)
            features, feature_dim = dcgan_features(self.pack * channels, width_d, self.discriminator_batch_norm)
            return radford_init_(generator), ProjectionDiscriminator(features, feature_dim, self.condition_count)
        if self.is_image:   # W1: (N, 64) → 256 → 512 → 1024 → (N, 784) → (N, 1, 28, 28)
            generator = mlp([self.latent_dim + self.condition_count, 256, 512, 1024, self.data_size],
                            lambda: nn.LeakyReLU(0.01), nn.Tanh(), nn.Unflatten(1, self.data_shape))
            features = nn.Sequential(nn.Flatten(), *mlp([self.pack * self.data_size, 1024, 512, 256],
                                                        lambda: nn.LeakyReLU(0.01), nn.LeakyReLU(0.01)))
            if self.minibatch_std:
                features = nn.Sequential(*features, MinibatchStdDev())
            return generator, self.score_head(features, 256 + self.minibatch_std)
        generator = points_generator(self.latent_dim + self.condition_count)
        return generator, self.score_head(points_features(2 * self.pack), POINTS_WIDTH)

    def score_head(self, features, width):
        """D from its body ``features`` (N, width): a projection of the condition if the model has
        one, else a linear layer."""
        if self.condition_count:
            return ProjectionDiscriminator(features, width, self.condition_count)
        return nn.Sequential(*features, nn.Linear(width, 1))

    @property
    def condition_count(self):
        """The classes of a conditional model, the clusters of a self-conditioned one, or 0."""
        return self.num_classes if self.conditional else self.clusters

    def prepare(self, train):
        """Learn what the model takes from the training set (a TensorDataset) before training:
        the clusters of a self-conditioned model."""
        if self.clusters:
            images = train.tensors[0].numpy().reshape(len(train), -1)
            centroids, shares = kmeans(images, self.clusters, random.generator())
            self.cluster_centroids._data[...] = backend.to_device(centroids, self.device)
            self.cluster_shares._data[...] = backend.to_device(shares, self.device)

    @property
    def sigmoid(self):
        """Whether D outputs a probability (BCE) rather than a score (hinge, a WGAN critic)."""
        return self.loss == "bce"

    def make_optimizer(self, parameters, lr):
        return optim.Adam(parameters, lr=lr, betas=self.betas)

    def optimizers(self):
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def learning_rates(self):
        return {"generator": self.lr_g, "discriminator": self.lr_d}

    def latent(self, count):
        shape = (self.latent_dim, 1, 1) if self.convolutional else (self.latent_dim,)
        return minigen.randn(count, *shape, device=self.device)   # for convolutions, z is a 1 × 1 image

    def decode(self, z, labels=None):
        """G(z), by the averaged weights when there are any and the model is not training; a
        conditioned model not given labels draws them from ``prior``."""
        if self.condition_count and labels is None:
            labels = self.random_labels(len(z))
        return self._generator()(*self.generator_arguments(z, labels))

    def generator_arguments(self, z, labels):
        """G's input: z, with the labels' one-hot codes appended as channels if conditioned."""
        if not self.condition_count:
            return (z,)
        xp = backend.array_module(z._data)
        onehot = xp.eye(self.condition_count, dtype=z.dtype)[labels._data]   # (N, classes)
        return (minigen.cat([z, Tensor(onehot.reshape(len(z), -1, *z.shape[2:]))], dim=1),)

    def _generator(self):
        if self.generator_ema is None or self.training:
            return self.generator
        updates = int(self.generator_ema.updates._data)
        if self._calibrated_at != updates:
            self.generator_ema.recalibrate(lambda n: self.generator_arguments(*self.prior(n)))
            self._calibrated_at = updates
        return self.generator_ema.average

    def prior(self, count):
        """``count`` latent codes and their labels (``random_labels``)."""
        return self.latent(count), self.random_labels(count)

    def random_labels(self, count):
        """For a conditioned model ``count`` labels, classes uniformly, clusters by their share of
        the training data; None for others."""
        if not self.condition_count:
            return None
        self._check_prepared()
        draws = minigen.rand(count).numpy()
        if self.conditional:
            labels = np.floor(draws * self.num_classes)
        else:
            cumulative = np.cumsum(self.cluster_shares.cpu().numpy())
            labels = np.searchsorted(cumulative / cumulative[-1], draws, side="right")
        labels = np.minimum(labels, self.condition_count - 1).astype(np.int64)
        return minigen.tensor(labels, device=self.device)

    def discriminate(self, x, labels=None):
        """What the losses take: D's probability that ``x`` is real (the BCE loss) or its score
        (the others), per sample or pack (``score``)."""
        scores = self.score(x, labels)
        return scores.sigmoid() if self.sigmoid else scores

    def score(self, x, labels=None):
        """D's raw output, shape (N,), or per pack of ``pack`` consecutive samples (N / pack,):
        the logit of its probability for the BCE loss, the score itself for the others. In
        training, of the augmented ``x``."""
        if self.augment and self.training:
            x = diff_augment(x, self.augment)
        if self.pack > 1:   # (N, C, ...) → (N / pack, pack × C, ...): the pack side by side
            if len(x) % self.pack:
                raise ValueError(f"{self.name}: a batch of {len(x)} does not split into packs of "
                                 f"{self.pack}; choose a batch size divisible by {self.pack}")
            x = x.reshape(len(x) // self.pack, self.pack * x.shape[1], *x.shape[2:])
        return self.discriminator(*self.discriminator_arguments(x, labels)).reshape(len(x))

    def discriminator_arguments(self, x, labels):
        return (x, labels) if self.condition_count else (x,)

    def train_step(self, batch, step):
        real, labels = batch[0], self.labels_of(batch)
        fake = self.decode(self.latent(len(real)), labels)

        self.opt_d.zero_grad()
        loss_d = self.discriminator_loss(self.discriminate(real, labels),
                                         self.discriminate(fake.detach(), labels))
        loss_d.backward()
        self.opt_d.step()

        self.opt_g.zero_grad()
        with frozen(self.discriminator):   # D was just updated; G's step must not change it
            loss_g = self.generator_loss(self.discriminate(fake, labels))
            loss_g.backward()
        self.opt_g.step()
        self.update_average()
        return take({"loss_d": loss_d, "loss_g": loss_g})

    def update_average(self):
        if self.generator_ema is not None:
            self.generator_ema.update(self.generator)

    def discriminator_loss(self, real_scores, fake_scores):
        if self.loss == "hinge":
            return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()
        return (F.binary_cross_entropy(real_scores, minigen.ones_like(real_scores))
                + F.binary_cross_entropy(fake_scores, minigen.zeros_like(fake_scores)))

    def generator_loss(self, fake_scores):
        if self.loss == "hinge":
            return -fake_scores.mean()
        return F.binary_cross_entropy(fake_scores, minigen.ones_like(fake_scores))

    def _check_prepared(self):
        if self.clusters and not float(self.cluster_shares.sum().item()) > 0:
            raise RuntimeError(f"{self.name}: the model has no clusters yet: call "
                               "model.prepare(training_dataset) before training or sampling")

    def labels_of(self, batch):
        """The labels of a batch: its classes, or the clusters nearest its images, or None."""
        if self.conditional:
            return batch[1]
        if self.clusters:
            self._check_prepared()
            with minigen.no_grad():   # minigen's GEMM: numpy's BLAS threads would fight its own
                images, centroids = batch[0].reshape(len(batch[0]), -1), self.cluster_centroids
                distances = (centroids * centroids).sum(dim=1) - 2 * images.matmul(centroids.transpose(0, 1))
            nearest = np.argmin(distances.cpu().numpy(), axis=1)   # ‖x − c‖² − ‖x‖², per row
            return minigen.tensor(nearest.astype(np.int64), device=self.device)
        return None


POINTS_WIDTH = 256   # of the toy networks' hidden layers


def points_generator(inputs):
    """z (N, inputs) (a cluster's one-hot code appended when self-conditioned) → three hidden
    ReLU layers → (N, 2) points."""
    return mlp([inputs, POINTS_WIDTH, POINTS_WIDTH, POINTS_WIDTH, 2], nn.ReLU)


def points_features(inputs):
    """D's body on points: (N, inputs) (2, or 2 × pack) → three LeakyReLU(0.2) layers → (N, 256);
    a linear layer (or a projection) makes the score."""
    return mlp([inputs, POINTS_WIDTH, POINTS_WIDTH, POINTS_WIDTH], lambda: nn.LeakyReLU(0.2), nn.LeakyReLU(0.2))
