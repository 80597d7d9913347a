// General matrix product on the CPU: c = alpha * op(a) @ op(b) + beta * c.
//
// Contents, each a template instantiated for float and double:
//   gemm_ref    op(a) (m, k), op(b) (k, n) -> c (m, n)   triple loop, the oracle the tests trust
//   gemm_fast   same arguments, the BLIS / GotoBLAS scheme; read its parts in this order:
//     micro-kernels  one mr x nr tile of c from a packed sliver of op(a) (mr x kc) and one of
//                    op(b) (kc x nr), the tile held in vector registers: AVX-512 6 x 64 floats /
//                    6 x 32 doubles (fewer columns when n is narrower), AVX2 + FMA 6 x 16 /
//                    6 x 8, portable C++ 4 x 8; the widest the CPU has is picked at run time
//     tile sizes and cache blocks   which kernel, and the block sizes around it (why: there)
//     packing        copies blocks of op(a) and op(b) into the slivers the micro-kernels read;
//                    this is where transposes are absorbed
//     blocking       the five loops around the micro-kernel
//     threads        one block of c per OpenMP thread
//   gemm_gathered  a @ b with b given by offset tables, packed straight from where its values
//                  live: the convolutions' implicit im2col (csrc/cpu/conv.cc)
//   gemm_scattered op(a) @ b added onto a c given by offset tables: the implicit col2im
// a, b, c are C-contiguous: a is (m, k), or (k, m) when trans_a; b is (k, n), or (n, k) when
// trans_b. With beta == 0, c is written without being read. gemm_fast sums in a different order
// than gemm_ref (and with fused multiply-adds where the ISA has them), so the two agree to
// rounding, not bit for bit; gemm_fast gives the same bits whatever the number of threads.

#include "cpu/gemm.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace minigen::cpu {

// ----------------------------------------------------------------------------------------------
// Reference: read this first.

template <typename T>
void gemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
              const T* b, T beta, T* c) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      T sum = 0;
      for (int64_t p = 0; p < k; ++p) {
        const T aip = trans_a ? a[p * m + i] : a[i * k + p];  // op(a)[i, p]
        const T bpj = trans_b ? b[j * k + p] : b[p * n + j];  // op(b)[p, j]
        sum += aip * bpj;
      }
      // beta == 0: c is not read, so NaN or garbage in it cannot leak into the result
      c[i * n + j] = beta == T(0) ? alpha * sum : alpha * sum + beta * c[i * n + j];
    }
}

// ----------------------------------------------------------------------------------------------
// Fast: pack, block for the caches, a register-tile micro-kernel, threads.

