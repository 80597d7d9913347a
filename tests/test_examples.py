"""The examples run as a user would run them, and do what they say."""
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *args):
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                            text=True, timeout=300, check=True)
    return result.stdout


def test_fit_toy_mlp_learns_the_rings():
    lines = run_example("fit_toy_mlp.py", "--steps", "300").splitlines()
    losses = [float(line.split()[-1]) for line in lines if line.startswith("step")]
    assert losses[-1] < 0.5 * losses[0]
    assert float(lines[-1].split()[-1]) > 0.95


@pytest.mark.parametrize("script, steps, says", [
    ("gan.py", 5, "samples drawn in"),
    ("dcgan.py", 2, "64 generated digits in"),
    ("wgan.py", 6, "samples drawn in"),
    ("wgan_gp.py", 6, "high_quality"),
    ("cgan.py", 2, "one row per class"),
    ("vae.py", 2, "held-out negative ELBO"),
])
def test_each_model_example_runs_a_few_steps(tmp_path, script, steps, says):
    out = tmp_path / "picture.png"
    printed = run_example(script, "--steps", str(steps), "--out", str(out))
    assert says in printed
    assert out.stat().st_size > 0


def test_the_autoencoder_example_runs_every_autoencoder(tmp_path):
    printed = run_example("autoencoders.py", "--steps", "2", "--out-prefix", str(tmp_path / "ae-"))
    for name in ("ae", "conv-ae", "dae", "sparse-ae"):
        assert f"{name} " in printed and (tmp_path / f"ae-{name}.png").stat().st_size > 0
