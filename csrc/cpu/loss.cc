// Binary cross-entropy on the CPU: from probabilities (bce_*) and from logits (bce_logits_*).
//
// Contents, each a template instantiated for float and double:
//   bce_fwd_ref / _fast          p (n), t (n)          -> l (n)    clamped-log loss, range check
//   bce_bwd_ref / _fast          p (n), t (n), gy (n)  -> gp (n)
//   bce_logits_fwd_ref / _fast   x (n), t (n)          -> l (n)    stable form
//   bce_logits_bwd_ref / _fast   x (n), t (n), gy (n)  -> gx (n)
// Shapes: any tensor shape, seen as n contiguous elements.
//
// The per-element formulas live in one place (the *_at functions) and both versions call them,
// so their results are identical bit for bit. The fast versions split large arrays across
// threads (csrc/cpu/parallel.h); they are not vectorised: the loops are log/exp calls, which
// GCC vectorises only under -ffast-math, and the training shapes (a (64, 1) batch of scores)
// are far too small for it to matter.

#include "cpu/loss.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "cpu/parallel.h"

namespace minigen::cpu {

namespace {

// PyTorch clamps each log at -100 so that p = 0 or 1 gives a large finite loss, not inf.
// (std::max returns its first argument when either is NaN: a NaN log propagates.)
template <typename T>
inline T clamped_log(T log_v) {
  return std::max(log_v, T(-100));
}

// -(t log p + (1 - t) log(1 - p)) in PyTorch's form and order: log1p(-p), not log(1 - p), which
// rounds 1 - p first and loses every digit of a small p (float32 p = 1e-7 gave 1.19e-7, not 1e-7).
template <typename T>
inline T bce_at(T p, T t) {
  return (t - T(1)) * clamped_log(std::log1p(-p)) - t * clamped_log(std::log(p));
}

template <typename T>
inline T bce_grad_at(T p, T t, T gy) {
  return gy * (p - t) / std::max(p * (T(1) - p), T(1e-12f));
}

// factor * x, except that a zero factor gives 0 even for an infinite x (the loss's limit there).
template <typename T>
inline T times(T factor, T x) {
  return factor == T(0) ? T(0) : factor * x;
}

// max(x, 0) - x t + log1p(exp(-|x|)): exp's argument is never positive, so nothing overflows;
// the first two terms are written as x (1 - t) or -x t so that x = ±inf gives the limit.
template <typename T>
inline T bce_logits_at(T x, T t) {
  const T linear = x > T(0) ? times(T(1) - t, x) : times(-t, x);
  return linear + std::log1p(std::exp(-std::abs(x)));
}

// sigmoid(x) written with exp(-|x|) in (0, 1], for the same reason.
template <typename T>
inline T sigmoid_at(T x) {
  const T e = std::exp(-std::abs(x));
  return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

template <typename T>
inline bool outside_unit_interval(T p) {
  return p < T(0) || p > T(1);  // false for NaN, which propagates instead
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Reference: direct loops.

template <typename T>
int64_t bce_fwd_ref(const T* p, const T* t, T* l, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (outside_unit_interval(p[i])) return i;
    l[i] = bce_at(p[i], t[i]);
  }
  return -1;
}

template <typename T>
void bce_bwd_ref(const T* p, const T* t, const T* gy, T* gp, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gp[i] = bce_grad_at(p[i], t[i], gy[i]);
}

template <typename T>
void bce_logits_fwd_ref(const T* x, const T* t, T* l, int64_t n) {
  for (int64_t i = 0; i < n; ++i) l[i] = bce_logits_at(x[i], t[i]);
}

template <typename T>
void bce_logits_bwd_ref(const T* x, const T* t, const T* gy, T* gx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * (sigmoid_at(x[i]) - t[i]);
}

// ----------------------------------------------------------------------------------------------
// Fast: the reference loops on chunks shared among threads.

template <typename T>
int64_t bce_fwd_fast(const T* p, const T* t, T* l, int64_t n) {
  // Threads each check their chunk; the smallest bad index wins, as in the sequential loop.
  std::atomic<int64_t> first_bad{n};
  parallel_chunks(n, [&](int64_t i, int64_t m) {
    const int64_t bad = bce_fwd_ref(p + i, t + i, l + i, m);
    if (bad < 0) return;
    int64_t seen = first_bad.load();
    while (i + bad < seen && !first_bad.compare_exchange_weak(seen, i + bad)) {
    }
  });
  return first_bad.load() == n ? -1 : first_bad.load();
}

template <typename T>
void bce_bwd_fast(const T* p, const T* t, const T* gy, T* gp, int64_t n) {
  parallel_chunks(n, [=](int64_t i, int64_t m) { bce_bwd_ref(p + i, t + i, gy + i, gp + i, m); });
}

template <typename T>
void bce_logits_fwd_fast(const T* x, const T* t, T* l, int64_t n) {
  parallel_chunks(n, [=](int64_t i, int64_t m) { bce_logits_fwd_ref(x + i, t + i, l + i, m); });
}

template <typename T>
void bce_logits_bwd_fast(const T* x, const T* t, const T* gy, T* gx, int64_t n) {
  parallel_chunks(n,
                  [=](int64_t i, int64_t m) { bce_logits_bwd_ref(x + i, t + i, gy + i, gx + i, m); });
}

// ----------------------------------------------------------------------------------------------
// The two dtypes every kernel exists in (DESIGN.md): float32 to train, float64 to check.

#define MG_INSTANTIATE_LOSS(T)                                                  \
  template int64_t bce_fwd_ref<T>(const T*, const T*, T*, int64_t);             \
  template int64_t bce_fwd_fast<T>(const T*, const T*, T*, int64_t);            \
  template void bce_bwd_ref<T>(const T*, const T*, const T*, T*, int64_t);      \
  template void bce_bwd_fast<T>(const T*, const T*, const T*, T*, int64_t);     \
  template void bce_logits_fwd_ref<T>(const T*, const T*, T*, int64_t);         \
  template void bce_logits_fwd_fast<T>(const T*, const T*, T*, int64_t);        \
  template void bce_logits_bwd_ref<T>(const T*, const T*, const T*, T*, int64_t); \
  template void bce_logits_bwd_fast<T>(const T*, const T*, const T*, T*, int64_t);
MG_INSTANTIATE_LOSS(float)
MG_INSTANTIATE_LOSS(double)
#undef MG_INSTANTIATE_LOSS

}  // namespace minigen::cpu
