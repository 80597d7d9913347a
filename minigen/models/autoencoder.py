"""Autoencoders (Hinton & Salakhutdinov, 2006): learn to copy the data through a narrow code.

An encoder maps each sample to a code of ``latent_dim`` numbers and a decoder maps the code
back; both are trained to make the reconstruction equal the input. The code is too small to
hold the whole input, so the networks must learn what the data has in common. On images
(pixels in [0, 1]) the decoder ends in a Sigmoid and the loss is binary cross-entropy summed
over the pixels, averaged over the batch (nats per digit); on 2-D points the output is linear
and the loss is the squared error summed over both coordinates, averaged over the batch.

``Autoencoder`` ("ae") uses MLPs: 784 → 256 → 64 on digits, 2 → 64 → 64 → 1 on points (a 1-D
code: the network must find a curve through the data). ``ConvAutoencoder`` ("conv-ae")
encodes digits with stride-2 convolutions (28 × 28 → 14 × 14 → 7 × 7 → a code of 64) and
decodes with transposed convolutions in the reverse order. The denoising (dae.py) and
sparse (sparse_ae.py) autoencoders change the input or the loss of this file.

Nothing says which codes the decoder turns into data, so an autoencoder cannot sample:
``sample`` raises, and ``reconstruct(x)`` shows what the model learnt instead.
"""
import minigen
import minigen.nn.functional as F

from .. import nn, optim
from .base import GenerativeModel, evaluating, take
from .networks import mlp


class Autoencoder(GenerativeModel):
    name = "ae"
    image_range = (0.0, 1.0)   # Sigmoid outputs, binary cross-entropy against the pixels
    can_sample = False
    defaults = {"steps": 3000, "batch_size": 64, "lr": 1e-3}
    image_hidden, image_code = (256,), 64
    points_hidden, points_code = (64, 64), 1
    sigmoid_code = False       # the code is linear unless a subclass needs units in (0, 1)

    def __init__(self, data_shape, lr=1e-3, num_classes=0):
        super().__init__(data_shape, lr, num_classes)
        self.latent_dim = self.image_code if self.is_image else self.points_code
        self.encoder, self.decoder = self.build_networks()
        self.optimizer = optim.Adam(self.parameters(), lr=lr)

    def build_networks(self):
        code = [nn.Sigmoid()] if self.sigmoid_code else []
        if self.is_image:   # (N, 1, 28, 28) → (N, 784) → 256 → (N, 64), and back to (N, 1, 28, 28)
            sizes = [self.data_size, *self.image_hidden, self.latent_dim]
            encoder = nn.Sequential(nn.Flatten(), *mlp(sizes, nn.ReLU, *code))
            decoder = mlp(sizes[::-1], nn.ReLU, nn.Sigmoid(), nn.Unflatten(1, self.data_shape))
            return encoder, decoder
        sizes = [2, *self.points_hidden, self.latent_dim]   # (N, 2) → 64 → 64 → (N, 1), and back
        return mlp(sizes, nn.ReLU, *code), mlp(sizes[::-1], nn.ReLU)

    def optimizers(self):
        return {"model": self.optimizer}

    def encode(self, x):
        """Codes of shape (N, latent_dim)."""
        return self.encoder(x)

    def decode(self, z, labels=None):
        return self.decoder(z)

    def latent(self, count):
        raise NotImplementedError(f"{self.name}: an autoencoder has no prior over its codes, so it "
                                  f"cannot sample (can_sample is False); use reconstruct(x)")

    @minigen.no_grad()
    def reconstruct(self, x):
        """The decoded code of each sample of ``x``, with the networks in eval mode."""
        with evaluating(self):
            return self.decode(self.encode(x))

    def corrupt(self, x):
        """The input the encoder sees while training; the target is always ``x`` itself."""
        return x

    def reconstruction_loss(self, reconstruction, x):
        """Summed over each sample's values, averaged over the samples."""
        loss = F.binary_cross_entropy if self.is_image else F.mse_loss
        return loss(reconstruction, x, reduction="sum") / len(x)

    def losses(self, x):
        """The loss to minimise (``"loss"``) and its parts, as Tensors."""
        return {"loss": self.reconstruction_loss(self.decode(self.encode(self.corrupt(x))), x)}

    def train_step(self, batch, step):
        self.optimizer.zero_grad()
        losses = self.losses(batch[0])
        losses["loss"].backward()
        self.optimizer.step()
        return take(losses)

    @minigen.no_grad()
    def evaluate(self, held_out):
        """``recon``: the reconstruction loss of the (clean) held-out data."""
        x = held_out[0]
        return take({"recon": self.reconstruction_loss(self.reconstruct(x), x)})


class ConvAutoencoder(Autoencoder):
    name = "conv-ae"
    data_kinds = ("image",)
    defaults = {"steps": 1000, "batch_size": 64, "lr": 1e-3}
    width = 32

    def build_networks(self):
        if self.data_shape[1:] != (28, 28):
            raise ValueError(f"{self.name}: the convolutional networks are for 28 × 28 images, "
                             f"not {self.data_shape}")
        channels, width, code = self.data_shape[0], self.width, self.latent_dim
        encoder = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1),               # (N, 32, 14, 14)
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 4, 2, 1),              # (N, 64, 7, 7)
            nn.ReLU(),
            nn.Conv2d(2 * width, code, 7, 1, 0),               # (N, 64, 1, 1)
            nn.Flatten(),                                      # (N, 64): the code
        )
        decoder = nn.Sequential(
            nn.Unflatten(1, (code, 1, 1)),                     # (N, 64, 1, 1)
            nn.ConvTranspose2d(code, 2 * width, 7, 1, 0),      # (N, 64, 7, 7)
            nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1),     # (N, 32, 14, 14)
            nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1),      # (N, 1, 28, 28)
            nn.Sigmoid(),
        )
        return encoder, decoder
