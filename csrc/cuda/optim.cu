// Adam's update on the GPU: one kernel for the whole step of one parameter.
//
// Contents, each instantiated for float and double:
//   adam_ref    one element of every array per thread
//   adam_fast   one 16-byte pack of every array per thread
//   adam_step   the launcher: the fast kernel where every array is 16-byte aligned
//
// Every element goes through torch.optim.Adam's single-tensor arithmetic, operation by operation
// and in its order, the same expression as on the CPU (csrc/cpu/optim.cc). CMakeLists.txt compiles
// this file with -fmad=false, as it compiles the CPU's with -ffp-contract=off: nvcc would otherwise
// fuse a multiply and an add into one FMA, which rounds once where PyTorch rounds twice. (A flag
// on the file rather than __fmul_rn / __fadd_rn calls keeps the update readable beside the CPU's.)
// With IEEE division and sqrt (nvcc's default), the GPU's numbers are then the CPU's, bit for bit.

#include "adam_element.h"
#include "cuda/launch.cuh"
#include "cuda/optim.h"

namespace minigen::cuda {

namespace {

// The arrays of one update; max_exp_avg_sq is nullptr without AMSGrad.
template <typename T>
struct AdamArrays {
  T* param;
  const T* grad;
  T* exp_avg;
  T* exp_avg_sq;
  T* max_exp_avg_sq;
};

// Element i of every array: the plain kernel's body, and the fast kernel's for the last elements.
template <typename T>
__device__ void adam_at(int64_t i, const AdamArrays<T>& a, const AdamScalars<T>& s) {
  adam_element(a.param[i], a.grad[i], a.exp_avg[i], a.exp_avg_sq[i],
               a.max_exp_avg_sq ? a.max_exp_avg_sq + i : nullptr, s);
}

// Pack k of an array that packs_aligned() has passed.
template <typename T>
__device__ Pack<T>& pack(T* p, int64_t k) {
  return reinterpret_cast<Pack<T>*>(p)[k];
}
template <typename T>
__device__ const Pack<T>& pack(const T* p, int64_t k) {
  return reinterpret_cast<const Pack<T>*>(p)[k];
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Plain: one element per thread (a grid-stride loop).

template <typename T>
__global__ void adam_ref(AdamArrays<T> a, int64_t n, AdamScalars<T> s) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) adam_at(i, a, s);
}

// ----------------------------------------------------------------------------------------------
// Fast: a thread loads one 16-byte pack from each array (4 floats or 2 doubles per load
// instruction), updates its lanes in registers and stores the packs back; the last n % Pack::size
// elements go one by one. The update is memory bound: per float element it reads 16 bytes and
// writes 12 (20 and 16 with AMSGrad), a quarter of the load and store instructions of adam_ref.

template <typename T>
__global__ void adam_fast(AdamArrays<T> a, int64_t n, AdamScalars<T> s) {
  constexpr int lanes = Pack<T>::size;
  const int64_t packs = n / lanes;
  for (int64_t k = global_thread(); k < packs; k += grid_threads()) {
    Pack<T> param = pack(a.param, k), exp_avg = pack(a.exp_avg, k),
            exp_avg_sq = pack(a.exp_avg_sq, k), vmax{};
    const Pack<T> grad = pack(a.grad, k);
    if (a.max_exp_avg_sq) vmax = pack(a.max_exp_avg_sq, k);
#pragma unroll
    for (int j = 0; j < lanes; ++j)
      adam_element(param.v[j], grad.v[j], exp_avg.v[j], exp_avg_sq.v[j],
                   a.max_exp_avg_sq ? &vmax.v[j] : nullptr, s);
    pack(a.param, k) = param;
    pack(a.exp_avg, k) = exp_avg;
    pack(a.exp_avg_sq, k) = exp_avg_sq;
    if (a.max_exp_avg_sq) pack(a.max_exp_avg_sq, k) = vmax;
  }
  for (int64_t i = packs * lanes + global_thread(); i < n; i += grid_threads()) adam_at(i, a, s);
}

// ----------------------------------------------------------------------------------------------

template <typename T>
void adam_step(Impl impl, T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq,
               int64_t n, const AdamScalars<T>& s, cudaStream_t stream) {
  if (n == 0) return;  // an empty grid is a launch error
  const AdamArrays<T> a{param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq};
  const bool aligned = packs_aligned(param, grad, exp_avg, exp_avg_sq) &&
                       (!max_exp_avg_sq || packs_aligned(max_exp_avg_sq));
  if (impl == Impl::fast && aligned)
    adam_fast<<<grid_for((n + Pack<T>::size - 1) / Pack<T>::size), kBlock, 0, stream>>>(a, n, s);
  else
    adam_ref<<<grid_for(n), kBlock, 0, stream>>>(a, n, s);
  check_launch("adam_step");
}

template void adam_step<float>(Impl, float*, const float*, float*, float*, float*, int64_t,
                               const AdamScalars<float>&, cudaStream_t);
template void adam_step<double>(Impl, double*, const double*, double*, double*, double*, int64_t,
                                const AdamScalars<double>&, cudaStream_t);

}  // namespace minigen::cuda
