"""The toy 2-D distributions GANs are tried on, pinned down as in docs/METRICS.md.

``ring8`` and ``grid25`` are equal-weight Gaussian mixtures whose modes the metrics count;
``swissroll`` and ``moons`` are shapes with no modes. Every sample comes from a NumPy
``Generator`` the caller passes in, so the same generator state gives the same points.
"""
import itertools

import numpy as np

from ..tensor import Tensor
from .loader import TensorDataset


class ToyDistribution:
    """A distribution on the plane; Gaussian mixtures also have ``means`` and ``std``."""

    name = None
    means = None
    std = None

    def sample(self, n, rng):
        """``n`` points, float32 (n, 2), drawn from the NumPy Generator ``rng``."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"{self.name}.sample: rng must be a numpy.random.Generator, "
                            f"got {type(rng).__name__}")
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{self.name}.sample: n must be an integer >= 0, got {n!r}")
        return self._sample(int(n), rng).astype(np.float32)

    def _sample(self, n, rng):
        raise NotImplementedError

    def __repr__(self):
        return f"<toy distribution {self.name!r}>"


class Mixture(ToyDistribution):
    """Equal-weight mixture of isotropic Gaussians: ``means`` (K, 2) float64, one ``std``."""

    def __init__(self, name, means, std):
        self.name = name
        self.means = np.array(means, dtype=np.float64)
        self.means.flags.writeable = False
        if self.means.ndim != 2 or self.means.shape[1] != 2:
            raise ValueError(f"Mixture {name!r}: means must have shape (K, 2), got {self.means.shape}")
        self.std = float(std)

    def _sample(self, n, rng):
        component = rng.integers(len(self.means), size=n)
        return self.means[component] + self.std * rng.standard_normal((n, 2))


class SwissRoll(ToyDistribution):
    """sklearn's ``make_swiss_roll(noise=0.25)``, coordinates 0 and 2, divided by 7.5 (WGAN-GP).

    ``t = 1.5 pi (1 + 2 U)``, the point ``(t cos t, t sin t)`` plus N(0, 0.25^2) noise on each
    coordinate. The roll's height, sklearn's coordinate 1, is dropped, so it is never drawn.
    """

    name = "swissroll"

    def _sample(self, n, rng):
        t = 1.5 * np.pi * (1 + 2 * rng.random(n))
        roll = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
        return (roll + 0.25 * rng.standard_normal((n, 2))) / 7.5


class Moons(ToyDistribution):
    """Two interleaving half circles with sklearn ``make_moons``' geometry and ``noise=0.1``.

    The upper moon is ``(cos a, sin a)``, the lower ``(1 - cos a, 0.5 - sin a)``, a in [0, pi],
    plus N(0, 0.1^2) noise on each coordinate. Unlike make_moons, which spaces a evenly and
    splits n in halves, each point picks its moon by a fair coin and a uniformly, so that
    batches are independent samples.
    """

    name = "moons"

    def _sample(self, n, rng):
        a = np.pi * rng.random(n)
        lower = rng.random(n) < 0.5
        x = np.where(lower, 1 - np.cos(a), np.cos(a))
        y = np.where(lower, 0.5 - np.sin(a), np.sin(a))
        return np.stack([x, y], axis=1) + 0.1 * rng.standard_normal((n, 2))


def _ring(k, radius):
    angles = 2 * np.pi * np.arange(k) / k  # not linspace(0, 2 pi, k): that repeats angle 0
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


TOY = {
    "ring8": Mixture("ring8", _ring(8, 2.0), std=0.02),
    "grid25": Mixture("grid25", list(itertools.product((-4, -2, 0, 2, 4), repeat=2)), std=0.05),
    "swissroll": SwissRoll(),
    "moons": Moons(),
}


def get_toy(name):
    """The distribution registered as ``name`` in ``TOY``."""
    if name not in TOY:
        raise ValueError(f"unknown toy distribution {name!r}; valid names: {', '.join(TOY)}")
    return TOY[name]


def toy_dataset(name, size=100_000, seed=0):
    """A TensorDataset of ``size`` fixed points of ``name`` (items are 1-tuples), drawn with
    ``np.random.default_rng(seed)``."""
    return TensorDataset(Tensor(get_toy(name).sample(size, np.random.default_rng(seed))))
