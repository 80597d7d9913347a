// The tiled GEMM engine of the CUDA kernels: C_z = A_z @ B_z for a batch of matrices given by
// device functors, so that one engine serves the plain GEMM (csrc/cuda/gemm.cu) and the
// convolutions as implicit GEMMs (csrc/cuda/conv.cu), whose matrices are never written out.
//
// Contents, in reading order:
//   Smem            a k-tile of A or B in shared memory
//   sources         how a k-tile gets there from global memory:
//     FunctorSource   element by element through a load functor (any matrix, bounds-checked)
//     PackedSource    16-byte packs from a row-major matrix (the plain GEMM's fast path)
//   SimtTile        a block's share of C in registers, each thread an 8 x 8 (double 4 x 4) block
//   Tf32Tile        the same with TF32 tensor cores (float only, opt-in: not IEEE float32)
//   tiled_gemm      the kernel: a grid-stride loop over tiles of C, each summed over k-tiles with
//                   the next k-tile's loads in flight while the current one is multiplied
//   launch_simt, launch_tf32   pick the tile size by problem size and launch
//   launch_tiled_gemm   the interface (at the end): the SIMT engine over load/store functors
//
// On the CUDA cores (SimtTile) every output is one sum over k in ascending order,
// acc = fma(a, b, acc) from acc = 0, whatever the tile size: results are deterministic, and equal
// bit for bit to a plain loop that sums the same way (csrc/cuda/gemm.cu's gemm_ref). Tiles that
// stick out of a matrix read zeros there: for k >= K both factors are 0, which adds exactly 0;
// rows and columns past M or N are computed but never stored.
#pragma once

#include <mma.h>

#include <climits>

#include "cuda/launch.cuh"

namespace minigen::cuda {
namespace tiles {

// acc + a * b rounded once, for both dtypes: the one arithmetic step of every GEMM kernel.
__device__ inline float madd(float a, float b, float acc) { return fmaf(a, b, acc); }
__device__ inline double madd(double a, double b, double acc) { return fma(a, b, acc); }

// ---- Shared-memory tiles ----------------------------------------------------------------------
// A k-tile of A (BO = BM rows of m) or of B (BO = BN columns of n), stored k-major: the four
// consecutive m (or n) of one k that a thread multiplies are one 16-byte load (SimtTile::step).
// kPad extra values per k row shift successive rows by 4 banks, so that the transposing stores of
// the sources (k varies fastest across a warp) hit 32 distinct banks; with 4 (not 1) the rows
// stay 16-byte aligned for packed stores.
constexpr int kPad = 4;

template <typename T, int BO, int BK>
using Smem = T[BK][BO + kPad];

// ---- Sources ----------------------------------------------------------------------------------
// A source moves the k-tile (o0 .. o0+BO) x (k0 .. k0+BK) of one operand, o being m for A and n
// for B, in two steps: fetch() reads this thread's share from global memory into registers (r),
// stash() writes them into shared memory. The kernel puts the multiplication of the previous tile
// between the two, so that the global loads are in flight while the math runs.
// Elements outside the matrix (o >= O or k >= K) are read as zeros.

// Any matrix, one bounds-checked call get(z, o, k) per element. k_fastest says which index
// neighbouring threads vary, to read neighbouring addresses: k for a row-major A (m, k), o for a
// row-major B (k, n).
template <typename Get, bool k_fastest>
struct FunctorSource {
  Get get;
  int64_t O, K;

  // Element e of a tile, in the order neighbouring threads take them.
  template <int BO, int BK>
  __device__ static void place(int e, int& o, int& k) {
    o = k_fastest ? e / BK : e % BO;
    k = k_fastest ? e % BK : e / BO;
  }

  template <int BO, int BK, int NT, typename T>
  __device__ void fetch(T (&r)[BO * BK / NT], int64_t z, int64_t o0, int64_t k0) {
#pragma unroll
    for (int i = 0; i < BO * BK / NT; ++i) {
      int o, k;
      place<BO, BK>(threadIdx.x + i * NT, o, k);
      r[i] = o0 + o < O && k0 + k < K ? static_cast<T>(get(z, o0 + o, k0 + k)) : T(0);
    }
  }

