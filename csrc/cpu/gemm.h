// General matrix product for the CPU (csrc/cpu/gemm.cc), instantiated for float and double.
//
//   c = alpha * op(a) @ op(b) + beta * c,   op(x) = x.T if trans_x else x
//
// a is (m, k), or (k, m) when trans_a; b is (k, n), or (n, k) when trans_b; c is (m, n). All three
// are C-contiguous; c overlaps neither a nor b. With beta == 0, c is only written, never read
// (BLAS semantics: NaN in c does not leak). m, n, k may be 0. The caller (csrc/bind_gemm.cc) has
// checked all of this.
#pragma once

#include <cstdint>

namespace minigen::cpu {

// Which micro-kernel the fast GEMM runs. best: the widest allowed (AVX-512, else AVX2 + FMA,
// else portable C++). Tests name the others to run them on a CPU that would pick AVX-512.
enum class GemmIsa { best, avx512, avx2, portable };

// Whether the micro-kernel for `isa` may run: the CPU has its instructions and the limit below
// allows it (best and portable: always).
bool gemm_isa_supported(GemmIsa isa);

// The widest micro-kernel the fast GEMM may use (best: whatever the CPU has), so that a machine
// with AVX-512 can run, and test, the path an AVX2-only machine takes (MINIGEN_CPU_ISA, read by
// minigen/backend/cpu.py at import). The caller has checked that the CPU has `isa`.
void set_gemm_isa_limit(GemmIsa isa);

// The micro-kernel that best stands for now: avx512, avx2 or portable.
GemmIsa gemm_best_isa();

// The triple loop, the oracle the tests trust.
template <typename T>
void gemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
              const T* b, T beta, T* c);

// Packed, cache-blocked, SIMD micro-kernels, OpenMP threads (omp_get_max_threads() of the caller).
template <typename T>
void gemm_fast(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
               const T* b, T beta, T* c, GemmIsa isa);

// A k x n matrix given by two offset tables: element (i, j) is p[row[i] + col[j]]. A convolution's
// unrolled input (im2col) is one: row i a kernel tap of a channel, column j an output pixel of a
// sample, and p the images themselves. gemm_gathered reads such a b while it packs its panels, so
// the k x n matrix is never written out.
template <typename T>
struct Gathered {
  const T* p;
  const int64_t* row;  // k offsets
  const int64_t* col;  // n offsets
};

// c (m, n) = a (m, k) @ b + beta * c, all on the calling thread (a, c C-contiguous). The
// convolutions call it from their own parallel regions, one chunk of samples per thread.
template <typename T>
void gemm_gathered(int64_t m, int64_t n, int64_t k, const T* a, const Gathered<T>& b, T beta, T* c,
                   GemmIsa isa);

// An m x n matrix to add into, given by offset tables like Gathered: element (i, j) is
// p[row[i] + col[j]]. Two elements may be one place (a convolution's overlapping windows): both
// are added there.
template <typename T>
struct Scattered {
  T* p;
  const int64_t* row;  // m offsets
  const int64_t* col;  // n offsets
};

// c += op(a) @ b, a (m, k) or (k, m) when trans_a, b (k, n), both C-contiguous, on the calling
// thread only: the input gradient of a convolution adds its columns onto the image this way
// (an implicit col2im).
template <typename T>
void gemm_scattered(bool trans_a, int64_t m, int64_t n, int64_t k, const T* a, const T* b,
                    const Scattered<T>& c, GemmIsa isa);

}  // namespace minigen::cpu
