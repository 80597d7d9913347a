"""The model zoo, by the names the command line uses: ``minigen train NAME``."""
from .autoencoder import Autoencoder, ConvAutoencoder
from .base import GenerativeModel
from .cgan import ConditionalGAN
from .dae import DenoisingAutoencoder
from .dcgan import DCGAN
from .gan import GAN
from .sngan import SNGAN
from .sparse_ae import SparseAutoencoder
from .vae import VAE
from .wgan import WGAN
from .wgan_gp import WGANGP

MODELS = {cls.name: cls for cls in (Autoencoder, ConvAutoencoder, DenoisingAutoencoder, SparseAutoencoder,
                                     VAE, GAN, DCGAN, SNGAN, WGAN, WGANGP, ConditionalGAN)}


def get_model(name):
    """The model class registered as ``name``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODELS)}")
    return MODELS[name]
