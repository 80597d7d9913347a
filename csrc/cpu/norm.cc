// Batch normalisation (training mode) on the CPU: per-channel statistics, normalise, scale, shift,
// and the backward of all of it.
//
// Contents, each a template instantiated for float and double:
//   batch_norm_fwd_ref / _fast   x (N, C, S), w (C), b (C)            -> y (N, C, S), mean, var (C)
//   batch_norm_bwd_ref / _fast   x, gy (N, C, S), w, mean, var (C)    -> gx (N, C, S), gw, gb (C)
//
// Every channel is independent, so one function does one channel (the *_channel functions below)
// and both versions call it: the reference walks the channels in order, the fast version hands
// them to threads (W2 has 128 or 256 channels: plenty for two cores). Results are identical.
// Sums accumulate in double for both dtypes: a float32 channel of 64 * 14 * 14 values then
// keeps its mean and variance exact to float32 precision. The variance is the two-pass one,
// Σ (x - mean)², which stays accurate when the mean is large compared to the spread.

#include "cpu/norm.h"

#include <cmath>

namespace minigen::cpu {

namespace {

// The values of channel c in sample n start at x + (n * C + c) * S and run for S elements.
template <typename T>
void fwd_channel(const T* x, int64_t N, int64_t C, int64_t S, int64_t c, T w, T b, T eps, T* y,
                 T* mean_out, T* var_out) {
  const double count = double(N) * double(S);
  double sum = 0.0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) sum += double(x[(n * C + c) * S + s]);
  const double mean = sum / count;
  double squares = 0.0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) {
      const double d = double(x[(n * C + c) * S + s]) - mean;
      squares += d * d;
    }
  const double var = squares / count;
  // y = x * scale + shift, with scale = w / sqrt(var + eps) and shift = b - mean * scale
  const double scale = double(w) / std::sqrt(var + double(eps));
  const double shift = double(b) - mean * scale;
  for (int64_t n = 0; n < N; ++n) {
    const T* xs = x + (n * C + c) * S;
    T* ys = y + (n * C + c) * S;
    for (int64_t s = 0; s < S; ++s) ys[s] = T(double(xs[s]) * scale + shift);
  }
  *mean_out = T(mean);
  *var_out = T(var);
}

template <typename T>
void bwd_channel(const T* x, const T* gy, int64_t N, int64_t C, int64_t S, int64_t c, T w, T mean,
                 T var, T eps, T* gx, T* gw_out, T* gb_out) {
  const double count = double(N) * double(S);
  const double invstd = 1.0 / std::sqrt(double(var) + double(eps));
  // gb = Σ gy and gw = Σ gy x̂ = invstd Σ gy (x - mean), in one pass
  double sum_gy = 0.0, sum_gy_xc = 0.0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) {
      const int64_t i = (n * C + c) * S + s;
      sum_gy += double(gy[i]);
      sum_gy_xc += double(gy[i]) * (double(x[i]) - double(mean));
    }
  const double gb = sum_gy, gw = sum_gy_xc * invstd;
  // gx = w invstd (gy - gb / M - x̂ gw / M), with x̂ = (x - mean) invstd
  const double k = double(w) * invstd;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) {
      const int64_t i = (n * C + c) * S + s;
      const double xhat = (double(x[i]) - double(mean)) * invstd;
      gx[i] = T(k * (double(gy[i]) - gb / count - xhat * gw / count));
    }
  *gw_out = T(gw);
  *gb_out = T(gb);
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Reference: channel after channel.

template <typename T>
void batch_norm_fwd_ref(const T* x, int64_t N, int64_t C, int64_t S, const T* w, const T* b, T eps,
                        T* y, T* mean, T* var) {
  for (int64_t c = 0; c < C; ++c) fwd_channel(x, N, C, S, c, w[c], b[c], eps, y, mean + c, var + c);
}

template <typename T>
void batch_norm_bwd_ref(const T* x, const T* gy, int64_t N, int64_t C, int64_t S, const T* w,
                        const T* mean, const T* var, T eps, T* gx, T* gw, T* gb) {
  for (int64_t c = 0; c < C; ++c)
    bwd_channel(x, gy, N, C, S, c, w[c], mean[c], var[c], eps, gx, gw + c, gb + c);
}

// ----------------------------------------------------------------------------------------------
// Fast: channels shared among threads (a small batch stays on one thread).

constexpr int64_t kParallelMinElements = 1 << 15;

template <typename T>
void batch_norm_fwd_fast(const T* x, int64_t N, int64_t C, int64_t S, const T* w, const T* b, T eps,
                         T* y, T* mean, T* var) {
#pragma omp parallel for schedule(static) if (N * C * S >= kParallelMinElements)
  for (int64_t c = 0; c < C; ++c) fwd_channel(x, N, C, S, c, w[c], b[c], eps, y, mean + c, var + c);
}

template <typename T>
void batch_norm_bwd_fast(const T* x, const T* gy, int64_t N, int64_t C, int64_t S, const T* w,
                         const T* mean, const T* var, T eps, T* gx, T* gw, T* gb) {
#pragma omp parallel for schedule(static) if (N * C * S >= kParallelMinElements)
  for (int64_t c = 0; c < C; ++c)
    bwd_channel(x, gy, N, C, S, c, w[c], mean[c], var[c], eps, gx, gw + c, gb + c);
}

// ----------------------------------------------------------------------------------------------
// The two dtypes every kernel exists in (DESIGN.md): float32 to train, float64 to check.

#define MG_INSTANTIATE_NORM(T)                                                                    \
  template void batch_norm_fwd_ref<T>(const T*, int64_t, int64_t, int64_t, const T*, const T*, T, \
                                      T*, T*, T*);                                                \
  template void batch_norm_fwd_fast<T>(const T*, int64_t, int64_t, int64_t, const T*, const T*,  \
                                       T, T*, T*, T*);                                            \
  template void batch_norm_bwd_ref<T>(const T*, const T*, int64_t, int64_t, int64_t, const T*,   \
                                      const T*, const T*, T, T*, T*, T*);                         \
  template void batch_norm_bwd_fast<T>(const T*, const T*, int64_t, int64_t, int64_t, const T*,  \
                                       const T*, const T*, T, T*, T*, T*);
MG_INSTANTIATE_NORM(float)
MG_INSTANTIATE_NORM(double)
#undef MG_INSTANTIATE_NORM

}  // namespace minigen::cpu
