"""The toy-mixture metrics on samples whose answers are known exactly."""
import math

import numpy as np
import pytest

import minigen
from minigen.data import TOY, Mixture
from minigen.metrics import evaluate_toy, mean_stderr, nearest_mean, toy_metrics


def at_means(mixture, modes, per_mode=10):
    """``per_mode`` samples exactly on each of the listed modes."""
    return np.repeat(mixture.means[modes], per_mode, axis=0)


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_samples_on_every_mean_are_perfect(name):
    mixture = TOY[name]
    metrics = toy_metrics(at_means(mixture, slice(None)), mixture)
    k = len(mixture.means)
    assert metrics == {"high_quality": 1.0, "modes": k, "modes_1pct": k,
                       "reverse_kl": pytest.approx(0, abs=1e-12)}


@pytest.mark.parametrize("name, kept", [("ring8", 4), ("ring8", 1), ("grid25", 5)])
def test_samples_on_some_means(name, kept):
    mixture = TOY[name]
    metrics = toy_metrics(at_means(mixture, slice(kept)), name)
    assert metrics["high_quality"] == 1.0
    assert metrics["modes"] == metrics["modes_1pct"] == kept
    assert metrics["reverse_kl"] == pytest.approx(math.log(len(mixture.means) / kept), rel=1e-12)


def test_far_points_are_not_high_quality():
    metrics = toy_metrics(np.full((50, 2), 100.0), "ring8")
    assert metrics["high_quality"] == 0 and metrics["modes"] == metrics["modes_1pct"] == 0
    assert metrics["reverse_kl"] == pytest.approx(math.log(8))  # all nearest to one mode


def test_high_quality_is_within_three_std():
    mixture = Mixture("one", [[0.0, 0.0], [10.0, 0.0]], std=0.1)
    samples = [[0.299, 0.0], [0.0, -0.301], [0.25, 0.25], [9.8, 0.0]]
    metrics = toy_metrics(samples, mixture)
    assert metrics["high_quality"] == 0.5 and metrics["modes"] == 2


def test_one_percent_rule_counts_high_quality_samples_only():
    ring = TOY["ring8"]
    samples = np.concatenate([
        at_means(ring, [1], 10),  # exactly 1 % of 1000, all high quality: counts
        at_means(ring, [2], 9),  # 0.9 %: captured, but not by the 1 % rule
        1.1 * at_means(ring, [2], 5),  # nearest to mode 2, 10 std away: not high quality
        at_means(ring, [0], 976),
    ])
    metrics = toy_metrics(samples, ring)
    assert metrics["modes"] == 3 and metrics["modes_1pct"] == 2
    assert metrics["high_quality"] == pytest.approx(995 / 1000)
    p = np.array([976, 10, 14]) / 1000
    assert metrics["reverse_kl"] == pytest.approx(np.sum(p * np.log(8 * p)))


def test_true_mixture_samples():
    ring = TOY["ring8"]
    metrics = toy_metrics(ring.sample(100_000, np.random.default_rng(0)), ring)
    # the squared distance to the mean over std^2 is chi-square with 2 degrees of freedom
    assert metrics["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=1.5e-3)
    assert metrics["modes"] == metrics["modes_1pct"] == 8
    assert metrics["reverse_kl"] < 1e-3


def test_nearest_mean():
    index, distance = nearest_mean([[1.9, 0.1], [-3.0, 0.0]], TOY["ring8"].means)
    assert index.tolist() == [0, 4]
    np.testing.assert_allclose(distance, [math.hypot(0.1, 0.1), 1.0])


def test_inputs_are_validated():
    with pytest.raises(ValueError, match="no modes"):
        toy_metrics(np.zeros((3, 2)), "swissroll")
    with pytest.raises(ValueError, match=r"\(n, 2\).*\(3, 3\)"):
        toy_metrics(np.zeros((3, 3)), "ring8")
    with pytest.raises(ValueError, match="NaN"):
        toy_metrics(np.array([[0.0, np.nan]]), "ring8")
    with pytest.raises(ValueError, match="valid names"):
        toy_metrics(np.zeros((3, 2)), "ring7")


def test_tensor_samples():
    samples = minigen.tensor(at_means(TOY["ring8"], slice(None)))
    assert toy_metrics(samples, "ring8")["modes"] == 8


def test_mean_stderr():
    estimate = mean_stderr([1.0, 2.0, 3.0, 4.0])
    assert estimate.mean == 2.5
    assert estimate.stderr == pytest.approx(math.sqrt(5 / 3) / 2)  # sample std / sqrt(4)
    with pytest.raises(ValueError, match="at least 2"):
        mean_stderr([1.0])


def test_evaluate_toy_over_seeds():
    ring = TOY["ring8"]

    def generate(n, seed):  # seed 0 covers every mode, seed 1 half of them
        return at_means(ring, slice(None) if seed == 0 else slice(4), n // (8 if seed == 0 else 4))

    result = evaluate_toy(generate, ring, n=80, seeds=2)
    assert set(result) == {"high_quality", "modes", "modes_1pct", "reverse_kl"}
    assert result["high_quality"] == (1.0, 0.0)
    assert result["modes"] == (6.0, 2.0)  # two values: stderr = |a - b| / 2
    assert result["reverse_kl"].mean == pytest.approx(math.log(2) / 2)
    assert result["reverse_kl"].stderr == pytest.approx(math.log(2) / 2)


def test_evaluate_toy_validates():
    ring = TOY["ring8"]
    with pytest.raises(ValueError, match=r"generate\(10, 0\) returned shape \(9, 2\)"):
        evaluate_toy(lambda n, seed: np.zeros((n - 1, 2)), ring, n=10)
    with pytest.raises(ValueError, match="at least 2 seeds"):
        evaluate_toy(lambda n, seed: np.zeros((n, 2)), ring, seeds=[3])
