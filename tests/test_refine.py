"""Discriminator rejection sampling (models/refine.py): on a case whose answer is known, a
discriminator that knows the true density ratio must return samples of the data; and the
models whose discriminator estimates no density ratio are refused, saying why."""
from math import erf

import numpy as np
import pytest

import minigen
import minigen.nn as nn
from minigen.cli import main
from minigen.models import GAN, SNGAN, WGAN
from minigen.models.refine import check_refinable, rejection_sample

DATA_MEAN, DATA_STD = np.array([1.0, -0.5]), 0.5   # p_data = N(DATA_MEAN, DATA_STD² I); p_g = N(0, I)


class FirstTwo(nn.Module):
    """A generator whose samples are N(0, I) in 2-D: the first two of z's coordinates, times a
    scale of 1 (a parameter, which tells the model its device)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(minigen.ones(2))

    def forward(self, z):
        return z[:, :2] * self.scale


class TrueLogRatio(nn.Module):
    """The discriminator's logit at its optimum: log p_data(x) − log p_g(x), (N, 1)."""

    def forward(self, x):
        mean = minigen.tensor(DATA_MEAN, dtype=x.dtype)
        data = -((x - mean) ** 2).sum(dim=1) / (2 * DATA_STD ** 2) - 2 * np.log(DATA_STD)
        return (data + (x * x).sum(dim=1) / 2).reshape(len(x), 1)


class UnconditionedGAN(GAN):
    points_recipe = {**GAN.points_recipe, "clusters": 0}


def known_ratio_model():
    model = UnconditionedGAN((2,), lr=1e-3)
    model.generator, model.discriminator = FirstTwo(), TrueLogRatio()
    return model


def test_a_discriminator_that_knows_the_density_ratio_returns_samples_of_the_data():
    minigen.manual_seed(0)
    count = 20_000
    samples, kept = rejection_sample(known_ratio_model(), count)
    samples = samples.numpy().astype(np.float64)
    assert samples.shape == (count, 2)
    # mean and spread of p_data, within 5 standard errors (and not p_g's 0 and 1)
    np.testing.assert_allclose(samples.mean(axis=0), DATA_MEAN, atol=5 * DATA_STD / np.sqrt(count))
    np.testing.assert_allclose(samples.std(axis=0), DATA_STD, atol=5 * DATA_STD / np.sqrt(2 * count))
    # the histogram of the first coordinate against p_data's, bin by bin within 5 standard errors
    edges = DATA_MEAN[0] + DATA_STD * np.array([-np.inf, -1.5, -0.5, 0.5, 1.5, np.inf])
    observed = np.histogram(samples[:, 0], edges)[0] / count
    expected = np.diff([0.5 * (1 + erf(z / np.sqrt(2))) for z in (-np.inf, -1.5, -0.5, 0.5, 1.5, np.inf)])
    assert np.all(np.abs(observed - expected) <= 5 * np.sqrt(expected * (1 - expected) / count)), observed
    # the share kept is 1 / max(p_data / p_g); max log ratio = 2 log 2 + 2/3 |DATA_MEAN|² at x = 4/3 · mean
    envelope = np.exp(2 * np.log(2) + 2 / 3 * (DATA_MEAN ** 2).sum())
    assert kept == pytest.approx(1 / envelope, rel=0.05)


def test_a_negative_shift_keeps_more_samples():
    minigen.manual_seed(1)
    _, exact = rejection_sample(known_ratio_model(), 2_000)
    minigen.manual_seed(1)
    _, shifted = rejection_sample(known_ratio_model(), 2_000, shift=-2.0)
    assert shifted > 1.5 * exact


@pytest.mark.parametrize("model, reason", [
    (WGAN((2,), lr=1e-4), "wasserstein loss, whose optimum is not the density ratio"),
    (SNGAN((1, 28, 28)), "hinge loss"),
    (type("PackedGAN", (UnconditionedGAN,), {"pack": 2})((2,)), "packs of 2"),
])
def test_models_whose_discriminator_gives_no_density_ratio_are_refused(model, reason):
    with pytest.raises(ValueError, match=reason):
        check_refinable(model)
    with pytest.raises(ValueError, match=reason):
        rejection_sample(model, 10)


def test_a_discriminator_that_rejects_everything_stops_with_an_error():
    model = known_ratio_model()
    with pytest.raises(RuntimeError, match="rejects nearly everything"):
        rejection_sample(model, 10, burn_in=10, batch=10, max_draws=20, shift=60.0)


def tiny_run(tmp_path, model):
    out = tmp_path / model
    assert main(["train", model, "--data", "ring8", "--steps", "4", "--batch-size", "16",
                 "--out", str(out), "--quiet"]) == 0
    return out / "checkpoint.npz"


def test_sample_and_eval_refine_from_the_command_line(tmp_path, capsys):
    checkpoint = tiny_run(tmp_path, "gan")
    capsys.readouterr()
    assert main(["sample", str(checkpoint), "--refine", "drs", "--count", "50",
                 "--out", str(tmp_path / "refined.png")]) == 0
    assert "drs kept" in capsys.readouterr().out and (tmp_path / "refined.png").exists()
    assert main(["eval", str(checkpoint), "--refine", "drs", "--count", "200", "--seeds", "2",
                 "--json", str(tmp_path / "refined.json")]) == 0
    assert "drs kept (%)" in capsys.readouterr().out
    figures = __import__("json").loads((tmp_path / "refined.json").read_text())
    assert 0 < figures["refined"]["kept"] <= 1 and figures["toy"]["modes"]["mean"] >= 0


def test_the_command_line_refuses_to_refine_a_critic(tmp_path, capsys):
    checkpoint = tiny_run(tmp_path, "wgan")
    capsys.readouterr()
    assert main(["sample", str(checkpoint), "--refine", "drs"]) == 1
    assert "wasserstein loss" in capsys.readouterr().err
