"""Every model of the zoo learns: a few steps on each kind of data it takes, then the specifics
(W1/W2/W3 architectures, weight clipping, the gradient penalty reaching the critic)."""
import math

import numpy as np
import pytest

import minigen
from minigen.data import TensorDataset
from helpers import DEVICES, gamma, to_float64, torch, unit_roundoff
from minigen.bench.workloads import WORKLOADS
from minigen.models import DCGAN, MODELS, WGAN, WGANGP

SHAPES = {"image": (1, 28, 28), "points": (2,)}


def batch_for(model_class, kind, size=8, seed=0):
    rng = np.random.default_rng(seed)
    low, high = model_class.image_range
    data = rng.uniform(low, high, (size, *SHAPES[kind])) if kind == "image" else rng.normal(0, 2, (size, 2))
    labels = minigen.tensor(rng.integers(0, 10, size))
    return (minigen.tensor(data, dtype=minigen.float32), labels)


def build(model_class, kind):
    minigen.manual_seed(0)
    model = model_class(SHAPES[kind], lr=1e-3, num_classes=10 if kind == "image" else 0)
    model.prepare(TensorDataset(*batch_for(model_class, kind, size=64, seed=99)))   # clusters, if any
    return model


CASES = [(name, kind) for name, cls in MODELS.items() for kind in cls.data_kinds]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name, kind", CASES)
def test_every_model_trains_a_few_steps(name, kind, device):
    model_class = MODELS[name]
    model = build(model_class, kind).to(device)
    before = {key: value.cpu().numpy().copy() for key, value in model.state_dict().items()}
    steps = getattr(model, "n_critic", 1) + 1   # at least one generator step (per kind of data)
    for step in range(steps):
        batch = tuple(t.to(device) for t in batch_for(model_class, kind, seed=step))
        losses = model.train_step(batch, step)
        assert losses and all(math.isfinite(v) for v in losses.values()), losses
    unchanged = [key for key, value in model.state_dict().items()
                 if "num_batches" not in key and np.array_equal(before[key], value.cpu().numpy())]
    if not getattr(model, "sigmoid", True):
        # a critic's output bias cancels in mean C(fake) - mean C(real) and in the penalty, and in
        # the hinge loss while every score is inside its margin (as at the start)
        output_bias = [key for key, _ in model.discriminator.named_parameters() if key.endswith("bias")][-1]
        unchanged = [key for key in unchanged if key != "discriminator." + output_bias]
    # the weight average's BatchNorm statistics are estimated when it samples, not while training,
    # and the clusters are learned before it (``prepare``)
    unchanged = [key for key in unchanged if not (key.startswith("generator_ema.") and "running_" in key)
                 and not key.startswith("cluster_")]
    # spectral norm's u for a layer with one output is the unit vector ±1: it cannot move
    unchanged = [key for key in unchanged if not (key.endswith("weight_u") and before[key].size == 1)]
    assert unchanged == []   # every other parameter and running statistic moved
    trained = [p for key, p in model.named_parameters() if not key.startswith("generator_ema.")]
    assert all(p.requires_grad for p in trained)   # nothing left frozen (the average is never trained)


@pytest.mark.parametrize("name, kind", CASES)
def test_samples_have_the_data_shape_and_range(name, kind):
    model_class = MODELS[name]
    model = build(model_class, kind)
    if not model_class.can_sample:
        return
    samples = model.sample(5)
    assert samples.shape == (5, *SHAPES[kind]) and samples.dtype == minigen.float32
    if kind == "image":
        low, high = model_class.image_range
        assert low <= samples.numpy().min() and samples.numpy().max() <= high
    assert model.training   # sampling switched to eval mode and back


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


