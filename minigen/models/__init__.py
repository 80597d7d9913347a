"""The model zoo, by the names the command line uses: ``minigen train NAME``."""
from .base import GenerativeModel
from .cgan import ConditionalGAN
from .dcgan import DCGAN
from .gan import GAN
from .wgan import WGAN
from .wgan_gp import WGANGP

MODELS = {cls.name: cls for cls in (GAN, DCGAN, WGAN, WGANGP, ConditionalGAN)}


def get_model(name):
    """The model class registered as ``name``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODELS)}")
    return MODELS[name]
