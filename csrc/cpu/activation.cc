// LeakyReLU on the CPU: forward y = leaky_relu(x) and backward gx = gy * leaky_relu'(x).
//
// Contents, each a template instantiated for float and double:
//   leaky_relu_fwd_ref    x (n)          -> y (n)    direct loop, the oracle the tests trust
//   leaky_relu_bwd_ref    x (n), gy (n)  -> gx (n)   direct loop
//   leaky_relu_fwd_fast   same as _ref: vector loop for the CPU's widest ISA, OpenMP threads
//   leaky_relu_bwd_fast   same as _ref, same scheme
// Shapes: any tensor shape, seen here as n contiguous elements.
// The fast versions compute the same expression per element as the references, so their
// results are identical bit for bit, whatever the ISA or the number of threads.

#include "cpu/activation.h"

#include "cpu/parallel.h"

namespace minigen::cpu {

// ----------------------------------------------------------------------------------------------
// Reference: read these first.

template <typename T>
void leaky_relu_fwd_ref(const T* x, T* y, int64_t n, T slope) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : slope * x[i];
}

template <typename T>
void leaky_relu_bwd_ref(const T* x, const T* gy, T* gx, int64_t n, T slope) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > T(0) ? gy[i] : slope * gy[i];
}

// ----------------------------------------------------------------------------------------------
// Fast: the same loops, vectorised for the best ISA the CPU has and split across threads.

namespace {

// One chunk on one thread. `omp simd` promises that iterations are independent (outputs never
// partially overlap inputs), so GCC vectorises without run-time alias checks. The ternary becomes
// compare + multiply + blend, no branch; GCC does that only under -fno-trapping-math
// (CMakeLists.txt), since multiplying every element could raise an FP flag the branch would not.
template <typename T>
inline void fwd_chunk(const T* x, T* y, int64_t n, T slope) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : slope * x[i];
}

template <typename T>
inline void bwd_chunk(const T* x, const T* gy, T* gx, int64_t n, T slope) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > T(0) ? gy[i] : slope * gy[i];
}

// target_clones takes plain functions, not templates: one wrapper per dtype, overloaded by name
// so that the templates below pick theirs.
MG_ISA_CLONES void fwd_chunk_isa(const float* x, float* y, int64_t n, float slope) {
  fwd_chunk(x, y, n, slope);
}
MG_ISA_CLONES void fwd_chunk_isa(const double* x, double* y, int64_t n, double slope) {
  fwd_chunk(x, y, n, slope);
}
MG_ISA_CLONES void bwd_chunk_isa(const float* x, const float* gy, float* gx, int64_t n,
                                 float slope) {
  bwd_chunk(x, gy, gx, n, slope);
}
MG_ISA_CLONES void bwd_chunk_isa(const double* x, const double* gy, double* gx, int64_t n,
                                 double slope) {
  bwd_chunk(x, gy, gx, n, slope);
}

}  // namespace

template <typename T>
void leaky_relu_fwd_fast(const T* x, T* y, int64_t n, T slope) {
  parallel_chunks(n, [=](int64_t i, int64_t m) { fwd_chunk_isa(x + i, y + i, m, slope); });
}

template <typename T>
void leaky_relu_bwd_fast(const T* x, const T* gy, T* gx, int64_t n, T slope) {
  parallel_chunks(n, [=](int64_t i, int64_t m) { bwd_chunk_isa(x + i, gy + i, gx + i, m, slope); });
}

// ----------------------------------------------------------------------------------------------
// The two dtypes every kernel exists in (DESIGN.md): float32 to train, float64 to check.

template void leaky_relu_fwd_ref<float>(const float*, float*, int64_t, float);
template void leaky_relu_fwd_ref<double>(const double*, double*, int64_t, double);
template void leaky_relu_bwd_ref<float>(const float*, const float*, float*, int64_t, float);
template void leaky_relu_bwd_ref<double>(const double*, const double*, double*, int64_t, double);
template void leaky_relu_fwd_fast<float>(const float*, float*, int64_t, float);
template void leaky_relu_fwd_fast<double>(const double*, double*, int64_t, double);
template void leaky_relu_bwd_fast<float>(const float*, const float*, float*, int64_t, float);
template void leaky_relu_bwd_fast<double>(const double*, const double*, double*, int64_t, double);

}  // namespace minigen::cpu
