// What every CUDA kernel file shares: error checks, grid sizes, 16-byte packs.
//
// Every CUDA call goes through check(), and every launch is followed by check_launch(): an error
// becomes a std::runtime_error naming the op, which pybind11 raises in Python as RuntimeError.
// (An error inside a running kernel surfaces at the next call that waits for it, as in CUDA.)
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace minigen::cuda {

inline void check(cudaError_t status, const char* op) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string(op) + ": CUDA error " + cudaGetErrorName(status) + ": " +
                             cudaGetErrorString(status));
}

// A bad launch (no GPU, too many threads, too much shared memory) is reported here.
inline void check_launch(const char* op) { check(cudaGetLastError(), op); }

constexpr int kBlock = 256;  // threads per block of the element-wise kernels

// Blocks for a grid-stride loop over `n` items: one item per thread up to a cap, past which each
// thread takes several (the loop's stride), so any n fits one launch.
inline unsigned grid_for(int64_t n, int block = kBlock) {
  const int64_t blocks = (n + block - 1) / block;
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, int64_t{1} << 16));
}

#ifdef __CUDACC__
// The index of this thread in a 1-D grid, and the distance between a thread's items.
__device__ inline int64_t global_thread() { return blockIdx.x * int64_t{blockDim.x} + threadIdx.x; }
__device__ inline int64_t grid_threads() { return int64_t{gridDim.x} * blockDim.x; }
#endif

// 16 bytes of T (4 floats or 2 doubles): the widest load one thread can issue. A kernel that moves
// its data in packs issues a quarter (float) of the load instructions of one moving scalars.
template <typename T>
struct alignas(16) Pack {
  static constexpr int size = 16 / sizeof(T);
  T v[size];
};

// Whether every pointer is 16-byte aligned, so that the arrays can be read as Packs. CuPy's
// allocations are; a view that starts mid-array may not be.
template <typename... P>
bool packs_aligned(const P*... p) {
  return ((reinterpret_cast<std::uintptr_t>(p) % 16 == 0) && ...);
}

}  // namespace minigen::cuda
