// Bindings of the fused gradient penalty (csrc/cpu/penalty.cc): check, release the GIL, call.

#include "bind.h"
#include "check_penalty.h"
#include "cpu/penalty.h"

namespace minigen {
namespace {

// grads (N, D) -> out (0-d, same dtype) = mean_i (||grads_i|| - target)^2
void gradient_penalty_fwd(const py::array& grads, double target, py::array out,
                          const std::string& impl) {
  const char* op = "gradient_penalty_fwd";
  const Impl which = parse_impl(op, impl);
  check_gradient_penalty_fwd(op, grads, out);
  dispatch_float(grads, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel =
        which == Impl::ref ? cpu::gradient_penalty_fwd_ref<T> : cpu::gradient_penalty_fwd_fast<T>;
    const T* g = static_cast<const T*>(grads.data());
    T* result = static_cast<T*>(out.mutable_data());
    py::gil_scoped_release nogil;
    *result = kernel(g, grads.shape(0), grads.shape(1), T(target));
  });
}

// grads (N, D), grad_out (a number) -> grad_in (N, D)
void gradient_penalty_bwd(const py::array& grads, double target, double grad_out,
                          py::array grad_in, const std::string& impl) {
  const char* op = "gradient_penalty_bwd";
  const Impl which = parse_impl(op, impl);
  check_gradient_penalty_bwd(op, grads, grad_in);
  dispatch_float(grads, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel =
        which == Impl::ref ? cpu::gradient_penalty_bwd_ref<T> : cpu::gradient_penalty_bwd_fast<T>;
    const T* g = static_cast<const T*>(grads.data());
    T* gg = static_cast<T*>(grad_in.mutable_data());
    py::gil_scoped_release nogil;
    kernel(g, grads.shape(0), grads.shape(1), T(target), T(grad_out), gg);
  });
}

}  // namespace

void bind_penalty(py::module_& m) {
  m.def("gradient_penalty_fwd", &gradient_penalty_fwd, py::arg("grads").noconvert(),
        py::arg("target"), py::arg("out").noconvert(), py::arg("impl") = "fast",
        "out[()] = mean over rows i of (||grads[i]||_2 - target)^2.");
  m.def("gradient_penalty_bwd", &gradient_penalty_bwd, py::arg("grads").noconvert(),
        py::arg("target"), py::arg("grad_out"), py::arg("grad_in").noconvert(),
        py::arg("impl") = "fast",
        "grad_in = grad_out * 2/N * (||g_i|| - target) / ||g_i|| * g_i (0 where the norm is 0).");
}

}  // namespace minigen
