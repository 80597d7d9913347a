"""The autoencoders and the VAE: they train, overfit a tiny batch, and their losses are the
documented ones (the VAE's against NumPy, a Monte Carlo estimate and PyTorch's W4 loss)."""
import math

import numpy as np
import pytest
from helpers import to_float64, torch

import minigen
from minigen import optim
from minigen.data import load_digits
from minigen.models.autoencoder import Autoencoder, ConvAutoencoder
from minigen.models.dae import DenoisingAutoencoder
from minigen.models.sparse_ae import SparseAutoencoder, sparsity_penalty
from minigen.models.vae import VAE

MODELS = [Autoencoder, ConvAutoencoder, DenoisingAutoencoder, SparseAutoencoder, VAE]
CASES = [pytest.param(model, kind, id=f"{model.name}-{kind}")
         for model in MODELS for kind in model.data_kinds]
AUTOENCODERS = [model for model in MODELS if not model.can_sample]
EVALUATION_KEYS = {"ae": {"recon"}, "conv-ae": {"recon"}, "dae": {"recon", "denoised"},
                   "sparse-ae": {"recon", "sparsity"}, "vae": {"neg_elbo", "recon", "kl"}}


def random_batch(kind, count, seed=0):
    """Uniform [0, 1) images (count, 1, 28, 28) or normal 2-D points (count, 2)."""
    rng = np.random.default_rng(seed)
    if kind == "image":
        return minigen.tensor(rng.random((count, 1, 28, 28), dtype=np.float32))
    return minigen.tensor(rng.standard_normal((count, 2), dtype=np.float32))


def digits(count):
    """The first ``count`` bundled MNIST digits, pixels scaled to [0, 1]."""
    return minigen.tensor(load_digits()[0][:count, None].astype(np.float32) / 255)


def build(model, kind, seed=0):
    minigen.manual_seed(seed)
    return model((1, 28, 28) if kind == "image" else (2,))


def snapshot(model):
    return {name: p.detach().numpy().copy() for name, p in model.named_parameters()}


@pytest.mark.parametrize("model, kind, source", [
    *(pytest.param(*case.values, "random", id=f"{case.id}-random") for case in CASES),
    *(pytest.param(model, "image", "digits", id=f"{model.name}-digits") for model in MODELS)])
def test_train_steps_give_finite_losses_and_move_every_parameter(model, kind, source):
    ae = build(model, kind)
    x = digits(32) if source == "digits" else random_batch(kind, 32)
    before = snapshot(ae)
    for step in range(3):
        losses = ae.train_step((x,), step)
        assert losses and all(type(v) is float and math.isfinite(v) for v in losses.values()), losses
    after = snapshot(ae)
    assert [name for name in before if np.array_equal(before[name], after[name])] == []


@pytest.mark.parametrize("model, kind", CASES)
def test_overfits_a_fixed_tiny_batch(model, kind):
    ae = build(model, kind)
    x = digits(4) if kind == "image" else random_batch(kind, 8)
    losses = [ae.train_step((x,), step)["loss"] for step in range(30 if kind == "image" else 50)]
    assert np.mean(losses[-5:]) < 0.5 * losses[0], losses


@pytest.mark.parametrize("model, kind", CASES)
def test_evaluate_returns_the_documented_finite_figures(model, kind):
    ae = build(model, kind)
    figures = ae.evaluate((random_batch(kind, 20), minigen.zeros(20)))
    assert set(figures) == EVALUATION_KEYS[model.name]
    assert all(type(v) is float and math.isfinite(v) for v in figures.values()), figures


@pytest.mark.parametrize("model, kind", CASES)
def test_reconstruct_keeps_the_shape_and_the_image_range(model, kind):
    ae = build(model, kind)
    x = random_batch(kind, 5)
    reconstruction = ae.reconstruct(x)
    assert reconstruction.shape == x.shape and not reconstruction.requires_grad
    assert ae.training   # eval mode only inside reconstruct
    if kind == "image":
        assert 0 <= reconstruction.numpy().min() and reconstruction.numpy().max() <= 1


