"""minigen.bench: the workloads W1-W4 are the ones docs/WORKLOADS.md defines (networks,
parameter counts, data), minigen and PyTorch compute the same iteration (same losses, gradients
and updated parameters from the same weights, batch and noise), the timing command writes the
documented JSON, the profile accounts for the whole iteration and restores what it wraps, and the
benchmarks' ``--device`` option waits for the GPU's work, and says why where there is no GPU."""
import importlib
import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import minigen
from minigen import autograd, cli, nn
from minigen.backend import cpu
from minigen.backend.kernels import Kernels
from minigen.bench import harness, profile, workloads
from minigen.bench.workloads import WORKLOADS, Run

from helpers import to_float64, unit_roundoff

try:
    import torch
except ImportError:  # PyTorch is optional: the comparisons skip
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

# WORKLOADS.md's parameter counts, by workload and network ("a+b": together)
PARAMETERS = {
    "w1": {"G": 1_477_136, "D": 1_460_225},
    "w2": {"G": 1_781_889, "D": 138_817},
    "w3": {"G": 1_781_889, "C": 138_561},
    "w4": {"encoder+mu+logvar+decoder": 652_824},
}


def count(nets, names):
    return sum(p.numel() for name in names.split("+") for p in nets[name].parameters())


@pytest.mark.parametrize("key", PARAMETERS)
def test_parameter_counts_are_the_documented_ones(key):
    nets = WORKLOADS[key].networks()
    for names, expected in PARAMETERS[key].items():
        assert count(nets, names) == expected
    assert {name for names in PARAMETERS[key] for name in names.split("+")} == set(nets)


def test_batches_follow_the_documented_permutation():
    images = minigen.data.mnist.load_digits()[0]
    order = np.random.default_rng(0).permutation(5000)
    w1, w4 = WORKLOADS["w1"].batches(), WORKLOADS["w4"].batches()
    assert len(w1) == 78 and len(w4) == 39 and len(WORKLOADS["w2"].batches()) == 78
    assert w1[0].shape == (64, 784) and WORKLOADS["w3"].batches()[0].shape == (64, 1, 28, 28)
    assert all(b.dtype == np.float32 for b in w1 + w4)
    np.testing.assert_allclose(w1[1], images[order[64:128]].reshape(64, 784) / 127.5 - 1, atol=1e-6)
    np.testing.assert_allclose(w4[-1], images[order[38 * 128:39 * 128]].reshape(128, 784) / 255, atol=1e-7)


def spec(key):
    """WORKLOADS.md's networks written out in PyTorch, independently of minigen's."""
    t = torch.nn
    leaky = t.LeakyReLU(0.01)
    dcgan_g = t.Sequential(t.ConvTranspose2d(100, 256, 7, 1, 0), t.BatchNorm2d(256), t.ReLU(),
                           t.ConvTranspose2d(256, 128, 4, 2, 1), t.BatchNorm2d(128), t.ReLU(),
                           t.ConvTranspose2d(128, 1, 4, 2, 1), t.Tanh())
    return {
        "w1": {"G": t.Sequential(t.Linear(64, 256), leaky, t.Linear(256, 512), leaky,
                                 t.Linear(512, 1024), leaky, t.Linear(1024, 784), t.Tanh()),
               "D": t.Sequential(t.Linear(784, 1024), leaky, t.Linear(1024, 512), leaky,
                                 t.Linear(512, 256), leaky, t.Linear(256, 1), t.Sigmoid())},
        "w2": {"G": dcgan_g,
               "D": t.Sequential(t.Conv2d(1, 64, 4, 2, 1), t.LeakyReLU(0.2), t.Conv2d(64, 128, 4, 2, 1),
                                 t.BatchNorm2d(128), t.LeakyReLU(0.2), t.Conv2d(128, 1, 7, 1, 0),
                                 t.Sigmoid())},
        "w3": {"G": dcgan_g,
               "C": t.Sequential(t.Conv2d(1, 64, 4, 2, 1), t.LeakyReLU(0.2), t.Conv2d(64, 128, 4, 2, 1),
                                 t.LeakyReLU(0.2), t.Conv2d(128, 1, 7, 1, 0))},
        "w4": {"encoder": t.Sequential(t.Linear(784, 400), t.ReLU()), "mu": t.Linear(400, 20),
               "logvar": t.Linear(400, 20),
               "decoder": t.Sequential(t.Linear(20, 400), t.ReLU(), t.Linear(400, 784), t.Sigmoid())},
    }[key]


