// What the Adam bindings of minigen._C (csrc/bind_optim.cc) and minigen._cuda
// (csrc/cuda/bind_optim.cc) share: the argument checks and the step's scalars.
#pragma once

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "checks.h"
#include "cpu/optim.h"

namespace minigen {

// param, grad, exp_avg, exp_avg_sq and max_exp_avg_sq (nullptr without AMSGrad): one shape, one
// float dtype, contiguous; each array the kernel writes writeable and sharing memory with no other
// argument. step >= 1.
inline void check_adam_step(const char* op, const py::array& param, const py::array& grad,
                            const py::array& exp_avg, const py::array& exp_avg_sq,
                            const py::array* max_exp_avg_sq, int64_t step) {
  require_float(op, "param", param);
  require_contiguous(op, "param", param);
  require_like(op, "grad", grad, "param", param);
  if (step < 1) fail(op, "step must be >= 1, got " + std::to_string(step));

  std::vector<std::pair<const char*, const py::array*>> outputs = {
      {"param", &param}, {"exp_avg", &exp_avg}, {"exp_avg_sq", &exp_avg_sq}};
  if (max_exp_avg_sq) outputs.push_back({"max_exp_avg_sq", max_exp_avg_sq});
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& [name, array] = outputs[i];
    if (i > 0) require_like(op, name, *array, "param", param);
    require_writeable(op, name, *array);
    require_disjoint(op, name, *array, "grad", grad);
    for (size_t j = 0; j < i; ++j)
      require_disjoint(op, name, *array, outputs[j].first, *outputs[j].second);
  }
}

// Step `step`'s scalars, computed in double and rounded to T, as torch rounds its Python-float
// scalars to the tensor's dtype.
template <typename T>
cpu::AdamScalars<T> adam_scalars(int64_t step, double lr, double beta1, double beta2, double eps) {
  return {
      static_cast<T>(1 - beta1),
      static_cast<T>(1 - (1 - beta1)),
      static_cast<T>(beta2),
      static_cast<T>(1 - beta2),
      static_cast<T>(std::sqrt(1 - std::pow(beta2, static_cast<double>(step)))),
      static_cast<T>(eps),
      static_cast<T>(lr / (1 - std::pow(beta1, static_cast<double>(step)))),
  };
}

}  // namespace minigen
