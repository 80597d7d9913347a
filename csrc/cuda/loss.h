// Binary cross-entropy kernels for CUDA (csrc/cuda/loss.cu), instantiated for float and double.
//
// The same contract as csrc/cpu/loss.h: n contiguous device elements (any tensor shape, seen
// flat), outputs allocated and checked by the caller (csrc/cuda/bind_loss.cc); an output may be
// one of its inputs itself. Each launcher queues its kernel on `stream` and returns; impl picks
// the plain or the fast kernel.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "impl.h"

namespace minigen::cuda {

// l = (t - 1) max(log1p(-p), -100) - t max(log p, -100), PyTorch's form. Unlike the CPU kernel it
// does not check that p lies in [0, 1] (that would cost a device-to-host sync; the Python layer
// checks): for p outside [0, 1] one of the logs is NaN, and so is l. NaN passes.
template <typename T>
void bce_fwd(Impl impl, const T* p, const T* t, T* l, int64_t n, cudaStream_t stream);

// gp = gy (p - t) / max(p (1 - p), 1e-12f), PyTorch's backward and float32 clamp in both dtypes.
template <typename T>
void bce_bwd(Impl impl, const T* p, const T* t, const T* gy, T* gp, int64_t n, cudaStream_t stream);

// From logits x: l = max(x, 0) - x t + log(1 + exp(-|x|)), which never overflows.
template <typename T>
void bce_logits_fwd(Impl impl, const T* x, const T* t, T* l, int64_t n, cudaStream_t stream);

// gx = gy (sigmoid(x) - t)
template <typename T>
void bce_logits_bwd(Impl impl, const T* x, const T* t, const T* gy, T* gx, int64_t n,
                    cudaStream_t stream);

}  // namespace minigen::cuda