namespace {

// ---- Micro-kernels ----------------------------------------------------------------------------
// A micro-kernel computes one mr x nr tile of c from a packed sliver of op(a) (mr x kc) and one
// of op(b) (kc x nr), as kc rank-1 updates of mr x nr accumulators that stay in registers:
//   acc[i][j] += a[i * a_rs + p * a_ps] * b[p * nr + j]        for p = 0 .. kc-1
// then stores c[i * ldc + j] = alpha * acc[i][j] + beta * c[i * ldc + j] (c not read if beta == 0).
// Each step loads the nr values of b as vectors, broadcasts each of the mr values of a, and does
// mr * nr / lanes fused multiply-adds: few loads per FMA, so the FMA units set the pace. The b
// sliver must be step after step (nr contiguous values per step: vector loads); the a sliver may
// be either way round (a broadcast reads one value from anywhere), which is what lets packing a
// be a plain copy (see pack_a).
template <typename T>
using MicroKernel = void (*)(int64_t kc, const T* a, int64_t a_rs, int64_t a_ps, const T* b, T* c,
                             int64_t ldc, T alpha, T beta);

#if defined(__x86_64__)

// A function's ISA is fixed when it is compiled: these carry the target attribute, so the build
// needs no -mavx512f (which would let the compiler use AVX-512 anywhere), and are only called
// after __builtin_cpu_supports says the CPU has the instructions (gemm_isa_supported).
#define MG_AVX512 __attribute__((target("avx512f")))
#define MG_AVX2 __attribute__((target("avx2,fma")))

// The vector operations the kernels use, overloaded for float and double, so that a kernel is one
// template and no float-only intrinsic can reach double code.
namespace avx512 {
MG_AVX512 inline __m512 loadu(const float* p) { return _mm512_loadu_ps(p); }
MG_AVX512 inline __m512d loadu(const double* p) { return _mm512_loadu_pd(p); }
MG_AVX512 inline void storeu(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
MG_AVX512 inline void storeu(double* p, __m512d v) { _mm512_storeu_pd(p, v); }
MG_AVX512 inline __m512 broadcast(float x) { return _mm512_set1_ps(x); }
MG_AVX512 inline __m512d broadcast(double x) { return _mm512_set1_pd(x); }
MG_AVX512 inline __m512 mul(__m512 x, __m512 y) { return _mm512_mul_ps(x, y); }
MG_AVX512 inline __m512d mul(__m512d x, __m512d y) { return _mm512_mul_pd(x, y); }
MG_AVX512 inline __m512 fma(__m512 x, __m512 y, __m512 z) { return _mm512_fmadd_ps(x, y, z); }
MG_AVX512 inline __m512d fma(__m512d x, __m512d y, __m512d z) { return _mm512_fmadd_pd(x, y, z); }

// MR rows x NV vectors of 512 bits (nr = NV * lanes). The compiler unrolls the loops over i and v
// completely, so acc becomes MR * NV registers. Unrolling the k loop 4 times saves loop overhead:
// the front end issues 4 instructions a cycle and each step already needs MR * NV + MR + NV.
template <typename T, int MR, int NV>
MG_AVX512 void kernel(int64_t kc, const T* a, int64_t a_rs, int64_t a_ps, const T* b, T* c,
                      int64_t ldc, T alpha, T beta) {
  constexpr int kLanes = 64 / sizeof(T);
  using V = decltype(loadu(b));
  V acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = broadcast(T(0));
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p, a += a_ps, b += NV * kLanes) {
    V bp[NV];
    for (int v = 0; v < NV; ++v) bp[v] = loadu(b + v * kLanes);
    for (int i = 0; i < MR; ++i) {
      const V ai = broadcast(a[i * a_rs]);
      for (int v = 0; v < NV; ++v) acc[i][v] = fma(ai, bp[v], acc[i][v]);
    }
  }
  const V va = broadcast(alpha), vb = broadcast(beta);
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) {
      T* ci = c + i * ldc + v * kLanes;
      storeu(ci, beta == T(0) ? mul(va, acc[i][v]) : fma(vb, loadu(ci), mul(va, acc[i][v])));
    }
}
}  // namespace avx512

namespace avx2 {
MG_AVX2 inline __m256 loadu(const float* p) { return _mm256_loadu_ps(p); }
MG_AVX2 inline __m256d loadu(const double* p) { return _mm256_loadu_pd(p); }
MG_AVX2 inline void storeu(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
MG_AVX2 inline void storeu(double* p, __m256d v) { _mm256_storeu_pd(p, v); }
MG_AVX2 inline __m256 broadcast(float x) { return _mm256_set1_ps(x); }
MG_AVX2 inline __m256d broadcast(double x) { return _mm256_set1_pd(x); }
MG_AVX2 inline __m256 mul(__m256 x, __m256 y) { return _mm256_mul_ps(x, y); }
MG_AVX2 inline __m256d mul(__m256d x, __m256d y) { return _mm256_mul_pd(x, y); }
MG_AVX2 inline __m256 fma(__m256 x, __m256 y, __m256 z) { return _mm256_fmadd_ps(x, y, z); }
MG_AVX2 inline __m256d fma(__m256d x, __m256d y, __m256d z) { return _mm256_fmadd_pd(x, y, z); }

// The same loop as avx512::kernel with 256-bit vectors. It has to be written twice: a template
// cannot take the target ISA as a parameter.
template <typename T, int MR, int NV>
MG_AVX2 void kernel(int64_t kc, const T* a, int64_t a_rs, int64_t a_ps, const T* b, T* c,
                    int64_t ldc, T alpha, T beta) {
  constexpr int kLanes = 32 / sizeof(T);
  using V = decltype(loadu(b));
  V acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = broadcast(T(0));
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p, a += a_ps, b += NV * kLanes) {
    V bp[NV];
    for (int v = 0; v < NV; ++v) bp[v] = loadu(b + v * kLanes);
    for (int i = 0; i < MR; ++i) {
      const V ai = broadcast(a[i * a_rs]);
      for (int v = 0; v < NV; ++v) acc[i][v] = fma(ai, bp[v], acc[i][v]);
    }
  }
  const V va = broadcast(alpha), vb = broadcast(beta);
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) {
      T* ci = c + i * ldc + v * kLanes;
      storeu(ci, beta == T(0) ? mul(va, acc[i][v]) : fma(vb, loadu(ci), mul(va, acc[i][v])));
    }
}
}  // namespace avx2