def test_the_benchmark_networks_are_those_of_the_reference_workloads():
    """W1-W3 stay what ``minigen bench`` measured, whatever the models' defaults become."""
    networks = {key: workload.networks() for key, workload in WORKLOADS.items()}
    assert parameter_count(networks["w1"]["G"]) == 1_477_136
    assert parameter_count(networks["w1"]["D"]) == 1_460_225
    assert parameter_count(networks["w2"]["G"]) == 1_781_889
    assert parameter_count(networks["w2"]["D"]) == 138_817
    critic = networks["w3"]["C"]
    assert parameter_count(critic) == 138_561                # W3: W2's D without BatchNorm
    assert not any(isinstance(m, minigen.nn.BatchNorm2d) for m in critic.modules())


def test_the_mlp_gan_has_w1s_networks_and_a_projection_head_when_self_conditioned():
    class Unconditioned(MODELS["gan"]):
        mlp_recipe = {**MODELS["gan"].mlp_recipe, "clusters": 0}
    gan = build(Unconditioned, "image")
    assert parameter_count(gan.generator) == 1_477_136       # W1
    assert parameter_count(gan.discriminator) == 1_460_225

    clustered = build(MODELS["gan"], "image")   # the default: 20 clusters
    assert parameter_count(clustered.generator) == 1_477_136 + 20 * 256       # z widened by a one-hot
    assert parameter_count(clustered.discriminator) == 1_460_225 + 20 * 256   # + the embedding


def test_dcgan_follows_radford_initialisation():
    model = build(DCGAN, "image")
    convs = [m for m in model.generator.modules() if isinstance(m, minigen.nn.ConvTranspose2d)]
    weights = np.concatenate([m.weight.detach().numpy().ravel() for m in convs])
    assert abs(weights.std() - 0.02) < 0.001 and abs(weights.mean()) < 0.001
    norms = [m for m in model.generator.modules() if isinstance(m, minigen.nn.BatchNorm2d)]
    gammas = np.concatenate([m.weight.detach().numpy() for m in norms])
    assert abs(gammas.mean() - 1) < 0.01 and 0.01 < gammas.std() < 0.03


def test_wgan_clips_every_critic_weight():
    model = build(WGAN, "points")
    model.train_step(batch_for(WGAN, "points"), 0)
    for p in model.discriminator.parameters():
        assert np.abs(p.detach().numpy()).max() <= model.clip


# How far a float64 value of these models may be from exact, relative to the largest value it is
# compared with: gamma_n for n = 2^13 roundings deep (layers of up to 256 terms, there and back,
# twice for the penalty), times 100 for terms that cancel. A float32 run (rounding 2^29 times
# coarser), whose order of summation differs by CPU and library, would not hold to it.
FLOAT64_ROUNDING = 100 * gamma(2**13, unit_roundoff(np.float64))


def critic_gradients(model, real, penalty_weight):
    minigen.manual_seed(1)   # the same fake samples and interpolation points every time
    model.penalty_weight = penalty_weight
    labels = model.labels_of((real,))   # the clusters of a self-conditioned critic, or None
    fake = model.decode(model.latent(len(real)), labels).detach()
    model.discriminator.zero_grad()
    model.critic_losses(real, fake, labels)["loss_c"].backward()
    return [p.grad.numpy().copy() for p in model.discriminator.parameters()]


@pytest.mark.parametrize("kind", ["points", "image"])
def test_the_gradient_penalty_reaches_the_critic_weights(kind):
    """Published WGAN-GP code has computed the penalty and never back-propagated it."""
    model = to_float64(build(WGANGP, kind))
    real = batch_for(WGANGP, kind)[0].double()
    without = critic_gradients(model, real, 0.0)
    with_penalty = critic_gradients(model, real, 10.0)
    doubled = critic_gradients(model, real, 20.0)
    for a, b, c in zip(without, with_penalty, doubled):
        # linear in λ: the penalty's share of the gradient doubles with λ, and it is not zero;
        # (c - a) - 2 (b - a) = 0 but for the rounding of a (3 times), b (twice) and c
        scale = max(np.abs(g).max() for g in (a, b, c))
        np.testing.assert_allclose(c - a, 2 * (b - a), rtol=0, atol=6 * FLOAT64_ROUNDING * scale)
    assert any(np.abs(b - a).max() > 1e-4 for a, b in zip(without, with_penalty))


