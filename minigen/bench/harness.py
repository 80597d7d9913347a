"""The timing loop and the reporting every benchmark shares (docs/WORKLOADS.md's protocol).

``time_call`` is the ops' protocol: warm up, then take ``samples`` samples; each sample times an
inner loop of ``repeat`` calls, with ``repeat`` chosen so that a sample lasts at least
``min_sample_s``. Time per call is the sample divided by ``repeat``; the median is what a row
reports. ``summary`` turns per-iteration times (the training workloads' protocol: each iteration
timed alone) into the same fields. ``write_json`` writes WORKLOADS.md's result file.

On the GPU both libraries queue kernels and return: ``synchronizer`` gives the wait that
``time_call`` does before it reads the clock, and ``add_device_arguments``, ``check_device`` and
``precision`` give every benchmark the same ``--device`` and ``--tf32`` options.
"""
import contextlib
import json
import os
import platform
import statistics
import time

import minigen

from . import add_device_arguments  # noqa: F401  (defined beside the bench options, without PyTorch)

try:
    import torch
except ImportError:  # PyTorch is optional: rows for it are left out
    torch = None


def summary(seconds):
    """The reported fields of a list of times in seconds: median, min, max in ms, and n."""
    return {"median_ms": 1e3 * statistics.median(seconds), "min_ms": 1e3 * min(seconds),
            "max_ms": 1e3 * max(seconds), "n": len(seconds)}


def time_call(fn, samples=50, warmup=10, min_sample_s=0.02, sync=None):
    """Time ``fn`` (the protocol above); ``sync``, where given, waits for the work ``fn`` queued
    on the GPU and is called before each reading of the clock that ends a measurement."""
    sync = sync or (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    start = time.perf_counter()
    fn()
    sync()
    one = max(time.perf_counter() - start, 1e-7)
    repeat = max(1, int(min_sample_s / one))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        sync()
        times.append((time.perf_counter() - start) / repeat)
    return {**summary(times), "n": samples * repeat}


def synchronizer(lib, device):
    """The function that waits for the GPU work ``lib`` (minigen or torch) has queued on
    ``device``; None on the CPU, where a call has finished when it returns."""
    if str(device) == "cpu":
        return None
    return minigen.cuda.synchronize if lib is minigen else torch.cuda.synchronize


# --- the device options -------------------------------------------------------------------------

def check_device(device, tf32=False):
    """Exit with a message where minigen cannot run on ``device``; print the GPU it runs on.
    Returns whether PyTorch can run there too (on the GPU a note says when it has no CUDA)."""
    if tf32 and device == "cpu":
        raise SystemExit("--tf32 is for --device cuda: the CPU kernels have no TF32")
    if device == "cuda":
        if not minigen.cuda.is_available():
            raise SystemExit(f"--device cuda: minigen cannot use the GPU: "
                             f"{minigen.cuda.unavailable_reason()}")
        print("GPU: " + ", ".join(f"{key} {value}" for key, value in gpu().items())
              + f"; float32 products: {'TF32' if tf32 else 'IEEE float32'} in both libraries")
        if torch is not None and not torch.cuda.is_available():
            print(f"note: PyTorch {torch.__version__} has no CUDA here: minigen rows only")
            return False
    return torch is not None


def _torch_tf32(matmul, convolutions):
    if torch is not None:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, convolutions


@contextlib.contextmanager
def precision(tf32=False):
    """float32 products on TF32 tensor cores in both libraries inside the block (``tf32``), or in
    IEEE float32 in both. PyTorch's default runs cuDNN's convolutions on TF32: this turns that off
    too (minigen's convolutions never use TF32). PyTorch's settings are restored afterwards."""
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) if torch else None
    _torch_tf32(tf32, tf32)
    try:
        with minigen.cuda.allow_tf32(tf32):
            yield
    finally:
        if saved:
            _torch_tf32(*saved)


# --- reporting -----------------------------------------------------------------------------------

def gpu():
    """The GPU minigen runs on, as CuPy and PyTorch describe it, where each can see it."""
    info = {}
    if minigen.cuda.is_available():
        import cupy
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"]
        info.update(name=name.decode() if isinstance(name, bytes) else name,
                    capability=f"{props['major']}.{props['minor']}", sms=props["multiProcessorCount"],
                    memory_gib=round(props["totalGlobalMem"] / 2**30, 1),
                    cuda_runtime=cupy.cuda.runtime.runtimeGetVersion(), cupy=cupy.__version__)
    if torch is not None and torch.cuda.is_available():
        info.update(torch_name=torch.cuda.get_device_name(), torch_cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version())
    return info


def machine(device="cpu"):
    """What the numbers were measured on; with ``device`` "cuda", also ``device`` and ``gpu``."""
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"cpu": model, "cores": os.cpu_count(), "cpu_isa": minigen.cpu_isa(),
            "python": platform.python_version(), "torch": torch.__version__ if torch else None}
    if device != "cpu":
        info.update(device=device, gpu=gpu())
    return info


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


def write_json(path, rows, data="", device="cpu"):
    """``{"info": machine(device), "data": data, "rows": rows}``, the format every benchmark writes."""
    with open(path, "w") as f:
        json.dump({"info": machine(device), "data": data, "rows": rows}, f, indent=1)
