// Binary cross-entropy on the GPU: from probabilities (bce_*) and from logits (bce_logits_*).
//
// Contents, each instantiated for float and double:
//   bce_fwd          p (n), t (n)          -> l (n)    clamped-log loss (no range check)
//   bce_bwd          p (n), t (n), gy (n)  -> gp (n)
//   bce_logits_fwd   x (n), t (n)          -> l (n)    stable form
//   bce_logits_bwd   x (n), t (n), gy (n)  -> gx (n)
//
// All four are element-wise maps (csrc/cuda/elementwise.cuh): the plain kernel takes one element
// per thread, the fast one a 16-byte pack per thread, and both apply the functors below, which
// are the CPU's expressions (csrc/cpu/loss.cc) term by term, so the two versions agree bit for bit.

#include "cuda/elementwise.cuh"
#include "cuda/loss.h"

namespace minigen::cuda {

namespace {

// std::max's rule, a < b ? b : a: a NaN first argument comes back (fmax would drop it).
template <typename T>
__device__ T larger(T a, T b) {
  return a < b ? b : a;
}

// PyTorch clamps each log at -100 so that p = 0 or 1 gives a large finite loss, not inf.
template <typename T>
__device__ T clamped_log(T log_v) {
  return larger(log_v, T(-100));
}

// log1p(-p), not log(1 - p), which rounds 1 - p first and loses a small p's digits.
template <typename T>
struct Bce {
  __device__ T operator()(T p, T t) const {
    return (t - T(1)) * clamped_log(log1p(-p)) - t * clamped_log(log(p));
  }
};

template <typename T>
struct BceGrad {
  __device__ T operator()(T p, T t, T gy) const {
    return gy * (p - t) / larger(p * (T(1) - p), T(1e-12f));
  }
};

// factor * x, except that a zero factor gives 0 even for an infinite x (the loss's limit there).
template <typename T>
__device__ T times(T factor, T x) {
  return factor == T(0) ? T(0) : factor * x;
}

// exp's argument is never positive, so nothing overflows; the linear part is x (1 - t) or -x t
// so that x = ±inf gives the limit.
template <typename T>
struct BceLogits {
  __device__ T operator()(T x, T t) const {
    const T linear = x > T(0) ? times(T(1) - t, x) : times(-t, x);
    return linear + log1p(exp(-fabs(x)));
  }
};

// sigmoid(x) written with exp(-|x|) in (0, 1], for the same reason.
template <typename T>
struct BceLogitsGrad {
  __device__ T operator()(T x, T t, T gy) const {
    const T e = exp(-fabs(x));
    const T sigmoid = x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
    return gy * (sigmoid - t);
  }
};

}  // namespace

template <typename T>
void bce_fwd(Impl impl, const T* p, const T* t, T* l, int64_t n, cudaStream_t stream) {
  launch_map("bce_fwd", impl, stream, n, Bce<T>{}, l, p, t);
}

template <typename T>
void bce_bwd(Impl impl, const T* p, const T* t, const T* gy, T* gp, int64_t n,
             cudaStream_t stream) {
  launch_map("bce_bwd", impl, stream, n, BceGrad<T>{}, gp, p, t, gy);
}

template <typename T>
void bce_logits_fwd(Impl impl, const T* x, const T* t, T* l, int64_t n, cudaStream_t stream) {
  launch_map("bce_logits_fwd", impl, stream, n, BceLogits<T>{}, l, x, t);
}

template <typename T>
void bce_logits_bwd(Impl impl, const T* x, const T* t, const T* gy, T* gx, int64_t n,
                    cudaStream_t stream) {
  launch_map("bce_logits_bwd", impl, stream, n, BceLogitsGrad<T>{}, gx, x, t, gy);
}

#define MINIGEN_INSTANTIATE(T)                                                                   \
  template void bce_fwd<T>(Impl, const T*, const T*, T*, int64_t, cudaStream_t);                 \
  template void bce_bwd<T>(Impl, const T*, const T*, const T*, T*, int64_t, cudaStream_t);       \
  template void bce_logits_fwd<T>(Impl, const T*, const T*, T*, int64_t, cudaStream_t);          \
  template void bce_logits_bwd<T>(Impl, const T*, const T*, const T*, T*, int64_t, cudaStream_t);
MINIGEN_INSTANTIATE(float)
MINIGEN_INSTANTIATE(double)
#undef MINIGEN_INSTANTIATE

}  // namespace minigen::cuda