#endif  // __x86_64__

// Portable C++, for CPUs without AVX2 and for other architectures: the same tile in plain loops.
// `omp simd` has the compiler vectorise the j loop with the baseline ISA (SSE2 on x86-64, no
// FMA); left alone, GCC vectorises the k loop instead, with shuffles, and runs 7x slower.
template <typename T, int MR, int NR>
void kernel_portable(int64_t kc, const T* a, int64_t a_rs, int64_t a_ps, const T* b, T* c,
                     int64_t ldc, T alpha, T beta) {
  T acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p, a += a_ps, b += NR)
    for (int i = 0; i < MR; ++i) {
      const T ai = a[i * a_rs];
#pragma omp simd
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      T& cij = c[i * ldc + j];
      cij = beta == T(0) ? alpha * acc[i][j] : alpha * acc[i][j] + beta * cij;
    }
}

// ---- Tile sizes and cache blocks --------------------------------------------------------------
// A micro-kernel with its register tile (mr x nr) and the cache blocks around it (kc, mc, nc).
template <typename T>
struct Kernel {
  MicroKernel<T> run;
  int mr, nr;
  int64_t kc, mc, nc;
};

// The largest tile (AVX-512, floats), for the scratch tile at the edges of c.
constexpr int kMaxTile = 6 * 64;

// Chosen for the machine this was tuned on (Intel Skylake-SP, 2 cores: 32 KiB L1d and 1 MiB L2
// per core, 33 MiB L3, two 512-bit FMA units per core) and measured with benchmarks/gemm.py.
// Tile, AVX-512: 6 rows x 4 vectors (6 x 64 floats): 24 accumulators + 4 vectors of b + 1
//   broadcast = 29 of the 32 registers; a step is 4 loads + 6 broadcasts for 24 FMAs. A tile only
//   6 rows tall wastes little on the GAN's 64-row batches (11 tiles = 66 rows; 14 x 32 would
//   compute 70) and measured as fast as 14 x 32 or 8 x 48 on square products. AVX2: 6 x 2 vectors
//   = 12 accumulators + 2 + 1 of 16 registers. Portable: 4 x 8, small enough for SSE2's 16.
// kc = 384 floats (1.5 KiB of each row of a sliver): the a sliver (6 x 384 x 4 B = 9 KiB) stays in
//   L1 while the b sliver (384 x 64 x 4 B = 96 KiB) streams from L2 at 256 B per 12 cycles of
//   FMAs, well within L2's bandwidth. A long kc amortises loading and storing the c tile: at
//   1024^3, 384 beat 256 by ~8% and 128 by ~25%. (The textbook choice, the b sliver resident in
//   L1, would need kc <= 96 with slivers 64 wide.)
// mc = 192 rows: the packed block of a, 192 x 384 x 4 B = 288 KiB, a quarter of L2, leaving room
//   for the b sliver and c. 96 to 336 measured the same.
// nc = 4096 floats: the packed panel of b, 384 x 4096 x 4 B = 6 MiB per thread, in L3.
// Doubles keep the same sizes in bytes (kc = 192, nc = 2048): twice the bytes per element.
// Narrow products (n of 20 in the VAE, 1 in a discriminator's last layer) get a tile of fewer
// vectors, so that less of it is zero padding: the narrowest that covers n, else the widest.
template <typename T>
Kernel<T> kernel_for(GemmIsa isa, int64_t n) {
  const int64_t kc = 1536 / sizeof(T), mc = 192, nc = 16384 / sizeof(T);
  if (isa == GemmIsa::best) isa = gemm_best_isa();
#if defined(__x86_64__)
  if (isa == GemmIsa::avx512) {
    constexpr int L = 64 / sizeof(T);  // lanes
    if (n <= L) return {avx512::kernel<T, 6, 1>, 6, L, kc, mc, nc};
    if (n <= 2 * L) return {avx512::kernel<T, 6, 2>, 6, 2 * L, kc, mc, nc};
    return {avx512::kernel<T, 6, 4>, 6, 4 * L, kc, mc, nc};
  }
  if (isa == GemmIsa::avx2) {
    constexpr int L = 32 / sizeof(T);
    if (n <= L) return {avx2::kernel<T, 6, 1>, 6, L, kc, mc, nc};
    return {avx2::kernel<T, 6, 2>, 6, 2 * L, kc, mc, nc};
  }
#endif
  return {kernel_portable<T, 4, 8>, 4, 8, kc, mc, nc};
}

