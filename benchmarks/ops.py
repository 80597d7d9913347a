"""Op microbenchmarks at docs/WORKLOADS.md's shapes: minigen beside PyTorch, same process.

Each op is timed twice: ``fwd`` (inputs need no grad, no graph recorded) and ``fwdbwd``
(forward, then the gradients with respect to every tensor input, for a fixed random upstream
gradient, through ``autograd.grad``: nothing accumulates).

  linear            x(64,784) @ W(1024,784)ᵀ + b(1024)
  leaky_relu        x(64,128,14,14), slope 0.2 (reported as GB/s: 8 B/element fwd, 20 fwd+bwd)
  bce               binary_cross_entropy(p(64,1), t(64,1)), mean; fwdbwd: gradient in p only
  gradient_penalty  mean (||g_i|| - 1)^2 of g(64,1,28,28), WGAN-GP's penalty (PyTorch: composed)

    python benchmarks/ops.py [--threads 2] [--device cpu|cuda] [--tf32] [--json FILE]
"""
import argparse

import numpy as np

import minigen
import minigen.nn.functional as F
from harness import (add_device_arguments, check_device, precision, print_pairs, synchronizer, time_call,
                     torch, write_json)


def cases(lib):
    """{key: (function of the inputs, input arrays, which inputs get gradients, flop, bytes)}"""
    functional = F if lib is minigen else torch.nn.functional
    rng = np.random.default_rng(0)
    normal = lambda *shape, scale=1.0: (scale * rng.standard_normal(shape)).astype(np.float32)  # noqa: E731
    p = 1 / (1 + np.exp(-normal(64, 1)))
    t = (rng.random((64, 1)) < 0.5).astype(np.float32)

    def penalty(g):
        if lib is minigen:
            return F.gradient_penalty(g)
        return ((g.reshape(g.shape[0], -1).norm(dim=1) - 1) ** 2).mean()

    linear_flop = 2 * 64 * 784 * 1024 + 64 * 1024
    return {
        "linear": (functional.linear, [normal(64, 784), normal(1024, 784, scale=0.03), normal(1024)],
                   [0, 1, 2], (linear_flop, 3 * 2 * 64 * 784 * 1024 + 2 * 64 * 1024), None),
        "leaky_relu": (lambda x: functional.leaky_relu(x, 0.2), [normal(64, 128, 14, 14)], [0],
                       None, (8 * 64 * 128 * 14 * 14, 20 * 64 * 128 * 14 * 14)),
        "bce": (functional.binary_cross_entropy, [p, t], [0], None, None),
        "gradient_penalty": (penalty, [normal(64, 1, 28, 28)], [0], None, None),
    }


def measure(name, lib, device="cpu"):
    rows = []
    sync = synchronizer(lib, device)
    for key, (fn, arrays, wrt, flop, nbytes) in cases(lib).items():
        plain = [lib.tensor(a, device=device) for a in arrays]
        leaves = [lib.tensor(a, requires_grad=i in wrt, device=device) for i, a in enumerate(arrays)]
        with (minigen.no_grad() if lib is minigen else torch.no_grad()):
            upstream = lib.tensor(np.random.default_rng(1).standard_normal(fn(*plain).shape)
                                  .astype(np.float32), device=device)

        def forward():
            with (minigen.no_grad() if lib is minigen else torch.no_grad()):
                fn(*plain)

        def forward_backward():
            lib.autograd.grad(fn(*leaves), [leaves[i] for i in wrt], upstream)

        for mode, call, index in (("fwd", forward, 0), ("fwdbwd", forward_backward, 1)):
            timing = time_call(call, sync=sync)
            seconds = timing["median_ms"] / 1e3
            rows.append({"key": f"{key}:{mode}", "name": name, **timing,
                         "flop": flop[index] if flop else None,
                         "gflops": flop[index] / seconds / 1e9 if flop else None,
                         "gbps": nbytes[index] / seconds / 1e9 if nbytes else None})
    return rows


def main():
    parser = argparse.ArgumentParser(description="op microbenchmarks, minigen vs PyTorch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="write the rows to this file")
    args = add_device_arguments(parser).parse_args()
    torch_runs = check_device(args.device, args.tf32)
    minigen.set_num_threads(args.threads)
    with precision(args.tf32):
        rows = measure("minigen", minigen, args.device)
        if torch_runs:
            torch.set_num_threads(args.threads)
            rows += measure("torch", torch, args.device)
    print_pairs(rows)
    for row in rows:
        rate = (f"{row['gflops']:.1f} GFLOP/s" if row["gflops"] else
                f"{row['gbps']:.1f} GB/s" if row["gbps"] else "")
        if rate:
            print(f"  {row['name']:8s} {row['key']:24s} {rate}")
    if args.json:
        write_json(args.json, rows, data=f"threads={args.threads}", device=args.device)


if __name__ == "__main__":
    main()
