"""Quality of generated digits, measured as docs/METRICS.md defines it for MNIST.

All three figures come from the shipped digit classifier (``classifier.py``):

- **FCD**, the Fréchet classifier distance: the Fréchet distance between Gaussian fits of the
  classifier's 128-d features of two image sets. It is not comparable with Inception-based
  FID figures, so every FCD comes with its **floor**, the FCD of real digits against real digits.
- **Classifier score**, ``exp(E_x KL(p(y|x) || p(y)))``, the Inception-score analogue: 10 for
  confidently classified digits spread evenly over the classes, 1 for a single class.
- **Class histogram**: the share of samples the classifier puts in each class; a class with
  less than 1% of the samples counts as missing (mode dropping).

The 5,000 shipped real digits are split into two fixed, class-balanced halves of 2,500: within
each class the digits in even positions form the reference half, those in odd positions the
comparison half. A model's samples are compared with the whole reference half; the floor
compares the same number of comparison-half digits with it. The number matters because an FCD
estimated from n samples is biased upward by about a constant over n, so a model's FCD and its
floor are comparable only at the same n (2,500 by default, the size of a half).
"""
import functools

import numpy as np

from ..data.mnist import load_digits
from .classifier import FEATURE_DIM, NUM_CLASSES, classify
from .frechet import frechet_distance, gaussian_fit

HALF = 2500                      # digits in each half of the shipped set
MIN_SAMPLES = FEATURE_DIM + 1    # fewer samples than feature dimensions leave the covariance singular
MISSING_SHARE = 0.01             # a class with a smaller share of the samples counts as missing
PIXELS = (0, 255)                # the value range of the shipped uint8 digits


def fcd(images_a, images_b, value_range):
    """The Fréchet classifier distance between two image sets (N, 1, 28, 28), each N >= MIN_SAMPLES,
    both with pixels in ``value_range``. Compare figures only at equal sample counts."""
    return _fcd(_features("fcd", images_a, value_range), _features("fcd", images_b, value_range))


@functools.lru_cache(maxsize=None)
def fcd_floor(n=HALF):
    """The FCD of ``n`` real digits of the comparison half (class-balanced) against the
    reference half: what a perfect generator scores with ``n`` samples. Cached per ``n``."""
    n = _count("fcd_floor", n)
    return _fcd(_real().features[_comparison()[:n]], _real().features[_reference()])


def classifier_score(images, value_range):
    """``exp(E_x KL(p(y|x) || p(y)))`` of ``images`` (N, 1, 28, 28), from 1 (one class) to 10."""
    return _score(classify(images, value_range).probabilities)


def class_histogram(images, value_range):
    """The share of ``images`` (N, 1, 28, 28) in each class 0..9 by the classifier's argmax,
    float64 (10,) summing to 1."""
    return _histogram(classify(images, value_range).probabilities)


def label_accuracy(images, labels, value_range):
    """The share of ``images`` (N, 1, 28, 28) the classifier reads as their ``labels`` (N,): how
    well a conditional model draws the digit it is asked for."""
    predicted = np.argmax(classify(images, value_range).probabilities, axis=1)
    return float(np.mean(predicted == np.asarray(labels)))


def digit_metrics(images, value_range):
    """Every MNIST figure of ``images`` (N, 1, 28, 28), MIN_SAMPLES <= N <= 2,500, as a JSON-ready dict.

    - ``fcd``: FCD of the images against the reference half; ``fcd_floor``: the same for N
      real digits (pass N = 2,500 for figures comparable across runs);
    - ``classifier_score`` and ``classifier_score_real`` (of those N real digits);
    - ``class_histogram``: the 10 class shares; ``classes_missing``: classes under 1%;
    - ``n``: N.
    """
    generated = classify(images, value_range)
    n = _count("digit_metrics", len(generated.features))
    shares = _histogram(generated.probabilities)
    return {
        "fcd": _fcd(generated.features, _real().features[_reference()]),
        "fcd_floor": fcd_floor(n),
        "classifier_score": _score(generated.probabilities),
        "classifier_score_real": _score(_real().probabilities[_comparison()[:n]]),
        "class_histogram": shares.tolist(),
        "classes_missing": int(np.count_nonzero(shares < MISSING_SHARE)),
        "n": n,
    }


# --- the real digits -------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _real():
    """The classifier's outputs for all 5,000 shipped digits, computed once."""
    images, _ = load_digits()
    return classify(images[:, None], PIXELS)


@functools.lru_cache(maxsize=1)
def _positions():
    """Each shipped digit's class and its position among the digits of its class."""
    _, labels = load_digits()
    order = np.argsort(labels, kind="stable")
    position = np.empty(len(labels), dtype=np.int64)
    position[order] = np.arange(len(labels)) - np.searchsorted(labels[order], labels[order])
    return labels, position


def _reference():
    """Indices of the reference half: even positions within each class."""
    _, position = _positions()
    return np.flatnonzero(position % 2 == 0)


def _comparison():
    """Indices of the comparison half (odd positions), classes interleaved so that every
    prefix is class-balanced."""
    labels, position = _positions()
    odd = np.flatnonzero(position % 2 == 1)
    return odd[np.lexsort((labels[odd], position[odd]))]


# --- the figures from classifier outputs -----------------------------------------------------

def _fcd(features_a, features_b):
    return frechet_distance(*gaussian_fit(features_a), *gaussian_fit(features_b))


def _score(p):
    # Logs of values clipped at the smallest float: a probability that underflowed to 0 then
    # adds 0 * (finite) = 0, the 0 log 0 = 0 of the definition.
    tiny = np.finfo(np.float64).tiny
    kl = (p * (np.log(np.maximum(p, tiny)) - np.log(np.maximum(p.mean(axis=0), tiny)))).sum(axis=1)
    return float(np.exp(kl.mean()))


def _histogram(p):
    return np.bincount(p.argmax(axis=1), minlength=NUM_CLASSES) / len(p)


def _features(op, images, value_range):
    features = classify(images, value_range).features
    if len(features) < MIN_SAMPLES:
        raise ValueError(f"{op}: needs at least {MIN_SAMPLES} samples (more than the {FEATURE_DIM} "
                         f"feature dimensions), got {len(features)}")
    return features


def _count(op, n):
    """``n`` if an FCD against the reference half can be estimated from it, else a ValueError."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"{op}: the sample count must be an integer, got {n!r}")
    if not MIN_SAMPLES <= n <= HALF:
        raise ValueError(f"{op}: needs between {MIN_SAMPLES} samples (more than the {FEATURE_DIM} "
                         f"feature dimensions) and {HALF} (the size of the real reference half), got {n}")
    return int(n)