// ---- Packing ----------------------------------------------------------------------------------
// A matrix as it sits in memory, element (i, j) at p[i * rs + j * cs], with rs == 1 or cs == 1.
// op(a) of a C-contiguous a is {a, k, 1}, or {a, 1, m} when trans_a: a transpose only swaps the
// strides, and packing, which reads through them, absorbs it. No transpose is ever copied.
template <typename T>
struct View {
  const T* p;
  int64_t rs, cs;
  View block(int64_t i, int64_t j) const { return {p + i * rs + j * cs, rs, cs}; }
  View t() const { return {p, cs, rs}; }
};

int64_t round_up(int64_t x, int64_t multiple) { return (x + multiple - 1) / multiple * multiple; }

// Rows [0, rows) x columns [0, len) of x into slivers of r rows, each len steps of r values:
// dst[s * r * len + q * r + i] = x[s * r + i, q]. Rows past `rows` are zeros, so an edge sliver is
// a full one and the micro-kernel needs no edge case. This is the layout of the b slivers (op(b)
// by columns, as the rows of its transpose, r = nr), and of the a slivers when trans_a.
template <typename T>
void pack_steps(View<T> x, int64_t rows, int64_t len, int r, T* dst) {
  std::fill(dst + rows * len, dst + round_up(rows, r) * len, T(0));  // rows past `rows`, if any
  if (x.cs == 1) {
    // Rows are contiguous (op(b) when trans_b): this is a transpose, one value per store. Take
    // one cache line of columns at a time across the rows of a sliver, so that the groups of r
    // values they land in stay in L1 until full, and prefetch the line after next of each row:
    // r rows in r different pages are more streams than the hardware prefetcher follows.
    constexpr int64_t kLine = 64 / sizeof(T);
    for (int64_t i0 = 0; i0 < rows; i0 += r)
      for (int64_t q0 = 0; q0 < len; q0 += kLine) {
        const int64_t w = std::min(kLine, len - q0);
        for (int64_t i = i0; i < std::min<int64_t>(i0 + r, rows); ++i) {
          const T* row = x.p + i * x.rs + q0;
          __builtin_prefetch(row + 2 * kLine);
          T* out = dst + i0 * len + q0 * r + (i - i0);
          for (int64_t q = 0; q < w; ++q) out[q * r] = row[q];
        }
      }
  } else {
    // Columns are contiguous: read each column whole, r consecutive values into each sliver.
    for (int64_t q = 0; q < len; ++q) {
      const T* col = x.p + q * x.cs;
      for (int64_t i0 = 0; i0 < rows; i0 += r) {
        T* out = dst + i0 * len + q * r;
        const int64_t h = std::min<int64_t>(r, rows - i0);
        for (int64_t i = 0; i < h; ++i) out[i] = col[i0 + i];
      }
    }
  }
}

