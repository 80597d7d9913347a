// LeakyReLU kernels for CUDA (csrc/cuda/activation.cu), instantiated for float and double.
//
// The same contract as csrc/cpu/activation.h: n contiguous device elements, outputs allocated and
// checked by the caller (csrc/cuda/bind_activation.cc), an output may be its input itself. Each
// launcher queues its kernel on `stream` and returns; impl picks the plain or the fast kernel.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "impl.h"

namespace minigen::cuda {

// y[i] = x[i] > 0 ? x[i] : slope * x[i]
template <typename T>
void leaky_relu_fwd(Impl impl, const T* x, T* y, int64_t n, T slope, cudaStream_t stream);

// gx[i] = x[i] > 0 ? gy[i] : slope * gy[i]   (at x == 0 the gradient is slope, as in PyTorch)
template <typename T>
void leaky_relu_bwd(Impl impl, const T* x, const T* gy, T* gx, int64_t n, T slope,
                    cudaStream_t stream);

}  // namespace minigen::cuda
