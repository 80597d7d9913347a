"""SNGAN (Miyato et al., 2018): the DCGAN generator against a spectrally normalised
discriminator trained with the hinge loss.

Spectral norm keeps every layer of D 1-Lipschitz, so D cannot sharpen its judgement without
bound and its gradients stay informative; it replaces D's BatchNorm. The hinge loss stops
rewarding D once a sample is judged with margin 1. Adam with lr 2e-4 and betas (0.5, 0.999)
for both networks (the paper's setting C for this architecture, one D step per G step).
Everything else is dcgan.py's recipe (self-conditioning on clusters, half widths, the weight
average), which already has spectral norm: the two models differ only in the loss.
"""
from .dcgan import DCGAN


class SNGAN(DCGAN):
    name = "sngan"
    loss = "hinge"
