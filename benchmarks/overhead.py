"""What autograd costs per op: minigen beside PyTorch, same process, same thread count.

Rows:
  elementwise:fwd     z = x * y on (64,) tensors that require grad (the graph is recorded)
  elementwise:fwdbwd  (x * y).sum().backward()
  mlp3:fwdbwd         3-layer MLP 784-256-256-1, LeakyReLU(0.2), batch 64: forward,
                      backward to the six parameters

    python benchmarks/overhead.py [--threads 2] [--json FILE]
"""
import argparse

import numpy as np
from harness import print_pairs, time_call, torch, write_json

import minigen

SIZES = (784, 256, 256, 1)


def elementwise(lib):
    x = lib.ones(64, requires_grad=True)
    y = lib.ones(64, requires_grad=True)

    def forward():
        x * y

    def forward_backward():
        (x * y).sum().backward()
    return forward, forward_backward


def mlp(lib):
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        params.append(lib.tensor(rng.uniform(-1, 1, (fan_in, fan_out)).astype(np.float32) / fan_in ** 0.5,
                                 requires_grad=True))
        params.append(lib.tensor(np.zeros(fan_out, np.float32), requires_grad=True))
    x = lib.tensor(rng.standard_normal((64, SIZES[0])).astype(np.float32))
    leaky_relu = minigen.leaky_relu if lib is minigen else torch.nn.functional.leaky_relu

    def step():
        h = x
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i + 2 < len(params):
                h = leaky_relu(h, 0.2)
        for p in params:
            p.grad = None
        h.sum().backward()
    return step


def main():
    parser = argparse.ArgumentParser(description="autograd overhead, minigen vs PyTorch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args()
    minigen.set_num_threads(args.threads)
    libraries = [("minigen", minigen)]
    if torch is not None:
        torch.set_num_threads(args.threads)
        libraries.append(("torch", torch))

    rows = []
    for name, lib in libraries:
        forward, forward_backward = elementwise(lib)
        cases = {"elementwise:fwd": forward, "elementwise:fwdbwd": forward_backward,
                 "mlp3:fwdbwd": mlp(lib)}
        for key, fn in cases.items():
            rows.append({"key": key, "name": name, **time_call(fn)})
    print_pairs(rows)
    if args.json:
        write_json(args.json, rows, data=f"threads={args.threads}")


if __name__ == "__main__":
    main()
