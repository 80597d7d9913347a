"""The examples run as a user would run them, and do what they say."""
import pathlib
import subprocess
import sys

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
