// The gradient penalty of WGAN-GP on the CPU: mean over samples of (||g_i||_2 - target)^2.
//
// Contents, each a template instantiated for float and double:
//   gradient_penalty_fwd_ref / _fast   g (N, D)           -> scalar loss
//   gradient_penalty_bwd_ref / _fast   g (N, D), gy, target -> gg (N, D)
// Fusing it saves the five tensors the composed form (g * g, sum, sqrt, - target, square)
// would allocate and walk, forward and backward.
//
// Sums of squares accumulate in double for both dtypes: a float32 gradient of 784 pixels
// then loses nothing to the order of summation, and ref and fast agree to the last bit when
// they add in the same order (the fast version only spreads rows across threads).

#include "cpu/penalty.h"

#include <cmath>
#include <limits>
#include <vector>

namespace minigen::cpu {

namespace {

template <typename T>
inline double row_norm(const T* row, int64_t D) {
  double sum = 0.0;
  for (int64_t j = 0; j < D; ++j) sum += double(row[j]) * double(row[j]);
  return std::sqrt(sum);
}

template <typename T>
inline double row_penalty(const T* row, int64_t D, T target) {
  const double gap = row_norm(row, D) - double(target);
  return gap * gap;
}

// gg_i = coefficient * g_i with coefficient = gy * 2/N * (n - target) / n, or 0 where n = 0.
// The product is taken in double and rounded once: the coefficient of a tiny row is huge (a
// float32 row of one subnormal has n = 1.4e-45 and a coefficient of -3.6e44), and rounded to
// float32 first it overflowed, giving -inf and NaN where the gradient is -0.5 and 0.
template <typename T>
inline void row_grad(const T* row, int64_t D, T target, double scale, T* out) {
  const double n = row_norm(row, D);
  const double coefficient = n == 0.0 ? 0.0 : scale * (n - double(target)) / n;  // NaN stays NaN
  for (int64_t j = 0; j < D; ++j) out[j] = T(coefficient * double(row[j]));
}

// Below this many elements one thread does the whole batch (a (64, 784) gradient is 50K).
constexpr int64_t kParallelMinElements = 1 << 15;

}  // namespace

// ----------------------------------------------------------------------------------------------
// Reference: row by row.

template <typename T>
T gradient_penalty_fwd_ref(const T* g, int64_t N, int64_t D, T target) {
  if (N == 0) return std::numeric_limits<T>::quiet_NaN();
  double total = 0.0;
  for (int64_t i = 0; i < N; ++i) total += row_penalty(g + i * D, D, target);
  return T(total / double(N));
}

template <typename T>
void gradient_penalty_bwd_ref(const T* g, int64_t N, int64_t D, T target, T gy, T* gg) {
  const double scale = N > 0 ? 2.0 * double(gy) / double(N) : 0.0;
  for (int64_t i = 0; i < N; ++i) row_grad(g + i * D, D, target, scale, gg + i * D);
}

// ----------------------------------------------------------------------------------------------
// Fast: rows spread across threads. The forward's per-row terms still add up in row order
// (each thread writes its rows' terms, one thread sums them), so the result equals ref's.

template <typename T>
T gradient_penalty_fwd_fast(const T* g, int64_t N, int64_t D, T target) {
  if (N == 0) return std::numeric_limits<T>::quiet_NaN();
  if (N * D < kParallelMinElements) return gradient_penalty_fwd_ref(g, N, D, target);
  std::vector<double> terms(N);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < N; ++i) terms[i] = row_penalty(g + i * D, D, target);
  double total = 0.0;
  for (double term : terms) total += term;
  return T(total / double(N));
}

template <typename T>
void gradient_penalty_bwd_fast(const T* g, int64_t N, int64_t D, T target, T gy, T* gg) {
  if (N * D < kParallelMinElements) return gradient_penalty_bwd_ref(g, N, D, target, gy, gg);
  const double scale = 2.0 * double(gy) / double(N);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < N; ++i) row_grad(g + i * D, D, target, scale, gg + i * D);
}

// ----------------------------------------------------------------------------------------------
// The two dtypes every kernel exists in (DESIGN.md): float32 to train, float64 to check.

#define MG_INSTANTIATE_PENALTY(T)                                                     \
  template T gradient_penalty_fwd_ref<T>(const T*, int64_t, int64_t, T);              \
  template T gradient_penalty_fwd_fast<T>(const T*, int64_t, int64_t, T);             \
  template void gradient_penalty_bwd_ref<T>(const T*, int64_t, int64_t, T, T, T*);    \
  template void gradient_penalty_bwd_fast<T>(const T*, int64_t, int64_t, T, T, T*);
MG_INSTANTIATE_PENALTY(float)
MG_INSTANTIATE_PENALTY(double)
#undef MG_INSTANTIATE_PENALTY

}  // namespace minigen::cpu
