"""Every convolution of docs/WORKLOADS.md's W2 (DCGAN) and W3 (WGAN-GP, whose critic has W2's
convolutions), minigen's fast and reference kernels beside PyTorch, same process, same threads.

Each layer is timed ``fwd`` (no graph) and ``fwdbwd`` (forward, then the gradients with
respect to the input and the weight for a fixed random upstream gradient). GFLOP/s count a
convolution as direct multiply-adds × 2 (a transposed one like the convolution it is the
gradient of); fwdbwd is 3× fwd. The op table's keys ``conv2d``, ``convT_s2`` and
``convT_1to7`` are the layers D.conv2, G.convT2 and G.convT1.

On the GPU (``--device cuda``) both compute in IEEE float32: PyTorch's default of TF32 for cuDNN
is turned off. minigen's convolutions have no TF32, so ``--tf32`` speeds up PyTorch's only.

    python benchmarks/conv.py [--threads 2] [--no-ref] [--device cpu|cuda] [--json FILE]
"""
import argparse
import functools

import numpy as np

import minigen
import minigen.nn.functional as F
from harness import (add_device_arguments, check_device, precision, print_pairs, synchronizer, time_call,
                     torch, write_json)
from minigen.backend import cpu

# key: (transposed, input shape, in, out, kernel, stride, padding)
LAYERS = {
    "G.convT1 (convT_1to7)": (True, (64, 100, 1, 1), 100, 256, 7, 1, 0),
    "G.convT2 (convT_s2)": (True, (64, 256, 7, 7), 256, 128, 4, 2, 1),
    "G.convT3": (True, (64, 128, 14, 14), 128, 1, 4, 2, 1),
    "D.conv1": (False, (64, 1, 28, 28), 1, 64, 4, 2, 1),
    "D.conv2 (conv2d)": (False, (64, 64, 14, 14), 64, 128, 4, 2, 1),
    "D.conv3": (False, (64, 128, 7, 7), 128, 1, 7, 1, 0),
}


def flop(transposed, shape, c_in, c_out, kernel, stride, padding):
    n, _, h, w = shape
    if transposed:  # counted as the convolution whose input gradient it is
        return 2 * n * c_in * h * w * c_out * kernel * kernel
    out = (h + 2 * padding - kernel) // stride + 1
    return 2 * n * c_out * out * out * c_in * kernel * kernel


def layer_fn(lib, transposed, stride, padding):
    functional = F if lib is minigen else torch.nn.functional
    if transposed:
        return lambda x, w: functional.conv_transpose2d(x, w, stride=stride, padding=padding)
    return lambda x, w: functional.conv2d(x, w, stride=stride, padding=padding)


def measure(name, lib, timing, device="cpu"):
    rows = []
    rng = np.random.default_rng(0)
    sync = synchronizer(lib, device)
    for key, (transposed, shape, c_in, c_out, kernel, stride, padding) in LAYERS.items():
        fn = layer_fn(lib, transposed, stride, padding)
        weight_shape = (c_in, c_out, kernel, kernel) if transposed else (c_out, c_in, kernel, kernel)
        x = rng.standard_normal(shape).astype(np.float32)
        w = (0.05 * rng.standard_normal(weight_shape)).astype(np.float32)
        plain = [lib.tensor(a, device=device) for a in (x, w)]
        leaves = [lib.tensor(a, requires_grad=True, device=device) for a in (x, w)]
        no_grad = minigen.no_grad if lib is minigen else torch.no_grad
        with no_grad():
            upstream = lib.tensor(rng.standard_normal(fn(*plain).shape).astype(np.float32), device=device)

        def forward():
            with no_grad():
                fn(*plain)

        def forward_backward():
            lib.autograd.grad(fn(*leaves), leaves, upstream)

        count = flop(transposed, shape, c_in, c_out, kernel, stride, padding)
        for mode, call, total in (("fwd", forward, count), ("fwdbwd", forward_backward, 3 * count)):
            result = timing(call, sync=sync)
            rows.append({"key": f"{key}:{mode}", "name": name, **result, "flop": total,
                         "gflops": total / (result["median_ms"] / 1e3) / 1e9})
    return rows


def main():
    parser = argparse.ArgumentParser(description="W2/W3 convolutions, minigen vs PyTorch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-ref", action="store_true", help="skip minigen's reference kernels")
    parser.add_argument("--json", help="write the rows to this file")
    args = add_device_arguments(parser).parse_args()
    torch_runs = check_device(args.device, args.tf32)
    minigen.set_num_threads(args.threads)
    with precision(args.tf32):
        rows = measure("minigen", minigen, time_call, args.device)
        if not args.no_ref:
            with cpu.use_impl("ref"):  # direct loops (both devices): slow, so a few samples only
                rows += measure("minigen-ref", minigen, functools.partial(time_call, samples=3, warmup=1),
                                args.device)
        if torch_runs:
            torch.set_num_threads(args.threads)
            rows += measure("torch", torch, time_call, args.device)
    print_pairs(rows)
    print(f"\n{'key':32s} " + " ".join(f"{n:>12s}" for n in ("minigen", "minigen-ref", "torch"))
          + "   GFLOP/s")
    by_key = {}
    for row in rows:
        by_key.setdefault(row["key"], {})[row["name"]] = row["gflops"]
    for key, rates in by_key.items():
        print(f"{key:32s} " + " ".join(f"{rates.get(n, float('nan')):12.1f}"
                                       for n in ("minigen", "minigen-ref", "torch")))
    fwdbwd = [k for k in by_key if k.endswith(":fwdbwd")]
    total = {n: sum(r["median_ms"] for r in rows if r["name"] == n and r["key"] in fwdbwd)
             for n in ("minigen", "torch")}
    if total["torch"]:
        print(f"\nW2 conv layers together, fwd+bwd: minigen {total['minigen']:.2f} ms, "
              f"torch {total['torch']:.2f} ms, ratio {total['minigen'] / total['torch']:.2f}")
    if args.json:
        write_json(args.json, rows, data=f"threads={args.threads}", device=args.device)


if __name__ == "__main__":
    main()
