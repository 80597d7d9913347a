// Binding of the GEMM (csrc/cpu/gemm.cc): check every argument, release the GIL, call.

#include <string>

#include "bind.h"
#include "checks.h"
#include "cpu/gemm.h"

namespace minigen {
namespace {

// "auto" is the widest ISA this CPU has; naming one is for tests and benchmarks.
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
    fail(op, "isa '" + isa + "' is not supported by this CPU");
  return which;
}

// "(3, 4)" for the matrix op(x) that x (r, s) stands for: (s, r) when transposed.
std::string op_shape(const py::array& x, bool trans) {
  const py::ssize_t shape[2] = {x.shape(trans ? 1 : 0), x.shape(trans ? 0 : 1)};
  return tuple_str(shape, 2);
}

// a (m, k) or (k, m) if trans_a, b (k, n) or (n, k) if trans_b -> c (m, n):
// c = alpha * op(a) @ op(b) + beta * c
void gemm(const py::array& a, const py::array& b, py::array c, bool trans_a, bool trans_b,
          double alpha, double beta, const std::string& impl, const std::string& isa) {
  const char* op = "gemm";
  const Impl which = parse_impl(op, impl);
  const cpu::GemmIsa kernel_isa = parse_isa(op, isa);
  if (which == Impl::ref && kernel_isa != cpu::GemmIsa::best)
    fail(op, "isa '" + isa + "' picks a micro-kernel of impl='fast'; impl='ref' has none");
  require_float(op, "a", a);
  require_same_dtype(op, "b", b, "a", a);
  require_same_dtype(op, "c", c, "a", a);
  require_matrix(op, "a", a);
  require_matrix(op, "b", b);
  require_matrix(op, "c", c);
  require_contiguous(op, "a", a);
  require_contiguous(op, "b", b);
  require_contiguous(op, "c", c);
  require_writeable(op, "c", c);

  const int64_t m = a.shape(trans_a ? 1 : 0), k = a.shape(trans_a ? 0 : 1);
  const int64_t kb = b.shape(trans_b ? 1 : 0), n = b.shape(trans_b ? 0 : 1);
  const std::string given = " (a " + shape_str(a) + " with trans_a=" + (trans_a ? "True" : "False") +
                            ", b " + shape_str(b) + " with trans_b=" +
                            (trans_b ? "True" : "False") + ")";
  if (k != kb)
    fail(op, "op(a) is " + op_shape(a, trans_a) + " and op(b) is " + op_shape(b, trans_b) +
                 ": inner dimensions " + std::to_string(k) + " and " + std::to_string(kb) +
                 " differ" + given);
  if (c.shape(0) != m || c.shape(1) != n)
    fail(op, "c has shape " + shape_str(c) + " but op(a) @ op(b) is (" + std::to_string(m) +
                 ", " + std::to_string(n) + ")" + given);
  require_disjoint(op, "c", c, "a", a);  // c = a @ b in place would read overwritten a
  require_disjoint(op, "c", c, "b", b);

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
}

}  // namespace minigen
