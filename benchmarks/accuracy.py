"""float32 accuracy of the long sums: GEMM, conv2d forward and conv2d weight gradient, against
a float64 reference, beside PyTorch's float32 and the bounds.

For each reduction length K (2^8 .. 2^16) it prints the largest normalised error
    max_ij |c_ij - exact_ij| / sum_k |a_ik| |b_kj|
(the exact value and the denominator in float64; products of floats are exact in double), for:
  minigen       the fast kernel (GEMM: isa="auto"; conv: lowered to the same GEMM)
  minigen_ref   the reference loop (one running float32 sum)
  torch         PyTorch's float32 (MKL / oneDNN)
beside u = 2^-24, gamma_K = K u / (1 - K u) (any order of summation: the textbook bound), and
the bound of minigen's blocked sum, gamma_{L + B - 1} with B = ceil(K / kc) blocks of L steps
(kc = 384; tests/test_edge_numerics.py derives it, for the GEMM and the conv forward; the
weight gradient adds one rounding per chunk of samples and per thread on top).

Two inputs: "random", standard normal (errors of either sign cancel: ~ sqrt(K) u at most), and
"same sign", every a = 0.1 and b = 1, where each rounding goes the same way (a plain running
sum errs by ~ K u / 4): the case that separates the accumulation orders.

    OMP_NUM_THREADS=1 python3 benchmarks/accuracy.py [--max-log2k 16]
"""
import argparse

import numpy as np
import torch
import torch.nn.functional as F

from minigen import _C

U = 2.0**-24


def gamma(n):
    return n * U / (1 - n * U)


def blocked_bound(k, kc=384):
    blocks = -(-k // kc)
    return gamma(-(-k // blocks) + blocks - 1)


def normalised(actual, exact, scale):
    return float(np.max(np.abs(actual.astype(np.float64) - exact) / scale))


def inputs(kind, rng, *shapes):
    if kind == "random":
        return [rng.standard_normal(s).astype(np.float32) for s in shapes]
    return [np.full(s, v, np.float32) for s, v in zip(shapes, (0.1, 1.0))]


# Each case: K -> (minigen, minigen_ref, torch) errors. Arrays are float32, references float64.

def gemm_case(k, kind, rng, m=64, n=64):
    a, b = inputs(kind, rng, (m, k), (k, n))
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    exact, scale = a64 @ b64, np.abs(a64) @ np.abs(b64)
    errors = []
    for impl in ("fast", "ref"):
        c = np.empty((m, n), np.float32)
        _C.gemm(a, b, c, impl=impl)
        errors.append(normalised(c, exact, scale))
    errors.append(normalised((torch.from_numpy(a) @ torch.from_numpy(b)).numpy(), exact, scale))
    return errors



def conv_forward_case(k, kind, rng):
    """K = C_in * 4 * 4: x (1, C_in, 6, 6), w (8, C_in, 4, 4), padding 1 -> y (1, 8, 5, 5)."""
    c_in = k // 16
    x, w = inputs(kind, rng, (1, c_in, 6, 6), (8, c_in, 4, 4))
    x64, w64 = torch.from_numpy(x).double(), torch.from_numpy(w).double()
    exact = F.conv2d(x64, w64, padding=1).numpy()
    scale = F.conv2d(x64.abs(), w64.abs(), padding=1).numpy()
    errors = []
    for impl in ("fast", "ref"):
        y = np.empty(exact.shape, np.float32)
        _C.conv2d_fwd(x, w, y, (1, 1), (1, 1), (1, 1), 1, impl=impl)
        errors.append(normalised(y, exact, scale))
    errors.append(normalised(F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy(),
                             exact, scale))
    return errors


def weight_gradient(x, gy, w_shape):
    """conv2d's weight gradient (3x3, padding 1) by PyTorch autograd, in x's dtype."""
    w = torch.zeros(w_shape, dtype=x.dtype, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    return torch.autograd.grad(y, w, gy)[0].numpy()


def conv_weight_case(k, kind, rng):
    """K = N * 16 * 16: x (N, 2, 16, 16), gy (N, 4, 16, 16), 3x3 kernel, padding 1."""
    n = k // 256
    x, gy = inputs(kind, rng, (n, 2, 16, 16), (n, 4, 16, 16))
    w_shape = (4, 2, 3, 3)
    x64, gy64 = torch.from_numpy(x).double(), torch.from_numpy(gy).double()
    exact = weight_gradient(x64, gy64, w_shape)
    scale = weight_gradient(x64.abs(), gy64.abs(), w_shape)
    errors = []
    for impl in ("fast", "ref"):
        gw = np.empty(w_shape, np.float32)
        _C.conv2d_bwd_weight(x, gy, gw, (1, 1), (1, 1), (1, 1), 1, impl=impl)
        errors.append(normalised(gw, exact, scale))
    errors.append(normalised(weight_gradient(torch.from_numpy(x), torch.from_numpy(gy), w_shape),
                             exact, scale))
    return errors


CASES = [("gemm 64 x K x 64", gemm_case), ("conv2d fwd, K = C_in*4*4", conv_forward_case),
         ("conv2d weight grad, K = N*16*16", conv_weight_case)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-log2k", type=int, default=16)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"unit roundoff u = 2^-24 = {U:.2e}; errors normalised by sum |a||b|, in units of u\n")
    header = (f"{'case':32} {'input':9} {'K':>6} {'gamma_K':>8} {'blocked':>8} "
              f"{'minigen':>8} {'ref':>8} {'torch':>8}")
    print(header)
    print("-" * len(header))
    for name, case in CASES:
        for kind in ("random", "same sign"):
            for log2k in range(8, args.max_log2k + 1, 2):
                k = 2**log2k
                fast, ref, theirs = case(k, kind, rng)
                print(f"{name:32} {kind:9} {k:>6} {gamma(k) / U:>8.1f} {blocked_bound(k) / U:>8.1f} "
                      f"{fast / U:>8.2f} {ref / U:>8.2f} {theirs / U:>8.2f}")
        print()


if __name__ == "__main__":
    main()
