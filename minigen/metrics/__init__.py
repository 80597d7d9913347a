"""How good generated samples are, measured as docs/METRICS.md defines it.

- ``toy``: the toy 2-D mixtures, each sample assigned to its nearest mode (high-quality share,
  modes captured, reverse KL), repeated over seeds with standard errors;
- ``mnist``: digits, through the shipped digit classifier (``classifier``): the Fréchet
  classifier distance beside its real-data floor, the classifier score, the class histogram and, for conditional models, the label accuracy;
- ``frechet``: the Fréchet distance between Gaussians with a stable matrix square root.
"""
from .classifier import (FEATURE_DIM, DigitClassifier, classify, features, load_classifier,
                         probabilities, shipped_classifier)
from .frechet import frechet_distance, gaussian_fit, sqrtm_psd
from .mnist import class_histogram, classifier_score, digit_metrics, fcd, fcd_floor, label_accuracy
from .toy import Estimate, evaluate_toy, mean_stderr, nearest_mean, toy_metrics
