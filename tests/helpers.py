"""One way to hold an op to its references: NumPy for the forward, numeric differences for
first and second derivatives, and PyTorch (where installed) for the forward and every input
gradient under a random upstream gradient."""
import contextlib

import numpy as np
import pytest

import minigen
from minigen.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # PyTorch is an optional reference
    torch = None


# Every device the suite runs on: the GPU's tests skip, saying why, where there is none.
requires_gpu = pytest.mark.skipif(not minigen.cuda.is_available(),
                                  reason=f"no GPU: {minigen.cuda.unavailable_reason()}")
DEVICES = ["cpu", pytest.param("cuda", marks=requires_gpu)]


# --- rounding error bounds (Higham, Accuracy and Stability of Numerical Algorithms, 3.1) --------

def unit_roundoff(dtype):
    """u: rounding to ``dtype`` multiplies a value by (1 + d), |d| <= u (2^-24 for float32)."""
    return np.finfo(dtype).eps / 2


def gamma(n, u):
    """gamma_n = n u / (1 - n u): n roundings of unit roundoff u move a value by at most that
    fraction, so a sum of n products in any order errs by at most gamma_n sum |terms|."""
    return n * u / (1 - n * u)


def longest_conv_sum(cfg):
    """The most terms any output of conv2d_fwd, conv2d_bwd_input or conv2d_bwd_weight adds up
    for the ConvConfig ``cfg``: a window of every input channel, one tap of every output channel
    per kernel position, or every output pixel of the batch."""
    return max(np.prod(cfg.weight_shape[1:]), cfg.out_channels * np.prod(cfg.kernel),
               cfg.batch * np.prod(cfg.conv_output))


def to_float64(module):
    """``module``'s float32 parameters and buffers in float64, in place (the tensors stay the same
    objects, so optimisers made before still hold them): a float64 run of a model takes the
    order of float32 sums, which differs by CPU and library, out of a comparison."""
    for tensor in (*module.parameters(), *module.buffers()):
        if tensor.dtype == minigen.float32:
            tensor._data = tensor._data.astype(np.float64)
    return module


def check_op(fn, arrays, numpy_fn=None, torch_fn=None, second_order=True, device="cpu", **kwargs):
    """Check ``fn`` (Tensors -> Tensor) at float64 ``arrays`` on ``device`` against every
    reference given.

    ``numpy_fn`` takes the arrays, ``torch_fn`` the torch tensors; ``kwargs`` go to the
    gradient checks (eps, atol, rtol).
    """
    inputs = [minigen.tensor(a, dtype=minigen.float64, requires_grad=True, device=device) for a in arrays]
    out = fn(*inputs)
    if numpy_fn is not None:
        np.testing.assert_allclose(out.detach().cpu().numpy(), numpy_fn(*arrays), rtol=1e-12, atol=1e-12)
    assert gradcheck(fn, inputs, **kwargs)
    if second_order:
        assert gradgradcheck(fn, inputs, **kwargs)
    if torch_fn is not None:
        assert_matches_torch(fn, torch_fn, arrays)


def assert_matches_torch(fn, torch_fn, arrays, seed=0):
    """Forward and all input gradients agree with PyTorch in float64; in float32 they are float32.

    float32 values are not compared: each library rounds in its own order of summation, which
    also differs by CPU, and no one error bound fits every op (test_edge_numerics holds each
    kernel's float32 results to theirs)."""
    if torch is None:
        return
    ours = [minigen.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    out, ref = fn(*ours), torch_fn(*theirs)
    assert out.shape == tuple(ref.shape), (out.shape, ref.shape)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    grads = minigen.autograd.grad(out, ours, minigen.tensor(upstream), allow_unused=True)
    ref_grads = torch.autograd.grad(ref, theirs, torch.tensor(upstream), allow_unused=True)
    for i, (g, r) in enumerate(zip(grads, ref_grads)):
        g = np.zeros(arrays[i].shape) if g is None else g.numpy()
        r = np.zeros(arrays[i].shape) if r is None else r.numpy()
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-10, err_msg=f"gradient of input {i}")
    singles = [minigen.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    out = fn(*singles)
    grads = minigen.autograd.grad(out, singles, minigen.ones(*out.shape), allow_unused=True)
    assert out.dtype == np.float32 and all(g is None or g.dtype == np.float32 for g in grads)


@contextlib.contextmanager
def num_threads(n):
    """Run the block with the CPU kernels on ``n`` OpenMP threads, then restore the setting."""
    before = minigen.get_num_threads()
    minigen.set_num_threads(n)
    try:
        yield
    finally:
        minigen.set_num_threads(before)


def _cpu_has(isa):
    """Whether this CPU runs the GEMM micro-kernel for ``isa``, whatever MINIGEN_CPU_ISA allows."""
    now = minigen.cpu_isa()
    try:
        minigen._C.set_cpu_isa(isa)
    except ValueError:
        return False
    finally:
        minigen._C.set_cpu_isa(now)
    return True


def _gemm_runs(isa):
    x = np.ones((1, 1))
    try:
        minigen._C.gemm(x, x.copy(), np.empty((1, 1)), isa=isa)
    except ValueError:
        return False
    return True


# The GEMM micro-kernels this CPU has (test_gemm's test_isa_detection_matches_cpuinfo checks the
# list); those the kernels may run now (all of them, or fewer under MINIGEN_CPU_ISA); and every
# (impl, isa) pair of the GEMM: the reference loop and each micro-kernel.
CPU_ISAS = [isa for isa in ("avx512", "avx2", "portable") if _cpu_has(isa)]
GEMM_ISAS = [isa for isa in ("avx512", "avx2", "portable") if _gemm_runs(isa)]
GEMM_IMPLS = [("ref", "auto")] + [("fast", isa) for isa in ["auto"] + GEMM_ISAS]


# A DCGAN discriminator's first layer: 64 filters of 4 x 4 over one channel, 64 digits of 28 x 28
# to 14 x 14 outputs. Its weight gradient is a sum of 64 * 14 * 14 = 12,544 terms per element,
# which the fast CUDA kernel splits over a workspace.
DCGAN_CONV = dict(x_shape=(64, 1, 28, 28), w_shape=(64, 1, 4, 4), y_shape=(64, 64, 14, 14),
                  stride=(2, 2), padding=(1, 1), dilation=(1, 1), groups=1)
