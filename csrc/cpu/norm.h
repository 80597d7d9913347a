// Batch normalisation in training mode for the CPU (csrc/cpu/norm.cc), float and double.
//
// x is (N, C, S) row-major: N samples, C channels, S positions per channel (H * W for images,
// 1 for a (N, C) batch). Statistics are per channel, over the N * S values. The caller
// allocates every output and has checked shapes and dtypes (csrc/bind_norm.cc).
#pragma once

#include <cstdint>

namespace minigen::cpu {

// mean[c], var[c] (biased: divided by N * S), and y = (x - mean) / sqrt(var + eps) * w[c] + b[c].
template <typename T>
void batch_norm_fwd_ref(const T* x, int64_t N, int64_t C, int64_t S, const T* w, const T* b, T eps,
                        T* y, T* mean, T* var);
template <typename T>
void batch_norm_fwd_fast(const T* x, int64_t N, int64_t C, int64_t S, const T* w, const T* b, T eps,
                         T* y, T* mean, T* var);

// With x̂ = (x - mean) / sqrt(var + eps) and M = N * S:
//   gb[c] = Σ gy,  gw[c] = Σ gy x̂,  gx = w / sqrt(var + eps) * (gy - gb / M - x̂ gw / M).
template <typename T>
void batch_norm_bwd_ref(const T* x, const T* gy, int64_t N, int64_t C, int64_t S, const T* w,
                        const T* mean, const T* var, T eps, T* gx, T* gw, T* gb);
template <typename T>
void batch_norm_bwd_fast(const T* x, const T* gy, int64_t N, int64_t C, int64_t S, const T* w,
                         const T* mean, const T* var, T eps, T* gx, T* gw, T* gb);

}  // namespace minigen::cpu