// How a micro-kernel steps through a packed a sliver: value (i, p) at a[i * rs + p * ps].
struct ASteps {
  int64_t rs, ps;
};

// op(a)[0:mc, 0:kc] into slivers of mr rows, zero-padded to a whole sliver. a is the operand the
// micro-kernel broadcasts, so its sliver may be row after row or step after step: packing keeps
// the order of the source and is a plain copy. Rows contiguous (a as given): copy each row, the
// block becomes mc rows of kc values; columns contiguous (trans_a): step after step, as op(b).
template <typename T>
ASteps pack_a(View<T> A, int64_t mc, int64_t kc, int mr, T* dst) {
  if (A.cs != 1) {
    pack_steps(A, mc, kc, mr, dst);
    return {1, mr};
  }
  for (int64_t i = 0; i < mc; ++i) std::copy(A.p + i * A.rs, A.p + i * A.rs + kc, dst + i * kc);
  std::fill(dst + mc * kc, dst + round_up(mc, mr) * kc, T(0));
  return {kc, 1};
}

// ---- Blocking ---------------------------------------------------------------------------------

// The block size for cutting n into pieces of at most `most`, as even as possible and a multiple
// of `multiple`: 784 by at most 384 gives 3 x 262, not 384 + 384 + 16.
int64_t even_block(int64_t n, int64_t most, int64_t multiple) {
  const int64_t pieces = (n + most - 1) / most;
  const int64_t size = (n + pieces - 1) / pieces;
  return (size + multiple - 1) / multiple * multiple;
}

// One tile of c. A tile cut by the edge of c (fewer than mr rows or nr columns left) is computed
// whole into a scratch tile, from the zero-padded slivers, and only its valid part is stored.
template <typename T>
void tile(const Kernel<T>& kern, int64_t kc, const T* a, ASteps as, const T* b, T* c, int64_t ldc,
          int64_t rows, int64_t cols, T alpha, T beta) {
  if (rows == kern.mr && cols == kern.nr)
    return kern.run(kc, a, as.rs, as.ps, b, c, ldc, alpha, beta);
  alignas(64) T scratch[kMaxTile];
  kern.run(kc, a, as.rs, as.ps, b, scratch, kern.nr, T(1), T(0));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      T& cij = c[i * ldc + j];
      const T s = scratch[i * kern.nr + j];
      cij = beta == T(0) ? alpha * s : alpha * s + beta * cij;
    }
}

// The two ways a computed tile reaches c. store_tile(i, j, rows, cols, kc, a, as, b, beta) runs
// the micro-kernel on the packed slivers a and b for the tile at row i, column j of c.
// Dense: c (row stride ldc) = alpha * tile + beta * c.
template <typename T>
auto dense_store(const Kernel<T>& kern, T* c, int64_t ldc, T alpha) {
  return [&kern, c, ldc, alpha](int64_t i, int64_t j, int64_t rows, int64_t cols, int64_t kc,
                                const T* a, ASteps as, const T* b, T beta) {
    tile(kern, kc, a, as, b, c + i * ldc + j, ldc, rows, cols, alpha, beta);
  };
}

// Scattered: every value of the tile is added onto c.p[c.row[i] + c.col[j]] (see gemm.h).
template <typename T>
auto scatter_add(const Kernel<T>& kern, const Scattered<T>& c) {
  return [&kern, c](int64_t i, int64_t j, int64_t rows, int64_t cols, int64_t kc, const T* a,
                    ASteps as, const T* b, T /* beta: always 1 */) {
    alignas(64) T scratch[kMaxTile];
    kern.run(kc, a, as.rs, as.ps, b, scratch, kern.nr, T(1), T(0));
    for (int64_t r = 0; r < rows; ++r) {
      T* row = c.p + c.row[i + r];
      const int64_t* col = c.col + j;
      for (int64_t q = 0; q < cols; ++q) row[col[q]] += scratch[r * kern.nr + q];
    }
  };
}

