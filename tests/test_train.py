"""The trainer and the command line: outputs, exact resume, stops, bad checkpoints, bad names."""
import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from PIL import Image

from minigen import checkpoint, plots
from minigen.checkpoint import CheckpointError
from minigen.cli import main
from minigen.models import GAN, MODELS
from minigen.train import TrainConfig, TrainingDiverged, load_run, train


def config(tmp_path, name="run", model="gan", **overrides):
    settings = dict(data="ring8", steps=12, batch_size=32, sample_every=4, checkpoint_every=4,
                    out=str(tmp_path / name))
    return TrainConfig(model, **{**settings, **overrides})


def parameters(run_dir):
    return checkpoint.load(os.path.join(run_dir, "checkpoint.npz"))


def assert_same_state(a, b):
    """Two checkpoints hold bit-identical weights, optimiser states, generator and history."""
    assert a["step"] == b["step"] and a["rng"] == b["rng"]
    for key in a["model"]:
        np.testing.assert_array_equal(a["model"][key].numpy(), b["model"][key].numpy(), err_msg=key)
    for name, optimizer in a["optimizers"].items():
        for index, state in optimizer["state"].items():
            for key, value in state.items():
                other = b["optimizers"][name]["state"][index][key]
                np.testing.assert_array_equal(np.asarray(value), np.asarray(other), err_msg=key)
    for name in a["history"]:
        np.testing.assert_array_equal(a["history"][name].numpy(), b["history"][name].numpy())


def test_a_run_writes_pictures_curves_metrics_and_a_checkpoint(tmp_path):
    metrics = train(config(tmp_path), progress=False)
    run = tmp_path / "run"
    for name in ("samples.png", "samples/step_000004.png", "samples/step_000012.png", "losses.png",
                 "metrics.json", "checkpoint.npz"):
        assert (run / name).stat().st_size > 0, name
    assert json.loads((run / "metrics.json").read_text()) == metrics
    assert metrics["steps"] == 12 and set(metrics["final_losses"]) == {"loss_d", "loss_g"}
    toy = metrics["toy"]
    assert set(toy) == {"high_quality", "modes", "modes_1pct", "reverse_kl"}
    assert all(math.isfinite(value["mean"]) and value["stderr"] >= 0 for value in toy.values())
    assert not [f for f in os.listdir(run) if f.endswith(".tmp")]


def gif_frames(path):
    with Image.open(path) as animation:
        assert animation.format == "GIF"
        frames = []
        for index in range(animation.n_frames):
            animation.seek(index)
            frames.append(np.asarray(animation.convert("RGB")))
        return frames


@pytest.mark.parametrize("model, data", [("gan", "ring8"), ("dcgan", "digits")])
def test_a_run_animates_its_samples_one_frame_per_picture(tmp_path, model, data):
    train(config(tmp_path, model=model, data=data, steps=10), progress=False)
    run = tmp_path / "run"
    frames = gif_frames(run / "samples.gif")
    assert len(frames) == 3   # steps 4 and 8, then the final samples.png (step 10)
    with Image.open(run / "samples.png") as last:   # the last frame is samples.png, up to GIF's 256 colours
        difference = np.abs(frames[-1][:last.height, :last.width].astype(int) - np.asarray(last.convert("RGB")))
    assert difference.mean() < 0.5
    assert (run / "density.png").exists() == (data == "ring8")


def test_the_animation_of_a_resumed_run_continues_it(tmp_path):
    """A run extended by a resume (wgan: no learning-rate decay) animates as one longer run."""
    train(config(tmp_path, model="wgan", steps=6), progress=False)
    (tmp_path / "run" / "samples" / "step_000012.png").write_bytes(b"left by a run that was never checkpointed")
    train(config(tmp_path, model="wgan", steps=12), resume=True, progress=False)
    frames = gif_frames(tmp_path / "run" / "samples.gif")
    assert len(frames) == 3   # steps 4 and 8 (written before and after the resume), then step 12
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir()) == [
        "step_000004.png", "step_000008.png", "step_000012.png"]   # the stale step 12 redrawn
    train(config(tmp_path, "whole", model="wgan", steps=12), progress=False)
    np.testing.assert_array_equal(frames[1], gif_frames(tmp_path / "whole" / "samples.gif")[1])


def test_the_density_picture_is_drawn_from_many_samples_with_the_modes_marked(tmp_path, monkeypatch):
    drawn = {}
    monkeypatch.setattr(plots, "save_density", lambda points, path, title, modes, limits:
                        drawn.update(points=points, modes=modes, limits=limits))
    train(config(tmp_path, steps=2), progress=False)
    assert drawn["points"].shape == (100_000, 2) and drawn["modes"].shape == (8, 2)
    low, high = drawn["limits"]
    assert low < drawn["modes"].min() and drawn["modes"].max() < high


