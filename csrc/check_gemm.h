// Argument checks of the GEMM bindings, shared by minigen._C (csrc/bind_gemm.cc) and
// minigen._cuda (csrc/cuda/bind_gemm.cc).
#pragma once

#include <cstdint>
#include <string>

#include "checks.h"

namespace minigen {

// impl='ref' is one loop with nothing to pick: naming an isa with it (anything but 'auto') is a
// mistake. Call after the binding has parsed isa.
inline void check_gemm_isa(const char* op, Impl impl, const std::string& isa) {
  if (impl == Impl::ref && isa != "auto")
    fail(op, "isa '" + isa + "' picks a micro-kernel of impl='fast'; impl='ref' has none");
}

// "(3, 4)" for the matrix op(x) that x (r, s) stands for: (s, r) when transposed.
inline std::string gemm_op_shape(const py::array& x, bool trans) {
  const py::ssize_t shape[2] = {x.shape(trans ? 1 : 0), x.shape(trans ? 0 : 1)};
  return tuple_str(shape, 2);
}

// The sizes of c = alpha * op(a) @ op(b) + beta * c: op(a) is m x k, op(b) k x n, c m x n.
struct GemmSizes {
  int64_t m, n, k;
};

// a (m, k) or (k, m) if trans_a, b (k, n) or (n, k) if trans_b -> c (m, n): matrices of one float
// dtype, C-contiguous, c writeable and apart from a and b.
inline GemmSizes check_gemm(const char* op, const py::array& a, const py::array& b,
                            const py::array& c, bool trans_a, bool trans_b) {
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
    fail(op, "op(a) is " + gemm_op_shape(a, trans_a) + " and op(b) is " +
                 gemm_op_shape(b, trans_b) + ": inner dimensions " + std::to_string(k) + " and " +
                 std::to_string(kb) + " differ" + given);
  if (c.shape(0) != m || c.shape(1) != n)
    fail(op, "c has shape " + shape_str(c) + " but op(a) @ op(b) is (" + std::to_string(m) +
                 ", " + std::to_string(n) + ")" + given);
  require_disjoint(op, "c", c, "a", a);  // c = a @ b in place would read overwritten a
  require_disjoint(op, "c", c, "b", b);
  return {m, n, k};
}

}  // namespace minigen
