// minigen._C: the CPU kernels, bound with pybind11.
//
// Convention (DESIGN.md): Python allocates every output; a binding checks all its arrays
// (csrc/checks.h), releases the GIL and calls the kernel, which only writes the output.
// Arrays are taken as py::array without conversion, so a wrong dtype is an error, not a copy.

#include <omp.h>

#include "checks.h"
#include "cpu/activation.h"

namespace minigen {
namespace {

// x (any shape) -> out (same shape and dtype). Outputs come by value: mutable_data() is non-const.
void leaky_relu_fwd(const py::array& x, py::array out, double negative_slope,
                    const std::string& impl) {
  const char* op = "leaky_relu_fwd";
  const Impl which = parse_impl(op, impl);
  require_float(op, "x", x);
  require_contiguous(op, "x", x);
  require_like(op, "out", out, "x", x);
  require_writeable(op, "out", out);
  require_no_partial_overlap(op, "out", out, "x", x);

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

// x, grad_out (same shape) -> grad_in (same shape and dtype)
void leaky_relu_bwd(const py::array& x, const py::array& grad_out, py::array grad_in,
                    double negative_slope, const std::string& impl) {
  const char* op = "leaky_relu_bwd";
  const Impl which = parse_impl(op, impl);
  require_float(op, "x", x);
  require_contiguous(op, "x", x);
  require_like(op, "grad_out", grad_out, "x", x);
  require_like(op, "grad_in", grad_in, "x", x);
  require_writeable(op, "grad_in", grad_in);
  require_no_partial_overlap(op, "grad_in", grad_in, "x", x);
  require_no_partial_overlap(op, "grad_in", grad_in, "grad_out", grad_out);

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

// OpenMP keeps the thread count per calling thread: set it from the thread that runs kernels.
void set_num_threads(int n) {
  if (n < 1) throw py::value_error("set_num_threads: n must be >= 1, got " + std::to_string(n));
  omp_set_num_threads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace
}  // namespace minigen

PYBIND11_MODULE(_C, m) {
  using namespace minigen;
  m.doc() = "minigen CPU kernels (C++, OpenMP). Python allocates outputs; kernels write them.";

  m.def("leaky_relu_fwd", &leaky_relu_fwd, py::arg("x").noconvert(), py::arg("out").noconvert(),
        py::arg("negative_slope"), py::arg("impl") = "fast",
        "out[...] = x if x > 0 else negative_slope * x. impl: 'ref' or 'fast'.");
  m.def("leaky_relu_bwd", &leaky_relu_bwd, py::arg("x").noconvert(),
        py::arg("grad_out").noconvert(), py::arg("grad_in").noconvert(),
        py::arg("negative_slope"), py::arg("impl") = "fast",
        "grad_in[...] = grad_out if x > 0 else negative_slope * grad_out. impl: 'ref' or 'fast'.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Number of OpenMP threads the CPU kernels use (n >= 1).");
  m.def("get_num_threads", &get_num_threads, "Number of OpenMP threads the CPU kernels use.");
}