@requires_torch
@pytest.mark.parametrize("key", PARAMETERS)
def test_torch_twins_are_the_documented_networks_with_minigens_weights(key):
    run, expected = Run(WORKLOADS[key], torch), spec(key)
    assert ({name: str(net) for name, net in run.nets.items()}
            == {name: str(net) for name, net in expected.items()})
    mine = Run(WORKLOADS[key], minigen).state()
    theirs = run.state()
    assert mine.keys() == theirs.keys()
    for name in mine:
        np.testing.assert_array_equal(mine[name], theirs[name], err_msg=name)


def test_bench_command_times_every_workload_and_writes_the_documented_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    workloads.main(["--iters", "2", "--warmup", "0", "--block", "1", "--pause", "0", "--json", str(path)])
    table = capsys.readouterr().out
    result = json.loads(path.read_text())
    assert set(result) == {"info", "data", "rows"}
    assert {"cpu", "cores", "python", "torch"} <= set(result["info"])
    names = ["minigen", "torch"] if torch is not None else ["minigen"]
    assert [(row["key"], row["name"]) for row in result["rows"]] == [
        (key, name) for key in ("w1", "w2", "w3", "w4") for name in names]
    for row in result["rows"]:
        assert set(row) == {"key", "name", "median_ms", "min_ms", "max_ms", "n", "gflops", "flop", "gbps",
                            "extra"}
        assert row["n"] == 2 and 0 < row["min_ms"] <= row["median_ms"] <= row["max_ms"]
        assert row["flop"] == WORKLOADS[row["key"]].flop
        assert row["gflops"] == pytest.approx(row["flop"] / row["median_ms"] / 1e6)
        if row["name"] == "torch" and row["key"] != "w3":   # the counter cannot run W3's grad
            assert row["extra"]["flop_counted"] == pytest.approx(row["flop"], rel=1e-3)
    for key in WORKLOADS:
        assert key in table


def test_only_selects_workloads_and_rejects_unknown_ones(capsys):
    assert cli.main(["bench", "--only", "w4", "--iters", "1", "--warmup", "0", "--no-torch"]) == 0
    assert "w4 mlp-vae" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        workloads.main(["--only", "w5"])


# --- minigen and PyTorch compute the same iteration --------------------------------------------

def zero_gradient_parameters(run):
    """Biases of the layers followed by BatchNorm: batch normalisation removes a per-channel
    constant, so their gradient is zero and Adam's first step (lr * g / (|g| + eps)) moves them by
    an amount set by rounding noise, different in each library."""
    names = set()
    for net_name, net in run.nets.items():
        layers = list(net) if isinstance(net, torch.nn.Sequential) else [net]
        for i, (layer, after) in enumerate(zip(layers, layers[1:])):
            if isinstance(after, torch.nn.BatchNorm2d) and getattr(layer, "bias", None) is not None:
                names.add(f"{net_name}.{i}.bias")
    return names


def gradients(run):
    return {f"{name}.{key}": np.array(p.grad.numpy(), dtype=np.float64)
            for name, net in run.nets.items() for key, p in net.named_parameters() if p.grad is not None}


def in_float64(run):
    """``run`` (either library) with its networks, batches and constants in float64, in place."""
    for net in run.nets.values():
        to_float64(net) if run.lib is minigen else net.double()
    run.batches = [batch.double() for batch in run.batches]
    run.constants = {name: value.double() for name, value in run.constants.items()}
    return run


