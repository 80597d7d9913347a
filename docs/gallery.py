"""Train every model with its default settings and collect the pictures the README shows.

    python docs/gallery.py [MODEL[:DATA] ...] [--seeds N] [--runs DIR] [--keep [--reevaluate]] [--table]

Each entry runs ``minigen train MODEL`` (its default data and steps, or ``--data DATA``) into
``DIR/MODEL[-DATA]``; its samples (or reconstructions) are copied to ``docs/MODEL[-DATA].png``
and the command, the time and the quality figures go into ``docs/gallery.json``, which the
README's table quotes; a 2-D run's density picture and animation go beside it
(``docs/MODEL[-DATA]-density.png`` and ``.gif``). With ``--seeds N`` the digit models also train with seeds 1 .. N−1 and
the record gains the FCD's mean and standard error over the N runs (the picture and the other
figures stay seed 0's).
``--keep --reevaluate`` recomputes the figures of finished runs from their checkpoints
(``minigen eval``), for when the metrics change and the training need not be repeated.
"""
import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from minigen.models import MODELS
from minigen.train import CHECKPOINT, evaluate, load_run

DOCS = Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=list(MODELS), metavar="MODEL[:DATA]")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per digit model (default 1)")
    parser.add_argument("--runs", default="runs/gallery")
    parser.add_argument("--keep", action="store_true", help="reuse runs already finished in DIR")
    parser.add_argument("--reevaluate", action="store_true",
                        help="with --keep: recompute the quality figures from the checkpoints")
    parser.add_argument("--table", action="store_true", help="only print the README's table")
    args = parser.parse_args()
    record_path = DOCS / "gallery.json"
    records = json.loads(record_path.read_text()) if record_path.exists() else {}
    if args.table:
        print(table(records))
        return
    for entry in args.models:
        model, _, data = entry.partition(":")
        stem = f"{model}-{data}" if data else model
        command = ["minigen", "train", model, *(["--data", data] if data else [])]
        metrics = run(command, Path(args.runs) / stem, args)
        if "digits" in metrics and args.seeds > 1:
            scores = [metrics["digits"]["fcd"]] + [
                run(command + ["--seed", str(seed)], Path(args.runs) / f"{stem}-seed{seed}", args)["digits"]["fcd"]
                for seed in range(1, args.seeds)]
            metrics["digits"]["fcd_seeds"] = scores
        run_dir = Path(args.runs) / stem
        picture = "samples.png" if (run_dir / "samples.png").exists() else "reconstructions.png"
        shutil.copyfile(run_dir / picture, DOCS / f"{stem}.png")
        extras = {}   # a 2-D run's density picture and animation (the digits' GIFs are large)
        for kind, name, suffix in (("density", "density.png", "-density.png"), ("animation", "samples.gif", ".gif")):
            if (run_dir / "density.png").exists():
                shutil.copyfile(run_dir / name, DOCS / f"{stem}{suffix}")
                extras[kind] = f"docs/{stem}{suffix}"
        records[entry] = {"command": " ".join(command), "picture": f"docs/{stem}.png", **extras, **metrics}
        record_path.write_text(json.dumps(records, indent=2) + "\n")
        print(f"{entry}: {metrics['seconds']:.0f} s, {quality(metrics)}")


def run(command, out, args):
    """Train ``command`` into ``out`` (unless ``--keep`` finds it done); returns its metrics."""
    if not (args.keep and (out / "metrics.json").exists()):
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "minigen", *command[1:], "--quiet", "--out", str(out)],
                       check=True)
    metrics = json.loads((out / "metrics.json").read_text())
    if args.reevaluate:
        metrics.update(evaluate(*load_run(out / CHECKPOINT)[:2]))
    return metrics


def table(records):
    """The README's table: one row per model, in the registry's order."""
    rows = ["| model | command | data | steps | training time (2 CPU cores) | quality | picture |",
            "|---|---|---|---|---|---|---|"]
    entries = sorted(records, key=lambda entry: list(MODELS).index(entry.partition(":")[0]))
    for name in entries:
        record = records[name]
        rows.append(f"| {name.partition(':')[0]} | `{record['command']}` | {record['data']} | {record['steps']} | "
                    f"{record['seconds'] / 60:.1f} min | {quality(record)} | "
                    f"![{name}]({record['picture']}){extra_links(record)} |")
    return "\n".join(rows)


def extra_links(record):
    links = [f"[{kind}]({record[kind]})" for kind in ("density", "animation") if kind in record]
    return "<br>" + " · ".join(links) if links else ""


def quality(record):
    """The headline figures of a run, each beside its floor or the published figure to beat."""
    parts = []
    if "toy" in record:
        toy = {key: value["mean"] for key, value in record["toy"].items()}
        parts.append(f"{toy['modes']:.1f} modes, {100 * toy['high_quality']:.1f} % high quality, "
                     f"reverse KL {toy['reverse_kl']:.3f} (5 seeds; best published: "
                     + ("8 / 98.2 % / 0.07)" if record["data"] == "ring8" else "25 / 95.7 % / 0.04)"))
    held_out = record.get("held_out") or {}
    if "neg_elbo" in held_out:
        parts.append(f"held-out negative ELBO {held_out['neg_elbo']:.1f} nats (784-400-20 VAEs on "
                     "the full MNIST: 105–107)")
    elif held_out:
        parts.append("held out: " + ", ".join(f"{key} {value:.1f}" for key, value in held_out.items()))
    digits = record.get("digits")
    if digits:
        fcd = f"FCD {digits['fcd']:.1f}"
        if "fcd_seeds" in digits:
            scores = np.asarray(digits["fcd_seeds"])
            fcd += (f" (over {len(scores)} seeds {scores.mean():.1f} ± "
                    f"{scores.std(ddof=1) / np.sqrt(len(scores)):.1f})")
        parts.append(f"{fcd}, floor {digits['fcd_floor']:.1f}; classifier score "
                     f"{digits['classifier_score']:.2f} (real {digits['classifier_score_real']:.2f}), "
                     f"{10 - digits['classes_missing']}/10 classes, smallest "
                     f"{100 * min(digits['class_histogram']):.1f} %")
        if "label_accuracy" in digits:
            parts.append(f"{100 * digits['label_accuracy']:.1f} % drawn as the digit asked for")
    return "; ".join(parts) or "see the picture"


if __name__ == "__main__":
    main()
