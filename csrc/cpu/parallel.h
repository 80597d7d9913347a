// What the elementwise CPU kernels share: run-time ISA dispatch and splitting an array across
// OpenMP threads in chunks.
#pragma once

#include <algorithm>
#include <cstdint>

namespace minigen::cpu {

// Run-time ISA dispatch: GCC compiles each function below once per target and picks one when the
// module loads (cpuid, through an ifunc), so one build uses AVX-512 or AVX2 where the CPU has
// them and never runs an instruction it lacks. Elsewhere the compiler's baseline build is used.
#if defined(__x86_64__) && defined(__gnu_linux__)
#define MG_ISA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MG_ISA_CLONES
#endif

// Elements per chunk: enough that the call per chunk (through the ifunc) costs nothing, few enough
// to share among threads. Below kParallelMin elements one thread does everything: on a 2-core
// machine a second thread first pays off around 32K elements (PyTorch's grain size is 32768).
constexpr int64_t kChunk = 1 << 14;
constexpr int64_t kParallelMin = 1 << 15;

// Calls chunk(start, count) on consecutive pieces of [0, n), shared among the OpenMP threads;
// a small array is one piece, without entering OpenMP at all (even a one-thread region costs a
// microsecond). Each element is computed the same way on any thread, so the count changes nothing.
template <typename F>
void parallel_chunks(int64_t n, F chunk) {
  if (n < kParallelMin) return chunk(0, n);
#pragma omp parallel for schedule(static)
  for (int64_t start = 0; start < n; start += kChunk) chunk(start, std::min(kChunk, n - start));
}

}  // namespace minigen::cpu