def adam_first_step_spread(g, error, lr, eps=1e-8):
    """How far apart Adam's first step, lr g / (|g| + eps), may put a weight in two runs whose
    gradients g differ by up to ``error``: its slope in g, lr eps / (|g| + eps)^2, at the
    smallest |g| within ``error`` of g."""
    return lr * error * eps / (np.maximum(np.abs(g) - error, 0) + eps) ** 2


# The iteration is compared in float64: in float32 the order of the sums (by CPU and library)
# decides the first Adam step of each weight whose gradient is near eps = 1e-8. A float64 sum of
# up to 12,544 products (W2's weight gradients) is within gamma_12544 = 1.4e-12 of the total of
# its terms; TOLERANCE, relative to a loss or to the largest gradient of a tensor, leaves a
# factor 70 for terms that cancel.
TOLERANCE = 1e-10


@requires_torch
@pytest.mark.parametrize("key", PARAMETERS)
def test_minigen_and_torch_compute_the_same_iteration(key):
    workload = WORKLOADS[key]
    ours, theirs = in_float64(Run(workload, minigen, seed=3)), in_float64(Run(workload, torch, seed=3))
    rng = np.random.default_rng(1)
    noise = [rng.random(t.shape) if key == "w3" and i == 1 else rng.standard_normal(t.shape)
             for i, t in enumerate(workload.noise(minigen))]
    before = ours.state()

    losses = ours.step(tuple(minigen.tensor(a) for a in noise))
    reference = theirs.step(tuple(torch.tensor(a) for a in noise))

    assert losses.keys() == reference.keys()
    for name in losses:
        assert losses[name] == pytest.approx(reference[name], rel=TOLERANCE), name
    skip = zero_gradient_parameters(theirs)
    assert skip == ({"G.0.bias", "G.3.bias", "D.2.bias"} if key == "w2" else
                    {"G.0.bias", "G.3.bias"} if key == "w3" else set())
    mine, expected = gradients(ours), gradients(theirs)
    assert mine.keys() == expected.keys() == {k for k in before if not k.split(".")[-1].startswith("running")
                                              and not k.endswith("num_batches_tracked")}
    gradient_error = {}
    for name in mine:
        scale = np.abs(expected[name]).max()
        if name in skip:
            network = name.split(".")[0]
            network_scale = max(np.abs(g).max() for k, g in expected.items() if k.split(".")[0] == network)
            assert np.abs(mine[name]).max() < TOLERANCE * network_scale, name
            continue
        gradient_error[name] = TOLERANCE * scale
        np.testing.assert_allclose(mine[name], expected[name], rtol=0, atol=gradient_error[name],
                                   err_msg=name)

    after, reference_after = ours.state(), theirs.state()
    lr = workload.lr
    for name in after:
        moved = np.abs(after[name] - reference_after[name])
        if name.endswith("num_batches_tracked"):   # W2's D normalises 3 batches per iteration
            assert after[name] == reference_after[name] == before[name] + (3 if name.startswith("D") else 1)
        elif "running" in name:   # batch statistics of layers whose biases differ by up to lr
            assert moved.max() <= lr, name
        elif name in skip:
            assert moved.max() <= 2 * lr * (1 + 1e-6), name
        else:   # the gradients' spread through Adam's step, and each library's rounding of
            # p - step (once) and of the step (its dozen operations, at most 16 roundings)
            rounding = 2 * unit_roundoff(np.float64) * (np.abs(reference_after[name]) + 16 * lr)
            spread = adam_first_step_spread(expected[name], gradient_error[name], lr)
            assert np.all(moved <= spread + rounding), name


# --- the profile --------------------------------------------------------------------------------

