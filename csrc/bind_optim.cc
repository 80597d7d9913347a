// Binding of the fused Adam update (csrc/cpu/optim.cc): check, release the GIL, call.

#include <pybind11/stl.h>  // std::optional: max_exp_avg_sq may be None

#include <optional>
#include <string>

#include "bind.h"
#include "check_optim.h"
#include "cpu/optim.h"

namespace minigen {
namespace {

// Updates param, exp_avg, exp_avg_sq (and max_exp_avg_sq, for AMSGrad) in place from grad, for
// Adam's step number `step` (1 for the first step). All arrays: one shape, one float dtype.
void adam_step(py::array param, const py::array& grad, py::array exp_avg, py::array exp_avg_sq,
               std::optional<py::array> max_exp_avg_sq, int64_t step, double lr, double beta1,
               double beta2, double eps, const std::string& impl) {
  const char* op = "adam_step";
  const Impl which = parse_impl(op, impl);
  check_adam_step(op, param, grad, exp_avg, exp_avg_sq,
                  max_exp_avg_sq ? &*max_exp_avg_sq : nullptr, step);
  dispatch_float(param, [&](auto zero) {
    using T = decltype(zero);
    const auto scalars = adam_scalars<T>(step, lr, beta1, beta2, eps);
    const auto kernel = which == Impl::ref ? cpu::adam_step_ref<T> : cpu::adam_step_fast<T>;
    T* vmax = max_exp_avg_sq ? output_ptr<T>(*max_exp_avg_sq) : nullptr;
    T* p = output_ptr<T>(param);
    T* m = output_ptr<T>(exp_avg);
    T* v = output_ptr<T>(exp_avg_sq);
    const T* g = input_ptr<T>(grad);
    py::gil_scoped_release nogil;
    kernel(p, g, m, v, vmax, param.size(), scalars);
  });
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("adam_step", &adam_step, py::arg("param").noconvert(), py::arg("grad").noconvert(),
        py::arg("exp_avg").noconvert(), py::arg("exp_avg_sq").noconvert(),
        py::arg("max_exp_avg_sq").noconvert().none(true), py::arg("step"), py::arg("lr"),
        py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("impl") = "fast",
        "One Adam step (torch.optim.Adam's arithmetic) of param and its averages, in place. "
        "max_exp_avg_sq: None, or the AMSGrad maximum. impl: 'ref' or 'fast'.");
}

}  // namespace minigen
