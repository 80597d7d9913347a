"""The trainer: one model, one dataset, a run directory with everything a run leaves behind.

``train(TrainConfig("dcgan"))`` writes into ``runs/dcgan-digits/`` (or ``config.out``):

- ``checkpoint.npz``: the model, its optimisers, the random generator, the step and the loss
  history, written atomically every ``checkpoint_every`` steps and at the end;
- ``samples.png`` (or ``reconstructions.png``) and the same under ``samples/step_NNNNNN.png``
  every ``sample_every`` steps: image grids, or scatter plots over the data for 2D points;
- ``losses.png`` and ``metrics.json`` at the end.

A resumed run (``resume=True``) continues from the checkpoint with exactly the numbers an
uninterrupted run would have produced: the data order is a function of (seed, epoch), the
random generator is restored, and pictures and metrics draw from generators of their own
(``random.fork_rng``) so that they never change what the training draws. Ctrl-C or SIGTERM
ask the run to stop after the current step and save a checkpoint; a NaN or infinite loss
stops it without overwriting the last good checkpoint. Models that ask for it (``lr_decay``,
WGAN-GP) have their learning rate decayed linearly to zero over the run.
"""
import dataclasses
import json
import math
import signal
import threading
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import backend, checkpoint, metrics, plots, random
from .autograd import no_grad
from .checkpoint import CheckpointError
from .data import DataLoader
from .data.catalog import data_kind, load_dataset, spread
from .files import atomic_write, remove_leftovers
from .models import GAN, get_model
from .models.base import evaluating
from .models.refine import check_refinable, rejection_sample

