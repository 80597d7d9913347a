"""An exponential moving average of the generator's weights (Karras et al., Yazıcı et al.).

A GAN's generator oscillates around a good solution from step to step; the average of its
recent weights sits nearer the middle and draws cleaner samples. Two measured pitfalls shape
this class:

- the average must forget the early, poor weights: the decay used at update t is
  min(decay, (1 + t) / (10 + t)), so early on the average is mostly the latest weights and its
  horizon grows with the run (about its last tenth) up to 1 / (1 − decay) steps;
- BatchNorm's running statistics belong to the live weights, not to the averaged ones, so
  before the average draws samples its statistics are re-estimated on its own outputs
  ("standing statistics", as BigGAN does): ``recalibrate``.
"""
import copy

import numpy as np

from .. import nn, random
from ..autograd import no_grad
from ..tensor import Tensor

CALIBRATION_BATCHES, CALIBRATION_SIZE = 8, 256
CALIBRATION_SEED = 4321   # its own draws: the statistics depend on the weights alone, and the
                          # caller's random numbers are the same whether or not it recalibrates


class AveragedModule(nn.Module):
    """Holds ``average``, a copy of ``module`` whose weights follow the module's by an EMA."""

    def __init__(self, module, decay):
        super().__init__()
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema: the decay must lie strictly between 0 and 1, got {decay}")
        self.decay = decay
        self.average = copy.deepcopy(module)
        self.average.requires_grad_(False)
        self.register_buffer("updates", Tensor._make(np.zeros((), np.int64)))   # saved: resumes exactly

    @no_grad()
    def update(self, module):
        """Move the average towards ``module``'s current weights."""
        t = int(self.updates._data)
        decay = min(self.decay, (1 + t) / (10 + t))
        for mine, theirs in zip(self.average.parameters(), module.parameters()):
            mine._data *= decay
            mine._data += (1 - decay) * theirs._data
        self.updates._data += 1

    @no_grad()
    def recalibrate(self, inputs):
        """Re-estimate the average's BatchNorm statistics on ``CALIBRATION_BATCHES`` batches of
        its own outputs, ``inputs(n)`` drawing the arguments of n of them (a cumulative, not a
        running, mean)."""
        norms = [m for m in self.average.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
        if not norms:
            return
        saved = [norm.momentum for norm in norms]
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None
        self.average.train()
        with random.fork_rng(CALIBRATION_SEED):
            for _ in range(CALIBRATION_BATCHES):
                self.average(*inputs(CALIBRATION_SIZE))
        self.average.eval()
        for norm, momentum in zip(norms, saved):
            norm.momentum = momentum
