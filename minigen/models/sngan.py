"""SNGAN (Miyato et al., 2018): the DCGAN generator against a spectrally normalised
discriminator trained with the hinge loss.

Spectral norm keeps every layer of D 1-Lipschitz, so D cannot sharpen its judgement without
bound and its gradients stay informative; it replaces D's BatchNorm. The hinge loss stops
rewarding D once a sample is judged with margin 1. As in the paper, D learns faster than G
(two time-scale learning rates).
"""
from .dcgan import DCGAN


class SNGAN(DCGAN):
    name = "sngan"
    loss = "hinge"
    spectral_norm = True
    discriminator_batch_norm = False
