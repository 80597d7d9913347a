// Binding of the GEMM (csrc/cpu/gemm.cc): check every argument, release the GIL, call.

#include <string>

#include "bind.h"
#include "check_gemm.h"
#include "cpu/gemm.h"

namespace minigen {
namespace {

// "auto" is the widest ISA allowed on this CPU; naming one is for tests and benchmarks.
cpu::GemmIsa parse_isa(const char* op, const std::string& isa) {
  cpu::GemmIsa which;
  if (isa == "auto")
    which = cpu::GemmIsa::best;
  else if (isa == "avx512")
    which = cpu::GemmIsa::avx512;
  else if (isa == "avx2")
    which = cpu::GemmIsa::avx2;
  else if (isa == "portable")
    which = cpu::GemmIsa::portable;
  else
    fail(op, "isa must be 'auto', 'avx512', 'avx2' or 'portable', got '" + isa + "'");
  if (!cpu::gemm_isa_supported(which))
    fail(op, "isa '" + isa + "' is not supported by this CPU (or is wider than MINIGEN_CPU_ISA allows)");
  return which;
}

const char* isa_name(cpu::GemmIsa isa) {
  switch (isa) {
    case cpu::GemmIsa::avx512: return "avx512";
    case cpu::GemmIsa::avx2: return "avx2";
    default: return "portable";
  }
}

// The limit is lifted before the name is checked, so that a lower limit can be raised again.
void set_cpu_isa(const std::string& isa) {
  cpu::set_gemm_isa_limit(cpu::GemmIsa::best);
  cpu::set_gemm_isa_limit(parse_isa("set_cpu_isa", isa));
}

// a (m, k) or (k, m) if trans_a, b (k, n) or (n, k) if trans_b -> c (m, n):
// c = alpha * op(a) @ op(b) + beta * c
void gemm(const py::array& a, const py::array& b, py::array c, bool trans_a, bool trans_b,
          double alpha, double beta, const std::string& impl, const std::string& isa) {
  const char* op = "gemm";
  const Impl which = parse_impl(op, impl);
  const cpu::GemmIsa kernel_isa = parse_isa(op, isa);
  check_gemm_isa(op, which, isa);
  const GemmSizes size = check_gemm(op, a, b, c, trans_a, trans_b);
  const int64_t m = size.m, n = size.n, k = size.k;

  dispatch_float(a, [&](auto zero) {
    using T = decltype(zero);
    const T* ap = static_cast<const T*>(a.data());
    const T* bp = static_cast<const T*>(b.data());
    T* cp = static_cast<T*>(c.mutable_data());
    py::gil_scoped_release nogil;
    if (which == Impl::ref)
      cpu::gemm_ref<T>(trans_a, trans_b, m, n, k, T(alpha), ap, bp, T(beta), cp);
    else
      cpu::gemm_fast<T>(trans_a, trans_b, m, n, k, T(alpha), ap, bp, T(beta), cp, kernel_isa);
  });
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def("gemm", &gemm, py::arg("a").noconvert(), py::arg("b").noconvert(),
        py::arg("c").noconvert(), py::arg("trans_a") = false, py::arg("trans_b") = false,
        py::arg("alpha") = 1.0, py::arg("beta") = 0.0, py::arg("impl") = "fast",
        py::arg("isa") = "auto",
        "c = alpha * op(a) @ op(b) + beta * c, op(x) = x.T if trans_x. impl: 'ref' or 'fast'; "
        "isa ('auto', 'avx512', 'avx2', 'portable'): the micro-kernel of impl='fast'.");
  m.def("set_cpu_isa", &set_cpu_isa, py::arg("isa"),
        "The widest instruction set the CPU kernels may use: 'auto' (all this CPU has), "
        "'avx512', 'avx2' or 'portable'. ValueError if this CPU lacks it.");
  m.def("get_cpu_isa", [] { return isa_name(cpu::gemm_best_isa()); },
        "The instruction set the CPU kernels use now: 'avx512', 'avx2' or 'portable'.");
}

}  // namespace minigen