  template <int BO, int BK, int NT, typename T>
  __device__ void stash(const T (&r)[BO * BK / NT], Smem<T, BO, BK>& s) const {
#pragma unroll
    for (int i = 0; i < BO * BK / NT; ++i) {
      int o, k;
      place<BO, BK>(threadIdx.x + i * NT, o, k);
      s[k][o] = r[i];
    }
  }
};

// A row-major matrix read in 16-byte packs: element (o, k) is p[o * ld + k] when k_contiguous,
// else p[k * ld + o]. A pack is a quarter (float) of the load instructions of scalar reads.
// Valid when p is 16-byte aligned and ld and the contiguous extent (K, or O) are multiples of
// the pack size: then every pack is whole inside the matrix or whole outside it.
template <typename T, bool k_contiguous>
struct PackedSource {
  static constexpr int V = Pack<T>::size;
  const T* p;
  int64_t ld, O, K;

  // Pack e of a tile (V consecutive k, or V consecutive o), neighbouring threads reading
  // neighbouring packs.
  template <int BO, int BK>
  __device__ static void place(int e, int& o, int& k) {
    o = k_contiguous ? e / (BK / V) : e % (BO / V) * V;
    k = k_contiguous ? e % (BK / V) * V : e / (BO / V);
  }

  template <int BO, int BK, int NT>
  __device__ void fetch(T (&r)[BO * BK / NT], int64_t, int64_t o0, int64_t k0) const {
#pragma unroll
    for (int q = 0; q < BO * BK / NT / V; ++q) {
      int o, k;
      place<BO, BK>(threadIdx.x + q * NT, o, k);
      Pack<T> v = {};
      if (o0 + o < O && k0 + k < K)
        v = *reinterpret_cast<const Pack<T>*>(
            p + (k_contiguous ? (o0 + o) * ld + (k0 + k) : (k0 + k) * ld + (o0 + o)));
#pragma unroll
      for (int j = 0; j < V; ++j) r[q * V + j] = v.v[j];
    }
  }

  template <int BO, int BK, int NT>
  __device__ void stash(const T (&r)[BO * BK / NT], Smem<T, BO, BK>& s) const {
#pragma unroll
    for (int q = 0; q < BO * BK / NT / V; ++q) {
      int o, k;
      place<BO, BK>(threadIdx.x + q * NT, o, k);
      Pack<T> v;
#pragma unroll
      for (int j = 0; j < V; ++j) v.v[j] = r[q * V + j];
      if (k_contiguous) {
#pragma unroll
        for (int j = 0; j < V; ++j) s[k + j][o] = v.v[j];  // a transposing store, pack by value
      } else {
        *reinterpret_cast<Pack<T>*>(&s[k][o]) = v;
      }
    }
  }
};

// ---- The math of a block ----------------------------------------------------------------------
// A BM x BN tile of C, summed over k-tiles of BK: each of the (BM/TM) x (BN/TN) threads keeps a
// TM x TN block of it in registers. Per k it loads TM values of A and TN of B from shared memory
// and does TM * TN fused multiply-adds: 8 x 8 is 64 FMAs per 16 values loaded, enough to keep the
// FMA units, not shared memory, the limit. A thread's rows are TM/4 runs of 4 consecutive rows,
// BM*4/TM apart (columns likewise): each run is one 16-byte load, and the threads of a warp read
// few distinct addresses (broadcast) or consecutive ones (no bank conflicts).
template <typename T, int BM_, int BN_, int BK_, int TM, int TN>
struct SimtTile {
  using value_type = T;
  static constexpr int BM = BM_, BN = BN_, BK = BK_;
  static constexpr int threads = (BM / TM) * (BN / TN);
  // Blocks of 256 threads: at most 128 registers a thread, so that two blocks share a
  // multiprocessor and hide each other's waits at __syncthreads. The main loop fits without
  // spilling; left free, ptxas spends ~180 on a store functor's loads of c, and one block runs
  // alone. Smaller tiles are used where there are fewer tiles than multiprocessors anyway.
  static constexpr int min_blocks = threads >= 256 ? 2 : 1;
  static_assert(TM % 4 == 0 && TN % 4 == 0, "runs of 4 rows and columns");

  T acc[TM][TN];

  __device__ static int row(int i) {
    return i / 4 * (BM * 4 / TM) + int(threadIdx.x) / (BN / TN) * 4 + i % 4;
  }
  __device__ static int col(int j) {
    return j / 4 * (BN * 4 / TN) + int(threadIdx.x) % (BN / TN) * 4 + j % 4;
  }

  // out[0..3] = s[0..3], in 16-byte loads.
  __device__ static void load4(const T* s, T* out) {
#pragma unroll
    for (int q = 0; q < 4 / Pack<T>::size; ++q) {
      const Pack<T> v = reinterpret_cast<const Pack<T>*>(s)[q];
#pragma unroll
      for (int j = 0; j < Pack<T>::size; ++j) out[q * Pack<T>::size + j] = v.v[j];
    }
  }

