"""minigen._C: the CPU kernels (C++, OpenMP), built from csrc/.

Python allocates every output; each function writes into it and returns None. Arrays must be
float32 or float64 (all the same), C-contiguous and aligned, of the shapes each function states;
any other call raises ValueError naming the op and the shapes or dtypes (TypeError: an argument
of the wrong Python type, such as a list for an array). An output may be an input itself where a
function says so (in place), and otherwise shares no memory with any other argument. A zero-size
array whose non-zero dimensions multiply to more than 2**28 is refused (the kernels would still
loop over them). impl picks the plain reference loop ("ref") or the fast version ("fast"), which
tests hold to each other. tests/test_fuzz_bindings.py holds every function to this.
"""
from typing import Literal

import numpy as np

def leaky_relu_fwd(
    x: np.ndarray,
    out: np.ndarray,
    negative_slope: float,
    impl: Literal["ref", "fast"] = "fast",
) -> None:
    """out[...] = x if x > 0 else negative_slope * x. out may be x itself."""

def leaky_relu_bwd(
    x: np.ndarray,
    grad_out: np.ndarray,
    grad_in: np.ndarray,
    negative_slope: float,
    impl: Literal["ref", "fast"] = "fast",
) -> None:
    """grad_in[...] = grad_out if x > 0 else negative_slope * grad_out (slope at x == 0)."""

def bce_fwd(input: np.ndarray, target: np.ndarray, out: np.ndarray,
            impl: Literal["ref", "fast"] = "fast") -> None:
    """out = (t - 1) max(log1p(-p), -100) - t max(log p, -100), PyTorch's form; ValueError if p is
    outside [0, 1] (NaN propagates)."""

def bce_bwd(input: np.ndarray, target: np.ndarray, grad_out: np.ndarray, grad_in: np.ndarray,
            impl: Literal["ref", "fast"] = "fast") -> None:
    """grad_in = grad_out (p - t) / max(p (1 - p), 1e-12f): PyTorch's float32 constant, in float64
    too."""

def bce_logits_fwd(logits: np.ndarray, target: np.ndarray, out: np.ndarray,
                   impl: Literal["ref", "fast"] = "fast") -> None:
    """out = max(x, 0) - x t + log(1 + exp(-|x|)), exact at x = ±inf."""

def bce_logits_bwd(logits: np.ndarray, target: np.ndarray, grad_out: np.ndarray,
                   grad_in: np.ndarray, impl: Literal["ref", "fast"] = "fast") -> None:
    """grad_in = grad_out (sigmoid(x) - t)."""

def gradient_penalty_fwd(grads: np.ndarray, target: float, out: np.ndarray,
                         impl: Literal["ref", "fast"] = "fast") -> None:
    """out[()] = mean over rows i of (||grads[i]||_2 - target)^2; grads (N, D), out 0-d."""

def gradient_penalty_bwd(grads: np.ndarray, target: float, grad_out: float, grad_in: np.ndarray,
                         impl: Literal["ref", "fast"] = "fast") -> None:
    """grad_in = grad_out * 2/N * (||g_i|| - target) / ||g_i|| * g_i (0 where the norm is 0)."""

def batch_norm_fwd(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float,
                   y: np.ndarray, mean: np.ndarray, var: np.ndarray,
                   impl: Literal["ref", "fast"] = "fast") -> None:
    """x (N, C, S): per-channel mean and biased var; y = (x - mean) / sqrt(var + eps) * w + b.
    y may be x itself."""

def batch_norm_bwd(x: np.ndarray, grad_out: np.ndarray, weight: np.ndarray, mean: np.ndarray,
                   var: np.ndarray, eps: float, grad_in: np.ndarray, grad_weight: np.ndarray,
                   grad_bias: np.ndarray, impl: Literal["ref", "fast"] = "fast") -> None:
    """The gradients of batch_norm_fwd in x, weight and bias. grad_in may be x or grad_out."""

Pair = tuple[int, int]

def conv2d_fwd(x: np.ndarray, w: np.ndarray, y: np.ndarray, stride: Pair, padding: Pair,
               dilation: Pair, groups: int, impl: Literal["ref", "fast"] = "fast") -> None:
    """y = conv2d(x, w): x (N, C_in, H, W), w (C_out, C_in/groups, kH, kW), no bias.

    The same for all three convolutions: the output shares no memory with the inputs; the padded
    input (N, C_in, H + 2 pad_h, W + 2 pad_w) and the output (N, C_out, H_out, W_out), N taken as
    1 where it is 0, may hold no more elements together than the three arrays, or 2**28
    (the fast kernels' scratch memory), else ValueError.
    """

def conv2d_bwd_input(gy: np.ndarray, w: np.ndarray, gx: np.ndarray, stride: Pair, padding: Pair,
                     dilation: Pair, groups: int, impl: Literal["ref", "fast"] = "fast") -> None:
    """gx = conv2d's input gradient (= conv_transpose2d of gy); gx's H, W are taken as given."""

def conv2d_bwd_weight(x: np.ndarray, gy: np.ndarray, gw: np.ndarray, stride: Pair, padding: Pair,
                      dilation: Pair, groups: int, impl: Literal["ref", "fast"] = "fast") -> None:
    """gw = conv2d's weight gradient."""

def set_num_threads(n: int) -> None:
    """Number of OpenMP threads the CPU kernels use, 1 <= n <= max(256, processors) (per calling
    thread, as OpenMP)."""

def get_num_threads() -> int:
    """Number of OpenMP threads the CPU kernels use."""

def set_cpu_isa(isa: Literal["auto", "avx512", "avx2", "portable"]) -> None:
    """The widest instruction set the CPU kernels may use ('auto': all this CPU has); ValueError
    if this CPU lacks it."""

def get_cpu_isa() -> Literal["avx512", "avx2", "portable"]:
    """The instruction set the CPU kernels use now."""

def gemm(
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    trans_a: bool = False,
    trans_b: bool = False,
    alpha: float = 1.0,
    beta: float = 0.0,
    impl: Literal["ref", "fast"] = "fast",
    isa: Literal["auto", "avx512", "avx2", "portable"] = "auto",
) -> None:
    """c = alpha * op(a) @ op(b) + beta * c, op(x) = x.T if trans_x, in place in c.

    a is (m, k), or (k, m) if trans_a; b is (k, n), or (n, k) if trans_b; c is (m, n). All three
    2-D, C-contiguous, of one dtype (float32 or float64); c writeable and sharing no memory with
    a or b. With beta == 0, c is not read (NaN in it does not leak). m, n, k may be 0. impl="ref"
    is the triple loop; "fast" the packed, blocked, SIMD, multithreaded one, which agrees with it
    to rounding (and gives the same bits for any thread count). isa picks the fast version's
    micro-kernel, for tests and benchmarks: "auto" (the widest the CPU has), "avx512", "avx2" or
    "portable"; one the CPU lacks, or any with impl="ref", raises ValueError.
    """