@pytest.mark.parametrize("model", AUTOENCODERS)
def test_autoencoders_refuse_to_sample(model):
    ae = build(model, "image")
    with pytest.raises(NotImplementedError, match="reconstruct"):
        ae.sample(4)


def test_vae_samples_digits_from_the_prior():
    vae = build(VAE, "image")
    samples = vae.sample(6)
    assert vae.can_sample and samples.shape == (6, 1, 28, 28)
    assert 0 <= samples.numpy().min() and samples.numpy().max() <= 1
    assert vae.decode(minigen.randn(3, 20)).shape == (3, 1, 28, 28)


def test_vae_has_w4s_parameter_count():
    assert sum(p.numel() for p in build(VAE, "image").parameters()) == 652_824


def test_conv_ae_needs_28_by_28_images():
    with pytest.raises(ValueError, match="28 × 28"):
        ConvAutoencoder((1, 32, 32))


# --- the losses --------------------------------------------------------------------------------

def spread_posterior(vae, seed=1):
    """Move q(z | x) away from the prior so that the KL term is far from zero."""
    rng = np.random.default_rng(seed)
    vae.mu.bias.data = minigen.tensor(rng.standard_normal(20, dtype=np.float32))
    vae.logvar.bias.data = minigen.tensor(rng.uniform(-2, 1, 20).astype(np.float32))


def test_vae_kl_is_the_closed_form_and_agrees_with_monte_carlo():
    vae = build(VAE, "image")
    spread_posterior(vae)
    to_float64(vae)   # float64: the order of the sum, which differs by CPU, does not matter
    x = digits(4).double()
    kl = vae.losses(x, minigen.zeros(4, 20))["kl"].item()
    mu, logvar = (t.detach().numpy() for t in vae.encode(x))
    closed_form = -0.5 * np.sum(1 + logvar - mu**2 - np.exp(logvar))
    assert kl == pytest.approx(closed_form, rel=1e-12)   # 80 terms of a few roundings of 2^-53
    # KL(q ‖ p) = E_q[log q(z) − log p(z)], estimated with 20,000 draws of z per digit
    eps = np.random.default_rng(0).standard_normal((20_000, *mu.shape))
    z = mu + eps * np.exp(0.5 * logvar)
    log_ratio = (-0.5 * eps**2 - 0.5 * logvar + 0.5 * z**2).sum(axis=(1, 2))
    assert abs(log_ratio.mean() - closed_form) < 5 * log_ratio.std() / math.sqrt(len(log_ratio))


def test_vae_loss_and_gradients_match_pytorch_w4():
    pytest.importorskip("torch")
    vae = build(VAE, "image")
    spread_posterior(vae)
    # In float64, where a sum of up to 12,544 terms (the batch's pixels) is within gamma_12544 =
    # 1.4e-12 of its terms' total in any order (which differs by CPU and library): 1e-10 of a loss,
    # or of a tensor's largest gradient, leaves a factor 70 for terms that cancel.
    to_float64(vae)
    x, eps = digits(16).double(), minigen.randn(16, 20, dtype=minigen.float64)
    ours = vae.losses(x, eps)
    ours["loss"].backward()

    # W4 written out in PyTorch, with the same weights and the same eps
    weights = {name: torch.tensor(p.detach().numpy(), requires_grad=True)
               for name, p in vae.named_parameters()}

    def linear(h, layer):
        return torch.nn.functional.linear(h, weights[f"{layer}.weight"], weights[f"{layer}.bias"])

    tx = torch.tensor(x.numpy()).view(16, 784)
    h = torch.relu(linear(tx, "encoder.1"))
    mu, logvar = linear(h, "mu"), linear(h, "logvar")
    z = mu + torch.tensor(eps.numpy()) * torch.exp(0.5 * logvar)
    recon = torch.sigmoid(linear(torch.relu(linear(z, "decoder.0")), "decoder.2"))
    bce = torch.nn.functional.binary_cross_entropy(recon, tx, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    (bce + kl).backward()

    for name, theirs in (("recon", bce), ("kl", kl), ("loss", bce + kl)):
        assert ours[name].item() == pytest.approx(theirs.item(), rel=1e-10), name
    for name, p in vae.named_parameters():
        expected = weights[name].grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=0,
                                   atol=1e-10 * np.abs(expected).max(), err_msg=name)
    assert type(vae.optimizer) is optim.Adam and vae.optimizer.defaults["betas"] == (0.9, 0.999)
    assert vae.optimizer.param_groups[0]["lr"] == 1e-3   # W4's optimiser, on that summed loss


