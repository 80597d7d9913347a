"""Benchmarks that ship with the package (``minigen bench``): docs/WORKLOADS.md's training
workloads W1-W4 timed beside PyTorch (``workloads``), and where one iteration of minigen's
spends its time (``profile``). ``harness`` is the timing and reporting code every benchmark
(these and the scripts in benchmarks/) shares.

This module holds only the command's options, so that a command line can offer them without
importing PyTorch (seconds); ``command`` imports the rest when it runs.
"""
import argparse

WORKLOAD_KEYS = ("w1", "w2", "w3", "w4")


def workload_list(text):
    """An argparse type: comma-separated workload keys ("w1,w3")."""
    keys = [k.strip().lower() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in WORKLOAD_KEYS]
    if unknown or not keys:
        raise argparse.ArgumentTypeError(f"unknown workload {unknown or text!r}; choose from "
                                         + ",".join(WORKLOAD_KEYS))
    return keys


def add_device_arguments(parser):
    """``--device cpu|cuda`` and ``--tf32``, the options of every benchmark; returns ``parser``."""
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where both libraries run (default cpu; --threads is the CPU's)")
    parser.add_argument("--tf32", action="store_true",
                        help="with --device cuda: float32 matrix products on TF32 tensor cores in both "
                             "libraries (default: IEEE float32 in both)")
    return parser


def add_arguments(parser):
    """The options of ``minigen bench`` (and benchmarks/workloads.py); returns ``parser``."""
    parser.add_argument("--only", type=workload_list, default=list(WORKLOAD_KEYS),
                        help="comma-separated workloads to time (default: w1,w2,w3,w4)")
    parser.add_argument("--iters", type=int, help="timed iterations per library (default 100, w3 60)")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up iterations (default 10)")
    parser.add_argument("--threads", type=int, default=2, help="threads of both libraries (default 2)")
    add_device_arguments(parser)
    parser.add_argument("--block", type=int, default=10,
                        help="iterations a library runs before the other takes its turn (default 10)")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds of rest at each switch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-torch", action="store_true", help="minigen rows only")
    parser.add_argument("--json", metavar="FILE", help="write the rows to FILE (WORKLOADS.md's format)")
    parser.add_argument("--profile", type=workload_list, metavar="LIST",
                        help="instead of timing, profile one iteration of each of these workloads "
                             "(minigen): time per compiled kernel, NumPy, optimiser, Python overhead")
    parser.add_argument("--profile-iters", type=int, default=3,
                        help="iterations the profile averages over (default 3)")
    parser.add_argument("--profile-torch", action="store_true",
                        help="with --profile: also PyTorch's operators by self time, for comparison")
    return parser


def command(args):
    """Run what ``args`` (parsed with ``add_arguments``) ask for; returns the exit status, 0."""
    from .workloads import run_command
    return run_command(args)
