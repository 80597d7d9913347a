"""docs/WORKLOADS.md's training workloads, minigen beside PyTorch in one process.

  w1 mlp-gan      MLP GAN, B 64, BCE, Adam(2e-4, (0.5, 0.999))
  w2 dcgan-28     DCGAN with BatchNorm, B 64, BCE, Adam(2e-4, (0.5, 0.999))
  w3 wgan-gp-28   W2's generator, a critic without BatchNorm, gradient penalty (double backward),
                  Adam(1e-4, (0.0, 0.9))
  w4 mlp-vae      MLP VAE, B 128, summed BCE + KL, Adam(1e-3)

A workload is written once for both libraries: minigen mirrors PyTorch's names (``nn``,
``optim.Adam``, ``nn.functional``, ``autograd.grad``, ``randn``), so an iteration is one function
of ``run.lib``. The networks are minigen's (``minigen.models.networks``, parameter counts checked
against WORKLOADS.md); PyTorch's are built from them layer by layer (``twin``) with the same
settings and the same initial weights, so with the same batch and noise both compute the same
numbers (tests/test_bench.py holds them to it). The one place the APIs differ is W3's penalty:
minigen has a fused ``F.gradient_penalty``, PyTorch composes it from ``norm``.

Timing (WORKLOADS.md's protocol): per workload and library 2 untimed iterations (PyTorch's second
under its FLOP counter, which checks the documented FLOP count), 10 warm-up iterations, then 100
timed iterations (W3: 60), each timed alone with ``perf_counter``. The two libraries take turns in
blocks of ``--block`` iterations (a short pause at each switch lets the other's threads go idle),
so both see the same state of the machine. Noise is drawn inside the timed iteration, which ends
with the losses' ``.item()``. GFLOP/s use WORKLOADS.md's FLOP counts.

With ``--device cuda`` both libraries build their networks, batches, constants and noise on the
GPU; the ``.item()`` that ends an iteration waits for its kernels, so each is timed whole.
Both compute in IEEE float32 unless ``--tf32`` (PyTorch's cuDNN default of TF32 is turned off).

    minigen bench [--only w1,w3] [--iters N] [--warmup N] [--threads 2] [--json FILE]
    minigen bench --device cuda [--tf32]   # on the GPU: minigen's CUDA kernels, cuBLAS and cuDNN
    minigen bench --profile w2,w3          # where minigen's time goes (minigen.bench.profile)
    python benchmarks/workloads.py ...     # the same
"""
import argparse
import functools
import time

import numpy as np

import minigen
from minigen.data.mnist import load_digits
from minigen.models import networks
from minigen.models.base import frozen

from . import WORKLOAD_KEYS, add_arguments
from .harness import check_device, precision, summary, torch, write_json

SAMPLES = 5000          # the shipped digits
PERMUTATION_SEED = 0    # np.random.default_rng(0).permutation(5000)