def interrupt_at(monkeypatch, step):
    """Make every model's train_step receive a Ctrl-C (SIGINT) during step ``step``."""
    for model_class in MODELS.values():
        if "train_step" not in vars(model_class):   # inherited: patched with its base class
            continue
        original = model_class.train_step

        def interrupted(self, batch, current, original=original):
            if current == step:
                os.kill(os.getpid(), signal.SIGINT)
            return original(self, batch, current)

        monkeypatch.setattr(model_class, "train_step", interrupted)


@pytest.mark.parametrize("model, data, steps, split", [("gan", "ring8", 12, 5), ("dcgan", "digits", 4, 1),
                                                       ("wgan-gp", "ring8", 12, 6)])
def test_ctrl_c_stops_after_the_step_with_a_checkpoint_and_the_run_resumes_exactly(
        tmp_path, monkeypatch, model, data, steps, split):
    train(config(tmp_path, "whole", model=model, data=data, steps=steps), progress=False)
    handler = signal.getsignal(signal.SIGINT)
    interrupt_at(monkeypatch, split)
    assert train(config(tmp_path, "parts", model=model, data=data, steps=steps), progress=False) is None
    monkeypatch.undo()
    assert parameters(tmp_path / "parts")["step"] == split + 1   # the step under way was finished
    assert signal.getsignal(signal.SIGINT) == handler
    train(config(tmp_path, "parts", model=model, data=data, steps=steps), resume=True, progress=False)
    assert_same_state(parameters(tmp_path / "whole"), parameters(tmp_path / "parts"))


def test_a_run_resumed_with_more_steps_ends_where_a_longer_run_does(tmp_path):
    """Without learning-rate decay (whose schedule depends on the total) a run can be extended:
    wgan on the toys keeps its rate."""
    train(config(tmp_path, "whole", model="wgan", steps=12), progress=False)
    train(config(tmp_path, "parts", model="wgan", steps=5), progress=False)
    train(config(tmp_path, "parts", model="wgan", steps=12), resume=True, progress=False)
    assert_same_state(parameters(tmp_path / "whole"), parameters(tmp_path / "parts"))


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    original = GAN.train_step

    def diverging_at_step_9(self, batch, step):
        losses = original(self, batch, step)
        return {**losses, "loss_d": math.nan} if step == 9 else losses

    monkeypatch.setattr(GAN, "train_step", diverging_at_step_9)
    with pytest.raises(TrainingDiverged, match="loss_d became nan at step 9"):
        train(config(tmp_path), progress=False)
    saved = parameters(tmp_path / "run")
    assert saved["step"] == 8
    assert all(np.isfinite(v.numpy()).all() for v in saved["model"].values())


def test_resume_refuses_a_different_run_definition(tmp_path):
    train(config(tmp_path, steps=4), progress=False)
    with pytest.raises(CheckpointError, match="different model 'wgan-gp'"):
        train(config(tmp_path, model="wgan-gp", steps=8), resume=True, progress=False)
    with pytest.raises(CheckpointError, match="different batch_size 16"):
        train(config(tmp_path, steps=8, batch_size=16), resume=True, progress=False)
    with pytest.raises(FileExistsError, match="pass --resume"):
        train(config(tmp_path, steps=8), progress=False)
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train(config(tmp_path, "elsewhere", steps=8), resume=True, progress=False)


def test_a_checkpoint_of_another_model_names_the_mismatch(tmp_path):
    train(config(tmp_path, "gan", steps=4), progress=False)
    train(config(tmp_path, "wgan", model="wgan", steps=4), progress=False)
    path = tmp_path / "gan" / "checkpoint.npz"
    state = checkpoint.load(path)
    own = dict(state["model"])
    state["model"] = checkpoint.load(tmp_path / "wgan" / "checkpoint.npz")["model"]
    del state["model"]["generator.0.weight"]
    checkpoint.save(path, state)
    with pytest.raises(CheckpointError, match="does not fit gan: .*missing keys.*generator.0.weight"):
        load_run(path)
    state["model"] = {**own, "generator.0.weight": np.zeros((3, 3))}
    checkpoint.save(path, state)
    with pytest.raises(CheckpointError, match="generator.0.weight has shape"):
        load_run(path)


def test_truncated_checkpoints_are_reported_by_the_command_line(tmp_path, capsys):
    train(config(tmp_path, steps=4), progress=False)
    path = tmp_path / "run" / "checkpoint.npz"
    path.write_bytes(path.read_bytes()[:1000])
    assert main(["sample", str(path)]) == 1
    assert "truncated or corrupt" in capsys.readouterr().err