def test_profile_accounts_for_the_iteration_and_restores_everything():
    originals = (cpu._C, vars(Kernels)["gemm"], vars(autograd.Function)["apply"], nn.Linear.__call__,
                 minigen.randn, autograd._run, minigen.optim.Optimizer.step)
    result = profile.profile(WORKLOADS["w1"], iterations=1, warmup=1)
    components = result["components"]
    total = result["total_ms"]
    assert sum(ms for _, _, ms, _ in components) == pytest.approx(total, rel=1e-9)
    rest = [ms for category, _, ms, _ in components if category == "rest"]
    assert len(rest) == 1 and -1e-6 <= rest[0] < 0.5 * total
    kernels = {name: calls for category, name, _, calls in components if category == "kernel"}
    assert kernels["gemm"] >= 16 + 16   # W1: 16 Linear forwards (G once, D three times), their backwards
    assert {category for category, *_ in components} <= set(profile.CATEGORIES)
    assert result["kernel_shapes"] and result["cprofile"]
    assert (cpu._C, vars(Kernels)["gemm"], vars(autograd.Function)["apply"], nn.Linear.__call__,
            minigen.randn, autograd._run, minigen.optim.Optimizer.step) == originals
    functions = profile._subclasses(autograd.Function)
    assert not any(hasattr(getattr(cls, method), "__wrapped__")
                   for cls in functions for method in ("forward", "backward"))


def test_profile_command_prints_the_tables(capsys):
    args = ["--profile", "w4", "--profile-iters", "1"] + (["--profile-torch"] if torch is not None else [])
    assert workloads.main(args) == 0
    out = capsys.readouterr().out
    assert "w4 mlp-vae: minigen" in out and "compiled kernels (C++)" in out and "kernel gemm" in out
    assert "rest: Python between the timed calls" in out and "cProfile" in out
    if torch is not None:   # its operators' rows; which come first is up to the machine's noise
        torch_table = out.split("PyTorch, the same workload")[1]
        assert re.search(r"^aten::\w+ \d", torch_table, re.MULTILINE), torch_table


# --- the device options -------------------------------------------------------------------------

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"
requires_no_gpu = pytest.mark.skipif(minigen.cuda.is_available(), reason="a GPU is there to run on")


def test_time_call_waits_for_the_device_before_every_reading_of_the_clock():
    events = []
    timing = harness.time_call(lambda: events.append("call"), samples=3, warmup=2, min_sample_s=0,
                               sync=lambda: events.append("sync"))
    # warm-up, the call that sizes the samples' loops (one call each here), then each sample
    assert events == ["call", "call", "sync", "call", "sync"] + ["call", "sync"] * 3
    assert timing["n"] == 3


def test_synchronizer_is_none_on_the_cpu_and_the_librarys_own_on_the_gpu():
    assert harness.synchronizer(minigen, "cpu") is None
    assert harness.synchronizer(minigen, minigen.backend.CPU) is None
    assert harness.synchronizer(minigen, "cuda") is minigen.cuda.synchronize
    if torch is not None:
        assert harness.synchronizer(torch, "cpu") is None
        assert harness.synchronizer(torch, "cuda") is torch.cuda.synchronize


def test_machine_names_the_gpu_only_for_a_gpu_run():
    cpu_info = {"cpu", "cores", "cpu_isa", "python", "torch"}
    assert set(harness.machine()) == cpu_info and harness.machine()["cpu_isa"] == minigen.cpu_isa()
    info = harness.machine("cuda")
    assert set(info) == cpu_info | {"device", "gpu"} and info["device"] == "cuda"


def tf32_settings():
    """minigen's TF32 setting, then PyTorch's two (matmul, cuDNN) where it is installed."""
    torch_flags = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) if torch else ()
    return (minigen.backend.cuda.allow_tf32, *torch_flags)


def test_precision_sets_both_libraries_and_restores_them():
    before = tf32_settings()
    for tf32 in (True, False):
        with harness.precision(tf32):
            assert set(tf32_settings()) == {tf32}
        assert tf32_settings() == before


