// Optimiser updates for the CPU (csrc/cpu/optim.cc), instantiated for float and double.
//
// One call updates one parameter of n contiguous elements, and its running averages, in place:
// the parameter, its gradient and its state arrays all have the same n elements and never
// overlap (csrc/bind_optim.cc checks). The update runs in one pass over memory where NumPy
// needs a dozen, which is what makes it worth a kernel.
#pragma once

#include <cstdint>

namespace minigen::cpu {

// The scalars of one Adam step, as torch.optim.Adam computes them in double and then rounds them
// to the parameter's dtype. The names follow torch's single-tensor implementation.
template <typename T>
struct AdamScalars {
  T lerp_weight;         // 1 - beta1: exp_avg.lerp_(grad, 1 - beta1)
  T lerp_keep;           // 1 - (1 - beta1): lerp's second form, used when the weight is >= 0.5
  T beta2;               // exp_avg_sq.mul_(beta2)
  T one_minus_beta2;     //           .addcmul_(grad, grad, value=1 - beta2)
  T bias_correction2_sqrt;
  T eps;
  T step_size;           // lr / (1 - beta1 ** step)
};

// exp_avg    = lerp(exp_avg, grad, 1 - beta1)
// exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
// second     = max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq)  with AMSGrad, else exp_avg_sq
// param     -= step_size * exp_avg / (sqrt(second) / bias_correction2_sqrt + eps)
// max_exp_avg_sq is nullptr without AMSGrad.
template <typename T>
void adam_step_ref(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq,
                   int64_t n, const AdamScalars<T>& s);
template <typename T>
void adam_step_fast(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq,
                    int64_t n, const AdamScalars<T>& s);

}  // namespace minigen::cpu
