"""Soak: train DCGAN for a long time and watch the resident memory for leaks.

    python benchmarks/soak.py [--minutes 30 | --steps N] [--interval 60] [--out runs/soak]

The run is minigen's own trainer (``minigen.train.train``) with everything it does along
the way: sample grids, checkpoints, the loss history. After each step, once ``--interval``
seconds have passed since the last reading, the process's resident set size (RSS) is read.
The run stops after ``--minutes`` or ``--steps``, whichever comes first, the way Ctrl-C
stops it (a checkpoint, no final evaluation, so that the last readings are still training).

Writes ``soak.json`` (every reading: seconds, step, RSS in MiB) and ``soak.png`` (the curve)
into ``--out``, and prints the growth after warm-up: the largest RSS after the first
``--warmup`` fraction of the readings minus the RSS at the end of that warm-up. Linux only
(the RSS comes from /proc/self/statm). With glibc, set ``MALLOC_MMAP_THRESHOLD_=131072``
so that RSS follows the live memory: otherwise glibc's moving mmap threshold keeps freed
blocks resident and the curve steps up by a few MiB at random, as tests/test_soak.py explains.
"""
import argparse
import json
import resource
import sys
import time
from pathlib import Path

from minigen import get_num_threads, plots
from minigen.files import atomic_write
from minigen.train import TrainConfig, train


def resident_mib():
    """The resident set size of this process in MiB, now (not the peak)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


class Soak:
    """The trainer's ``on_step``: reads the RSS every ``interval`` s and says when to stop."""

    def __init__(self, interval, minutes=None, steps=None, echo=True):
        self.interval, self.echo = interval, echo
        self.seconds = None if minutes is None else 60 * minutes
        self.steps = steps
        self.start = time.perf_counter()
        self.readings = [self._reading(0)]

    def _reading(self, step):
        reading = {"seconds": round(time.perf_counter() - self.start, 2), "step": step,
                   "rss_mib": round(resident_mib(), 2)}
        if self.echo:
            print(f"{reading['seconds'] / 60:6.1f} min  step {step:7d}  RSS {reading['rss_mib']:8.1f} MiB",
                  flush=True)
        return reading

    def __call__(self, run):
        elapsed = time.perf_counter() - self.start
        done = (self.seconds is not None and elapsed >= self.seconds) or \
               (self.steps is not None and run.step >= self.steps)
        if done or elapsed - self.readings[-1]["seconds"] >= self.interval:
            self.readings.append(self._reading(run.step))
        return done


def warmup_end(readings, warmup):
    """The index of the reading that ends the warm-up, the first ``warmup`` fraction of them."""
    return max(1, round(warmup * (len(readings) - 1)))


def growth_after_warmup(readings, warmup):
    """The largest RSS after the first ``warmup`` fraction of the readings, minus the RSS at
    the end of the warm-up (MiB): what a leak would make grow with the length of the run."""
    settled = readings[warmup_end(readings, warmup):]
    return max(r["rss_mib"] for r in settled) - settled[0]["rss_mib"]


def draw(readings, warmup, path, title):
    figure = plots.new_figure(figsize=(7, 4))
    axes = figure.subplots()
    minutes = [r["seconds"] / 60 for r in readings]
    axes.plot(minutes, [r["rss_mib"] for r in readings], marker=".")
    axes.axvline(minutes[warmup_end(readings, warmup)], color="0.6", linestyle="--",
                 label="end of warm-up")
    axes.set_xlabel("minutes of training")
    axes.set_ylabel("resident memory (MiB)")
    axes.set_ylim(bottom=0)
    axes.set_title(title)
    axes.legend(loc="lower right")
    plots.save_figure(figure, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, help="stop after this long (default 30 without --steps)")
    parser.add_argument("--steps", type=int, help="stop after this many steps")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between RSS readings")
    parser.add_argument("--warmup", type=float, default=0.2, help="fraction of readings that is warm-up")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--every", type=int, default=500, help="steps between pictures and checkpoints")
    parser.add_argument("--out", default="runs/soak")
    args = parser.parse_args(argv)
    minutes = 30.0 if args.minutes is None and args.steps is None else args.minutes

    out = Path(args.out)
    (out / "checkpoint.npz").unlink(missing_ok=True)   # a soak starts from scratch
    config = TrainConfig("dcgan", steps=10**9, batch_size=args.batch_size, out=str(out),
                         sample_every=args.every, checkpoint_every=args.every)
    soak = Soak(args.interval, minutes, args.steps)
    train(config, progress=False, on_step=soak)

    growth = growth_after_warmup(soak.readings, args.warmup)
    steps = soak.readings[-1]["step"]
    title = f"DCGAN soak: {steps} steps, batch {args.batch_size}, {get_num_threads()} threads"
    result = {"steps": steps, "batch_size": args.batch_size, "warmup": args.warmup,
              "growth_after_warmup_mib": round(growth, 2), "readings": soak.readings}
    with atomic_write(out / "soak.json") as file:
        file.write(json.dumps(result, indent=1).encode())
    draw(soak.readings, args.warmup, out / "soak.png", title)
    print(f"{title}: RSS {soak.readings[0]['rss_mib']:.1f} MiB at the start, "
          f"{soak.readings[-1]['rss_mib']:.1f} at the end, growth after warm-up {growth:+.1f} MiB; "
          f"{out / 'soak.json'}, {out / 'soak.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