CHECKPOINT = "checkpoint.npz"
GAN_OPTIONS = ("lr_g", "lr_d", "ema", "augment")   # TrainConfig fields passed to a GAN's constructor
PICTURE_SEED = 1234    # one fixed noise for every picture of a run, so they show progress
DENSITY_SAMPLES = 100_000   # in a 2D run's density.png


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is left as it was."""


@dataclasses.dataclass
class TrainConfig:
    """What ``minigen train`` takes; ``None`` means the model's default."""
    model: str
    data: str = None
    steps: int = None
    epochs: int = None
    batch_size: int = None
    lr: float = None
    lr_g: float = None       # a GAN's generator's learning rate (default: lr)
    lr_d: float = None       # a GAN's discriminator's (default: lr)
    ema: float = None        # a GAN's weight-average decay for samples; False: none (default: the model's)
    augment: str = None      # a GAN's DiffAugment policy for D's inputs; "": none (default: the model's)
    seed: int = None
    device: str = "cpu"
    out: str = None
    sample_every: int = 500
    checkpoint_every: int = 500

    def resolved(self):
        """A copy with every default filled in and every value checked."""
        model = get_model(self.model)
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give --steps or --epochs, not both")
        for name in ("steps", "epochs", "batch_size", "sample_every", "checkpoint_every"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("lr", "lr_g", "lr_d"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if self.ema is not None and self.ema is not False and not 0.0 < self.ema < 1.0:   # 0 == False
            raise ValueError(f"ema must lie strictly between 0 and 1 (or be off), got {self.ema}")
        given = [name for name in GAN_OPTIONS if getattr(self, name) is not None]
        if given and not issubclass(model, GAN):
            raise ValueError(f"{', '.join(given)}: only for the GANs (two networks); "
                             f"{self.model} is not one")
        if backend.device(self.device) == backend.CUDA:
            backend.cuda.cupy()  # RuntimeError now, saying why, rather than at the first step
        data = self.data or model.default_data
        defaults = model.settings(data_kind(data))
        return dataclasses.replace(
            self, data=data, seed=0 if self.seed is None else self.seed,
            steps=self.steps if self.steps or self.epochs else defaults["steps"],
            batch_size=self.batch_size or defaults["batch_size"],
            lr=self.lr or defaults["lr"], out=self.out or f"runs/{self.model}-{data}")


def build(config):
    """The dataset and a freshly initialised model for a resolved config (seeds the generator)."""
    model_class = get_model(config.model)
    source = load_dataset(config.data, model_class.image_range)
    if source.kind not in model_class.data_kinds:
        raise ValueError(f"{config.model} does not train on {config.data} ({source.kind} data); "
                         f"it takes {' or '.join(model_class.data_kinds)} data")
    if model_class.conditional and not source.num_classes:
        raise ValueError(f"{config.model} needs labelled data; {config.data} has no labels")
    random.manual_seed(config.seed)
    options = {name: getattr(config, name) for name in GAN_OPTIONS if getattr(config, name) is not None}
    model = model_class(source.data_shape, lr=config.lr, num_classes=source.num_classes, **options)
    model.prepare(source.train)   # a resumed or loaded run then overwrites what it learns
    return source, model


def train(config, resume=False, progress=True, on_step=None):
    """Run ``config`` (a ``TrainConfig``) to its last step; returns the metrics it wrote.

    ``on_step(run)``, if given, is called after every step with the ``Run``; returning True
    stops the run as Ctrl-C does (a checkpoint is saved and ``train`` returns None).
    """
    saved = _saved_run(Path(config.resolved().out), resume)
    if saved is not None:
        config = _continued(config, saved["config"])
    config = config.resolved()
    out = Path(config.out)
    source, model = build(config)
    model.to(config.device)
    loader = DataLoader(source.train, config.batch_size, shuffle=True, drop_last=True, seed=config.seed)
    total = config.steps or config.epochs * len(loader)
    run = Run(config, model, source, out)
    if saved is not None:
        run.restore(saved)
    run.drop_frames_after(run.step)

    batches = loader.stream(run.step)
    with _StopOnSignal() as stop, tqdm(total=total, initial=run.step, desc=config.model,
                                       disable=not progress, dynamic_ncols=True) as bar:
        while run.step < total:
            started = time.perf_counter()
            if model.lr_decay:
                decay_lr(model, 1 - run.step / total)
            batch = tuple(t.to(config.device) for t in next(batches))
            losses = model.train_step(batch, run.step)
            run.elapsed += time.perf_counter() - started
            diverged = [name for name, value in losses.items() if not math.isfinite(value)]
            if diverged:
                raise TrainingDiverged(
                    f"{config.model}: {', '.join(diverged)} became {losses[diverged[0]]} at step "
                    f"{run.step}; stopped. The last good checkpoint is {out / CHECKPOINT}. Try a "
                    f"lower --lr.")
            run.record(losses)
            bar.update(1)
            bar.set_postfix({name: f"{value:.3f}" for name, value in losses.items()}, refresh=False)
            if run.step % config.sample_every == 0:
                run.save_pictures(f"step_{run.step:06d}")
            if on_step is not None and on_step(run):
                stop.requested = True
            if run.step % config.checkpoint_every == 0 or stop.requested:
                run.save_checkpoint()
            if stop.requested:
                bar.write(f"stopped at step {run.step}; continue with --resume")
                return None
    run.save_checkpoint()
    run.save_final_pictures()
    return run.finish()


class Run:
    """A model being trained and everything that goes into its directory."""

    def __init__(self, config, model, source, out):
        self.config, self.model, self.source, self.out = config, model, source, out
        self.step, self.elapsed, self.history = 0, 0.0, {}

    def record(self, losses):
        for name, value in losses.items():
            self.history.setdefault(name, []).append((self.step, value))
        self.step += 1

    def state(self):
        return {"config": dataclasses.asdict(self.config), "step": self.step, "elapsed": self.elapsed,
                "rng": random.get_rng_state(), "model": self.model.state_dict(),
                "optimizers": {name: opt.state_dict() for name, opt in self.model.optimizers().items()},
                "history": {name: np.asarray(points, np.float64) for name, points in self.history.items()}}

    def save_checkpoint(self):
        checkpoint.save(self.out / CHECKPOINT, self.state())

    def restore(self, saved):
        path = self.out / CHECKPOINT
        restore_model(self.model, saved, path)
        try:
            self.step, self.elapsed = int(saved["step"]), float(saved["elapsed"])
            random.set_rng_state(saved["rng"])
            self.history = {name: [(int(s), float(v)) for s, v in points.numpy()]
                            for name, points in saved["history"].items()}
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{path}: the training state is incomplete ({error})") from None

    @no_grad()
    def save_pictures(self, name=None):
        """``samples.png`` and/or ``reconstructions.png`` (under a step name while training)."""
        model, source = self.model, self.source
        with random.fork_rng(PICTURE_SEED), evaluating(model):
            pictures = {}
            if model.can_sample:
                pictures["samples"] = model.sample(picture_count(model, source))
            if hasattr(model, "reconstruct"):
                original = spread(source.held_out, 32 if source.kind == "image" else 2000)[0]
                pictures["reconstructions"] = (original, model.reconstruct(original.to(model.device)))
        for kind, picture in pictures.items():
            path = self.out / (f"{kind}.png" if name is None else f"{kind}/{name}.png")
            self._draw(picture, path, self._title())

    def save_final_pictures(self):
        """The last pictures; ``samples.gif``, the animation of every picture of the samples
        over the run; and for 2D points ``density.png``, the density of 100,000 samples."""
        self.save_pictures()
        if not self.model.can_sample:
            return
        frames = sorted(frame for frame in self.out.glob("samples/step_*.png") if _frame_step(frame) < self.step)
        plots.save_animation(frames + [self.out / "samples.png"], self.out / "samples.gif")
        if self.source.kind == "points":
            with random.fork_rng(PICTURE_SEED), evaluating(self.model), no_grad():
                points = self.model.sample(DENSITY_SAMPLES).cpu().numpy()
            plots.save_density(points, self.out / "density.png", f"{self._title()}\n{DENSITY_SAMPLES:,} samples",
                               *plane_marks(self.source))

    def drop_frames_after(self, step):
        """Delete the pictures of steps after ``step``: left by a run stopped before its checkpoint
        caught up (or by an earlier run in this directory), they do not belong in this one's
        animation."""
        for frame in self.out.glob("*/step_*.png"):
            if _frame_step(frame) > step:
                frame.unlink()

    def _title(self):
        return f"{self.config.model} on {self.config.data}, step {self.step}"

    def _draw(self, picture, path, title):
        if isinstance(picture, tuple) and self.source.kind == "image":
            plots.save_reconstructions(*(p.cpu().numpy() for p in picture), path,
                                       value_range=self.model.image_range)
        else:   # samples, or the reconstructions of 2-D points, drawn over the data
            draw_samples(picture[1] if isinstance(picture, tuple) else picture, self.model,
                         self.source, path, title)

    def finish(self):
        """Loss curves and ``metrics.json``; returns the metrics."""
        plots.save_loss_curves(self.history, self.out / "losses.png")
        figures = {
            "model": self.config.model, "data": self.config.data, "steps": self.step,
            "batch_size": self.config.batch_size, "lr": self.config.lr, "seed": self.config.seed,
            "seconds": round(self.elapsed, 2), "steps_per_second": round(self.step / self.elapsed, 2),
            "final_losses": {name: float(np.mean([v for _, v in points[-100:]]))
                             for name, points in self.history.items()},
        }
        figures.update(evaluate(self.model, self.source))
        with atomic_write(self.out / "metrics.json") as file:
            file.write(json.dumps(figures, indent=2).encode())
        return figures


def picture_count(model, source):
    """How many samples a picture shows: 64 images, ten of each class for a conditional model
    (one row per class), or 2,000 points."""
    if source.kind == "points":
        return 2000
    return 10 * model.num_classes if model.conditional else 64


def draw_samples(samples, model, source, path, title=None):
    """A grid of images, or 2-D points scattered over held-out data, written to ``path``."""
    if source.kind == "points":
        plots.save_scatter(samples.cpu().numpy(), path, spread(source.held_out, 2000)[0].numpy(), title,
                           *plane_marks(source))
    else:
        columns = len(samples) // model.num_classes if model.conditional else None
        plots.save_image_grid(samples.cpu().numpy(), path, nrow=columns, value_range=model.image_range)


def plane_marks(source):
    """The modes of a 2D dataset (None if it has none) and the axis limits its pictures share:
    the held-out data's extent and a quarter more."""
    extent = 1.25 * float(np.abs(source.held_out.tensors[0].numpy()).max())
    return getattr(source.distribution, "means", None), (-extent, extent)


def _frame_step(path):
    return int(path.stem.removeprefix("step_"))


def decay_lr(model, fraction):
    """Set every optimiser of ``model`` to ``fraction`` of its own starting learning rate, so that
    a GAN's ``lr_g`` and ``lr_d`` keep their ratio."""
    rates = model.learning_rates()
    for name, optimizer in model.optimizers().items():
        for group in optimizer.param_groups:
            group["lr"] = rates[name] * fraction


@no_grad()
def evaluate(model, source, count=2500, seeds=5, refine=None):
    """Every quality figure that fits the model, as a JSON-ready dict:

    - ``held_out``: the model's own figures on held-out data (the VAE's negative ELBO, an
      autoencoder's reconstruction loss);
    - ``toy``: on a toy mixture, the mode metrics of ``count`` samples per seed, over ``seeds``
      seeds, as mean and standard error;
    - ``digits``: on images, the classifier's figures for ``count`` samples (FCD beside the floor
      of real digits, classifier score, class histogram).

    With ``refine="drs"`` the samples are those discriminator rejection sampling keeps
    (models/refine.py), and ``refined`` gives the share of draws it kept.
    """
    if refine is not None:
        check_refinable(model)
    kept = []   # DRS's share of draws kept, per call

    def draw(n, labels=None):
        if refine is None:
            return _samples(model, n, labels)
        samples, share = rejection_sample(model, n)
        kept.append(share)
        return samples.cpu().numpy()

    with evaluating(model), random.fork_rng(PICTURE_SEED):   # the same draws at every evaluation
        figures = {"held_out": model.evaluate(tuple(t.to(model.device) for t in source.held_out.tensors))}
        if not model.can_sample:
            return figures
        if getattr(source.distribution, "means", None) is not None:
            def generate(n, seed):
                with random.fork_rng(seed):
                    return draw(n)
            estimates = metrics.evaluate_toy(generate, source.distribution, n=count, seeds=seeds)
            figures["toy"] = {name: estimate._asdict() for name, estimate in estimates.items()}
        elif source.kind == "image":
            labels = np.arange(count) % model.num_classes if model.conditional else None
            images = draw(count, labels)
            figures["digits"] = metrics.digit_metrics(images, model.image_range)
            if model.conditional:   # the share of samples the classifier reads as the digit asked for
                figures["digits"]["label_accuracy"] = metrics.label_accuracy(images, labels,
                                                                             model.image_range)
    if kept:
        figures["refined"] = {"method": refine, "kept": float(np.mean(kept))}
    return figures


def _samples(model, count, labels=None, batch=500):
    """``count`` samples (of ``labels``, for a conditional model) as one array, drawn ``batch`` at
    a time to bound the memory it takes."""
    return np.concatenate([
        model.sample(min(batch, count - start),
                     *([] if labels is None else [labels[start:start + batch].tolist()])).cpu().numpy()
        for start in range(0, count, batch)])


def restore_model(model, saved, path):
    """Load a checkpoint's weights and optimiser states into ``model``, or say what is wrong."""
    try:
        model.load_state_dict(saved["model"])
        optimizers = model.optimizers()
        if set(saved["optimizers"]) != set(optimizers):
            raise ValueError(f"optimisers {sorted(saved['optimizers'])} in the checkpoint, "
                             f"{sorted(optimizers)} in the model")
        for name, optimizer in optimizers.items():
            optimizer.load_state_dict(saved["optimizers"][name])
    except (KeyError, ValueError, TypeError) as error:
        message = error.args[0] if error.args else error
        raise CheckpointError(f"{path} does not fit {model.name}: {message}") from None


def load_run(path):
    """A trained model from a checkpoint file: ``(model, source, config)``."""
    saved = checkpoint.load(path)
    try:
        config = TrainConfig(**saved["config"])
    except (KeyError, TypeError) as error:
        raise CheckpointError(f"{path} has no valid training configuration ({error})") from None
    source, model = build(config)
    restore_model(model, saved, path)
    return model, source, config


def _saved_run(out, resume):
    path = out / CHECKPOINT
    if not resume:
        if path.exists():
            raise FileExistsError(f"{out} already holds a run ({path}); pass --resume to continue "
                                  "it, or choose another --out")
        saved = None
    elif not path.exists():
        raise FileNotFoundError(f"nothing to resume: {path} does not exist")
    else:
        saved = checkpoint.load(path)
    remove_leftovers(path)   # a run killed while writing its checkpoint left a temporary
    return saved


def _continued(asked, saved):
    """The saved run's configuration, with the step budget (and output options) asked for now.

    What defines the run (model, data, batch size, lr, seed) cannot change on resume: a value
    given now that differs from the checkpoint's is an error, not silently ignored.
    """
    try:
        config = TrainConfig(**saved)
    except TypeError as error:
        raise CheckpointError(f"the checkpoint's configuration is not valid: {error}") from None
    clashes = [f"{name} {getattr(asked, name)!r} (the checkpoint has {getattr(config, name)!r})"
               for name in ("model", "data", "batch_size", "lr", *GAN_OPTIONS, "seed")
               if getattr(asked, name) not in (None, getattr(config, name))]
    if clashes:
        raise CheckpointError("cannot resume with a different " + ", ".join(clashes))
    if asked.steps or asked.epochs:
        config = dataclasses.replace(config, steps=asked.steps, epochs=asked.epochs)
    return dataclasses.replace(config, out=asked.out or config.out, device=asked.device,
                               sample_every=asked.sample_every,
                               checkpoint_every=asked.checkpoint_every)


class _StopOnSignal:
    """Turn the first Ctrl-C (or SIGTERM) into a request to stop after the current step.

    The loop then saves a checkpoint and returns. A second Ctrl-C interrupts at once (the
    checkpoint on disk is then the previous one, still whole: it is written atomically).
    """

    def __enter__(self):
        self.requested = False
        self.previous = {}
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self.previous[number] = signal.signal(number, self._handle)
        return self

    def _handle(self, number, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc_info):
        for number, handler in self.previous.items():
            signal.signal(number, handler)