# --- data ----------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def batch_arrays(batch_size, divisor, offset, sample_shape):
    """WORKLOADS.md's batches as float32 arrays: pixels / divisor + offset, rows in the order of
    ``default_rng(0).permutation(5000)``, cut into floor(5000 / batch_size) full batches."""
    images = load_digits()[0]
    x = (images.astype(np.float32) / np.float32(divisor) + np.float32(offset)).reshape(SAMPLES, *sample_shape)
    order = np.random.default_rng(PERMUTATION_SEED).permutation(SAMPLES)
    batches = tuple(np.ascontiguousarray(x[order[i * batch_size:(i + 1) * batch_size]])
                    for i in range(SAMPLES // batch_size))
    for batch in batches:
        batch.flags.writeable = False
    return batches


# --- PyTorch twins of minigen's networks ---------------------------------------------------------

# The constructor arguments of each layer the workloads use; minigen keeps each under its
# PyTorch name. The layers with weights also get bias=True/False.
TWIN_SETTINGS = {
    "Linear": ("in_features", "out_features"),
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups"),
    "ConvTranspose2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                        "output_padding", "groups", "dilation"),
    "BatchNorm2d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "LeakyReLU": ("negative_slope",),
    "ReLU": (), "Tanh": (), "Sigmoid": (),
}


def twin(module):
    """The PyTorch module with the same layers, settings, parameters and buffers as the minigen
    ``module`` (a Sequential of the layers in TWIN_SETTINGS)."""
    if isinstance(module, minigen.nn.Sequential):
        return torch.nn.Sequential(*(twin(layer) for layer in module))
    layer = type(module).__name__
    kwargs = {name: getattr(module, name) for name in TWIN_SETTINGS[layer]}
    if layer in ("Linear", "Conv2d", "ConvTranspose2d"):
        kwargs["bias"] = module.bias is not None
    copy = getattr(torch.nn, layer)(**kwargs)
    copy_state(module, copy)
    return copy


def copy_state(source, target):
    """Copy every parameter and buffer of ``source`` into ``target`` (either library's modules,
    the same keys and shapes) in place."""
    lib = minigen if isinstance(target, minigen.nn.Module) else torch
    target.load_state_dict({key: lib.tensor(np.array(value.detach().cpu().numpy()))
                            for key, value in source.state_dict().items()})


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


# --- the workloads ------------------------------------------------------------------------------

class Workload:
    """One of WORKLOADS.md's training workloads: its networks, data, noise and iteration.

    ``networks`` returns minigen modules by name; ``optimized`` says which networks each Adam
    optimises; ``iteration`` is one training iteration on ``run`` (either library) given the
    batch and the noise, returning the loss tensors.
    """

    key = title = None
    batch_size = 64
    pixels = (127.5, -1.0)            # x = pixels / 127.5 - 1: [-1, 1] for the GANs
    sample_shape = (1, 28, 28)
    lr, betas = 2e-4, (0.5, 0.999)
    optimized = {"G": ("G",), "D": ("D",)}
    parameter_counts = {}             # WORKLOADS.md's, by network ("a+b": of a and b together)
    flop = None                       # WORKLOADS.md's FLOP count of one iteration
    iterations = 100                  # timed iterations

    def networks(self):
        raise NotImplementedError

    def noise(self, lib, device="cpu"):
        """The random inputs of one iteration on ``device``, drawn from ``lib``'s generator."""
        raise NotImplementedError

    def iteration(self, run, real, noise):
        raise NotImplementedError

    def constants(self, lib, device="cpu"):
        """Tensors every iteration uses (the GANs' labels), made once on ``device``."""
        return {}

    def batches(self):
        return batch_arrays(self.batch_size, *self.pixels, self.sample_shape)


class GAN(Workload):
    """W1 and W2's iteration: one G forward, a D step on real and fake.detach() (two D forwards),
    then a G step through D (frozen, D already updated) with the non-saturating loss."""

    def constants(self, lib, device="cpu"):
        return {"ones": lib.ones(self.batch_size, device=device),
                "zeros": lib.zeros(self.batch_size, device=device)}

    def iteration(self, run, real, noise):
        (z,), F, c = noise, run.lib.nn.functional, run.constants
        G, D = run.nets["G"], run.nets["D"]
        fake = G(z)
        run.optimizers["D"].zero_grad(set_to_none=True)
        loss_d = (F.binary_cross_entropy(D(real).flatten(), c["ones"])
                  + F.binary_cross_entropy(D(fake.detach()).flatten(), c["zeros"]))
        loss_d.backward()
        run.optimizers["D"].step()
        run.optimizers["G"].zero_grad(set_to_none=True)
        with frozen(D):   # no dW for D; gradients flow through it to G
            loss_g = F.binary_cross_entropy(D(fake).flatten(), c["ones"])
            loss_g.backward()
        run.optimizers["G"].step()
        return {"loss_d": loss_d, "loss_g": loss_g}


class MlpGAN(GAN):
    key, title = "w1", "mlp-gan"
    sample_shape = (784,)
    latent = 64
    parameter_counts = {"G": 1_477_136, "D": 1_460_225}
    flop = 1.852e9

    def networks(self):
        nn = minigen.nn
        leaky = functools.partial(nn.LeakyReLU, 0.01)
        return {"G": networks.mlp([self.latent, 256, 512, 1024, 784], leaky, nn.Tanh()),
                "D": networks.mlp([784, 1024, 512, 256, 1], leaky, nn.Sigmoid())}

    def noise(self, lib, device="cpu"):
        return (lib.randn(self.batch_size, self.latent, device=device),)


class DCGAN(GAN):
    key, title = "w2", "dcgan-28"
    latent = 100
    parameter_counts = {"G": 1_781_889, "D": 138_817}
    flop = 17.078e9

    def networks(self):
        return {"G": networks.dcgan_generator(self.latent), "D": networks.dcgan_discriminator()}

    def noise(self, lib, device="cpu"):
        return (lib.randn(self.batch_size, self.latent, 1, 1, device=device),)


def gradient_penalty(lib, g):
    """mean_i (||g_i||_2 - 1)^2: minigen's fused op, PyTorch composed from norm."""
    if lib is minigen:
        return minigen.nn.functional.gradient_penalty(g)
    return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()


class WGANGP(Workload):
    """W3: W2's generator, a critic without BatchNorm or Sigmoid, the gradient penalty at random
    interpolates (a gradient with create_graph=True, differentiated again), n_critic = 1."""

    key, title = "w3", "wgan-gp-28"
    latent, penalty_weight = 100, 10.0
    lr, betas = 1e-4, (0.0, 0.9)
    optimized = {"G": ("G",), "C": ("C",)}
    parameter_counts = {"G": 1_781_889, "C": 138_561}
    flop = 22.167e9
    iterations = 60

    def networks(self):
        return {"G": networks.dcgan_generator(self.latent),
                "C": networks.dcgan_discriminator(batch_norm=False, sigmoid=False)}

    def noise(self, lib, device="cpu"):
        return (lib.randn(self.batch_size, self.latent, 1, 1, device=device),
                lib.rand(self.batch_size, 1, 1, 1, device=device))

    def iteration(self, run, real, noise):
        (z, eps), lib = noise, run.lib
        G, C = run.nets["G"], run.nets["C"]

        def critic(x):
            return C(x).flatten()

        fake = G(z)
        run.optimizers["C"].zero_grad(set_to_none=True)
        fd = fake.detach()
        xhat = (eps * real + (1 - eps) * fd).requires_grad_()
        g, = lib.autograd.grad(critic(xhat).sum(), xhat, create_graph=True)
        gp = gradient_penalty(lib, g)
        loss_c = critic(fd).mean() - critic(real).mean() + self.penalty_weight * gp
        loss_c.backward()     # through the penalty's graph: the double backward
        run.optimizers["C"].step()
        run.optimizers["G"].zero_grad(set_to_none=True)
        with frozen(C):
            loss_g = -critic(fake).mean()
            loss_g.backward()
        run.optimizers["G"].step()
        return {"loss_c": loss_c, "gp": gp, "loss_g": loss_g}


class MlpVAE(Workload):
    """W4: encoder 784-400 (ReLU) with separate mu and logvar layers (400-20), reparameterised
    code, decoder 20-400-784 (ReLU, Sigmoid); loss summed over the batch: BCE + KL."""

    key, title = "w4", "mlp-vae"
    batch_size = 128
    pixels = (255.0, 0.0)             # x = pixels / 255: [0, 1]
    sample_shape = (784,)
    latent, hidden = 20, 400
    lr, betas = 1e-3, (0.9, 0.999)
    optimized = {"model": ("encoder", "mu", "logvar", "decoder")}
    parameter_counts = {"encoder+mu+logvar+decoder": 652_824}
    flop = 0.420e9

    def networks(self):
        nn = minigen.nn
        return {"encoder": networks.mlp([784, self.hidden], nn.ReLU, nn.ReLU()),
                "mu": nn.Linear(self.hidden, self.latent),
                "logvar": nn.Linear(self.hidden, self.latent),
                "decoder": networks.mlp([self.latent, self.hidden, 784], nn.ReLU, nn.Sigmoid())}

    def noise(self, lib, device="cpu"):
        return (lib.randn(self.batch_size, self.latent, device=device),)

    def iteration(self, run, x, noise):
        (eps,), F, nets = noise, run.lib.nn.functional, run.nets
        run.optimizers["model"].zero_grad(set_to_none=True)
        h = nets["encoder"](x)
        mu, logvar = nets["mu"](h), nets["logvar"](h)
        z = mu + eps * (0.5 * logvar).exp()
        recon = F.binary_cross_entropy(nets["decoder"](z), x, reduction="sum")
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum()
        loss = recon + kl
        loss.backward()
        run.optimizers["model"].step()
        return {"loss": loss}


WORKLOADS = {w.key: w for w in (MlpGAN(), DCGAN(), WGANGP(), MlpVAE())}
assert tuple(WORKLOADS) == WORKLOAD_KEYS


# --- one workload in one library -----------------------------------------------------------------

class Run:
    """A workload built in ``lib`` (minigen or torch) on ``device``: networks, Adam optimisers, the
    preloaded batches (cycled in order) and the constants. The networks are minigen's, initialised
    from ``seed`` on the CPU; PyTorch gets twins with the same weights; then both move to
    ``device``. ``lib``'s generator is seeded too."""

    def __init__(self, workload, lib, seed=0, device="cpu"):
        self.workload, self.lib, self.device = workload, lib, device
        minigen.manual_seed(seed)
        nets = workload.networks()
        for names, count in workload.parameter_counts.items():
            found = sum(parameter_count(nets[name]) for name in names.split("+"))
            if found != count:
                raise AssertionError(f"{workload.key} {names}: {found} parameters, WORKLOADS.md says {count}")
        self.nets = nets if lib is minigen else {name: twin(net) for name, net in nets.items()}
        for net in self.nets.values():
            net.to(device)   # in place in both libraries, before the optimisers take the parameters
        lib.manual_seed(seed)
        self.optimizers = {
            name: lib.optim.Adam([p for net in members for p in self.nets[net].parameters()],
                                 lr=workload.lr, betas=workload.betas)
            for name, members in workload.optimized.items()}
        self.batches = [lib.tensor(batch, device=device) for batch in workload.batches()]
        self.constants = workload.constants(lib, device)
        self.position = 0

    @property
    def name(self):
        return "minigen" if self.lib is minigen else "torch"

    def next_batch(self):
        batch = self.batches[self.position]
        self.position = (self.position + 1) % len(self.batches)
        return batch

    def step(self, noise=None):
        """One timed iteration: the next batch, fresh noise (unless given), the iteration, and
        the losses as Python floats (the host sync)."""
        real = self.next_batch()
        noise = self.workload.noise(self.lib, self.device) if noise is None else noise
        losses = self.workload.iteration(self, real, noise)
        return {name: value.item() for name, value in losses.items()}

    def load_weights(self, other):
        """Take the parameters and buffers of ``other`` (a Run of the same workload, either library)."""
        for name, net in self.nets.items():
            copy_state(other.nets[name], net)

    def state(self):
        """Every parameter and buffer as a NumPy array, by "network.key"."""
        return {f"{name}.{key}": np.array(value.detach().cpu().numpy())
                for name, net in self.nets.items() for key, value in net.state_dict().items()}


# --- timing ------------------------------------------------------------------------------------

def libraries(use_torch=True):
    return [minigen] + ([torch] if use_torch and torch is not None else [])


def step_counting_flop(run):
    """One untimed iteration; PyTorch's under its FLOP counter, whose count is returned (None for
    minigen, which has no counter)."""
    if run.lib is minigen:
        run.step()
        return None
    from torch.utils.flop_counter import FlopCounterMode
    try:
        with FlopCounterMode(display=False) as counter:
            run.step()
    except RuntimeError:   # its module hooks refuse autograd.grad of a leaf (W3's penalty)
        run.step()
        return None
    return counter.get_total_flops()


def time_steps(run, count):
    """``count`` iterations, each timed alone: their times in seconds."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        run.step()
        times.append(time.perf_counter() - start)
    return times


def measure(workload, libs, iterations=None, warmup=10, block=10, pause=0.2, seed=0, device="cpu"):
    """Time ``workload`` in each of ``libs`` on ``device``, taking turns in blocks; one row per library."""
    runs = [Run(workload, lib, seed, device) for lib in libs]
    iterations = workload.iterations if iterations is None else iterations
    flop = {}
    for run in runs:   # the two untimed calls
        run.step()
        flop[run.name] = step_counting_flop(run)
    times = {run.name: [] for run in runs}
    for phase, count in (("warm-up", warmup), ("timed", iterations)):
        done = 0
        while done < count:
            n = min(block, count - done)
            for run in runs:
                if len(runs) > 1:
                    time.sleep(pause)   # the other library's threads stop spinning
                spent = time_steps(run, n)
                if phase == "timed":
                    times[run.name] += spent
            done += n
    rows = []
    for run in runs:
        timing = summary(times[run.name])
        extra = {"title": workload.title, "batch_size": workload.batch_size, "block": block}
        if flop[run.name] is not None:
            extra["flop_counted"] = flop[run.name]
        rows.append({"key": workload.key, "name": run.name, **timing,
                     "gflops": workload.flop / (timing["median_ms"] / 1e3) / 1e9,
                     "flop": workload.flop, "gbps": None, "extra": extra})
    return rows


def print_table(rows):
    """Side by side: median (min-max) per library, their ratio, GFLOP/s."""
    by_key = {}
    for row in rows:
        by_key.setdefault(row["key"], {})[row["name"]] = row
    print(f"{'workload':15s} {'minigen ms (min-max)':>24s} {'torch ms (min-max)':>24s} {'ratio':>6s} "
          f"{'GFLOP/s mg':>10s} {'torch':>7s}")

    def cell(row):
        return f"{row['median_ms']:8.2f} ({row['min_ms']:.1f}-{row['max_ms']:.1f})" if row else "-"

    for key, pair in by_key.items():
        ours, theirs = pair.get("minigen"), pair.get("torch")
        title = (ours or theirs)["extra"]["title"]
        ratio = f"{ours['median_ms'] / theirs['median_ms']:6.2f}" if ours and theirs else "     -"
        print(f"{key + ' ' + title:15s} {cell(ours):>24s} {cell(theirs):>24s} {ratio} "
              f"{ours['gflops'] if ours else float('nan'):10.1f} "
              f"{theirs['gflops'] if theirs else float('nan'):7.1f}")
    print("ratio = minigen median / PyTorch median (< 1: minigen is faster)")


def check_flop(rows):
    """Warn where PyTorch's FLOP counter disagrees with WORKLOADS.md's count by more than 1 %."""
    for row in rows:
        counted = row["extra"].get("flop_counted")
        if counted is not None and abs(counted - row["flop"]) > 0.01 * row["flop"]:
            print(f"note: {row['key']}: PyTorch counted {counted / 1e9:.3f} GFLOP, "
                  f"WORKLOADS.md says {row['flop'] / 1e9:.3f}")


# --- command line --------------------------------------------------------------------------------

def set_threads(threads):
    minigen.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)


def run_command(args):
    """Run what ``args`` (from ``minigen.bench.add_arguments``) ask for; returns 0."""
    if args.profile and args.device != "cpu":
        raise SystemExit("--profile instruments minigen's CPU kernels: run it without --device")
    torch_runs = check_device(args.device, args.tf32)
    set_threads(args.threads)
    if args.profile:
        from . import profile
        with_torch = args.profile_torch and torch is not None and not args.no_torch
        for key in args.profile:
            profile.report(WORKLOADS[key], args.profile_iters, args.seed, with_torch)
        return 0
    if torch is None and not args.no_torch:
        print("note: PyTorch is not installed: minigen rows only")
    libs = libraries(torch_runs and not args.no_torch)
    rows = []
    with precision(args.tf32):
        for key in args.only:
            rows += measure(WORKLOADS[key], libs, args.iters, args.warmup, args.block, args.pause, args.seed,
                            args.device)
    print(f"threads {args.threads}; {args.warmup} warm-up iterations, then timed iterations each alone, "
          f"libraries alternating every {args.block}")
    print_table(rows)
    check_flop(rows)
    if args.json:
        iters = args.iters if args.iters is not None else "100 (w3 60)"
        write_json(args.json, rows, data=f"threads={args.threads}; mnist_5k digits, permutation "
                   f"default_rng(0); warmup={args.warmup}; iters={iters}; block={args.block}",
                   device=args.device)
    return 0


def main(argv=None):
    """``minigen bench`` as a function: parse ``argv`` (default: sys.argv) and run; returns 0."""
    parser = add_arguments(argparse.ArgumentParser(
        prog="minigen bench", description="WORKLOADS.md's training workloads W1-W4: minigen beside PyTorch"))
    return run_command(parser.parse_args(argv))
