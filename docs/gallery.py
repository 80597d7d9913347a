"""Train every model with its default settings and collect the pictures the README shows.

    python docs/gallery.py [MODEL ...] [--runs DIR] [--keep [--reevaluate]] [--table]

Each model runs ``minigen train MODEL`` (its default data and steps) into ``DIR/MODEL``;
its samples (or reconstructions) are copied to ``docs/MODEL.png`` and the command, the
time and the quality figures go into ``docs/gallery.json``, which the README's table quotes.
``--keep --reevaluate`` recomputes the figures of finished runs from their checkpoints
(``minigen eval``), for when the metrics change and the training need not be repeated.
"""
import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from minigen.models import MODELS
from minigen.train import CHECKPOINT, evaluate, load_run

DOCS = Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=list(MODELS))
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
    for name in args.models:
        out = Path(args.runs) / name
        command = ["minigen", "train", name, "--quiet", "--out", str(out)]
        if not (args.keep and (out / "metrics.json").exists()):
            shutil.rmtree(out, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "minigen", *command[1:]], check=True)
        picture = "samples.png" if (out / "samples.png").exists() else "reconstructions.png"
        shutil.copyfile(out / picture, DOCS / f"{name}.png")
        metrics = json.loads((out / "metrics.json").read_text())
        if args.reevaluate:
            metrics.update(evaluate(*load_run(out / CHECKPOINT)[:2]))
        records[name] = {"command": " ".join(command[:3]), "picture": f"docs/{name}.png", **metrics}
        record_path.write_text(json.dumps(records, indent=2) + "\n")
        print(f"{name}: {metrics['seconds']:.0f} s, {quality(metrics)}")


def table(records):
    """The README's table: one row per model, in the registry's order."""
    rows = ["| model | command | data | steps | training time (2 CPU cores) | quality | picture |",
            "|---|---|---|---|---|---|---|"]
    for name in MODELS:
        if name not in records:
            continue
        record = records[name]
        rows.append(f"| {name} | `{record['command']}` | {record['data']} | {record['steps']} | "
                    f"{record['seconds'] / 60:.1f} min | {quality(record)} | "
                    f"![{name}]({record['picture']}) |")
    return "\n".join(rows)


def quality(record):
    """The headline figures of a run, each beside its floor or the published figure to beat."""
    parts = []
    if "toy" in record:
        toy = {key: value["mean"] for key, value in record["toy"].items()}
        parts.append(f"{toy['modes']:.1f} modes, {100 * toy['high_quality']:.1f} % high quality, "
                     f"reverse KL {toy['reverse_kl']:.3f} (5 seeds; best published: "
                     + ("8 / 98.2 % / 0.07)" if record["data"] == "ring8" else "25 / 94.8 % / 0.04)"))
    held_out = record.get("held_out") or {}
    if "neg_elbo" in held_out:
        parts.append(f"held-out negative ELBO {held_out['neg_elbo']:.1f} nats (784-400-20 VAEs on "
                     "the full MNIST: 105–107)")
    elif held_out:
        parts.append("held out: " + ", ".join(f"{key} {value:.1f}" for key, value in held_out.items()))
    digits = record.get("digits")
    if digits:
        parts.append(f"FCD {digits['fcd']:.1f} (floor {digits['fcd_floor']:.1f}), classifier score "
                     f"{digits['classifier_score']:.2f} (real {digits['classifier_score_real']:.2f}), "
                     f"{10 - digits['classes_missing']}/10 classes")
    return "; ".join(parts) or "see the picture"


if __name__ == "__main__":
    main()
