// The WGAN-GP gradient penalty, fused, for CUDA (csrc/cuda/penalty.cu), float and double.
//
// The same contract as csrc/cpu/penalty.h: g is (N, D) row-major in device memory, one flattened
// input gradient per sample; outputs are allocated and checked by the caller
// (csrc/cuda/bind_penalty.cc). Each launcher queues its kernels on `stream` and returns.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "impl.h"

namespace minigen::cuda {

// *out = mean_i (||g_i||_2 - target)^2 over the N rows (NaN for N = 0, as a mean of nothing).
// out is one device element.
template <typename T>
void gradient_penalty_fwd(Impl impl, const T* g, int64_t N, int64_t D, T target, T* out,
                          cudaStream_t stream);

// gg_i = gy * 2 / N * (||g_i|| - target) / ||g_i|| * g_i, and 0 for a row whose norm is 0
// (the norm's subgradient PyTorch uses there). gg may be g itself.
template <typename T>
void gradient_penalty_bwd(Impl impl, const T* g, int64_t N, int64_t D, T target, T gy, T* gg,
                          cudaStream_t stream);

}  // namespace minigen::cuda
