// LeakyReLU kernels for the CPU (csrc/cpu/activation.cc), instantiated for float and double.
//
// Every array is n contiguous elements: any tensor shape, seen flat. The caller allocates the
// output and has checked sizes, dtypes and contiguity (csrc/bind.cc). An output may be the very
// same array as an input (in place), but must not partially overlap one.
#pragma once

#include <cstdint>

namespace minigen::cpu {

// y[i] = x[i] > 0 ? x[i] : slope * x[i]
template <typename T>
void leaky_relu_fwd_ref(const T* x, T* y, int64_t n, T slope);
template <typename T>
void leaky_relu_fwd_fast(const T* x, T* y, int64_t n, T slope);

// gx[i] = x[i] > 0 ? gy[i] : slope * gy[i]   (at x == 0 the gradient is slope, as in PyTorch)
template <typename T>
void leaky_relu_bwd_ref(const T* x, const T* gy, T* gx, int64_t n, T slope);
template <typename T>
void leaky_relu_bwd_fast(const T* x, const T* gy, T* gx, int64_t n, T slope);

}  // namespace minigen::cpu
