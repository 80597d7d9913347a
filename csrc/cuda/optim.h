// Optimiser updates for CUDA (csrc/cuda/optim.cu), instantiated for float and double.
//
// The same contract as csrc/cpu/optim.h: one call updates one parameter of n contiguous device
// elements, and its running averages, in place; the arrays have the same n elements and never
// overlap (csrc/cuda/bind_optim.cc checks). One kernel does the whole update, where CuPy would
// run a dozen element-wise kernels over the same memory.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cpu/optim.h"
#include "impl.h"

namespace minigen::cuda {

// The step's scalars, the CPU's struct (rounded to T by csrc/check_optim.h for both bindings).
using cpu::AdamScalars;

// exp_avg    = lerp(exp_avg, grad, 1 - beta1)
// exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
// second     = max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq)  with AMSGrad, else exp_avg_sq
// param     -= step_size * exp_avg / (sqrt(second) / bias_correction2_sqrt + eps)
// max_exp_avg_sq is nullptr without AMSGrad. Queued on `stream`; impl picks the kernel.
template <typename T>
void adam_step(Impl impl, T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq,
               int64_t n, const AdamScalars<T>& s, cudaStream_t stream);

}  // namespace minigen::cuda
