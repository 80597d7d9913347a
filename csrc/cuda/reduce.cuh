// Deterministic sums across the threads of a warp or a block, for the kernels that reduce
// (csrc/cuda/penalty.cu, csrc/cuda/norm.cu).
//
// No atomics: the values combine in a tree whose shape depends only on the block size, so a
// kernel gives the same bits run after run. The sums are in double, as the CPU kernels' are.
#pragma once

#include "cuda/launch.cuh"

namespace minigen::cuda {

constexpr int kWarp = 32;

// One block per item (a row, a channel), up to the cap of grid_for; each block then steps
// through the items by gridDim.x.
inline unsigned blocks_for(int64_t items) { return grid_for(items, 1); }

#ifdef __CUDACC__
// The sum of v over the 32 lanes of a full warp, in every lane. In the butterfly, lanes l and
// l ^ offset add the same two values (in swapped order, which IEEE addition ignores), so every
// lane ends with the same bits.
__device__ inline double warp_sum(double v) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// The sum of v over the block, in every thread. blockDim.x must be a multiple of 32 (at most
// 1024), and every thread of the block must call it: it waits at __syncthreads().
__device__ inline double block_sum(double v) {
  __shared__ double warp_totals[kWarp];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  v = warp_sum(v);
  if (lane == 0) warp_totals[warp] = v;
  __syncthreads();
  // Every warp adds up the same totals in the same tree, so no broadcast is needed.
  v = warp_sum(lane < blockDim.x / kWarp ? warp_totals[lane] : 0.0);
  __syncthreads();  // all have read warp_totals before a next call overwrites it
  return v;
}
#endif

}  // namespace minigen::cuda