  __device__ SimtTile() {
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j) acc[i][j] = T(0);
  }

  __device__ void step(const Smem<T, BM, BK>& a, const Smem<T, BN, BK>& b) {
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      T av[TM], bv[TN];
#pragma unroll
      for (int i = 0; i < TM; i += 4) load4(&a[k][row(i)], av + i);
#pragma unroll
      for (int j = 0; j < TN; j += 4) load4(&b[k][col(j)], bv + j);
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = madd(av[i], bv[j], acc[i][j]);
    }
  }

  template <typename Store>
  __device__ void finish(Store& store, int64_t z, int64_t m0, int64_t n0, int64_t M,
                         int64_t N) const {
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j)
        if (m0 + row(i) < M && n0 + col(j) < N) store(z, m0 + row(i), n0 + col(j), acc[i][j]);
  }
};

// ---- TF32 tensor cores ----------------------------------------------------------------------
// The same tile of C, float only, from warp-wide 16 x 16 x 8 matrix products (wmma, sm_80+): each
// warp of the block owns a WM x WN part of the tile as (WM/16) x (WN/16) accumulator fragments.
// Accuracy: every input is rounded to TF32 (a 10-bit mantissa, as float16's, with float32's
// range) and the products are summed in float32: each product carries a relative error up to
// ~1e-3 (2^-11 per factor), so results agree with float32 to about 1e-3 relative, not to IEEE
// float32 rounding. Deterministic all the same: fixed inputs give the same bits on every run.
template <int BM_, int BN_, int BK_, int WM, int WN>
struct Tf32Tile {
  using value_type = float;
  static constexpr int BM = BM_, BN = BN_, BK = BK_;
  static constexpr int threads = (BM / WM) * (BN / WN) * 32;
  static constexpr int min_blocks = 1;  // any fewer registers than ptxas picks spill
  static_assert(WM % 16 == 0 && WN % 16 == 0 && BK % 8 == 0, "whole 16 x 16 x 8 fragments");

  nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 8, float> acc[WM / 16][WN / 16];

  // The first row and column of this warp's part of the tile.
  __device__ static int warp_m() { return int(threadIdx.x) / 32 / (BN / WN) * WM; }
  __device__ static int warp_n() { return int(threadIdx.x) / 32 % (BN / WN) * WN; }

  // Rounds to nearest TF32; loaded as they are, the tensor cores would drop the low bits.
  template <typename Fragment>
  __device__ static void round(Fragment& f) {
#pragma unroll
    for (int t = 0; t < f.num_elements; ++t) f.x[t] = nvcuda::wmma::__float_to_tf32(f.x[t]);
  }

  __device__ Tf32Tile() {
#pragma unroll
    for (auto& row : acc)
#pragma unroll
      for (auto& f : row) nvcuda::wmma::fill_fragment(f, 0.0f);
  }

