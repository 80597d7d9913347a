// Binding of the CUDA Adam update (csrc/cuda/optim.cu): view, check, launch.

#include <optional>

#include "check_optim.h"
#include "cuda/bind.h"
#include "cuda/device_view.h"
#include "cuda/optim.h"

namespace minigen::bind_cuda {
namespace {

using cuda::as_stream;
using cuda::device_view;

// Updates param, exp_avg, exp_avg_sq (and max_exp_avg_sq, for AMSGrad; None otherwise) in place
// from grad, for Adam's step number `step` (1 for the first step).
void adam_step(const py::object& param_obj, const py::object& grad_obj,
               const py::object& exp_avg_obj, const py::object& exp_avg_sq_obj,
               const py::object& max_exp_avg_sq_obj, int64_t step, double lr, double beta1,
               double beta2, double eps, const std::string& impl, std::uintptr_t stream) {
  const char* op = "adam_step";
  py::array param = device_view(op, "param", param_obj);
  const py::array grad = device_view(op, "grad", grad_obj);
  py::array exp_avg = device_view(op, "exp_avg", exp_avg_obj);
  py::array exp_avg_sq = device_view(op, "exp_avg_sq", exp_avg_sq_obj);
  std::optional<py::array> max_exp_avg_sq;
  if (!max_exp_avg_sq_obj.is_none())
    max_exp_avg_sq = device_view(op, "max_exp_avg_sq", max_exp_avg_sq_obj);
  const Impl which = parse_impl(op, impl);
  check_adam_step(op, param, grad, exp_avg, exp_avg_sq,
                  max_exp_avg_sq ? &*max_exp_avg_sq : nullptr, step);
  dispatch_float(param, [&](auto zero) {
    using T = decltype(zero);
    cuda::adam_step(which, output_ptr<T>(param), input_ptr<T>(grad), output_ptr<T>(exp_avg),
                    output_ptr<T>(exp_avg_sq),
                    max_exp_avg_sq ? output_ptr<T>(*max_exp_avg_sq) : nullptr, param.size(),
                    adam_scalars<T>(step, lr, beta1, beta2, eps), as_stream(stream));
  });
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("adam_step", &adam_step, py::arg("param"), py::arg("grad"), py::arg("exp_avg"),
        py::arg("exp_avg_sq"), py::arg("max_exp_avg_sq").none(true), py::arg("step"),
        py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
        py::arg("impl") = "fast", py::arg("stream") = 0,
        "One Adam step (torch.optim.Adam's arithmetic) of param and its averages, in place. "
        "max_exp_avg_sq: None, or the AMSGrad maximum. impl: 'ref' or 'fast'.");
}

}  // namespace minigen::bind_cuda
