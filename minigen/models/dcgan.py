"""DCGAN (Radford et al., 2016): the GAN of gan.py with W2's convolutional networks.

Radford's guidelines, all followed here: strided convolutions instead of pooling (the
discriminator) and transposed convolutions for upsampling (the generator); BatchNorm in
both networks except on the generator's output and the discriminator's input; ReLU in the
generator with Tanh on its output, LeakyReLU(0.2) in the discriminator; weights N(0, 0.02);
Adam with lr 2e-4 and β₁ = 0.5.
"""
from .gan import GAN


class DCGAN(GAN):
    name = "dcgan"
    default_data = "digits"
    data_kinds = ("image",)
    defaults = {"steps": 1500, "batch_size": 64, "lr": 2e-4}
    image_latent_dim = 100
    convolutional = True   # networks.dcgan_generator and networks.dcgan_discriminator
