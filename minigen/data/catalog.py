"""The datasets the command line and the trainer know by name, ready to train on.

A ``Source`` bundles what a trainer needs besides the data: the kind ("image" or "points"),
the shape of one sample, the number of classes, a held-out split, and for the toy
distributions the distribution itself (its modes are what the toy metrics count).
"""
from dataclasses import dataclass

import numpy as np

from .loader import Dataset
from .mnist import load_digits, load_mnist, to_dataset
from .toy import TOY, ToyDistribution, toy_dataset

DATASETS = {
    "digits": "the 5,000 MNIST digits shipped with minigen: 4,500 to train, 500 held out (offline)",
    "mnist": "the full MNIST: 60,000 to train, 10,000 held out (downloaded once into the cache)",
    "ring8": "8 Gaussians (std 0.02) on a circle of radius 2",
    "grid25": "25 Gaussians (std 0.05) on the grid {-4, -2, 0, 2, 4}²",
    "swissroll": "the swiss roll of the WGAN-GP toy experiments",
    "moons": "two interleaving half circles, noise 0.1",
}


@dataclass(frozen=True)
class Source:
    name: str
    kind: str                      # "image" or "points"
    data_shape: tuple
    num_classes: int               # 0 when the data has no labels
    train: Dataset
    held_out: Dataset
    distribution: ToyDistribution = None


def data_kind(name):
    """"points" for the toy distributions, "image" for the digits."""
    return "points" if name in TOY else "image"


def load_dataset(name, image_range=(-1.0, 1.0)):
    """The dataset ``name`` (a key of ``DATASETS``), images scaled onto ``image_range``."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    if data_kind(name) == "points":
        return Source(name, "points", (2,), 0, toy_dataset(name, 100_000, seed=0),
                      toy_dataset(name, 10_000, seed=1), TOY[name])
    if name == "digits":
        images, labels = load_digits()
        held_out = np.arange(len(images)) % 10 == 9   # every tenth digit: 50 of each class
        train = to_dataset(images[~held_out], labels[~held_out], image_range)
        test = to_dataset(images[held_out], labels[held_out], image_range)
    else:
        train = to_dataset(*load_mnist(train=True), value_range=image_range)
        test = to_dataset(*load_mnist(train=False), value_range=image_range)
    return Source(name, "image", (1, 28, 28), 10, train, test)


def spread(dataset, count):
    """``count`` items evenly spaced through a TensorDataset (every class of the digits, which
    are stored class by class), as a tuple of Tensors: a fixed batch for pictures."""
    return dataset.__getitems__(np.linspace(0, len(dataset) - 1, min(count, len(dataset))).astype(np.int64))