@requires_no_gpu
@pytest.mark.parametrize("command", [["benchmarks/ops.py"], ["benchmarks/conv.py", "--no-ref"],
                                     ["benchmarks/gemm.py", "--rounds", "1"], ["benchmarks/workloads.py"],
                                     ["-m", "minigen", "bench"]])
def test_device_cuda_without_a_gpu_exits_saying_why(command, tmp_path):
    script = [str(BENCHMARKS.parent / command[0])] if command[0].endswith(".py") else command[:1]
    # run from elsewhere: from the checkout, -m minigen would import its uncompiled sources, not
    # the installed package
    result = subprocess.run([sys.executable, *script, *command[1:], "--device", "cuda"], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == ("--device cuda: minigen cannot use the GPU: "
                                     + minigen.cuda.unavailable_reason())
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_check_device_names_the_gpu_and_leaves_out_a_pytorch_without_cuda(monkeypatch, capsys):
    monkeypatch.setattr(minigen.cuda, "is_available", lambda: True)
    monkeypatch.setattr(harness, "gpu", lambda: {"name": "Fake GPU", "sms": 1})
    if torch is not None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert harness.check_device("cuda", tf32=True) is False
    out = capsys.readouterr().out
    assert out.startswith("GPU: name Fake GPU, sms 1; float32 products: TF32 in both libraries\n")
    assert ("has no CUDA here: minigen rows only" in out) == (torch is not None)
    assert harness.check_device("cpu") is (torch is not None) and capsys.readouterr().out == ""


def test_tf32_and_the_profile_refuse_a_device_they_do_not_apply_to():
    with pytest.raises(SystemExit, match="--tf32 is for --device cuda"):
        workloads.main(["--tf32", "--only", "w4"])
    with pytest.raises(SystemExit, match="--profile instruments minigen's CPU kernels"):
        workloads.main(["--profile", "w4", "--device", "cuda"])


@pytest.mark.parametrize("lib", [minigen] + ([torch] if torch is not None else []))
def test_a_run_on_the_cpu_is_the_default_run(lib):
    """``device="cpu"`` builds everything on the CPU and computes what a Run without it does."""
    workload = WORKLOADS["w1"]
    default, on_cpu = Run(workload, lib, seed=5), Run(workload, lib, seed=5, device="cpu")
    tensors = ([p for net in on_cpu.nets.values() for p in net.parameters()] + on_cpu.batches
               + list(on_cpu.constants.values()) + list(workload.noise(lib, "cpu")))
    assert {str(t.device) for t in tensors} == {"cpu"}
    for name, value in default.state().items():
        np.testing.assert_array_equal(on_cpu.state()[name], value, err_msg=name)
    lib.manual_seed(7)
    expected = [default.step() for _ in range(2)]
    lib.manual_seed(7)
    assert [on_cpu.step() for _ in range(2)] == expected


def test_gemm_benchmark_leaves_out_what_this_cpu_cannot_run(monkeypatch):
    """OpenBLAS forced to its AVX-512 kernel stops on an illegal instruction where there is no
    AVX-512: benchmarks/gemm.py leaves it out there, saying why, and so any worker that dies."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    gemm = importlib.import_module("gemm")
    monkeypatch.setattr(gemm, "vector_lanes", lambda: 8)  # an AVX2-only CPU
    libs, left_out = gemm.libraries("cpu", torch_runs=True)
    assert libs == ["minigen", "numpy", "torch"]
    assert left_out == {"numpy_skx": "OPENBLAS_CORETYPE=SKYLAKEX needs AVX-512, which this CPU lacks"}
    monkeypatch.setattr(gemm, "vector_lanes", lambda: 16)
    assert gemm.libraries("cpu", torch_runs=False) == (["minigen", "numpy", "numpy_skx"], {})
    # a worker that exits before its first line (here argparse refuses the device)
    assert gemm.start_worker("numpy", 1, "tpu", tf32=False) == (
        None, "its worker exited with status 2 before it started")