def test_vae_reports_nats_per_digit_and_optimises_the_sum():
    x = digits(16)
    vae = build(VAE, "image", seed=3)
    reported = vae.train_step((x,), 0)
    again = build(VAE, "image", seed=3)   # the same weights, and next the same eps as train_step's
    summed = again.losses(x, minigen.randn(16, 20))
    for name in ("loss", "recon", "kl"):
        assert reported[name] == pytest.approx(summed[name].item() / 16, rel=1e-6)


def test_sparsity_penalty_matches_numpy():
    code = np.random.default_rng(0).uniform(0.01, 0.99, (10, 7))
    rho_hat = code.mean(axis=0)
    expected = np.sum(0.05 * np.log(0.05 / rho_hat) + 0.95 * np.log(0.95 / (1 - rho_hat)))
    assert sparsity_penalty(minigen.tensor(code), 0.05).item() == pytest.approx(expected, rel=1e-12)


def test_sparse_ae_adds_the_weighted_penalty_of_its_sigmoid_codes():
    ae = build(SparseAutoencoder, "image")
    x = digits(16)
    losses = ae.losses(x)
    code = ae.encode(x).detach().numpy()
    assert code.min() > 0 and code.max() < 1
    assert losses["sparsity"].item() == pytest.approx(sparsity_penalty(minigen.tensor(code), 0.05).item())
    assert losses["loss"].item() == pytest.approx(losses["recon"].item() + 3 * losses["sparsity"].item())


@pytest.mark.parametrize("kind", ["image", "points"])
def test_dae_corrupts_the_input_and_reconstructs_the_clean_target(kind):
    dae = build(DenoisingAutoencoder, kind)
    x = digits(16) if kind == "image" else random_batch(kind, 16)
    minigen.manual_seed(5)
    loss = dae.losses(x)["loss"].item()
    minigen.manual_seed(5)
    corrupted = dae.corrupt(x)
    assert loss == pytest.approx(dae.reconstruction_loss(dae.decode(dae.encode(corrupted)), x).item())
    assert loss != pytest.approx(dae.reconstruction_loss(dae.reconstruct(x), x).item())
    assert loss != pytest.approx(dae.reconstruction_loss(dae.reconstruct(corrupted), corrupted).item())


def test_dae_noise_levels():
    ones = minigen.ones(100, 1, 28, 28)
    zeroed = 1 - build(DenoisingAutoencoder, "image").corrupt(ones).numpy()
    assert set(np.unique(zeroed)) == {0, 1} and zeroed.mean() == pytest.approx(0.25, abs=0.01)
    points = minigen.zeros(50_000, 2)
    noise = build(DenoisingAutoencoder, "points").corrupt(points).numpy()
    assert noise.std() == pytest.approx(0.1, rel=0.02) and abs(noise.mean()) < 0.01


def test_autoencoder_losses_are_per_sample_sums():
    # float64: sums of 3,136 and 12 non-negative terms (of a few roundings each) in two orders,
    # within 2 gamma_3140 = 7e-13 of each other relative to the total
    ae = to_float64(build(Autoencoder, "image"))
    x = digits(4).double()
    p, t = ae.reconstruct(x).numpy(), x.numpy()
    bce = -np.sum(t * np.log(p) + (1 - t) * np.log(1 - p)) / 4
    assert ae.evaluate((x,))["recon"] == pytest.approx(bce, rel=1e-12)
    points = to_float64(build(Autoencoder, "points"))
    y = random_batch("points", 6).double()
    squared = np.sum((points.reconstruct(y).numpy() - y.numpy()) ** 2) / 6
    assert points.evaluate((y,))["recon"] == pytest.approx(squared, rel=1e-12)
