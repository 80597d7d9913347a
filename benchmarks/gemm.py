"""SGEMM: minigen's GEMM beside OpenBLAS (NumPy) and PyTorch, float32, 1 and 2 threads.

Rows, per shape M x K x N (C (M, N) = A (M, K) @ B (K, N), C preallocated) and thread count:
  minigen            _C.gemm, impl="fast", isa="auto" (the widest micro-kernel allowed: what the
                     CPU has, or less under MINIGEN_CPU_ISA)
  minigen_avx2 / minigen_portable   the same with the narrower micro-kernels the CPU can run
  minigen_ref        the reference triple loop; only at the small shapes, it is slow (~1 GFLOP/s)
  numpy              numpy.matmul(out=), OpenBLAS as it picks its kernel for this CPU
  numpy_skx          the same with OPENBLAS_CORETYPE=SKYLAKEX, OpenBLAS's AVX-512 kernel; only
                     where the CPU has AVX-512 (elsewhere OpenBLAS stops on an illegal instruction)
  torch              torch.mm(out=), when PyTorch is installed
A library that cannot run here is left out, and the table's first lines say why.
Shapes: the GAN's 64 x 784 x 1024 and 64 x 1024 x 1024 (a Linear layer on a batch of 64),
256^3, 1024^3 (WORKLOADS.md's sgemm), and 64 x 784 x 1024 "nt": B given transposed, the layout
of a Linear layer's forward (x @ W.T, W (1024, 784)), for minigen as trans_b, for NumPy and
PyTorch as a transposed view.

Each library runs in its own worker process per thread count, started with the environment it
reads when it loads (OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS). The workers take turns row by
row: every round measures every (shape, threads) row of every implementation back to back, in
an order that rotates from round to round, so that all of them see the same state of this shared
VM. A row is harness.time_call (10 warm-ups, 50 samples of >= 50 ms; 1 warm-up and 5 samples for
the slow ref and portable rows) after a 0.3 s pause that lets the previous worker's threads stop
spinning. It reports the median over --rounds of the per-round medians.

The roof is computed, not measured: cores x 2 FMA units x float lanes (16 with AVX-512, 8 with
AVX2) x 2 flops x clock, the clock from /proc/cpuinfo (AVX-512 code may run below it, and a CPU
that splits 512-bit FMAs into two 256-bit halves, as AMD's Zen 4 does, reaches half). Each row
prints its fraction of it and its ratio to numpy_skx, or to numpy where numpy_skx cannot run.

    python benchmarks/gemm.py [--rounds 3] [--threads 1 2] [--shapes 1024x1024x1024 ...]
                              [--json FILE]

Keys follow WORKLOADS.md: "sgemm:<impl>" is 1024^3 on 2 threads (sgemm:torch, sgemm:numpy,
sgemm:numpy_skx, sgemm:minigen ...), "sgemm:<impl>1t" on 1 thread; other shapes are
"sgemm_<M>x<K>x<N>[nt]:<impl>[1t]".

On the GPU (``--device cuda``) the rows are minigen's CUDA GEMM (``_cuda.gemm``, fast and, at the
small shapes, ref) and torch.mm (cuBLAS), at the shapes above and 2048^3 and 4096^3, each timed
with a wait for the GPU before every reading of the clock; there is no computed roof, and each
row prints its fraction of cuBLAS. Both run in IEEE float32 unless ``--tf32`` (both on TF32
tensor cores). The host's thread count hardly matters there, so the GPU's default is one count,
2, and its keys read as the CPU's 2-thread ones (the JSON's info says which device).

    python benchmarks/gemm.py --device cuda [--tf32] [--rounds 3] [--json FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from harness import (add_device_arguments, check_device, machine, precision, synchronizer, time_call,
                     write_json)

SHAPES = ["64x784x1024", "64x1024x1024", "256x256x256", "1024x1024x1024", "64x784x1024nt"]
GPU_SHAPES = SHAPES + ["2048x2048x2048", "4096x4096x4096"]
REF_SHAPES = {"64x784x1024", "64x1024x1024", "256x256x256", "64x784x1024nt"}
FMA_UNITS = 2  # per core: Skylake-SP Gold/Platinum and later have two 512-bit FMA units


def parse(shape):
    """'64x784x1024nt' -> (64, 784, 1024, True): M, K, N and whether B is given transposed."""
    trans_b = shape.endswith("nt")
    m, k, n = (int(x) for x in shape.removesuffix("nt").split("x"))
    return m, k, n, trans_b


def key(shape, impl, threads):
    name = "sgemm" if shape == "1024x1024x1024" else f"sgemm_{shape}"
    return f"{name}:{impl}" + ("1t" if threads == 1 else "")


def cpu_info(field):
    """The first value of ``field`` in /proc/cpuinfo, or None where there is none."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith(field))
    except (OSError, StopIteration):
        return None


def vector_lanes():
    """float32 lanes of the widest vectors this CPU has (x86-64 flags; SSE's 4 elsewhere)."""
    flags = (cpu_info("flags") or "").split()
    return 16 if "avx512f" in flags else 8 if "avx2" in flags else 4


