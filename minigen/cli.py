"""The ``minigen`` command (also ``python -m minigen``): train, eval, sample, interpolate, bench, list.

    minigen train dcgan                      # the bundled digits, the model's defaults
    minigen train wgan-gp --data ring8 --steps 20000 --out runs/ring
    minigen train dcgan --resume --steps 4000  # continue a run, possibly for longer
    minigen eval runs/dcgan-digits/checkpoint.npz       # every quality figure that fits
    minigen sample runs/dcgan-digits/checkpoint.npz --count 100
    minigen sample runs/gan-ring8/checkpoint.npz --refine drs   # the samples D believes
    minigen interpolate runs/dcgan-digits/checkpoint.npz
    minigen bench --only w2,w3                 # W1-W4 training iterations beside PyTorch
    minigen list
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

from . import bench, plots, random
from .autograd import no_grad
from .data.catalog import DATASETS, data_kind, spread
from .models import MODELS
from .models.base import evaluating
from .models.refine import REFINERS, rejection_sample
from .tensor import Tensor
from .files import atomic_write
from .train import TrainConfig, draw_samples, evaluate, load_run, train


def positive(text):
    """An argparse type: an integer ≥ 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def ema_decay(text):
    """An argparse type: a decay strictly between 0 and 1, or "off" (False)."""
    if text == "off":
        return False
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1 (or be off), not {text}")
    return value


