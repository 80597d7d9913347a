// Batch normalisation (training mode) on the GPU: per-channel statistics, normalise, scale,
// shift, and the backward of all of it.
//
// Contents, each instantiated for float and double:
//   norm_fwd_ref / _fast   x (N, C, S), w (C), b (C)           -> y (N, C, S), mean, var (C)
//   norm_bwd_ref / _fast   x, gy (N, C, S), w, mean, var (C)   -> gx (N, C, S), gw, gb (C)
//
// One function does one channel (fwd_channel, bwd_channel), with the CPU's formulas
// (csrc/cpu/norm.cc): sums in double for both dtypes, the two-pass variance Σ (x - mean)², which
// stays accurate when the mean is large compared to the spread. The plain kernels run it with
// one thread per channel; the fast ones with one block per channel, each thread taking every
// blockDim-th element and a block sum (csrc/cuda/reduce.cuh) combining the threads' sums in a
// fixed order, so that results are the same on every run.

#include "cuda/norm.h"
#include "cuda/reduce.cuh"

namespace minigen::cuda {

namespace {

// The elements of a channel one thread takes: the positions m = first, first + step, ... of the
// channel's N * S values, where m = n S + s lies at x[(n C + c) S + s]. (n, s) advance with a
// carry, so that no element costs a division.
struct ChannelWalk {
  int64_t N, C, S;
  int64_t first, step;

  template <typename F>
  __device__ void each(int64_t c, F f) const {
    const int64_t count = N * S;
    if (first >= count) return;  // also where S = 0, before dividing by it
    int64_t n = first / S, s = first % S;
    const int64_t dn = step / S, ds = step % S;
    for (int64_t m = first; m < count; m += step) {
      f((n * C + c) * S + s);
      n += dn;
      s += ds;
      if (s >= S) {
        s -= S;
        ++n;
      }
    }
  }

