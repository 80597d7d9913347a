// Bindings of the batch-norm kernels (csrc/cpu/norm.cc): check, release the GIL, call.

#include "bind.h"
#include "check_norm.h"
#include "cpu/norm.h"

namespace minigen {
namespace {

// x (N, C, S), weight (C), bias (C) -> y (N, C, S), mean (C), var (C, biased)
void batch_norm_fwd(const py::array& x, const py::array& weight, const py::array& bias, double eps,
                    py::array y, py::array mean, py::array var, const std::string& impl) {
  const char* op = "batch_norm_fwd";
  const Impl which = parse_impl(op, impl);
  check_batch_norm_fwd(op, x, weight, bias, y, mean, var);
  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel = which == Impl::ref ? cpu::batch_norm_fwd_ref<T> : cpu::batch_norm_fwd_fast<T>;
    py::gil_scoped_release nogil;
    kernel(input_ptr<T>(x), x.shape(0), x.shape(1), x.shape(2), input_ptr<T>(weight), input_ptr<T>(bias), T(eps),
           output_ptr<T>(y), output_ptr<T>(mean), output_ptr<T>(var));
  });
}

// x, grad_out (N, C, S), weight, mean, var (C) -> grad_in (N, C, S), grad_weight, grad_bias (C)
void batch_norm_bwd(const py::array& x, const py::array& grad_out, const py::array& weight,
                    const py::array& mean, const py::array& var, double eps, py::array grad_in,
                    py::array grad_weight, py::array grad_bias, const std::string& impl) {
  const char* op = "batch_norm_bwd";
  const Impl which = parse_impl(op, impl);
  check_batch_norm_bwd(op, x, grad_out, weight, mean, var, grad_in, grad_weight, grad_bias);
  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel = which == Impl::ref ? cpu::batch_norm_bwd_ref<T> : cpu::batch_norm_bwd_fast<T>;
    py::gil_scoped_release nogil;
    kernel(input_ptr<T>(x), input_ptr<T>(grad_out), x.shape(0), x.shape(1), x.shape(2), input_ptr<T>(weight),
           input_ptr<T>(mean), input_ptr<T>(var), T(eps), output_ptr<T>(grad_in), output_ptr<T>(grad_weight),
           output_ptr<T>(grad_bias));
  });
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("batch_norm_fwd", &batch_norm_fwd, py::arg("x").noconvert(), py::arg("weight").noconvert(),
        py::arg("bias").noconvert(), py::arg("eps"), py::arg("y").noconvert(),
        py::arg("mean").noconvert(), py::arg("var").noconvert(), py::arg("impl") = "fast",
        "Per-channel mean and biased var of x (N, C, S); y = (x - mean) / sqrt(var + eps) * w + b.");
  m.def("batch_norm_bwd", &batch_norm_bwd, py::arg("x").noconvert(),
        py::arg("grad_out").noconvert(), py::arg("weight").noconvert(), py::arg("mean").noconvert(),
        py::arg("var").noconvert(), py::arg("eps"), py::arg("grad_in").noconvert(),
        py::arg("grad_weight").noconvert(), py::arg("grad_bias").noconvert(),
        py::arg("impl") = "fast", "Gradients of batch_norm_fwd in x, weight and bias.");
}

}  // namespace minigen