  // The k-major shared tiles are A column-major and B row-major, as wmma reads them; the
  // fragments' addresses are 32-byte aligned (kPad keeps 8 k rows a multiple of 32 bytes long).
  __device__ void step(const Smem<float, BM, BK>& a, const Smem<float, BN, BK>& b) {
    using namespace nvcuda;
#pragma unroll
    for (int k = 0; k < BK; k += 8) {
      wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::col_major> fa[WM / 16];
      wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb[WN / 16];
#pragma unroll
      for (int i = 0; i < WM / 16; ++i) {
        wmma::load_matrix_sync(fa[i], &a[k][warp_m() + 16 * i], BM + kPad);
        round(fa[i]);
      }
#pragma unroll
      for (int j = 0; j < WN / 16; ++j) {
        wmma::load_matrix_sync(fb[j], &b[k][warp_n() + 16 * j], BN + kPad);
        round(fb[j]);
      }
#pragma unroll
      for (int i = 0; i < WM / 16; ++i)
#pragma unroll
        for (int j = 0; j < WN / 16; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
  }

  // A fragment's layout across the lanes is unspecified: each goes through a 16 x 16 staging
  // area of the warp's own, from where the lanes store it element by element.
  template <typename Store>
  __device__ void finish(Store& store, int64_t z, int64_t m0, int64_t n0, int64_t M,
                         int64_t N) const {
    __shared__ __align__(32) float staging[threads / 32][16 * 16];
    float* own = staging[threadIdx.x / 32];
#pragma unroll
    for (int i = 0; i < WM / 16; ++i)
#pragma unroll
      for (int j = 0; j < WN / 16; ++j) {
        nvcuda::wmma::store_matrix_sync(own, acc[i][j], 16, nvcuda::wmma::mem_row_major);
        __syncwarp();
        for (int e = int(threadIdx.x) % 32; e < 16 * 16; e += 32) {
          const int64_t m = m0 + warp_m() + 16 * i + e / 16, n = n0 + warp_n() + 16 * j + e % 16;
          if (m < M && n < N) store(z, m, n, own[e]);
        }
        __syncwarp();  // every lane has read `own` before the next fragment overwrites it
      }
  }
};

// ---- The kernel -------------------------------------------------------------------------------

// Tiles of C in the order blocks take them: batch by batch; within a batch, in groups of kGroup
// tile rows, column after column. Blocks running at the same time then share the A rows of one
// group and a few B columns, which stay in L2, instead of sweeping all of B once per tile row.
constexpr int64_t kGroup = 8;

__device__ inline void tile_origin(int64_t tile, int64_t tiles_m, int64_t tiles_n, int64_t& z,
                                   int64_t& tm, int64_t& tn) {
  const int64_t per_batch = tiles_m * tiles_n, r = tile % per_batch;
  z = tile / per_batch;
  const int64_t first = r / (kGroup * tiles_n) * kGroup, in_group = r % (kGroup * tiles_n);
  const int64_t rows = tiles_m - first < kGroup ? tiles_m - first : kGroup;
  tm = first + in_group % rows;
  tn = in_group / rows;
}

// One block per tile of C (a grid-stride loop past 2^31 - 1 tiles). Per tile: fetch k-tile 0 and
// stash it; then for each k-tile t, fetch t + 1 into registers, multiply t from shared memory,
// stash t + 1 into the other buffer, and wait for the block. That one __syncthreads per k-tile
// both publishes t + 1 and tells every thread that t's buffer is free for t + 2. The conditions
// around it (k_tiles, more) are the same for the whole block.
template <typename Tile, typename SrcA, typename SrcB, typename Store>
__global__ void __launch_bounds__(Tile::threads, Tile::min_blocks)
    tiled_gemm(int64_t batches, int64_t M, int64_t N, int64_t K, SrcA a, SrcB b, Store store) {
  using T = typename Tile::value_type;
  constexpr int BM = Tile::BM, BN = Tile::BN, BK = Tile::BK, NT = Tile::threads;
  __shared__ __align__(32) Smem<T, BM, BK> as[2];  // 32: wmma's alignment (Tf32Tile)
  __shared__ __align__(32) Smem<T, BN, BK> bs[2];
  T ra[BM * BK / NT], rb[BN * BK / NT];

  const int64_t tiles_m = (M + BM - 1) / BM, tiles_n = (N + BN - 1) / BN;
  const int64_t k_tiles = (K + BK - 1) / BK;
  for (int64_t tile = blockIdx.x; tile < batches * tiles_m * tiles_n; tile += gridDim.x) {
    int64_t z, tm, tn;
    tile_origin(tile, tiles_m, tiles_n, z, tm, tn);
    const int64_t m0 = tm * BM, n0 = tn * BN;
    Tile math;
    if (k_tiles > 0) {
      // The previous tile's last __syncthreads came after its last read of as[0] and bs[0].
      a.template fetch<BM, BK, NT>(ra, z, m0, 0);
      b.template fetch<BN, BK, NT>(rb, z, n0, 0);
      a.template stash<BM, BK, NT>(ra, as[0]);
      b.template stash<BN, BK, NT>(rb, bs[0]);
      __syncthreads();
      for (int64_t t = 0; t < k_tiles; ++t) {
        const int cur = t & 1;
        const bool more = t + 1 < k_tiles;
        if (more) {
          a.template fetch<BM, BK, NT>(ra, z, m0, (t + 1) * BK);
          b.template fetch<BN, BK, NT>(rb, z, n0, (t + 1) * BK);
        }
        math.step(as[cur], bs[cur]);
        if (more) {
          a.template stash<BM, BK, NT>(ra, as[cur ^ 1]);
          b.template stash<BN, BK, NT>(rb, bs[cur ^ 1]);
        }
        __syncthreads();
      }
    }
    math.finish(store, z, m0, n0, M, N);
  }
}

// Launches tiled_gemm with the tile shape Tile; nothing when C is empty.
template <typename Tile, typename SrcA, typename SrcB, typename Store>
void launch_tiles(const char* op, int64_t batches, int64_t M, int64_t N, int64_t K, SrcA a,
                  SrcB b, Store store, cudaStream_t stream) {
  const int64_t tiles = batches * ((M + Tile::BM - 1) / Tile::BM) * ((N + Tile::BN - 1) / Tile::BN);
  if (tiles == 0) return;
  const auto grid = static_cast<unsigned>(std::min<int64_t>(tiles, INT_MAX));
  tiled_gemm<Tile><<<grid, Tile::threads, 0, stream>>>(batches, M, N, K, a, b, store);
  check_launch(op);
}

// The number of streaming multiprocessors of the current device.
inline int multiprocessors(const char* op) {
  int device = 0, count = 0;
  check(cudaGetDevice(&device), op);
  check(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device), op);
  return count;
}

// Whether tiles of bm x bn give every multiprocessor of the GPU at least one: where they do not,
// smaller ones keep all of them busy, at the price of re-reading A and B more often.
inline bool fills_gpu(const char* op, int64_t batches, int64_t M, int64_t N, int64_t bm,
                      int64_t bn) {
  return batches * ((M + bm - 1) / bm) * ((N + bn - 1) / bn) >= multiprocessors(op);
}

// The SIMT engine with the tile shape for the problem. float: 128 x 128 tiles (256 threads, 8 x 8
// each) where there are enough of them, else 128 x 64 or 64 x 64 (fewer threads, the same 8 x 8
// each). double: 64 x 64 tiles of 4 x 4 per thread (8 x 8 doubles would take 128 registers for
// the sums alone).
template <typename T, typename SrcA, typename SrcB, typename Store>
void launch_simt(const char* op, int64_t batches, int64_t M, int64_t N, int64_t K, SrcA a,
                 SrcB b, Store store, cudaStream_t stream) {
  if (batches == 0 || M == 0 || N == 0) return;
  if constexpr (sizeof(T) == 8)
    launch_tiles<SimtTile<T, 64, 64, 8, 4, 4>>(op, batches, M, N, K, a, b, store, stream);
  else if (fills_gpu(op, batches, M, N, 128, 128))
    launch_tiles<SimtTile<T, 128, 128, 8, 8, 8>>(op, batches, M, N, K, a, b, store, stream);
  else if (fills_gpu(op, batches, M, N, 128, 64))
    launch_tiles<SimtTile<T, 128, 64, 8, 8, 8>>(op, batches, M, N, K, a, b, store, stream);
  else
    launch_tiles<SimtTile<T, 64, 64, 8, 8, 8>>(op, batches, M, N, K, a, b, store, stream);
}

// The TF32 engine (float only): 128 x 128 tiles of 8 warps with 64 x 32 each where there are
// enough of them, else 64 x 64 tiles of 4 warps with 32 x 32 each; k-tiles of 16.
template <typename SrcA, typename SrcB, typename Store>
void launch_tf32(const char* op, int64_t batches, int64_t M, int64_t N, int64_t K, SrcA a,
                 SrcB b, Store store, cudaStream_t stream) {
  if (batches == 0 || M == 0 || N == 0) return;
  if (fills_gpu(op, batches, M, N, 128, 128))
    launch_tiles<Tf32Tile<128, 128, 16, 64, 32>>(op, batches, M, N, K, a, b, store, stream);
  else
    launch_tiles<Tf32Tile<64, 64, 16, 32, 32>>(op, batches, M, N, K, a, b, store, stream);
}

// load_b(z, k, n) as get(z, n, k): B's source indexes it like A's, by (o, k).
template <typename LoadB>
struct ByColumn {
  LoadB load_b;
  __device__ auto operator()(int64_t z, int64_t n, int64_t k) { return load_b(z, k, n); }
};

}  // namespace tiles

// For every batch index z in [0, batches): C_z = A_z (M x K) @ B_z (K x N), where the matrices
// are given by device functors, called only inside bounds:
//   load_a(z, m, k) -> T     for m < M, k < K
//   load_b(z, k, n) -> T     for k < K, n < N
//   store(z, m, n, T value)  for m < M, n < N, exactly once per (z, m, n) with the full sum
// The functors are small structs passed by value (pointers and sizes), with a __device__
// operator(). Sums over k run in a fixed order: results are deterministic.
// Neighbouring threads call load_a with neighbouring k and load_b with neighbouring n (the
// row-major order of both). batches, M or N of 0 launch nothing; K == 0 stores zeros.
template <typename T, typename LoadA, typename LoadB, typename Store>
void launch_tiled_gemm(const char* op, int64_t batches, int64_t M, int64_t N, int64_t K,
                       LoadA load_a, LoadB load_b, Store store, cudaStream_t stream) {
  tiles::launch_simt<T>(op, batches, M, N, K, tiles::FunctorSource<LoadA, true>{load_a, M, K},
                        tiles::FunctorSource<tiles::ByColumn<LoadB>, false>{{load_b}, N, K},
                        store, stream);
}

}  // namespace minigen::cuda
