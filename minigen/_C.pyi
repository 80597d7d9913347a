"""minigen._C: the CPU kernels (C++, OpenMP), built from csrc/.

Python allocates every output; each function writes into it and returns None. Arrays must be
float32 or float64 (all the same), C-contiguous, of equal shape; any other call raises
ValueError naming the op and the shapes or dtypes. impl picks the plain reference loop ("ref")
or the vectorised, multithreaded version ("fast"); both give identical results.
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

def set_num_threads(n: int) -> None:
    """Number of OpenMP threads the CPU kernels use, n >= 1 (per calling thread, as OpenMP)."""

def get_num_threads() -> int:
    """Number of OpenMP threads the CPU kernels use."""
