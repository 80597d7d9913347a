// Adam's update on the CPU: one pass over the parameter, its gradient and its two averages.
//
// Contents, each a template instantiated for float and double:
//   adam_step_ref    param, grad, exp_avg, exp_avg_sq[, max_exp_avg_sq] (n)   direct loop
//   adam_step_fast   the same loop, vectorised for the CPU's widest ISA, OpenMP threads
//
// Every element goes through torch.optim.Adam's single-tensor arithmetic, operation by
// operation and in its order (lerp's two forms, addcmul, sqrt / bias_correction2_sqrt + eps,
// addcdiv), so that the numbers agree with PyTorch's to rounding. CMakeLists.txt compiles this
// file with -ffp-contract=off: fusing a multiply and an add into one FMA would round differently
// in the vector clones than in the reference, and differently from PyTorch.

#include "cpu/optim.h"

#include "adam_element.h"
#include "cpu/parallel.h"

namespace minigen::cpu {

// ----------------------------------------------------------------------------------------------
// Reference: read this first.

template <typename T>
void adam_step_ref(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq,
                   int64_t n, const AdamScalars<T>& s) {
  for (int64_t i = 0; i < n; ++i)
    adam_element(param[i], grad[i], exp_avg[i], exp_avg_sq[i],
                 max_exp_avg_sq ? max_exp_avg_sq + i : nullptr, s);
}

// ----------------------------------------------------------------------------------------------
// Fast: the same element update, in chunks shared among threads, each chunk a vector loop.

namespace {

// With and without AMSGrad as two loops, so that neither tests a pointer per element.
template <typename T>
inline void chunk(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq,
                  int64_t n, const AdamScalars<T>& s) {
  if (max_exp_avg_sq) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i)
      adam_element(param[i], grad[i], exp_avg[i], exp_avg_sq[i], max_exp_avg_sq + i, s);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i)
      adam_element(param[i], grad[i], exp_avg[i], exp_avg_sq[i], static_cast<T*>(nullptr), s);
  }
}

// target_clones takes plain functions, not templates: one wrapper per dtype.
MG_ISA_CLONES void chunk_isa(float* p, const float* g, float* m, float* v, float* vmax, int64_t n,
                             const AdamScalars<float>& s) {
  chunk(p, g, m, v, vmax, n, s);
}
MG_ISA_CLONES void chunk_isa(double* p, const double* g, double* m, double* v, double* vmax,
                             int64_t n, const AdamScalars<double>& s) {
  chunk(p, g, m, v, vmax, n, s);
}

}  // namespace

template <typename T>
void adam_step_fast(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq,
                    int64_t n, const AdamScalars<T>& s) {
  parallel_chunks(n, [=, &s](int64_t i, int64_t m) {
    chunk_isa(param + i, grad + i, exp_avg + i, exp_avg_sq + i,
              max_exp_avg_sq ? max_exp_avg_sq + i : nullptr, m, s);
  });
}

// ----------------------------------------------------------------------------------------------

template void adam_step_ref<float>(float*, const float*, float*, float*, float*, int64_t,
                                   const AdamScalars<float>&);
template void adam_step_ref<double>(double*, const double*, double*, double*, double*, int64_t,
                                    const AdamScalars<double>&);
template void adam_step_fast<float>(float*, const float*, float*, float*, float*, int64_t,
                                    const AdamScalars<float>&);
template void adam_step_fast<double>(double*, const double*, double*, double*, double*, int64_t,
                                     const AdamScalars<double>&);

}  // namespace minigen::cpu
