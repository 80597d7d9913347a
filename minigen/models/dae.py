"""Denoising autoencoder (Vincent et al., 2008): reconstruct the clean input from a corrupted one.

The encoder sees a corrupted copy x̃ of each sample and the loss compares the reconstruction
with the clean x, so copying is no longer enough: the network has to learn how the values of
a sample depend on each other to fill in what the corruption destroyed. On digits the
corruption is the paper's masking noise: each pixel is set to 0 independently with
probability 0.25 (the paper zeroes a fixed fraction ν of each input; this is the per-pixel
version of ν = 25 %). On 2-D points, where zeroing a coordinate would destroy half of the
sample, it is additive Gaussian noise of standard deviation 0.1, which the network learns to
project back onto the data. Networks and loss are the plain autoencoder's (autoencoder.py).
"""
import minigen

from .autoencoder import Autoencoder


class DenoisingAutoencoder(Autoencoder):
    name = "dae"
    masking = 0.25      # images: the probability that a pixel is zeroed
    noise_std = 0.1     # points: the standard deviation of the added noise

    def corrupt(self, x):
        if self.is_image:
            return x * (minigen.rand_like(x) >= self.masking)
        return x + self.noise_std * minigen.randn_like(x)

    @minigen.no_grad()
    def evaluate(self, held_out):
        """``recon`` of the clean held-out data, and ``denoised``: that of corrupted copies."""
        x = held_out[0]
        figures = super().evaluate(held_out)
        figures["denoised"] = self.reconstruction_loss(self.reconstruct(self.corrupt(x)), x).item()
        return figures
