"""DCGAN (Radford et al., 2016): the GAN of gan.py with convolutional networks, and what it
takes to draw clean digits in minutes.

Radford's guidelines, followed here: strided convolutions instead of pooling (the
discriminator) and transposed convolutions for upsampling (the generator); BatchNorm in the
generator except on its output; ReLU in the generator with Tanh on its output, LeakyReLU(0.2)
in the discriminator; weights N(0, 0.02); Adam with lr 2e-4 and β₁ = 0.5; the BCE loss. The
networks are W2's (``minigen bench``) at half its widths.

Four changes to that recipe, each measured (docs/samples.md), took the FCD of the default run
from 226 to the figure in the README:

- spectral norm in the discriminator instead of BatchNorm (Miyato et al., 2018);
- self-conditioning on 20 k-means clusters of the training digits (clusters.py): G and D see
  the cluster as a label (a projection discriminator), and samples draw the cluster by its share
  of the data, so the generator never has to fill the gaps between digits with non-digits. No
  label is used;
- networks half as wide (G 64, D 32): 2.8x faster per step, and more steps beat width;
- samples from an average of the generator's weights (``--ema``, ema.py).

DiffAugment (``--augment``) is available but off: on the digits it made every run worse.
"""
from .gan import GAN


class DCGAN(GAN):
    name = "dcgan"
    default_data = "digits"
    data_kinds = ("image",)
    defaults = {"steps": 7500, "batch_size": 64, "lr": 2e-4}   # 10 minutes on 2 CPU cores
    image_latent_dim = 100
    convolutional = True   # networks.dcgan_generator and networks.dcgan_features / dcgan_discriminator
    spectral_norm = True
    discriminator_batch_norm = False   # spectral norm instead
    clusters = 20
    ema = 0.999
