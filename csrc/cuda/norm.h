// Batch normalisation in training mode for CUDA (csrc/cuda/norm.cu), float and double.
//
// The same contract as csrc/cpu/norm.h: x is (N, C, S) row-major in device memory, statistics are
// per channel over its N * S values; the caller allocates every output and has checked shapes and
// dtypes (csrc/cuda/bind_norm.cc). Each launcher queues its kernel on `stream` and returns.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "impl.h"

namespace minigen::cuda {

// mean[c], var[c] (biased: divided by N * S), and y = (x - mean) / sqrt(var + eps) * w[c] + b[c].
// y may be x itself.
template <typename T>
void batch_norm_fwd(Impl impl, const T* x, int64_t N, int64_t C, int64_t S, const T* w, const T* b,
                    T eps, T* y, T* mean, T* var, cudaStream_t stream);

// With x̂ = (x - mean) / sqrt(var + eps) and M = N * S:
//   gb[c] = Σ gy,  gw[c] = Σ gy x̂,  gx = w / sqrt(var + eps) * (gy - gb / M - x̂ gw / M).
// gx may be x or gy itself.
template <typename T>
void batch_norm_bwd(Impl impl, const T* x, const T* gy, int64_t N, int64_t C, int64_t S,
                    const T* w, const T* mean, const T* var, T eps, T* gx, T* gw, T* gb,
                    cudaStream_t stream);

}  // namespace minigen::cuda
