// The gradient penalty of WGAN-GP on the GPU: mean over samples of (||g_i||_2 - target)^2.
//
// Contents, each instantiated for float and double:
//   penalty_fwd_ref    one thread: the CPU's loop, row after row        g (N, D) -> scalar
//   penalty_bwd_ref    one thread per row                               g (N, D) -> gg (N, D)
//   penalty_fwd_fast   one block, one warp per row, a fixed-order sum   g (N, D) -> scalar
//   penalty_bwd_fast   one block per row                                g (N, D) -> gg (N, D)
//
// As on the CPU (csrc/cpu/penalty.cc), sums of squares and the row coefficients are in double
// for both dtypes. Every sum is in a fixed order (csrc/cuda/reduce.cuh), never with atomics, so
// each kernel gives the same bits on every run; ref and fast add in different orders, so their
// results may differ in the last bit.

#include "cuda/penalty.h"
#include "cuda/reduce.cuh"

namespace minigen::cuda {

namespace {

// This thread's share of a row's Σ g_j², the j = first, first + step, ... below D.
template <typename T>
__device__ double squares(const T* row, int64_t D, int64_t first, int64_t step) {
  double sum = 0.0;
  for (int64_t j = first; j < D; j += step) sum += double(row[j]) * double(row[j]);
  return sum;
}

// gg_i = coefficient * g_i, with coefficient = scale (n - target) / n, or 0 where n = 0 (NaN
// stays NaN). It is rounded to T only with g_j: a tiny row's coefficient can overflow float32.
__device__ double row_coefficient(double norm, double target, double scale) {
  return norm == 0.0 ? 0.0 : scale * (norm - target) / norm;
}

// This thread's share of a row's gradient, the same j as in squares(). In place (out = row), each
// thread reads the elements it writes, and the row's norm is known before any is written.
template <typename T>
__device__ void scale_row(const T* row, int64_t D, double coefficient, T* out, int64_t first,
                          int64_t step) {
  for (int64_t j = first; j < D; j += step) out[j] = T(coefficient * double(row[j]));
}

// The mean's last step, 0 / 0 = NaN for N = 0 as on the CPU.
template <typename T>
__device__ T mean_of(double total, int64_t N) {
  return T(total / double(N));
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Plain kernels. The forward's mean needs every row's term: with no buffer to hold N of them, one
// thread walks the rows in order and adds as it goes, as the CPU's reference loop does.

template <typename T>
__global__ void penalty_fwd_ref(const T* g, int64_t N, int64_t D, double target, T* out) {
  double total = 0.0;
  for (int64_t i = 0; i < N; ++i) {
    const double gap = sqrt(squares(g + i * D, D, 0, 1)) - target;
    total += gap * gap;
  }
  *out = mean_of<T>(total, N);
}

template <typename T>
__global__ void penalty_bwd_ref(const T* g, int64_t N, int64_t D, double target, double scale,
                                T* gg) {
  for (int64_t i = global_thread(); i < N; i += grid_threads()) {
    const double norm = sqrt(squares(g + i * D, D, 0, 1));
    scale_row(g + i * D, D, row_coefficient(norm, target, scale), gg + i * D, 0, 1);
  }
}

// ----------------------------------------------------------------------------------------------
// Fast kernels. Neighbouring threads read neighbouring elements of a row (coalesced loads), and
// the per-thread sums combine in a tree.

// One block of 1024 threads does the whole forward, so that the mean over rows needs no buffer
// and no second launch: warp w takes rows w, w + 32, ... and keeps the running sum of their terms
// in its lane 0, and a block sum adds the 32 warps' sums. One SM streams WGAN-GP's (64, 784)
// batch in a few microseconds; a far larger N would want a buffer of per-row terms.
constexpr int kFwdThreads = 1024;

template <typename T>
__global__ void __launch_bounds__(kFwdThreads)
    penalty_fwd_fast(const T* g, int64_t N, int64_t D, double target, T* out) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  double total = 0.0;
  for (int64_t i = warp; i < N; i += kFwdThreads / kWarp) {
    const double gap = sqrt(warp_sum(squares(g + i * D, D, lane, kWarp))) - target;
    if (lane == 0) total += gap * gap;
  }
  total = block_sum(total);
  if (threadIdx.x == 0) *out = mean_of<T>(total, N);
}

// One block per row (each thread a few elements of it): its norm by a block sum, then the row.
template <typename T>
__global__ void penalty_bwd_fast(const T* g, int64_t N, int64_t D, double target, double scale,
                                 T* gg) {
  for (int64_t i = blockIdx.x; i < N; i += gridDim.x) {
    const double norm = sqrt(block_sum(squares(g + i * D, D, threadIdx.x, blockDim.x)));
    scale_row(g + i * D, D, row_coefficient(norm, target, scale), gg + i * D, threadIdx.x,
              blockDim.x);
  }
}

// ----------------------------------------------------------------------------------------------
// Launchers. The forward always launches: N = 0 still writes its NaN.

template <typename T>
void gradient_penalty_fwd(Impl impl, const T* g, int64_t N, int64_t D, T target, T* out,
                          cudaStream_t stream) {
  if (impl == Impl::fast)
    penalty_fwd_fast<<<1, kFwdThreads, 0, stream>>>(g, N, D, double(target), out);
  else
    penalty_fwd_ref<<<1, 1, 0, stream>>>(g, N, D, double(target), out);
  check_launch("gradient_penalty_fwd");
}

template <typename T>
void gradient_penalty_bwd(Impl impl, const T* g, int64_t N, int64_t D, T target, T gy, T* gg,
                          cudaStream_t stream) {
  if (N * D == 0) return;  // no element to write
  const double scale = 2.0 * double(gy) / double(N);
  if (impl == Impl::fast)
    penalty_bwd_fast<<<blocks_for(N), kBlock, 0, stream>>>(g, N, D, double(target), scale, gg);
  else
    penalty_bwd_ref<<<grid_for(N), kBlock, 0, stream>>>(g, N, D, double(target), scale, gg);
  check_launch("gradient_penalty_bwd");
}

#define MINIGEN_INSTANTIATE(T)                                                                \
  template void gradient_penalty_fwd<T>(Impl, const T*, int64_t, int64_t, T, T*,              \
                                        cudaStream_t);                                        \
  template void gradient_penalty_bwd<T>(Impl, const T*, int64_t, int64_t, T, T, T*, cudaStream_t);
MINIGEN_INSTANTIATE(float)
MINIGEN_INSTANTIATE(double)
#undef MINIGEN_INSTANTIATE

}  // namespace minigen::cuda
