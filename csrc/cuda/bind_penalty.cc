// Bindings of the CUDA gradient penalty (csrc/cuda/penalty.cu): view, check, launch.

#include "check_penalty.h"
#include "cuda/bind.h"
#include "cuda/device_view.h"
#include "cuda/penalty.h"

namespace minigen::bind_cuda {
namespace {

using cuda::as_stream;
using cuda::device_view;

// grads (N, D) -> out (0-d, same dtype, on the device) = mean_i (||grads_i|| - target)^2
void gradient_penalty_fwd(const py::object& grads_obj, double target, const py::object& out_obj,
                          const std::string& impl, std::uintptr_t stream) {
  const char* op = "gradient_penalty_fwd";
  const py::array grads = device_view(op, "grads", grads_obj);
  py::array out = device_view(op, "out", out_obj);
  const Impl which = parse_impl(op, impl);
  check_gradient_penalty_fwd(op, grads, out);
  dispatch_float(grads, [&](auto zero) {
    using T = decltype(zero);
    cuda::gradient_penalty_fwd(which, input_ptr<T>(grads), grads.shape(0), grads.shape(1),
                               T(target), output_ptr<T>(out), as_stream(stream));
  });
}

// grads (N, D), grad_out (a number) -> grad_in (N, D)
void gradient_penalty_bwd(const py::object& grads_obj, double target, double grad_out,
                          const py::object& grad_in_obj, const std::string& impl,
                          std::uintptr_t stream) {
  const char* op = "gradient_penalty_bwd";
  const py::array grads = device_view(op, "grads", grads_obj);
  py::array grad_in = device_view(op, "grad_in", grad_in_obj);
  const Impl which = parse_impl(op, impl);
  check_gradient_penalty_bwd(op, grads, grad_in);
  dispatch_float(grads, [&](auto zero) {
    using T = decltype(zero);
    cuda::gradient_penalty_bwd(which, input_ptr<T>(grads), grads.shape(0), grads.shape(1),
                               T(target), T(grad_out), output_ptr<T>(grad_in), as_stream(stream));
  });
}

}  // namespace

void bind_penalty(py::module_& m) {
  m.def("gradient_penalty_fwd", &gradient_penalty_fwd, py::arg("grads"), py::arg("target"),
        py::arg("out"), py::arg("impl") = "fast", py::arg("stream") = 0,
        "out[()] = mean over rows i of (||grads[i]||_2 - target)^2.");
  m.def("gradient_penalty_bwd", &gradient_penalty_bwd, py::arg("grads"), py::arg("target"),
        py::arg("grad_out"), py::arg("grad_in"), py::arg("impl") = "fast", py::arg("stream") = 0,
        "grad_in = grad_out * 2/N * (||g_i|| - target) / ||g_i|| * g_i (0 where the norm is 0).");
}

}  // namespace minigen::bind_cuda
