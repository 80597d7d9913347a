"""Discriminator rejection sampling (DRS, Azadi et al., 2019): better samples from a trained
GAN by keeping only those its discriminator believes.

A discriminator trained with the BCE loss is, at its optimum, D(x) = p_data(x) / (p_data(x) +
p_g(x)), so its logit s(x) = log D(x) / (1 − D(x)) = log p_data(x) / p_g(x) is the density
ratio between the data and the generator. Rejection sampling from p_g with the envelope
M = max p_data / p_g then returns samples of p_data: keep x with probability
p_data(x) / (M p_g(x)) = exp(s(x) − s_max). DRS estimates s_max as the largest logit of a burn-in
draw, raised whenever a batch holds a larger one, and keeps x when a uniform draw falls below
σ(F(x)), F = (s − s_max) − log(1 − exp(s − s_max − ε)) − γ: with γ = 0 that is exactly
exp(s − s_max) (σ of a probability's logit is the probability; ε keeps the log finite at the
maximum), and a γ < 0 keeps more samples at the price of exactness (the paper sets γ to a
percentile of F, which is below 0).

The samples come from the generator D was trained against (not from an average of its weights,
whose density D has never seen). The result is only as good as D's estimate of the ratio: it
is reported apart from the generator's own figures.
"""
import numpy as np

import minigen

from ..autograd import no_grad
from .base import evaluating

REFINERS = ("drs",)
EPSILON = 1e-6   # ε above


def check_refinable(model):
    """Raise a ValueError saying why when ``model``'s discriminator does not estimate a density
    ratio that DRS can use."""
    name = getattr(model, "name", type(model).__name__)
    if getattr(model, "loss", None) != "bce":
        what = ("it has no discriminator" if not hasattr(model, "score") else
                f"its discriminator is trained with the {model.loss} loss, whose optimum is not "
                "the density ratio (only the BCE loss's logit is log p_data / p_g)")
        raise ValueError(f"--refine drs: {name} cannot be refined: {what}")
    if model.pack > 1:
        raise ValueError(f"--refine drs: {name}'s discriminator scores packs of {model.pack} samples, "
                         "not single samples")


@no_grad()
def rejection_sample(model, count, shift=0.0, burn_in=10_000, batch=1_000, max_draws=None):
    """``count`` samples of ``model`` kept by DRS with shift γ = ``shift``; returns the samples
    (a Tensor) and the share of draws kept. Raises a RuntimeError after ``max_draws`` draws
    (default 1,000 per sample asked for) rather than loop for ever on a confident D."""
    check_refinable(model)
    max_draws = max_draws or 1_000 * count
    with evaluating(model):
        top = max(_draw(model, batch)[1].max() for _ in range(-(-burn_in // batch)))
        kept, drawn, found = [], 0, 0
        while found < count:
            if drawn >= max_draws:
                raise RuntimeError(f"--refine drs: {drawn} draws kept only {found} samples; the "
                                   "discriminator rejects nearly everything the generator draws")
            samples, scores = _draw(model, batch)
            drawn += batch
            top = max(top, scores.max())
            gap = scores - top   # ≤ 0
            accept = minigen.rand(batch).numpy() < _sigmoid(gap - np.log1p(-np.exp(gap - EPSILON)) - shift)
            indices = np.flatnonzero(accept)
            if len(indices):
                kept.append(samples[minigen.tensor(indices, device=samples.device)])
                found += len(indices)
    return minigen.cat(kept)[:count], found / drawn


def _draw(model, count):
    """``count`` samples of the generator D was trained against and D's logits for them (NumPy, float64)."""
    z, labels = model.prior(count)
    samples = model.generator(*model.generator_arguments(z, labels))
    return samples, model.score(samples, labels).cpu().numpy().astype(np.float64)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))   # no overflow warning for very negative x
