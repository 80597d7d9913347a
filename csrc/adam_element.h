// One element of Adam's update, shared by the CPU (csrc/cpu/optim.cc) and the GPU
// (csrc/cuda/optim.cu) kernels: both compile it without fused multiply-adds, so that it rounds
// where PyTorch does, and the two devices give the same bits.
#pragma once

#include <cmath>

#include "cpu/optim.h"

#ifdef __CUDACC__
#define MINIGEN_HOST_DEVICE __host__ __device__
#else
#define MINIGEN_HOST_DEVICE
#endif

namespace minigen {

// torch.maximum: NaN if either is NaN. (std::max(a, b) is a < b ? b : a, which returns a when b
// is NaN: a NaN gradient's exp_avg_sq was dropped from AMSGrad's maximum, which PyTorch keeps.)
template <typename T>
MINIGEN_HOST_DEVICE inline T maximum(T a, T b) {
  return a < b || b != b ? b : a;
}

template <typename T>
MINIGEN_HOST_DEVICE inline T square_root(T x) {
#ifdef __CUDA_ARCH__
  return sqrt(x);  // CUDA's device overloads for float and double (IEEE, correctly rounded)
#else
  return std::sqrt(x);
#endif
}

// One element's update; the reference and the fast loops of both devices inline it.
template <typename T>
MINIGEN_HOST_DEVICE inline void adam_element(T& param, T grad, T& exp_avg, T& exp_avg_sq,
                                             T* max_exp_avg_sq, const cpu::AdamScalars<T>& s) {
  // torch.lerp: start + w * (end - start) for w < 0.5, else end - (end - start) * (1 - w)
  const T diff = grad - exp_avg;
  exp_avg = s.lerp_weight < T(0.5) ? exp_avg + s.lerp_weight * diff : grad - diff * s.lerp_keep;
  exp_avg_sq = exp_avg_sq * s.beta2 + s.one_minus_beta2 * grad * grad;
  T second = exp_avg_sq;
  if (max_exp_avg_sq) second = *max_exp_avg_sq = maximum(*max_exp_avg_sq, exp_avg_sq);
  const T denom = square_root(second) / s.bias_correction2_sqrt + s.eps;
  param = param - s.step_size * (exp_avg / denom);
}

}  // namespace minigen
