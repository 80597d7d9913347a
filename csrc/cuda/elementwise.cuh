// Element-wise maps, out[i] = f(in_1[i], ..., in_k[i]), in the two versions every kernel file has.
//
// map_ref: one element per thread (a grid-stride loop), the plain version to read first.
// map_fast: one 16-byte Pack per thread from every array: the same f on each lane, 4 (float) or 2
// (double) elements per load instruction; the last n % Pack::size elements go element by element.
// Both apply the same f to each element, so their results are equal bit for bit.
#pragma once

#include "impl.h"
#include "cuda/launch.cuh"

namespace minigen::cuda {

template <typename T, typename F, typename... In>
__global__ void map_ref(int64_t n, F f, T* out, const In*... in) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) out[i] = f(in[i]...);
}

template <typename T, typename F, typename... In>
__global__ void map_fast(int64_t n, F f, T* out, const In*... in) {
  constexpr int lanes = Pack<T>::size;
  const int64_t packs = n / lanes;
  for (int64_t p = global_thread(); p < packs; p += grid_threads()) {
    Pack<T> result;
#pragma unroll
    for (int j = 0; j < lanes; ++j)
      result.v[j] = f(reinterpret_cast<const Pack<In>*>(in)[p].v[j]...);
    reinterpret_cast<Pack<T>*>(out)[p] = result;
  }
  for (int64_t i = packs * lanes + global_thread(); i < n; i += grid_threads()) out[i] = f(in[i]...);
}

// Launches one of the two on `stream`; the fast one falls back to the plain one when an array is
// not 16-byte aligned. n == 0 launches nothing (an empty grid is a launch error).
template <typename T, typename F, typename... In>
void launch_map(const char* op, Impl impl, cudaStream_t stream, int64_t n, F f, T* out,
                const In*... in) {
  if (n == 0) return;
  if (impl == Impl::fast && packs_aligned(out, in...))
    map_fast<<<grid_for((n + Pack<T>::size - 1) / Pack<T>::size), kBlock, 0, stream>>>(n, f, out,
                                                                                        in...);
  else
    map_ref<<<grid_for(n), kBlock, 0, stream>>>(n, f, out, in...);
  check_launch(op);
}

}  // namespace minigen::cuda
