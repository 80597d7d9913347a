// The WGAN-GP gradient penalty, fused (csrc/cpu/penalty.cc), instantiated for float and double.
//
// g is (N, D) row-major: one flattened input gradient per sample. The caller allocates outputs
// and has checked shapes, dtypes and contiguity (csrc/bind_penalty.cc).
#pragma once

#include <cstdint>

namespace minigen::cpu {

// Returns mean_i (||g_i||_2 - target)^2 over the N rows (NaN for N = 0, as a mean of nothing).
template <typename T>
T gradient_penalty_fwd_ref(const T* g, int64_t N, int64_t D, T target);
template <typename T>
T gradient_penalty_fwd_fast(const T* g, int64_t N, int64_t D, T target);

// gg_i = gy * 2 / N * (||g_i|| - target) / ||g_i|| * g_i, and 0 for a row whose norm is 0
// (the norm's subgradient PyTorch uses there).
template <typename T>
void gradient_penalty_bwd_ref(const T* g, int64_t N, int64_t D, T target, T gy, T* gg);
template <typename T>
void gradient_penalty_bwd_fast(const T* g, int64_t N, int64_t D, T target, T gy, T* gg);

}  // namespace minigen::cpu
