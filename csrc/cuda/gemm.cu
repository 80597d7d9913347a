// General matrix product on the GPU: c = alpha * op(a) @ op(b) + beta * c.
//
// Contents, each a template instantiated for float and double:
//   GemmStore   the epilogue both kernels share: c = alpha * sum + beta * c (c unread if beta == 0)
//   gemm_ref    one thread per element of c, a plain loop over k: the oracle the tests trust
//   gemm_fast   the tiled engine (csrc/cuda/gemm_tiles.cuh) over a and b as they lie in memory:
//               16-byte packs where the matrices allow, else element by element; isa 'tf32'
//               runs the engine's tensor-core tiles instead of its CUDA-core ones
// Both sum each element of c the same way, fma after fma in ascending k from 0, and share the
// epilogue: with isa 'fma' their results are equal bit for bit (whatever the tile size).

#include <type_traits>

#include "cuda/elementwise.cuh"
#include "cuda/gemm.h"
#include "cuda/gemm_tiles.cuh"

namespace minigen::cuda {
namespace {

using tiles::madd;

// c[i, j] = alpha * sum + beta * c[i, j], with c not read when beta == 0 (BLAS semantics).
template <typename T>
struct GemmStore {
  T* c;
  int64_t ldc;
  T alpha, beta;
  __device__ void operator()(int64_t, int64_t i, int64_t j, T sum) const {
    T& out = c[i * ldc + j];
    out = beta == T(0) ? alpha * sum : madd(beta, out, alpha * sum);
  }
};

// ---- Reference: read this first ---------------------------------------------------------------

template <typename T>
__global__ void gemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a,
                         const T* b, GemmStore<T> store) {
  for (int64_t e = global_thread(); e < m * n; e += grid_threads()) {
    const int64_t i = e / n, j = e % n;
    T sum = 0;
    for (int64_t p = 0; p < k; ++p) {
      const T aip = trans_a ? a[p * m + i] : a[i * k + p];  // op(a)[i, p]
      const T bpj = trans_b ? b[j * k + p] : b[p * n + j];  // op(b)[p, j]
      sum = madd(aip, bpj, sum);
    }
    store(0, i, j, sum);
  }
}

// ---- Fast: the tiled engine -------------------------------------------------------------------

// Element (i, j) of a matrix is p[i * s0 + j * s1]: a or b either way round, element by element.
template <typename T>
struct Strided {
  const T* p;
  int64_t s0, s1;
  __device__ T operator()(int64_t, int64_t i, int64_t j) const { return p[i * s0 + j * s1]; }
};

// c = beta * c, zeros when beta == 0 (c not read): a product with an empty sum (k == 0).
template <typename T>
struct Scale {
  T beta;
  __device__ T operator()(T x) const { return beta == T(0) ? T(0) : beta * x; }
};

// f(std::true_type{}) or f(std::false_type{}): a run-time flag as a template argument.
template <typename F>
void with_flag(bool flag, F&& f) {
  if (flag)
    f(std::true_type{});
  else
    f(std::false_type{});
}

// Calls launch(source_a, source_b) with the engine's sources over op(a) (m x k, indexed (m, k))
// and op(b) (k x n, indexed (n, k)). Where both are 16-byte aligned and their rows (the
// contiguous extent: k or m for a, n or k for b) a whole number of packs, they are read in
// packs; else element by element, neighbouring threads reading along the contiguous extent.
template <typename T, typename Launch>
void with_sources(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a,
                  const T* b, Launch&& launch) {
  const int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  if (packs_aligned(a, b) && lda % Pack<T>::size == 0 && ldb % Pack<T>::size == 0) {
    with_flag(!trans_a, [&](auto a_k_contiguous) {
      with_flag(trans_b, [&](auto b_k_contiguous) {
        launch(tiles::PackedSource<T, a_k_contiguous>{a, lda, m, k},
               tiles::PackedSource<T, b_k_contiguous>{b, ldb, n, k});
      });
    });
  } else {
    with_flag(!trans_a, [&](auto a_k_fastest) {
      with_flag(trans_b, [&](auto b_k_fastest) {
        const Strided<T> op_a{a, trans_a ? 1 : k, trans_a ? m : 1};  // element (m, k)
        const Strided<T> op_b{b, trans_b ? k : 1, trans_b ? 1 : n};  // element (n, k)
        launch(tiles::FunctorSource<Strided<T>, a_k_fastest>{op_a, m, k},
               tiles::FunctorSource<Strided<T>, b_k_fastest>{op_b, n, k});
      });
    });
  }
}

}  // namespace

template <typename T>
void gemm(Impl impl, GemmIsa isa, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
          T alpha, const T* a, const T* b, T beta, T* c, cudaStream_t stream) {
  const char* op = "gemm";
  const GemmStore<T> store{c, n, alpha, beta};
  if (m == 0 || n == 0) return;
  if (impl == Impl::ref) {
    gemm_ref<<<grid_for(m * n), kBlock, 0, stream>>>(trans_a, trans_b, m, n, k, a, b, store);
    return check_launch(op);
  }
  if (k == 0) return launch_map(op, Impl::fast, stream, m * n, Scale<T>{beta}, c, c);
  with_sources(trans_a, trans_b, m, n, k, a, b, [&](auto source_a, auto source_b) {
    if constexpr (std::is_same_v<T, float>) {
      if (isa == GemmIsa::tf32)
        return tiles::launch_tf32(op, 1, m, n, k, source_a, source_b, store, stream);
    }
    tiles::launch_simt<T>(op, 1, m, n, k, source_a, source_b, store, stream);
  });
}

#define MINIGEN_INSTANTIATE(T)                                                                 \
  template void gemm<T>(Impl, GemmIsa, bool, bool, int64_t, int64_t, int64_t, T, const T*,     \
                        const T*, T, T*, cudaStream_t);
MINIGEN_INSTANTIATE(float)
MINIGEN_INSTANTIATE(double)
#undef MINIGEN_INSTANTIATE

}  // namespace minigen::cuda