// c (m x n) = A @ B + beta * c on one thread, A (m x k) as a view, B (k x n) through
// pack_b(pc, kc, jc, nc, dst), which packs B's block [pc, pc + kc) x [jc, jc + nc) into nr-column
// slivers (pack_steps' layout), c through store_tile (above); a_pack / b_pack the packing
// buffers (sizes in gemm_fast). The five loops of BLIS:
//   jc: columns of c in blocks of nc     - a packed kc x nc panel of B stays in L3
//   pc: the k dimension in blocks of kc  - c is updated once per block (beta on the first)
//   ic: rows of c in blocks of mc        - a packed mc x kc block of A stays in L2
//   jr: nr-column slivers of the B panel - one kc x nr sliver of B is reused by ...
//   ir: mr-row slivers of the A block    - ... every mr x kc sliver of the A block
template <typename T, typename PackB, typename StoreTile>
void gemm_blocked(const Kernel<T>& kern, View<T> A, PackB pack_b, StoreTile store_tile, int64_t m,
                  int64_t n, int64_t k, T beta, T* a_pack, T* b_pack) {
  const int64_t nc_max = even_block(n, kern.nc, kern.nr);
  const int64_t kc_max = even_block(k, kern.kc, 1);
  const int64_t mc_max = even_block(m, kern.mc, kern.mr);
  for (int64_t jc = 0; jc < n; jc += nc_max) {
    const int64_t nc = std::min(nc_max, n - jc);
    for (int64_t pc = 0; pc < k; pc += kc_max) {
      const int64_t kc = std::min(kc_max, k - pc);
      const T beta_pc = pc == 0 ? beta : T(1);  // later k blocks add onto what the first wrote
      pack_b(pc, kc, jc, nc, b_pack);
      for (int64_t ic = 0; ic < m; ic += mc_max) {
        const int64_t mc = std::min(mc_max, m - ic);
        const ASteps as = pack_a(A.block(ic, pc), mc, kc, kern.mr, a_pack);
        for (int64_t jr = 0; jr < nc; jr += kern.nr)
          for (int64_t ir = 0; ir < mc; ir += kern.mr)
            store_tile(ic + ir, jc + jr, std::min<int64_t>(kern.mr, mc - ir),
                       std::min<int64_t>(kern.nr, nc - jr), kc, a_pack + ir * kc, as,
                       b_pack + jr * kc, beta_pc);
      }
    }
  }
}

// The packer of a B stored as a strided view.
template <typename T>
auto view_packer(View<T> B, int nr) {
  return [B, nr](int64_t pc, int64_t kc, int64_t jc, int64_t nc, T* dst) {
    pack_steps(B.block(pc, jc).t(), nc, kc, nr, dst);
  };
}

// The packer of a Gathered B: each step of a sliver reads nr values of one row of B from the
// offsets of their columns, zeros past the last column (pack_steps' layout). (AVX-512's gather
// instruction measured no faster here than this loop.)
template <typename T>
auto gathered_packer(const Gathered<T>& B, int nr) {
  return [B, nr](int64_t pc, int64_t kc, int64_t jc, int64_t nc, T* dst) {
    for (int64_t j0 = 0; j0 < nc; j0 += nr) {
      const int64_t width = std::min<int64_t>(nr, nc - j0);
      const int64_t* col = B.col + jc + j0;
      T* out = dst + j0 * kc;
      for (int64_t q = 0; q < kc; ++q, out += nr) {
        const T* row = B.p + B.row[pc + q];
        for (int64_t j = 0; j < width; ++j) out[j] = row[col[j]];
        std::fill(out + width, out + nr, T(0));
      }
    }
  };
}

// ---- Threads ----------------------------------------------------------------------------------

// Below this many multiply-adds (m * n * k) one thread does the whole product: waking a second
// thread costs microseconds. Measured on 2 threads: 1.14x at 64 x 64 x 64, 1.24x at 64 x 128 x 64
// (this threshold), 1.33x at 64 x 256 x 64, 1.7x at 128 x 256 x 128.
constexpr double kParallelMinMacs = 64.0 * 64 * 128;

