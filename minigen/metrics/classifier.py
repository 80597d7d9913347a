"""The digit classifier whose features and class probabilities the MNIST metrics are built on.

A small CNN trained with minigen on the 4,500 training digits of the shipped set
(``scripts/train_classifier.py``); its weights ship as ``digit_classifier.npz`` beside this
file: one array per ``state_dict`` entry plus ``metadata``, a JSON string with the training
record (held-out accuracy, command, seed), so loading never unpickles anything.

``features`` is the 128-d output of the penultimate layer (after its ReLU), the space in which
the Fréchet classifier distance compares real and generated digits; ``probabilities`` is the
softmax of the last layer.
"""
import functools
import json
import zipfile
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..files import atomic_write
from ..tensor import Tensor

WEIGHTS = "digit_classifier.npz"
FORMAT = "minigen-digit-classifier"
VERSION = 1
INPUT_RANGE = (-1.0, 1.0)   # the pixel range the classifier was trained on
FEATURE_DIM = 128
NUM_CLASSES = 10
BATCH = 500                 # images per forward pass when classifying


class DigitClassifier(nn.Module):
    """(N, 1, 28, 28) images in ``INPUT_RANGE`` -> (N, 10) logits; ``body`` gives the features.

    Two stride-2 convolutions (28 -> 14 -> 7) with LeakyReLU 0.2, then a 128-unit ReLU layer
    (the features) and a linear layer to the 10 class logits.
    """

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, FEATURE_DIM), nn.ReLU())
        self.head = nn.Linear(FEATURE_DIM, NUM_CLASSES)
        self.metadata = {}

    def forward(self, x):
        return self.head(self.body(x))


class Outputs(NamedTuple):
    """What the classifier makes of N images, both float64 NumPy arrays."""

    features: np.ndarray        # (N, FEATURE_DIM), the penultimate layer
    probabilities: np.ndarray   # (N, NUM_CLASSES), softmax of the logits


# --- the weights file ------------------------------------------------------------------------

def save_classifier(model, path, metadata):
    """Write ``model``'s weights and ``metadata`` (a JSON-ready dict) to ``path`` atomically."""
    entries = {key: value.numpy() for key, value in model.state_dict().items()}
    record = {"format": FORMAT, "version": VERSION, **metadata}
    entries["metadata"] = np.array(json.dumps(record))
    with atomic_write(path) as file:
        np.savez(file, **entries)


def load_classifier(path=None):
    """A ``DigitClassifier`` in eval mode with the weights in ``path`` (default: the shipped
    file); its ``metadata`` attribute holds the training record stored with them.

    A missing file raises FileNotFoundError, a corrupt or foreign one ValueError, both naming
    the file and what is wrong.
    """
    source = Path(path) if path is not None else resources.files(__package__).joinpath(WEIGHTS)
    if not source.is_file():
        hint = "" if path is not None else " (a broken install? reinstall minigen, or rebuild the " \
                                           "weights with scripts/train_classifier.py)"
        raise FileNotFoundError(f"digit classifier weights {source} do not exist{hint}")
    model = DigitClassifier()
    try:
        with source.open("rb") as f, np.load(f) as npz:
            entries = {key: npz[key] for key in npz.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as e:
        raise ValueError(f"digit classifier weights {source}: not a readable .npz file ({e})") from None
    model.metadata = _checked(entries.pop("metadata", None), entries, model, source)
    model.load_state_dict(entries)
    return model.eval()


def _checked(metadata, entries, model, source):
    """The decoded ``metadata`` once it and the arrays ``entries`` fit ``model``, else a
    ValueError naming ``source``."""
    def corrupt(problem):
        return ValueError(f"digit classifier weights {source}: {problem}")

    if metadata is None:
        raise corrupt("no metadata entry; not a minigen digit classifier file")
    try:
        metadata = json.loads(str(metadata))
    except json.JSONDecodeError as e:
        raise corrupt(f"its metadata is not valid JSON ({e})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise corrupt(f"its metadata does not say format {FORMAT!r}")
    if metadata.get("version") != VERSION:
        raise corrupt(f"version {metadata.get('version')!r}, this minigen reads version {VERSION}")
    expected = {key: value.shape for key, value in model.state_dict().items()}
    found = {key: value.shape for key, value in entries.items()}
    if found != expected:
        raise corrupt(f"its arrays {found} do not match the network's {expected}")
    for key, value in entries.items():
        if value.dtype.kind != "f" or not np.isfinite(value).all():
            raise corrupt(f"{key} must hold finite floating-point numbers, got {value.dtype}")
    return metadata


@functools.lru_cache(maxsize=1)
def shipped_classifier():
    """The classifier with the shipped weights, loaded once per process."""
    return load_classifier()


# --- classifying images ----------------------------------------------------------------------

def classify(images, value_range):
    """Features and class probabilities of ``images`` (N, 1, 28, 28), a Tensor or an array with
    pixels in ``value_range`` (e.g. (-1, 1) for a Tanh generator, (0, 1) for a Sigmoid one)."""
    x = _prepared(images, value_range)
    model = shipped_classifier()
    features, logits = [], []
    with no_grad():
        for start in range(0, len(x), BATCH):
            h = model.body(Tensor(x[start:start + BATCH]))
            features.append(h.numpy())
            logits.append(model.head(h).numpy())
    logits = np.concatenate(logits).astype(np.float64)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return Outputs(np.concatenate(features).astype(np.float64), p / p.sum(axis=1, keepdims=True))


def features(images, value_range):
    """The (N, 128) float64 penultimate-layer features of ``images``, see ``classify``."""
    return classify(images, value_range).features


def probabilities(images, value_range):
    """The (N, 10) float64 class probabilities of ``images``, see ``classify``."""
    return classify(images, value_range).probabilities


def _prepared(images, value_range):
    """``images`` as a float32 array in ``INPUT_RANGE``, or a ValueError naming the problem."""
    low, high = _range(value_range)
    array = images.detach().numpy() if isinstance(images, Tensor) else np.asarray(images)
    if array.ndim != 4 or array.shape[1:] != (1, 28, 28) or len(array) == 0:
        raise ValueError(f"digit classifier: images must have shape (N, 1, 28, 28) with N >= 1, "
                         f"got {array.shape}")
    if array.dtype.kind not in "fiu":
        raise ValueError(f"digit classifier: images must hold real numbers, got dtype {array.dtype}")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError("digit classifier: images contain NaN or infinite values "
                         "(did the generator diverge?)")
    # Generators end in Tanh or Sigmoid, so pixels far outside the range mean a wrong value_range.
    slack = 0.01 * (high - low)
    if array.min() < low - slack or array.max() > high + slack:
        raise ValueError(f"digit classifier: pixels span [{array.min():.3g}, {array.max():.3g}], "
                         f"outside value_range ({low:g}, {high:g}); pass the range they lie in")
    to_low, to_high = INPUT_RANGE
    return to_low + (array - np.float32(low)) * np.float32((to_high - to_low) / (high - low))


def _range(value_range):
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"digit classifier: value_range must be (low, high), got {value_range!r}") from None
    if not low < high:
        raise ValueError(f"digit classifier: value_range must have low < high, got {value_range!r}")
    return low, high
