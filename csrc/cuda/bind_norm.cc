// Bindings of the CUDA batch-norm kernels (csrc/cuda/norm.cu): view, check, launch.

#include "check_norm.h"
#include "cuda/bind.h"
#include "cuda/device_view.h"
#include "cuda/norm.h"

namespace minigen::bind_cuda {
namespace {

using cuda::as_stream;
using cuda::device_view;

// x (N, C, S), weight (C), bias (C) -> y (N, C, S), mean (C), var (C, biased)
void batch_norm_fwd(const py::object& x_obj, const py::object& weight_obj,
                    const py::object& bias_obj, double eps, const py::object& y_obj,
                    const py::object& mean_obj, const py::object& var_obj,
                    const std::string& impl, std::uintptr_t stream) {
  const char* op = "batch_norm_fwd";
  const py::array x = device_view(op, "x", x_obj);
  const py::array weight = device_view(op, "weight", weight_obj);
  const py::array bias = device_view(op, "bias", bias_obj);
  py::array y = device_view(op, "y", y_obj);
  py::array mean = device_view(op, "mean", mean_obj);
  py::array var = device_view(op, "var", var_obj);
  const Impl which = parse_impl(op, impl);
  check_batch_norm_fwd(op, x, weight, bias, y, mean, var);
  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    cuda::batch_norm_fwd(which, input_ptr<T>(x), x.shape(0), x.shape(1), x.shape(2),
                         input_ptr<T>(weight), input_ptr<T>(bias), T(eps), output_ptr<T>(y),
                         output_ptr<T>(mean), output_ptr<T>(var), as_stream(stream));
  });
}

// x, grad_out (N, C, S), weight, mean, var (C) -> grad_in (N, C, S), grad_weight, grad_bias (C)
void batch_norm_bwd(const py::object& x_obj, const py::object& grad_out_obj,
                    const py::object& weight_obj, const py::object& mean_obj,
                    const py::object& var_obj, double eps, const py::object& grad_in_obj,
                    const py::object& grad_weight_obj, const py::object& grad_bias_obj,
                    const std::string& impl, std::uintptr_t stream) {
  const char* op = "batch_norm_bwd";
  const py::array x = device_view(op, "x", x_obj);
  const py::array grad_out = device_view(op, "grad_out", grad_out_obj);
  const py::array weight = device_view(op, "weight", weight_obj);
  const py::array mean = device_view(op, "mean", mean_obj);
  const py::array var = device_view(op, "var", var_obj);
  py::array grad_in = device_view(op, "grad_in", grad_in_obj);
  py::array grad_weight = device_view(op, "grad_weight", grad_weight_obj);
  py::array grad_bias = device_view(op, "grad_bias", grad_bias_obj);
  const Impl which = parse_impl(op, impl);
  check_batch_norm_bwd(op, x, grad_out, weight, mean, var, grad_in, grad_weight, grad_bias);
  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    cuda::batch_norm_bwd(which, input_ptr<T>(x), input_ptr<T>(grad_out), x.shape(0), x.shape(1),
                         x.shape(2), input_ptr<T>(weight), input_ptr<T>(mean), input_ptr<T>(var),
                         T(eps), output_ptr<T>(grad_in), output_ptr<T>(grad_weight),
                         output_ptr<T>(grad_bias), as_stream(stream));
  });
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("batch_norm_fwd", &batch_norm_fwd, py::arg("x"), py::arg("weight"), py::arg("bias"),
        py::arg("eps"), py::arg("y"), py::arg("mean"), py::arg("var"), py::arg("impl") = "fast",
        py::arg("stream") = 0,
        "Per-channel mean and biased var of x (N, C, S); y = (x - mean) / sqrt(var + eps) * w + b.");
  m.def("batch_norm_bwd", &batch_norm_bwd, py::arg("x"), py::arg("grad_out"), py::arg("weight"),
        py::arg("mean"), py::arg("var"), py::arg("eps"), py::arg("grad_in"),
        py::arg("grad_weight"), py::arg("grad_bias"), py::arg("impl") = "fast",
        py::arg("stream") = 0, "Gradients of batch_norm_fwd in x, weight and bias.");
}

}  // namespace minigen::bind_cuda