// Packing buffers, kept by the calling thread for its next calls and grown when a larger product
// comes: once warm, a call allocates nothing. 64-byte aligned (a cache line, an AVX-512 vector).
// Allocated here, before any parallel region, so that running out of memory is an exception
// Python sees (MemoryError), not an abort inside an OpenMP thread.
template <typename T>
T* pack_buffer(int64_t count) {
  struct Buffer {
    T* data = nullptr;
    int64_t size = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buf;
  if (buf.size < count) {
    std::free(buf.data);
    buf.data = static_cast<T*>(std::aligned_alloc(64, round_up(count * sizeof(T), 64)));
    buf.size = buf.data ? count : 0;
    if (!buf.data) throw std::bad_alloc();
  }
  return buf.data;
}

// Elements of the packing buffers one thread needs for its m x n part of a product: the largest
// block of A and panel of B it packs (see gemm_blocked), each a whole number of cache lines.
struct PackSizes {
  int64_t a, b;
};

template <typename T>
PackSizes pack_sizes(const Kernel<T>& kern, int64_t m, int64_t n, int64_t k) {
  const int64_t kc = std::min(k, kern.kc);
  return {round_up(round_up(std::min(m, kern.mc), kern.mr) * kc, 64),
          round_up(round_up(std::min(n, kern.nc), kern.nr) * kc, 64)};
}

// gemm_blocked on the calling thread alone, with its packing buffers.
template <typename T, typename PackB, typename StoreTile>
void gemm_on_this_thread(const Kernel<T>& kern, View<T> A, PackB pack_b, StoreTile store_tile,
                         int64_t m, int64_t n, int64_t k, T beta) {
  const PackSizes size = pack_sizes(kern, m, n, k);
  T* a_pack = pack_buffer<T>(size.a + size.b);
  gemm_blocked(kern, A, pack_b, store_tile, m, n, k, beta, a_pack, a_pack + size.a);
}

// c (count values) = beta * c, zeros when beta == 0 (c not read): a product with an empty sum.
template <typename T>
void scale(T* c, int64_t count, T beta) {
  for (int64_t i = 0; i < count; ++i) c[i] = beta == T(0) ? T(0) : beta * c[i];
}

}  // namespace

namespace {

bool cpu_has(GemmIsa isa) {
#if defined(__x86_64__)
  if (isa == GemmIsa::avx512) return __builtin_cpu_supports("avx512f");
  if (isa == GemmIsa::avx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  if (isa == GemmIsa::avx512 || isa == GemmIsa::avx2) return false;
#endif
  return true;
}

// The enum lists the ISAs widest first, so "at most as wide as the limit" is "not before it".
std::atomic<GemmIsa> isa_limit{GemmIsa::best};

}  // namespace

bool gemm_isa_supported(GemmIsa isa) {
  const GemmIsa limit = isa_limit.load();
  return cpu_has(isa) && (isa == GemmIsa::best || limit == GemmIsa::best || isa >= limit);
}

void set_gemm_isa_limit(GemmIsa isa) { isa_limit.store(isa); }

GemmIsa gemm_best_isa() {
  for (GemmIsa isa : {GemmIsa::avx512, GemmIsa::avx2})
    if (gemm_isa_supported(isa)) return isa;
  return GemmIsa::portable;
}

template <typename T>
void gemm_fast(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
               const T* b, T beta, T* c, GemmIsa isa) {
  if (m == 0 || n == 0) return;
  if (k == 0) return scale(c, m * n, beta);
  const Kernel<T> kern = kernel_for<T>(isa, n);
  const View<T> A = trans_a ? View<T>{a, 1, m} : View<T>{a, k, 1};
  const View<T> B = trans_b ? View<T>{b, 1, k} : View<T>{b, n, 1};

  // Threads: c is cut into one block of whole tiles per thread, along n when n has at least as
  // many tiles as m (the GAN's 64-row batches), else along m. Each thread runs gemm_blocked on its
  // block with its own packing buffers: no sharing, no barrier. The price is that every thread
  // packs all of the operand that is not cut: k * n (or m * k) copies next to the m * n * k / 2
  // multiply-adds of each thread, a few per cent at 1024^3, nothing at the GAN shapes.
  // Cuts fall on tile boundaries and kc does not depend on the cut, so every element of c is
  // summed in the same order, whatever the number of threads.
  const int64_t m_tiles = (m + kern.mr - 1) / kern.mr, n_tiles = (n + kern.nr - 1) / kern.nr;
  const bool cut_n = n_tiles >= m_tiles;
  const int64_t tiles = cut_n ? n_tiles : m_tiles;
  const int threads = static_cast<double>(m) * n * k < kParallelMinMacs
                          ? 1
                          : static_cast<int>(std::min<int64_t>(omp_get_max_threads(), tiles));
  const int64_t tiles_per_thread = (tiles + threads - 1) / threads;
  const int64_t m_part = cut_n ? m : std::min(m, tiles_per_thread * kern.mr);
  const int64_t n_part = cut_n ? std::min(n, tiles_per_thread * kern.nr) : n;

  const PackSizes size = pack_sizes(kern, m_part, n_part, k);
  T* buffers = pack_buffer<T>((size.a + size.b) * threads);

#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num();
    const int64_t first = std::min(t * tiles_per_thread, tiles);
    const int64_t last = std::min((t + 1) * tiles_per_thread, tiles);
    T* a_pack = buffers + t * (size.a + size.b);
    T* b_pack = a_pack + size.a;
    if (cut_n) {
      const int64_t j0 = first * kern.nr, j1 = std::min(n, last * kern.nr);
      if (j0 < j1)
        gemm_blocked(kern, A, view_packer(B.block(0, j0), kern.nr),
                     dense_store(kern, c + j0, n, alpha), m, j1 - j0, k, beta, a_pack, b_pack);
    } else {
      const int64_t i0 = first * kern.mr, i1 = std::min(m, last * kern.mr);
      if (i0 < i1)
        gemm_blocked(kern, A.block(i0, 0), view_packer(B, kern.nr),
                     dense_store(kern, c + i0 * n, n, alpha), i1 - i0, n, k, beta, a_pack, b_pack);
    }
  }
}

