"""How good generated samples are, measured as docs/METRICS.md defines it.

Toy 2-D mixtures: each sample is assigned to its nearest mean; from that assignment come the
high-quality share, the modes captured (two ways) and the reverse KL of the mode histogram.
``evaluate_toy`` repeats them over seeds and reports mean and standard error.
"""
from typing import NamedTuple

import numpy as np

from ..data.toy import get_toy


class Estimate(NamedTuple):
    """A metric over several seeds: the mean and its standard error."""

    mean: float
    stderr: float


def mean_stderr(values):
    """Mean and standard error ``s / sqrt(m)`` of m >= 2 values, s the sample std (ddof=1)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"a standard error needs at least 2 values, got {values.shape}")
    return Estimate(float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values))))


# --- toy mixtures ----------------------------------------------------------------------------

def nearest_mean(samples, means):
    """Each sample's nearest mean: its index (int64 (n,)) and the distance to it (float64 (n,))."""
    samples = _points("samples", samples)
    means = _points("means", means)
    distances = np.linalg.norm(samples[:, None, :] - means[None, :, :], axis=-1)
    index = distances.argmin(axis=1)
    return index, distances[np.arange(len(samples)), index]


def toy_metrics(samples, mixture):
    """The toy-mixture metrics of ``samples`` (n, 2) against ``mixture`` (a Mixture or its name).

    - ``high_quality``: the fraction of samples within 3 std of their nearest mean;
    - ``modes``: means that are the nearest mean of at least one high-quality sample (VEEGAN);
    - ``modes_1pct``: means that are the nearest mean of at least ``0.01 * n`` high-quality
      samples, n counting all samples (so a mode needs 25 good samples out of 2,500);
    - ``reverse_kl``: ``sum_k p_k log(K p_k)``, p_k the fraction of all samples whose nearest
      mean is k (0 log 0 = 0): KL(p || uniform), 0 for a perfectly balanced histogram and
      log K when every sample lands on one mode.
    """
    if isinstance(mixture, str):
        mixture = get_toy(mixture)
    if mixture.means is None:
        raise ValueError(f"toy_metrics: {mixture.name} is not a Gaussian mixture, it has no modes to count")
    index, distance = nearest_mean(samples, mixture.means)
    n, k = len(index), len(mixture.means)
    good = distance <= 3 * mixture.std
    good_per_mode = np.bincount(index[good], minlength=k)
    p = np.bincount(index, minlength=k) / n
    p = p[p > 0]
    return {
        "high_quality": float(good.mean()),
        "modes": int(np.count_nonzero(good_per_mode)),
        "modes_1pct": int(np.count_nonzero(100 * good_per_mode >= n)),
        "reverse_kl": float(np.sum(p * np.log(k * p))),
    }


def evaluate_toy(generate, mixture, n=2500, seeds=5):
    """``toy_metrics`` of ``generate(n, seed)`` for each seed, as {metric: Estimate(mean, stderr)}.

    ``seeds`` is a count (seeds 0, 1, ...) or a sequence of at least two seeds.
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"evaluate_toy: n must be a positive integer, got {n!r}")
    seeds = list(range(seeds)) if isinstance(seeds, (int, np.integer)) else list(seeds)
    if len(seeds) < 2:
        raise ValueError(f"evaluate_toy: a standard error needs at least 2 seeds, got {seeds}")
    runs = []
    for seed in seeds:
        samples = np.asarray(generate(n, seed))
        if samples.shape != (n, 2):
            raise ValueError(f"evaluate_toy: generate({n}, {seed}) returned shape {samples.shape}, "
                             f"expected ({n}, 2)")
        runs.append(toy_metrics(samples, mixture))
    return {name: mean_stderr([run[name] for run in runs]) for name in runs[0]}


def _points(name, points):
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"{name} must be 2-D points of shape (n, 2) with n >= 1, got {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError(f"{name} contain NaN or infinite values (did the generator diverge?)")
    return points