  // The thread that writes the channel's scalars: the one that takes its first element.
  __device__ bool writes_scalars() const { return first == 0; }
};

// total(v) gives the channel's sum of the threads' v: v itself with one thread per channel
// (OneThread), block_sum with a block per channel (WholeBlock). Then every thread of the block
// calls it alike, and it waits for all of them: every read of a pass is done before the next
// pass writes, which makes y = x and gx = x or gy (in place) safe.
struct OneThread {
  __device__ double operator()(double v) const { return v; }
};
struct WholeBlock {
  __device__ double operator()(double v) const { return block_sum(v); }
};

template <typename T, typename Total>
__device__ void fwd_channel(const T* x, const ChannelWalk& walk, int64_t c, T w, T b, T eps, T* y,
                            T* mean_out, T* var_out, Total total) {
  const double count = double(walk.N) * double(walk.S);  // 0 / 0 = NaN statistics, as on the CPU
  double sum = 0.0;
  walk.each(c, [&](int64_t i) { sum += double(x[i]); });
  const double mean = total(sum) / count;
  double squares = 0.0;
  walk.each(c, [&](int64_t i) {
    const double d = double(x[i]) - mean;
    squares += d * d;
  });
  const double var = total(squares) / count;
  // y = x * scale + shift, with scale = w / sqrt(var + eps) and shift = b - mean * scale
  const double scale = double(w) / sqrt(var + double(eps));
  const double shift = double(b) - mean * scale;
  walk.each(c, [&](int64_t i) { y[i] = T(double(x[i]) * scale + shift); });
  if (walk.writes_scalars()) {
    *mean_out = T(mean);
    *var_out = T(var);
  }
}

template <typename T, typename Total>
__device__ void bwd_channel(const T* x, const T* gy, const ChannelWalk& walk, int64_t c, T w,
                            T mean, T var, T eps, T* gx, T* gw_out, T* gb_out, Total total) {
  const double count = double(walk.N) * double(walk.S);
  const double invstd = 1.0 / sqrt(double(var) + double(eps));
  // gb = Σ gy and gw = Σ gy x̂ = invstd Σ gy (x - mean), in one pass
  double sum_gy = 0.0, sum_gy_xc = 0.0;
  walk.each(c, [&](int64_t i) {
    sum_gy += double(gy[i]);
    sum_gy_xc += double(gy[i]) * (double(x[i]) - double(mean));
  });
  const double gb = total(sum_gy), gw = total(sum_gy_xc) * invstd;
  // gx = w invstd (gy - gb / M - x̂ gw / M), with x̂ = (x - mean) invstd
  const double k = double(w) * invstd;
  walk.each(c, [&](int64_t i) {
    const double xhat = (double(x[i]) - double(mean)) * invstd;
    gx[i] = T(k * (double(gy[i]) - gb / count - xhat * gw / count));
  });
  if (walk.writes_scalars()) {
    *gw_out = T(gw);
    *gb_out = T(gb);
  }
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Plain: one thread per channel walks all of it, as the CPU's reference loop does. Simple, but a
// warp's threads read addresses S apart, and only C threads run.

template <typename T>
__global__ void norm_fwd_ref(const T* x, int64_t N, int64_t C, int64_t S, const T* w, const T* b,
                             T eps, T* y, T* mean, T* var) {
  const ChannelWalk walk{N, C, S, 0, 1};
  for (int64_t c = global_thread(); c < C; c += grid_threads())
    fwd_channel(x, walk, c, w[c], b[c], eps, y, mean + c, var + c, OneThread{});
}

template <typename T>
__global__ void norm_bwd_ref(const T* x, const T* gy, int64_t N, int64_t C, int64_t S, const T* w,
                             const T* mean, const T* var, T eps, T* gx, T* gw, T* gb) {
  const ChannelWalk walk{N, C, S, 0, 1};
  for (int64_t c = global_thread(); c < C; c += grid_threads())
    bwd_channel(x, gy, walk, c, w[c], mean[c], var[c], eps, gx, gw + c, gb + c, OneThread{});
}

// ----------------------------------------------------------------------------------------------
// Fast: one block per channel (W2 has 128 or 256 of them, of 3136 to 12544 values). Neighbouring
// threads read neighbouring values (coalesced), and the block's threads all work on one channel.

template <typename T>
__global__ void norm_fwd_fast(const T* x, int64_t N, int64_t C, int64_t S, const T* w, const T* b,
                              T eps, T* y, T* mean, T* var) {
  const ChannelWalk walk{N, C, S, threadIdx.x, blockDim.x};
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x)
    fwd_channel(x, walk, c, w[c], b[c], eps, y, mean + c, var + c, WholeBlock{});
}

template <typename T>
__global__ void norm_bwd_fast(const T* x, const T* gy, int64_t N, int64_t C, int64_t S, const T* w,
                              const T* mean, const T* var, T eps, T* gx, T* gw, T* gb) {
  const ChannelWalk walk{N, C, S, threadIdx.x, blockDim.x};
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x)
    bwd_channel(x, gy, walk, c, w[c], mean[c], var[c], eps, gx, gw + c, gb + c, WholeBlock{});
}

// ----------------------------------------------------------------------------------------------
// Launchers. C = 0 launches nothing; an empty channel (N S = 0) still gets its statistics.

template <typename T>
void batch_norm_fwd(Impl impl, const T* x, int64_t N, int64_t C, int64_t S, const T* w, const T* b,
                    T eps, T* y, T* mean, T* var, cudaStream_t stream) {
  if (C == 0) return;
  if (impl == Impl::fast)
    norm_fwd_fast<<<blocks_for(C), kBlock, 0, stream>>>(x, N, C, S, w, b, eps, y, mean, var);
  else
    norm_fwd_ref<<<grid_for(C), kBlock, 0, stream>>>(x, N, C, S, w, b, eps, y, mean, var);
  check_launch("batch_norm_fwd");
}

template <typename T>
void batch_norm_bwd(Impl impl, const T* x, const T* gy, int64_t N, int64_t C, int64_t S,
                    const T* w, const T* mean, const T* var, T eps, T* gx, T* gw, T* gb,
                    cudaStream_t stream) {
  if (C == 0) return;
  if (impl == Impl::fast)
    norm_bwd_fast<<<blocks_for(C), kBlock, 0, stream>>>(x, gy, N, C, S, w, mean, var, eps, gx, gw,
                                                        gb);
  else
    norm_bwd_ref<<<grid_for(C), kBlock, 0, stream>>>(x, gy, N, C, S, w, mean, var, eps, gx, gw,
                                                     gb);
  check_launch("batch_norm_bwd");
}

#define MINIGEN_INSTANTIATE(T)                                                                  \
  template void batch_norm_fwd<T>(Impl, const T*, int64_t, int64_t, int64_t, const T*, const T*, \
                                  T, T*, T*, T*, cudaStream_t);                                 \
  template void batch_norm_bwd<T>(Impl, const T*, const T*, int64_t, int64_t, int64_t, const T*, \
                                  const T*, const T*, T, T*, T*, T*, cudaStream_t);
MINIGEN_INSTANTIATE(float)
MINIGEN_INSTANTIATE(double)
#undef MINIGEN_INSTANTIATE

}  // namespace minigen::cuda