template <typename T>
void gemm_gathered(int64_t m, int64_t n, int64_t k, const T* a, const Gathered<T>& b, T beta, T* c,
                   GemmIsa isa) {
  if (m == 0 || n == 0) return;
  if (k == 0) return scale(c, m * n, beta);  // (never from a convolution)
  const Kernel<T> kern = kernel_for<T>(isa, n);
  gemm_on_this_thread(kern, View<T>{a, k, 1}, gathered_packer(b, kern.nr),
                      dense_store(kern, c, n, T(1)), m, n, k, beta);
}

template <typename T>
void gemm_scattered(bool trans_a, int64_t m, int64_t n, int64_t k, const T* a, const T* b,
                    const Scattered<T>& c, GemmIsa isa) {
  if (m == 0 || n == 0 || k == 0) return;  // nothing to add
  const Kernel<T> kern = kernel_for<T>(isa, n);
  const View<T> A = trans_a ? View<T>{a, 1, m} : View<T>{a, k, 1};
  gemm_on_this_thread(kern, A, view_packer(View<T>{b, n, 1}, kern.nr), scatter_add(kern, c), m, n,
                      k, T(1));
}

// ----------------------------------------------------------------------------------------------
// The two dtypes every kernel exists in (DESIGN.md): float32 to train, float64 to check.

template void gemm_ref<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                              const float*, float, float*);
template void gemm_ref<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                               const double*, double, double*);
template void gemm_fast<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                               const float*, float, float*, GemmIsa);
template void gemm_fast<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                const double*, double, double*, GemmIsa);
template void gemm_gathered<float>(int64_t, int64_t, int64_t, const float*, const Gathered<float>&,
                                   float, float*, GemmIsa);
template void gemm_gathered<double>(int64_t, int64_t, int64_t, const double*,
                                    const Gathered<double>&, double, double*, GemmIsa);
template void gemm_scattered<float>(bool, int64_t, int64_t, int64_t, const float*, const float*,
                                    const Scattered<float>&, GemmIsa);
template void gemm_scattered<double>(bool, int64_t, int64_t, int64_t, const double*, const double*,
                                     const Scattered<double>&, GemmIsa);

}  // namespace minigen::cpu