def test_unknown_and_unfit_names_list_the_valid_ones(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "nope"])
    error = capsys.readouterr().err
    assert "invalid choice: 'nope'" in error and all(f"'{name}'" in error for name in MODELS)
    assert main(["train", "gan", "--data", "nope", "--out", str(tmp_path / "x")]) == 1
    assert "valid names: digits, mnist, ring8" in capsys.readouterr().err
    assert main(["train", "dcgan", "--data", "ring8", "--out", str(tmp_path / "y")]) == 1
    assert "dcgan does not train on ring8 (points data)" in capsys.readouterr().err


def test_the_command_line_trains_samples_interpolates_and_lists(tmp_path, capsys):
    out = tmp_path / "cgan"
    assert main(["train", "cgan", "--steps", "3", "--batch-size", "16", "--out", str(out), "--quiet"]) == 0
    assert "3 steps" in capsys.readouterr().out
    assert main(["sample", str(out / "checkpoint.npz"), "--count", "20"]) == 0
    assert main(["interpolate", str(out / "checkpoint.npz"), "--rows", "3", "--columns", "5"]) == 0
    assert (out / "sampled.png").stat().st_size > 0 and (out / "interpolation.png").stat().st_size > 0
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    for name in ("gan", "dcgan", "wgan", "wgan-gp", "cgan", "digits", "ring8", "grid25", "moons"):
        assert name in listing


def test_eval_prints_and_writes_the_figures_the_run_recorded(tmp_path, capsys):
    out = tmp_path / "cgan"
    assert main(["train", "cgan", "--steps", "2", "--batch-size", "16", "--out", str(out), "--quiet"]) == 0
    recorded = json.loads((out / "metrics.json").read_text())
    digits = recorded["digits"]
    assert digits["n"] == 2500 and math.isclose(sum(digits["class_histogram"]), 1.0)
    assert digits["fcd"] > digits["fcd_floor"] > 0 and 1 <= digits["classifier_score"] <= 10
    capsys.readouterr()
    assert main(["eval", str(out / "checkpoint.npz"), "--json", str(tmp_path / "eval.json")]) == 0
    printed = capsys.readouterr().out
    assert f"{digits['fcd']:.3f}" in printed and f"floor (real vs real) {digits['fcd_floor']:.3f}" in printed
    assert json.loads((tmp_path / "eval.json").read_text())["digits"] == digits   # fixed draws


def test_eval_of_a_toy_model_reports_the_mode_metrics_over_the_seeds_asked_for(tmp_path, capsys):
    train(config(tmp_path, steps=2), progress=False)
    assert main(["eval", str(tmp_path / "run" / "checkpoint.npz"), "--count", "300", "--seeds", "3",
                 "--json", str(tmp_path / "eval.json")]) == 0
    assert "high_quality" in capsys.readouterr().out
    toy = json.loads((tmp_path / "eval.json").read_text())["toy"]
    assert set(toy) == {"high_quality", "modes", "modes_1pct", "reverse_kl"}
    assert main(["eval", str(tmp_path / "run" / "checkpoint.npz"), "--seeds", "1"]) == 1
    assert "at least 2 seeds" in capsys.readouterr().err


def test_eval_of_a_vae_reports_the_negative_elbo_and_the_digit_figures(tmp_path):
    out = tmp_path / "vae"
    assert main(["train", "vae", "--steps", "2", "--out", str(out), "--quiet"]) == 0
    recorded = json.loads((out / "metrics.json").read_text())
    assert recorded["held_out"]["neg_elbo"] > 0 and "fcd" in recorded["digits"]


def test_wgan_gp_decays_its_learning_rate_linearly_to_zero(tmp_path):
    train(config(tmp_path, model="wgan-gp", steps=10, lr=1e-3), progress=False)
    for optimizer in parameters(tmp_path / "run")["optimizers"].values():
        assert optimizer["param_groups"][0]["lr"] == pytest.approx(1e-3 * (1 - 9 / 10))


def test_the_decay_keeps_the_ratio_of_a_gans_two_learning_rates(tmp_path):
    train(config(tmp_path, model="wgan-gp", steps=10, lr=1e-3, lr_g=4e-4, lr_d=2e-3), progress=False)
    groups = {name: optimizer["param_groups"][0]["lr"]
              for name, optimizer in parameters(tmp_path / "run")["optimizers"].items()}
    assert groups["generator"] == pytest.approx(4e-4 * (1 - 9 / 10))
    assert groups["discriminator"] == pytest.approx(2e-3 * (1 - 9 / 10))


