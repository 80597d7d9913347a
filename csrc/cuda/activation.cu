// LeakyReLU on the GPU: forward y = leaky_relu(x) and backward gx = gy * leaky_relu'(x).
//
// Both are element-wise maps (csrc/cuda/elementwise.cuh): the plain kernel takes one element per
// thread, the fast one a 16-byte pack per thread. The expression per element is the CPU's
// (csrc/cpu/activation.cc), so every version gives the same bits.

#include "cuda/activation.h"
#include "cuda/elementwise.cuh"

namespace minigen::cuda {

template <typename T>
struct LeakyRelu {
  T slope;
  __device__ T operator()(T x) const { return x > T(0) ? x : slope * x; }
};

template <typename T>
struct LeakyReluGrad {
  T slope;
  __device__ T operator()(T x, T gy) const { return x > T(0) ? gy : slope * gy; }
};

template <typename T>
void leaky_relu_fwd(Impl impl, const T* x, T* y, int64_t n, T slope, cudaStream_t stream) {
  launch_map("leaky_relu_fwd", impl, stream, n, LeakyRelu<T>{slope}, y, x);
}

template <typename T>
void leaky_relu_bwd(Impl impl, const T* x, const T* gy, T* gx, int64_t n, T slope,
                    cudaStream_t stream) {
  launch_map("leaky_relu_bwd", impl, stream, n, LeakyReluGrad<T>{slope}, gx, x, gy);
}

#define MINIGEN_INSTANTIATE(T)                                                               \
  template void leaky_relu_fwd<T>(Impl, const T*, T*, int64_t, T, cudaStream_t);             \
  template void leaky_relu_bwd<T>(Impl, const T*, const T*, T*, int64_t, T, cudaStream_t);
MINIGEN_INSTANTIATE(float)
MINIGEN_INSTANTIATE(double)
#undef MINIGEN_INSTANTIATE

}  // namespace minigen::cuda
