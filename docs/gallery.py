"""Train every model with its default settings and collect the pictures the README shows.

    python docs/gallery.py [MODEL ...] [--runs DIR]

Each model runs ``minigen train MODEL`` (its default data and steps) into ``DIR/MODEL``;
its samples (or reconstructions) are copied to ``docs/MODEL.png`` and the command, the
time and the quality figures go into ``docs/gallery.json``, which the README's table quotes.
"""
import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from minigen.models import MODELS

DOCS = Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=list(MODELS))
    parser.add_argument("--runs", default="runs/gallery")
    args = parser.parse_args()
    record_path = DOCS / "gallery.json"
    records = json.loads(record_path.read_text()) if record_path.exists() else {}
    for name in args.models:
        out = Path(args.runs) / name
        shutil.rmtree(out, ignore_errors=True)
        command = ["minigen", "train", name, "--quiet", "--out", str(out)]
        subprocess.run([sys.executable, "-m", "minigen", *command[1:]], check=True)
        picture = "samples.png" if (out / "samples.png").exists() else "reconstructions.png"
        shutil.copyfile(out / picture, DOCS / f"{name}.png")
        metrics = json.loads((out / "metrics.json").read_text())
        records[name] = {"command": " ".join(command[:3]), "picture": f"docs/{name}.png", **metrics}
        record_path.write_text(json.dumps(records, indent=2) + "\n")
        print(f"{name}: {metrics['seconds']:.0f} s, {metrics.get('held_out') or metrics.get('toy')}")


if __name__ == "__main__":
    main()
