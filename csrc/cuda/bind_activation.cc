// Bindings of the CUDA LeakyReLU kernels (csrc/cuda/activation.cu): view, check, launch.

#include "check_activation.h"
#include "cuda/activation.h"
#include "cuda/bind.h"
#include "cuda/device_view.h"

namespace minigen::bind_cuda {
namespace {

using cuda::as_stream;
using cuda::device_view;

void leaky_relu_fwd(const py::object& x_obj, const py::object& out_obj, double negative_slope,
                    const std::string& impl, std::uintptr_t stream) {
  const char* op = "leaky_relu_fwd";
  const py::array x = device_view(op, "x", x_obj);
  py::array out = device_view(op, "out", out_obj);
  const Impl which = parse_impl(op, impl);
  check_leaky_relu_fwd(op, x, out);
  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    cuda::leaky_relu_fwd(which, input_ptr<T>(x), output_ptr<T>(out), x.size(),
                         static_cast<T>(negative_slope), as_stream(stream));
  });
}

void leaky_relu_bwd(const py::object& x_obj, const py::object& grad_out_obj,
                    const py::object& grad_in_obj, double negative_slope, const std::string& impl,
                    std::uintptr_t stream) {
  const char* op = "leaky_relu_bwd";
  const py::array x = device_view(op, "x", x_obj);
  const py::array grad_out = device_view(op, "grad_out", grad_out_obj);
  py::array grad_in = device_view(op, "grad_in", grad_in_obj);
  const Impl which = parse_impl(op, impl);
  check_leaky_relu_bwd(op, x, grad_out, grad_in);
  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    cuda::leaky_relu_bwd(which, input_ptr<T>(x), input_ptr<T>(grad_out),
                         output_ptr<T>(grad_in), x.size(),
                         static_cast<T>(negative_slope), as_stream(stream));
  });
}

}  // namespace

void bind_activation(py::module_& m) {
  m.def("leaky_relu_fwd", &leaky_relu_fwd, py::arg("x"), py::arg("out"), py::arg("negative_slope"),
        py::arg("impl") = "fast", py::arg("stream") = 0,
        "out[...] = x if x > 0 else negative_slope * x. impl: 'ref' or 'fast'.");
  m.def("leaky_relu_bwd", &leaky_relu_bwd, py::arg("x"), py::arg("grad_out"), py::arg("grad_in"),
        py::arg("negative_slope"), py::arg("impl") = "fast", py::arg("stream") = 0,
        "grad_in[...] = grad_out if x > 0 else negative_slope * grad_out. impl: 'ref' or 'fast'.");
}

}  // namespace minigen::bind_cuda
