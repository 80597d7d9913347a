// General matrix product for CUDA (csrc/cuda/gemm.cu), instantiated for float and double.
//
//   c = alpha * op(a) @ op(b) + beta * c,   op(x) = x.T if trans_x else x
//
// The contract of csrc/cpu/gemm.h: a is (m, k), or (k, m) when trans_a; b is (k, n), or (n, k)
// when trans_b; c is (m, n); all three C-contiguous device arrays, c overlapping neither a nor b.
// With beta == 0, c is only written, never read (BLAS semantics: NaN in c does not leak). m, n,
// k may be 0. The caller (csrc/cuda/bind_gemm.cc) has checked all of this. The kernels are
// queued on `stream`.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "impl.h"

namespace minigen::cuda {

// The arithmetic of impl='fast'. fma: CUDA cores, one IEEE fused multiply-add per product (the
// same bits as impl='ref'). tf32: tensor cores with inputs rounded to TF32, float only: faster,
// to about 1e-3 relative (csrc/cuda/gemm_tiles.cuh, Tf32Tile).
enum class GemmIsa { fma, tf32 };

template <typename T>
void gemm(Impl impl, GemmIsa isa, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
          T alpha, const T* a, const T* b, T beta, T* c, cudaStream_t stream);

}  // namespace minigen::cuda
