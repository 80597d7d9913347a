"""The timing loop and the reporting every benchmark shares (shared/WORKLOADS.md's protocol).

``time_call`` is the ops' protocol: warm up, then take ``samples`` samples; each sample times an
inner loop of ``repeat`` calls, with ``repeat`` chosen so that a sample lasts at least
``min_sample_s``. Time per call is the sample divided by ``repeat``; the median is what a row
reports. ``summary`` turns per-iteration times (the training workloads' protocol: each iteration
timed alone) into the same fields. ``write_json`` writes WORKLOADS.md's result file.
"""
import json
import os
import platform
import statistics
import time

try:
    import torch
except ImportError:  # PyTorch is optional: rows for it are left out
    torch = None


def summary(seconds):
    """The reported fields of a list of times in seconds: median, min, max in ms, and n."""
    return {"median_ms": 1e3 * statistics.median(seconds), "min_ms": 1e3 * min(seconds),
            "max_ms": 1e3 * max(seconds), "n": len(seconds)}


def time_call(fn, samples=50, warmup=10, min_sample_s=0.02):
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    fn()
    one = max(time.perf_counter() - start, 1e-7)
    repeat = max(1, int(min_sample_s / one))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        times.append((time.perf_counter() - start) / repeat)
    return {**summary(times), "n": samples * repeat}


def machine():
    """What the numbers were measured on."""
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__ if torch else None}


def print_pairs(rows):
    """One line per key: minigen and PyTorch medians side by side and their ratio."""
    by_key = {}
    for row in rows:
        by_key.setdefault(row["key"], {})[row["name"]] = row
    print(f"{'key':28s} {'minigen ms':>11s} {'torch ms':>10s} {'ratio':>7s}")
    for key, pair in by_key.items():
        ours, theirs = pair.get("minigen"), pair.get("torch")
        ratio = f"{ours['median_ms'] / theirs['median_ms']:7.2f}" if ours and theirs else "      -"
        print(f"{key:28s} {ours['median_ms'] if ours else float('nan'):11.4f} "
              f"{theirs['median_ms'] if theirs else float('nan'):10.4f} {ratio}")


def write_json(path, rows, data=""):
    """``{"info": machine(), "data": data, "rows": rows}``, the format every benchmark writes."""
    with open(path, "w") as f:
        json.dump({"info": machine(), "data": data, "rows": rows}, f, indent=1)