def torch_copy(sequential):
    """The same MLP in PyTorch, with the same weights (Linear and activations only)."""
    layers = []
    for module in sequential:
        if isinstance(module, minigen.nn.Linear):
            layer = torch.nn.Linear(module.in_features, module.out_features)
            layer.load_state_dict({k: torch.tensor(v.numpy()) for k, v in module.state_dict().items()})
            layers.append(layer)
        elif isinstance(module, minigen.nn.LeakyReLU):
            layers.append(torch.nn.LeakyReLU(module.negative_slope))
        else:
            same = {minigen.nn.ReLU: torch.nn.ReLU, minigen.nn.Sigmoid: torch.nn.Sigmoid}
            layers.append(same[type(module)]())
    return torch.nn.Sequential(*layers)


def test_wgan_gp_weighs_its_penalty_as_the_paper_on_images_and_the_toy_script_on_points():
    assert build(WGANGP, "image").penalty_weight == 10.0
    assert build(WGANGP, "points").penalty_weight == 0.1


class UnconditionedWGANGP(WGANGP):
    points_recipe = {**WGANGP.points_recipe, "clusters": 0}   # plain MLPs, as PyTorch's copy


def test_a_wgan_gp_generator_step_matches_pytorch():
    """One critic step and one generator step (step 4 of n_critic = 5), number for number, in
    float64. Adam's first step, lr g / (|g| + eps), turns an error δ in a gradient into up to
    lr δ / eps = 1e5 δ, all of the step where |g| is near eps: in float32 the order of the sums,
    which differs by CPU and library, decides some weights' steps."""
    pytest.importorskip("torch")
    model = to_float64(build(UnconditionedWGANGP, "points"))
    G, C = torch_copy(model.generator).double(), torch_copy(model.discriminator).double()
    opt_g = torch.optim.Adam(G.parameters(), lr=model.lr, betas=model.betas)
    opt_c = torch.optim.Adam(C.parameters(), lr=model.lr, betas=model.betas)
    real = batch_for(WGANGP, "points", size=16)[0].double()
    minigen.manual_seed(5)   # replay the draws of train_step: z, then the interpolation weights
    z = torch.tensor(minigen.randn(16, model.latent_dim).numpy()).double()
    eps = torch.tensor(minigen.rand(16, 1, dtype=real.dtype).numpy())
    minigen.manual_seed(5)
    losses = model.train_step((real,), step=4)

    x = torch.tensor(real.numpy())
    fake = G(z)
    xhat = (eps * x + (1 - eps) * fake.detach()).requires_grad_()
    g, = torch.autograd.grad(C(xhat).sum(), xhat, create_graph=True)
    penalty = ((g.norm(dim=1) - 1) ** 2).mean()
    loss_c = C(fake.detach()).mean() - C(x).mean() + model.penalty_weight * penalty
    opt_c.zero_grad()
    loss_c.backward()
    opt_c.step()
    loss_g = -C(fake).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()

    assert losses["loss_c"] == pytest.approx(loss_c.item(), rel=FLOAT64_ROUNDING)
    assert losses["penalty"] == pytest.approx(penalty.item(), rel=FLOAT64_ROUNDING)
    assert losses["loss_g"] == pytest.approx(loss_g.item(), rel=FLOAT64_ROUNDING)
    # The gradients (all within [-1, 1] here) within FLOAT64_ROUNDING, times lr / eps: 1e-5 of
    # a weight, 1 % of the step lr = 1e-3.
    atol = model.lr / 1e-8 * FLOAT64_ROUNDING
    for ours, theirs in ((model.generator, G), (model.discriminator, C)):
        reference = theirs.state_dict()
        for key, value in ours.state_dict().items():
            np.testing.assert_allclose(value.numpy(), reference[key].detach().numpy(), rtol=0,
                                       atol=atol, err_msg=key)
