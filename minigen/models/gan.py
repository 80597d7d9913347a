"""GAN (Goodfellow et al., 2014) with the non-saturating generator loss.

On images it uses W1's networks, MLPs over the flattened 28 × 28 digits; on 2D points,
smaller MLPs; with ``convolutional`` set (DCGAN, the WGANs on images), W2's networks. The
discriminator ends in a Sigmoid and is trained with binary cross-entropy: real → 1, fake → 0.
The generator maximises log D(G(z)) (it minimises BCE(D(G(z)), 1)) rather than minimising
log(1 − D(G(z))), whose gradient vanishes while D wins easily.
DCGAN, WGAN, WGAN-GP and the conditional GAN change the networks or the losses of this file.
"""
import minigen
import minigen.nn.functional as F

from .. import nn, optim
from .base import GenerativeModel, frozen, take
from .networks import dcgan_discriminator, dcgan_generator, mlp, radford_init_


class GAN(GenerativeModel):
    name = "gan"
    default_data = "ring8"   # on the digits, W1's MLPs collapse to a few modes (use dcgan)
    defaults = {"steps": 3000, "batch_size": 64, "lr": 2e-4}
    points_defaults = {"batch_size": 256, "lr": 1e-3}
    betas = (0.5, 0.999)   # Radford et al.'s Adam settings, also W1's
    image_latent_dim, points_latent_dim = 64, 8
    convolutional = False              # DCGAN's networks (28 × 28 images) instead of MLPs
    sigmoid = True                     # D outputs a probability (a WGAN critic a score)
    discriminator_batch_norm = True    # in the convolutional discriminator

    def __init__(self, data_shape, lr=2e-4, num_classes=0):
        super().__init__(data_shape, lr, num_classes)
        self.latent_dim = self.image_latent_dim if self.is_image else self.points_latent_dim
        self.generator, self.discriminator = self.build_networks()
        self.opt_g = self.make_optimizer(self.generator.parameters())
        self.opt_d = self.make_optimizer(self.discriminator.parameters())

    def build_networks(self):
        head = [nn.Sigmoid()] if self.sigmoid else []
        if self.convolutional:
            if self.data_shape[1:] != (28, 28):
                raise ValueError(f"{self.name}: the convolutional networks are for 28 × 28 images, "
                                 f"not {self.data_shape}")
            channels = self.data_shape[0]
            return (radford_init_(dcgan_generator(self.latent_dim, channels)),
                    radford_init_(dcgan_discriminator(channels, batch_norm=self.discriminator_batch_norm,
                                                      sigmoid=self.sigmoid)))
        if self.is_image:   # W1: (N, 64) → 256 → 512 → 1024 → (N, 784) → (N, 1, 28, 28)
            generator = mlp([self.latent_dim, 256, 512, 1024, self.data_size],
                            lambda: nn.LeakyReLU(0.01), nn.Tanh(), nn.Unflatten(1, self.data_shape))
            discriminator = nn.Sequential(nn.Flatten(), *mlp([self.data_size, 1024, 512, 256, 1],
                                                             lambda: nn.LeakyReLU(0.01), *head))
            return generator, discriminator
        return points_generator(self.latent_dim), points_discriminator(*head)

    def make_optimizer(self, parameters):
        return optim.Adam(parameters, lr=self.lr, betas=self.betas)

    def optimizers(self):
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def latent(self, count):
        shape = (self.latent_dim, 1, 1) if self.convolutional else (self.latent_dim,)
        return minigen.randn(count, *shape, device=self.device)   # for convolutions, z is a 1 × 1 image

    def decode(self, z, labels=None):
        return self.generator(z)

    def discriminate(self, x, labels=None):
        """One score per sample, shape (N,)."""
        return self.discriminator(x).reshape(len(x))

    def train_step(self, batch, step):
        real, labels = batch[0], self.labels_of(batch)
        fake = self.decode(self.latent(len(real)), labels)

        ones, zeros = (minigen.full((len(real),), value, device=real.device) for value in (1.0, 0.0))
        self.opt_d.zero_grad()
        loss_d = (F.binary_cross_entropy(self.discriminate(real, labels), ones)
                  + F.binary_cross_entropy(self.discriminate(fake.detach(), labels), zeros))
        loss_d.backward()
        self.opt_d.step()

        self.opt_g.zero_grad()
        with frozen(self.discriminator):   # D was just updated; G's step must not change it
            loss_g = F.binary_cross_entropy(self.discriminate(fake, labels), ones)
            loss_g.backward()
        self.opt_g.step()
        return take({"loss_d": loss_d, "loss_g": loss_g})

    def labels_of(self, batch):
        return batch[1] if self.conditional else None


def points_generator(latent_dim, width=256):
    """z (N, latent_dim) → three hidden ReLU layers → (N, 2) points."""
    return mlp([latent_dim, width, width, width, 2], nn.ReLU)


def points_discriminator(*output, width=256):
    """(N, 2) points → three hidden LeakyReLU(0.2) layers → (N, 1) scores, then ``output``."""
    return mlp([2, width, width, width, 1], lambda: nn.LeakyReLU(0.2), *output)