def roof_gflops():
    """(cores x FMA units x lanes x 2 flops x GHz, lanes, GHz), the clock as /proc/cpuinfo
    states it."""
    try:
        ghz = float(cpu_info("cpu MHz")) / 1e3
    except (TypeError, ValueError):
        return None, None, None
    lanes = vector_lanes()
    return os.cpu_count() * FMA_UNITS * lanes * 2 * ghz, lanes, ghz


# --- worker: one library at one thread count, measuring the rows it is asked for ----------------

class Worker:
    """The implementations of one library on ``device``; call(impl, shape) returns a function to
    time, ``sync`` the wait for the GPU (None on the CPU)."""

    def __init__(self, lib, threads, device="cpu", tf32=False):
        import numpy as np
        self.np, self.lib, self.threads, self.device, self.arrays = np, lib, threads, device, {}
        self.sync, self.options, self.isa = None, {}, "auto"
        if lib == "minigen":
            import minigen
            from minigen import _C
            _C.set_num_threads(threads)
            self._C, self.sync = _C, synchronizer(minigen, device)
            if device == "cuda":
                import cupy
                from minigen import _cuda
                self._C, self.isa = _cuda, "tf32" if tf32 else "auto"
                self.options = {"stream": cupy.cuda.get_current_stream().ptr}
                self.impls = ["minigen", "minigen_ref"]
            else:
                # "auto" is the first of these the CPU runs; the others get rows of their own
                isas = [isa for isa in ("avx512", "avx2", "portable") if self._runs(isa)]
                self.impls = ["minigen"] + [f"minigen_{isa}" for isa in isas[1:]] + ["minigen_ref"]
        elif lib == "torch":
            import torch
            torch.set_num_threads(threads)
            self.torch, self.sync = torch, synchronizer(torch, device)
            self.impls = ["torch"]
        else:
            self.impls = [lib]

    def _runs(self, isa):
        x = self.np.ones((1, 1), self.np.float32)
        try:
            self._C.gemm(x, x.copy(), self.np.empty_like(x), isa=isa)
        except ValueError:
            return False
        return True

    def call(self, impl, shape):
        np = self.np
        m, k, n, trans_b = parse(shape)
        if shape not in self.arrays:
            rng = np.random.default_rng(0)
            self.arrays = {shape: (rng.standard_normal((m, k), dtype=np.float32),
                                   rng.standard_normal((n, k) if trans_b else (k, n),
                                                       dtype=np.float32),
                                   np.empty((m, n), np.float32))}
        a, b, c = self.arrays[shape]
        if self.lib == "minigen":
            _C, options = self._C, self.options
            if self.device == "cuda":
                import cupy
                a, b, c = (cupy.asarray(x) for x in (a, b, c))
            if impl == "minigen_ref":
                return lambda: _C.gemm(a, b, c, False, trans_b, impl="ref", **options)
            isa = impl.removeprefix("minigen").removeprefix("_") or self.isa
            return lambda: _C.gemm(a, b, c, False, trans_b, isa=isa, **options)
        if self.lib == "torch":
            torch = self.torch
            ta, tb, tc = (torch.from_numpy(x).to(self.device) for x in (a, b, c))
            tb = tb.t() if trans_b else tb
            return lambda: torch.mm(ta, tb, out=tc)
        op_b = b.T if trans_b else b
        return lambda: np.matmul(a, op_b, out=c)

    def serve(self):
        """Answers requests "impl shape" on stdin, one JSON line each; "impls" lists them."""
        print(json.dumps(self.impls), flush=True)
        for line in sys.stdin:
            impl, shape = line.split()
            fn = self.call(impl, shape)
            fn()  # a failing call raises here, before any timing
            time.sleep(0.3)  # let the previous worker's threads go back to sleep
            slow = impl in ("minigen_ref", "minigen_portable")
            timing = (time_call(fn, samples=5, warmup=1, min_sample_s=0.05, sync=self.sync) if slow
                      else time_call(fn, samples=50, warmup=10, min_sample_s=0.05, sync=self.sync))
            print(json.dumps(timing), flush=True)


