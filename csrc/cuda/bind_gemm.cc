// Binding of the CUDA GEMM (csrc/cuda/gemm.cu): view, check, launch.

#include <string>

#include "check_gemm.h"
#include "cuda/bind.h"
#include "cuda/device_view.h"
#include "cuda/gemm.h"

namespace minigen::bind_cuda {
namespace {

using cuda::as_stream;
using cuda::device_view;

// "auto": IEEE arithmetic on the CUDA cores; "tf32" opts in to the tensor cores (float32 only).
cuda::GemmIsa parse_isa(const char* op, const std::string& isa) {
  if (isa == "auto") return cuda::GemmIsa::fma;
  if (isa == "tf32") return cuda::GemmIsa::tf32;
  fail(op, "isa must be 'auto' or 'tf32', got '" + isa + "'");
}

void gemm(const py::object& a_obj, const py::object& b_obj, const py::object& c_obj, bool trans_a,
          bool trans_b, double alpha, double beta, const std::string& impl,
          const std::string& isa, std::uintptr_t stream) {
  const char* op = "gemm";
  const py::array a = device_view(op, "a", a_obj);
  const py::array b = device_view(op, "b", b_obj);
  py::array c = device_view(op, "c", c_obj);
  const Impl which = parse_impl(op, impl);
  const cuda::GemmIsa kernel_isa = parse_isa(op, isa);
  check_gemm_isa(op, which, isa);
  const GemmSizes size = check_gemm(op, a, b, c, trans_a, trans_b);
  if (kernel_isa == cuda::GemmIsa::tf32 && !a.dtype().equal(py::dtype::of<float>()))
    fail(op, "isa 'tf32' is for float32 arrays; a has dtype " + dtype_str(a));

  dispatch_float(a, [&](auto zero) {
    using T = decltype(zero);
    cuda::gemm(which, kernel_isa, trans_a, trans_b, size.m, size.n, size.k, T(alpha),
               input_ptr<T>(a), input_ptr<T>(b), T(beta), output_ptr<T>(c), as_stream(stream));
  });
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def("gemm", &gemm, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("trans_a") = false,
        py::arg("trans_b") = false, py::arg("alpha") = 1.0, py::arg("beta") = 0.0,
        py::arg("impl") = "fast", py::arg("isa") = "auto", py::arg("stream") = 0,
        "c = alpha * op(a) @ op(b) + beta * c, op(x) = x.T if trans_x. impl: 'ref' or 'fast'; "
        "isa: 'auto' (IEEE float32/float64 on the CUDA cores) or 'tf32' (float32 on the tensor "
        "cores, inputs rounded to 10-bit mantissas: ~1e-3 relative; impl='fast' only).");
}

}  // namespace minigen::bind_cuda