def main(argv=None):
    """Run the command line; returns the exit status (0 ok, 1 error, 130 stopped early)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args)
    except (ValueError, RuntimeError, OSError) as error:   # a device it lacks, a diverged run, files
        print(f"minigen {args.name}: {error}", file=sys.stderr)
        return 1


def train_command(args):
    config = TrainConfig(args.model, data=args.data, steps=args.steps, epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr, lr_g=args.lr_g, lr_d=args.lr_d,
                         ema=args.ema, augment=args.augment, seed=args.seed, device=args.device,
                         out=args.out, sample_every=args.sample_every,
                         checkpoint_every=args.checkpoint_every)
    metrics = train(config, resume=args.resume, progress=not args.quiet)
    if metrics is None:
        return 130
    out = Path(config.resolved().out)
    print(f"{metrics['steps']} steps in {metrics['seconds']:.0f} s "
          f"({metrics['steps_per_second']:.1f} steps/s); results in {out}/")
    for name in ("samples.png", "reconstructions.png", "losses.png", "metrics.json"):
        if (out / name).exists():
            print(f"  {out / name}")
    print("\n".join(report(metrics)))
    return 0


def eval_command(args):
    model, source, config = load_run(args.checkpoint)
    figures = evaluate(model, source, count=args.count, seeds=args.seeds, refine=args.refine)
    print(f"{config.model} on {config.data}, {args.checkpoint}"
          + (f", samples refined by {args.refine}:" if args.refine else ":"))
    print("\n".join(report(figures)))
    if args.json:
        with atomic_write(args.json) as file:
            file.write(json.dumps(figures, indent=2).encode())
    return 0


def report(figures):
    """The quality figures of ``evaluate`` (or a run's metrics.json) as lines for a person."""
    lines = []
    for name, value in figures.get("held_out", {}).items():
        lines.append(f"  held-out {name:22s} {value:10.4f}")
    for name, estimate in figures.get("toy", {}).items():
        lines.append(f"  {name:31s} {estimate['mean']:10.4f} ± {estimate['stderr']:.4f}")
    digits = figures.get("digits")
    if digits:
        lines += [
            f"  FCD (classifier features)       {digits['fcd']:10.3f}   floor (real vs real) "
            f"{digits['fcd_floor']:.3f}",
            f"  classifier score                {digits['classifier_score']:10.3f}   real digits "
            f"{digits['classifier_score_real']:.3f}",
            "  class histogram (%)             " + " ".join(f"{d}:{100 * share:.0f}" for d, share
                                                        in enumerate(digits["class_histogram"]))
            + f"   ({digits['classes_missing']} classes under 1 %)",
        ]
        if "label_accuracy" in digits:
            lines.append(f"  label accuracy (%)              {100 * digits['label_accuracy']:10.1f}   "
                         "samples the classifier reads as the digit asked for")
    if "refined" in figures:
        lines.append(f"  {figures['refined']['method']} kept (%)                   "
                     f"{100 * figures['refined']['kept']:10.1f}   of the generator's draws")
    return lines


@no_grad()
def sample_command(args):
    model, source, config = load_run(args.checkpoint)
    if not model.can_sample:
        raise ValueError(f"{config.model} is not a generative model: it reconstructs, it does not "
                         "sample; see reconstructions.png in its run directory")
    out = args.out or str(Path(args.checkpoint).with_name("sampled.png"))
    labels = []
    if args.label is not None:
        if not model.conditional:
            raise ValueError(f"--label: {config.model} is not conditional; it draws digits of no "
                             "chosen class")
        if not 0 <= args.label < model.num_classes:
            raise ValueError(f"--label must be a class from 0 to {model.num_classes - 1}, "
                             f"got {args.label}")
        labels = [args.label]
    with random.fork_rng(args.seed), evaluating(model):
        if args.refine:
            samples, kept = rejection_sample(model, args.count)
        else:
            samples = model.sample(args.count, *labels)
    draw_samples(samples, model, source, out)
    print(f"{args.count} samples of {config.model} written to {out}"
          + (f" ({args.refine} kept {100 * kept:.1f} % of the draws)" if args.refine else ""))
    return 0


@no_grad()
def interpolate_command(args):
    model, source, config = load_run(args.checkpoint)
    if source.kind != "image":
        raise ValueError("interpolate draws image grids; for 2-D data use `minigen sample`")
    out = args.out or str(Path(args.checkpoint).with_name("interpolation.png"))
    with random.fork_rng(args.seed), evaluating(model):
        start, end = _endpoints(model, source, args.rows)
        weights = np.linspace(0.0, 1.0, args.columns).reshape(1, -1, *([1] * (start.ndim - 1)))
        line = (start.numpy()[:, None] * (1 - weights) + end.numpy()[:, None] * weights)
        codes = line.reshape(-1, *start.shape[1:]).astype(start.dtype)   # row after row
        labels = None
        if model.condition_count:   # each row keeps one class (or cluster): row i shows class i mod 10
            labels = np.repeat(np.arange(args.rows) % model.condition_count, args.columns)
        images = model.decode(Tensor(codes), None if labels is None else Tensor(labels)).numpy()
    plots.save_image_grid(images, out, nrow=args.columns, value_range=model.image_range)
    print(f"{args.rows} interpolations of {config.model} written to {out}")
    return 0


def _endpoints(model, source, rows):
    """Pairs of latent codes: prior draws, or for plain autoencoders two held-out digits' codes."""
    if model.can_sample:
        return model.latent(rows), model.latent(rows)
    digits = spread(source.held_out, 2 * rows)[0]
    codes = model.encode(digits)
    return codes[:rows], codes[rows:]


def list_command(args):
    print("models (minigen train MODEL):")
    for name, model in MODELS.items():
        settings = model.settings(data_kind(model.default_data)).items()
        defaults = ", ".join(f"{key} {value}" for key, value in settings)
        print(f"  {name:10s} data {model.default_data:7s} {defaults}   "
              f"({' or '.join(model.data_kinds)} data)")
    print("\ndatasets (--data NAME):")
    for name, description in DATASETS.items():
        print(f"  {name:10s} {description}")
    return 0


def _parser():
    parser = argparse.ArgumentParser(prog="minigen", description="Train and sample generative models.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name, function, help):
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(command=function, name=name)
        return sub

    run = command("train", train_command, "train a model, writing samples, plots, metrics and "
                  "checkpoints into its run directory")
    run.add_argument("model", choices=MODELS, metavar="MODEL", help="one of: " + ", ".join(MODELS))
    run.add_argument("--data", help="dataset (default: the model's); one of: " + ", ".join(DATASETS))
    budget = run.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=positive, help="batches to train on (default: the model's)")
    budget.add_argument("--epochs", type=positive, help="passes over the training data")
    run.add_argument("--batch-size", type=positive)
    run.add_argument("--lr", type=float, help="learning rate of every optimiser")
    run.add_argument("--lr-g", type=float, help="a GAN's generator's learning rate (default --lr)")
    run.add_argument("--lr-d", type=float, help="a GAN's discriminator's learning rate (default --lr)")
    run.add_argument("--ema", type=ema_decay, metavar="DECAY|off",
                     help="a GAN's samples from an average of its generator's weights with this "
                          "decay, e.g. 0.999, or off (default: the model's)")
    run.add_argument("--augment", metavar="POLICY",
                     help="a GAN's DiffAugment of what D sees: comma-separated color, translation, "
                          "cutout, or '' for none (default: the model's)")
    run.add_argument("--seed", type=int, help="seed of every random number (default 0)")
    run.add_argument("--device", default="cpu", help="cpu or cuda (a GPU: pip install \".[cuda]\")")
    run.add_argument("--out", help="run directory (default runs/MODEL-DATA)")
    run.add_argument("--resume", action="store_true", help="continue the run in --out")
    run.add_argument("--sample-every", type=positive, default=500, help="steps between sample pictures")
    run.add_argument("--checkpoint-every", type=positive, default=500, help="steps between checkpoints")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    scores = command("eval", eval_command, "print every quality figure that fits a trained model")
    scores.add_argument("checkpoint", help="a checkpoint.npz written by minigen train")
    scores.add_argument("--count", type=positive, default=2500, help="samples per seed (default 2500)")
    scores.add_argument("--seeds", type=positive, default=5, help="seeds for the toy metrics (default 5)")
    scores.add_argument("--json", help="also write the figures to this JSON file")
    add_refine_option(scores)

    for name, function, help in (
            ("sample", sample_command, "draw samples from a trained model into a PNG"),
            ("interpolate", interpolate_command, "decode points along lines in latent space")):
        sub = command(name, function, help)
        sub.add_argument("checkpoint", help="a checkpoint.npz written by minigen train")
        sub.add_argument("--out", help="PNG to write (default: beside the checkpoint)")
        sub.add_argument("--seed", type=int, default=0)
        if name == "sample":
            sub.add_argument("--count", type=positive, default=64)
            sub.add_argument("--label", type=int, help="a conditional model's class to draw (0-9)")
            add_refine_option(sub)
        else:
            sub.add_argument("--rows", type=positive, default=8)
            sub.add_argument("--columns", type=positive, default=10)

    bench.add_arguments(command("bench", bench.command, "time docs/WORKLOADS.md's training iterations "
                                "W1-W4 beside PyTorch, or profile where minigen's time goes"))
    command("list", list_command, "the models and datasets, with their defaults")
    return parser


def add_refine_option(parser):
    parser.add_argument("--refine", choices=REFINERS,
                        help="keep only the samples the discriminator believes: drs, discriminator "
                             "rejection sampling (GANs trained with the BCE loss)")
