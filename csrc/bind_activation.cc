// Bindings of the LeakyReLU kernels (csrc/cpu/activation.cc): check, release the GIL, call.

#include "bind.h"
#include "check_activation.h"
#include "cpu/activation.h"

namespace minigen {
namespace {

// Outputs come by value: mutable_data() is non-const.
void leaky_relu_fwd(const py::array& x, py::array out, double negative_slope,
                    const std::string& impl) {
  const char* op = "leaky_relu_fwd";
  const Impl which = parse_impl(op, impl);
  check_leaky_relu_fwd(op, x, out);

  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel =
        which == Impl::ref ? cpu::leaky_relu_fwd_ref<T> : cpu::leaky_relu_fwd_fast<T>;
    const T* xp = static_cast<const T*>(x.data());
    T* yp = static_cast<T*>(out.mutable_data());
    py::gil_scoped_release nogil;
    kernel(xp, yp, x.size(), static_cast<T>(negative_slope));
  });
}

void leaky_relu_bwd(const py::array& x, const py::array& grad_out, py::array grad_in,
                    double negative_slope, const std::string& impl) {
  const char* op = "leaky_relu_bwd";
  const Impl which = parse_impl(op, impl);
  check_leaky_relu_bwd(op, x, grad_out, grad_in);

  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel =
        which == Impl::ref ? cpu::leaky_relu_bwd_ref<T> : cpu::leaky_relu_bwd_fast<T>;
    const T* xp = static_cast<const T*>(x.data());
    const T* gyp = static_cast<const T*>(grad_out.data());
    T* gxp = static_cast<T*>(grad_in.mutable_data());
    py::gil_scoped_release nogil;
    kernel(xp, gyp, gxp, x.size(), static_cast<T>(negative_slope));
  });
}

}  // namespace

void bind_activation(py::module_& m) {
  m.def("leaky_relu_fwd", &leaky_relu_fwd, py::arg("x").noconvert(), py::arg("out").noconvert(),
        py::arg("negative_slope"), py::arg("impl") = "fast",
        "out[...] = x if x > 0 else negative_slope * x. impl: 'ref' or 'fast'.");
  m.def("leaky_relu_bwd", &leaky_relu_bwd, py::arg("x").noconvert(),
        py::arg("grad_out").noconvert(), py::arg("grad_in").noconvert(),
        py::arg("negative_slope"), py::arg("impl") = "fast",
        "grad_in[...] = grad_out if x > 0 else negative_slope * grad_out. impl: 'ref' or 'fast'.");
}

}  // namespace minigen