def test_defaults_come_from_the_model_and_the_kind_of_data():
    toy = TrainConfig("wgan-gp").resolved()
    assert (toy.data, toy.steps, toy.batch_size, toy.lr, toy.seed) == ("ring8", 20000, 256, 1e-3, 0)
    assert toy.out == "runs/wgan-gp-ring8"
    digits = TrainConfig("wgan-gp", data="digits").resolved()
    assert (digits.steps, digits.batch_size, digits.lr) == (6000, 64, 1e-4)
    assert TrainConfig("dcgan", epochs=2).resolved().steps is None
    with pytest.raises(ValueError, match="not both"):
        TrainConfig("dcgan", steps=1, epochs=1).resolved()
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        TrainConfig("dcgan", batch_size=0).resolved()


def test_autoencoders_interpolate_between_codes_and_refuse_to_sample(tmp_path, capsys):
    out = tmp_path / "ae"
    assert main(["train", "ae", "--steps", "2", "--out", str(out), "--quiet"]) == 0
    assert (out / "reconstructions.png").stat().st_size > 0 and not (out / "samples.png").exists()
    assert main(["sample", str(out / "checkpoint.npz")]) == 1
    assert "it reconstructs, it does not sample" in capsys.readouterr().err
    assert main(["interpolate", str(out / "checkpoint.npz"), "--rows", "2", "--columns", "3"]) == 0
    assert (out / "interpolation.png").stat().st_size > 0


def test_resuming_removes_the_temporary_a_killed_checkpoint_write_left(tmp_path):
    train(config(tmp_path, steps=4), progress=False)
    run = tmp_path / "run"
    (run / ".checkpoint.npz-k1ll3d.tmp").write_bytes(b"half a checkpoint")
    (run / ".notes-1.tmp").write_bytes(b"not ours")
    train(config(tmp_path, steps=8), resume=True, progress=False)
    assert sorted(name for name in os.listdir(run) if name.endswith(".tmp")) == [".notes-1.tmp"]


KILLS = 20


def test_a_run_killed_at_random_moments_resumes_to_the_parameters_of_an_uninterrupted_one(tmp_path):
    """SIGKILL a command-line run 20 times at random moments (starting up, in a step, writing a
    checkpoint), restarting it with --resume each time: every restart finds a whole checkpoint
    no older than the last one seen, and the finished run equals one that was never stopped.

    Moments are measured in the run's own time, so that any machine sees the same mix: a quarter
    of the kills fall in the time the last restart took to write its first checkpoint, the rest
    somewhere in the checkpoint interval after a restart's second checkpoint. Each restart then
    makes 8 to 12 steps of progress, and 20 of them stay within the run."""
    steps, every = 400, 4
    train(config(tmp_path, "whole", steps=steps, sample_every=10**6, checkpoint_every=every),
          progress=False)
    out = tmp_path / "killed"
    path = out / "checkpoint.npz"
    command = [sys.executable, "-m", "minigen", "train", "gan", "--data", "ring8", "--steps", str(steps),
               "--batch-size", "32", "--sample-every", str(10**6), "--checkpoint-every", str(every),
               "--out", str(out)]
    rng = np.random.default_rng(0)
    last_step, start_up = 0, None
    log = tmp_path / "stderr.txt"

    def start(*extra):
        # From tmp_path: `python -m` puts the working directory first on the path, and a source
        # checkout's minigen/ (without its compiled _C) would shadow the installed one.
        with open(log, "wb") as stderr:
            return subprocess.Popen(command + list(extra), cwd=tmp_path, stdout=subprocess.DEVNULL,
                                    stderr=stderr)

    for _ in range(KILLS):
        started = time.monotonic()
        process = start(*(["--resume"] if path.exists() else []))
        if start_up is not None and rng.random() < 0.25:
            time.sleep(rng.uniform(0, start_up))
        else:
            first = wait_for_a_newer_checkpoint(path, process, log)
            start_up = first - started
            interval = wait_for_a_newer_checkpoint(path, process, log) - first
            time.sleep(rng.uniform(0, interval))
        assert process.poll() is None, f"the run ended before the kill: {log.read_text()[-2000:]}"
        process.kill()
        process.wait()
        if path.exists():
            step = checkpoint.load(path)["step"]   # whole, or this raises CheckpointError
            assert step >= last_step
            last_step = step
    assert 0 < last_step < steps
    assert start("--resume").wait() == 0, log.read_text()[-2000:]
    assert_same_state(parameters(tmp_path / "whole"), parameters(out))
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]


def wait_for_a_newer_checkpoint(path, process, log, timeout=60.0):
    """Poll until ``path`` is replaced (a new inode or mtime); returns the time it was seen."""
    def identity():
        try:
            stat = path.stat()
            return stat.st_ino, stat.st_mtime_ns
        except FileNotFoundError:
            return None
    before, deadline = identity(), time.monotonic() + timeout
    while identity() == before:
        assert process.poll() is None, f"the run ended early: {log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, "no new checkpoint within a minute"
        time.sleep(0.001)
    return time.monotonic()