def start_worker(lib, threads, device, tf32):
    """(the worker process, its implementations), or (None, why) where it died on its way up."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads if lib.startswith("numpy") else 1))
    env.pop("OPENBLAS_CORETYPE", None)
    if lib == "numpy_skx":
        env["OPENBLAS_CORETYPE"] = "SKYLAKEX"
    command = [sys.executable, __file__, "--worker", lib, "--threads", str(threads), "--device", device]
    proc = subprocess.Popen(command + ["--tf32"] * tf32,
                            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    if not first:
        proc.communicate()  # waits, and closes the pipes
        return None, f"its worker exited with status {proc.returncode} before it started"
    return proc, json.loads(first)


def ask(proc, impl, shape):
    proc.stdin.write(f"{impl} {shape}\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


# --- main: rounds over the rows, then the table -------------------------------------------------

def libraries(device, torch_runs):
    """The workers' libraries, and why each other one is left out: NumPy's OpenBLAS only on the
    CPU, its AVX-512 kernel only where the CPU has AVX-512, PyTorch where it runs."""
    if device != "cpu":
        return ["minigen"] + ["torch"] * torch_runs, {"numpy": "OpenBLAS runs on the CPU only"}
    libs, left_out = ["minigen", "numpy"] + ["torch"] * torch_runs, {}
    if vector_lanes() == 16:
        libs.insert(2, "numpy_skx")
    else:
        left_out["numpy_skx"] = "OPENBLAS_CORETYPE=SKYLAKEX needs AVX-512, which this CPU lacks"
    return libs, left_out


def main():
    parser = argparse.ArgumentParser(description="SGEMM: minigen vs OpenBLAS vs PyTorch")
    parser.add_argument("--threads", type=int, nargs="+", help="default: 1 2 (on the GPU: 2)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shapes", nargs="+", choices=GPU_SHAPES,
                        help="default: all but 2048^3 and 4096^3, which only the GPU adds")
    parser.add_argument("--json", help="write the rows to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = add_device_arguments(parser).parse_args()
    cuda = args.device == "cuda"
    args.threads = args.threads or ([2] if cuda else [1, 2])
    args.shapes = args.shapes or (GPU_SHAPES if cuda else SHAPES)
    if args.worker:
        with precision(args.tf32):
            Worker(args.worker, args.threads[0], args.device, args.tf32).serve()
        return

    torch_runs = check_device(args.device, args.tf32)
    roof, lanes, ghz = (None, None, None) if cuda else roof_gflops()
    info = machine()
    if roof:
        print(f"{info['cpu']}, {info['cores']} cores, minigen on {info['cpu_isa']}. FP32 roof, computed: {info['cores']} cores x "
              f"{FMA_UNITS} FMA units x {lanes} lanes x 2 flops x {ghz:.2f} GHz = {roof:.0f} GFLOP/s")

    libs, left_out = libraries(args.device, torch_runs)
    if not torch_runs:
        left_out["torch"] = "PyTorch is not installed"
    workers = {}
    for lib in libs:
        for t in args.threads:
            proc, impls = start_worker(lib, t, args.device, args.tf32)
            if proc is None:
                left_out[lib] = impls
            else:
                workers[lib, t] = proc, impls
    for lib, why in left_out.items():
        print(f"{lib} left out: {why}")
    rows = [(shape, t, impl, proc) for shape in args.shapes for t in args.threads
            for (lib, wt), (proc, impls) in workers.items() if wt == t
            for impl in impls if impl != "minigen_ref" or shape in REF_SHAPES]
    runs = {}
    for r in range(args.rounds):
        for shape in args.shapes:
            for t in args.threads:
                group = [row for row in rows if row[:2] == (shape, t)]
                for _, _, impl, proc in group[r % len(group):] + group[:r % len(group)]:
                    print(f"round {r + 1}/{args.rounds}: {shape}, {t} thread(s), {impl}",
                          file=sys.stderr)
                    runs.setdefault((shape, t, impl), []).append(ask(proc, impl, shape))
    for proc, _ in workers.values():
        proc.stdin.close()
        proc.wait()

    table = []
    for (shape, t, impl), timings in runs.items():
        m, k, n, _ = parse(shape)
        median_ms = statistics.median(x["median_ms"] for x in timings)
        gflops = 2 * m * k * n / median_ms / 1e6
        table.append({"key": key(shape, impl, t), "name": impl, "median_ms": median_ms,
                      "min_ms": min(x["min_ms"] for x in timings),
                      "max_ms": max(x["max_ms"] for x in timings),
                      "n": sum(x["n"] for x in timings), "gflops": gflops, "flop": 2 * m * k * n,
                      "gbps": None,
                      "extra": {"shape": shape, "threads": t, "rounds": len(timings),
                                "roof_fraction": gflops / roof if roof else None}})

    # on the GPU: cuBLAS; on the CPU: OpenBLAS at its best where its AVX-512 kernel runs
    baseline = "torch" if cuda else next(
        lib for lib in ("numpy_skx", "numpy", "minigen") if any(row["name"] == lib for row in table))
    base = {(row["extra"]["shape"], row["extra"]["threads"]): row["gflops"]
            for row in table if row["name"] == baseline}
    print(f"\n{'shape':15s} {'thr':>3s} {'impl':17s} {'median ms':>10s} {'GFLOP/s':>8s} "
          f"{'of roof':>7s} {'/ ' + baseline:>11s}")
    for row in table:
        shape, t = row["extra"]["shape"], row["extra"]["threads"]
        ratio = row["gflops"] / base[shape, t] if (shape, t) in base else float("nan")
        frac = f"{100 * row['extra']['roof_fraction']:6.1f}%" if roof else "      -"
        print(f"{shape:15s} {t:3d} {row['name']:17s} {row['median_ms']:10.3f} "
              f"{row['gflops']:8.1f} {frac} {ratio:11.2f}")
    if args.json:
        write_json(args.json, table, device=args.device,
                   data=f"float32{' (TF32)' * args.tf32}; threads {args.threads}; rounds {args.rounds}; "
                        f"roof {roof and round(roof)} GFLOP/s (computed)")


if __name__ == "__main__":
    main()
