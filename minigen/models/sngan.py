"""SNGAN (Miyato et al., 2018): the DCGAN generator against a spectrally normalised
discriminator trained with the hinge loss.

Spectral norm keeps every layer of D 1-Lipschitz, so D cannot sharpen its judgement without
bound and its gradients stay informative; it replaces D's BatchNorm. The hinge loss stops
rewarding D once a sample is judged with margin 1. Adam with lr 2e-4 and betas (0.5, 0.999)
for both networks (the paper's setting C for this architecture, one D step per G step).
Samples come from an average of G's weights (ema.py). Every default was measured; the table
is in docs/samples.md.
"""
from .dcgan import DCGAN


class SNGAN(DCGAN):
    name = "sngan"
    loss = "hinge"
    spectral_norm = True
    discriminator_batch_norm = False
    widths = (64, 32)   # half W2's: 2.8x faster per step, and more steps beat width (docs/samples.md)
    ema = 0.999
    defaults = {"steps": 8000, "batch_size": 64, "lr": 2e-4}
