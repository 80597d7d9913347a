// Argument checks of the LeakyReLU bindings, shared by minigen._C (csrc/bind_activation.cc) and
// minigen._cuda (csrc/cuda/bind_activation.cc).
#pragma once

#include "checks.h"

namespace minigen {

// x (any shape) -> out (same shape and dtype); out may be x itself.
inline void check_leaky_relu_fwd(const char* op, const py::array& x, const py::array& out) {
  require_float(op, "x", x);
  require_contiguous(op, "x", x);
  require_like(op, "out", out, "x", x);
  require_writeable(op, "out", out);
  require_no_partial_overlap(op, "out", out, "x", x);
}

// x, grad_out (same shape) -> grad_in (same shape and dtype); grad_in may be x or grad_out.
inline void check_leaky_relu_bwd(const char* op, const py::array& x, const py::array& grad_out,
                                 const py::array& grad_in) {
  require_float(op, "x", x);
  require_contiguous(op, "x", x);
  require_like(op, "grad_out", grad_out, "x", x);
  require_like(op, "grad_in", grad_in, "x", x);
  require_writeable(op, "grad_in", grad_in);
  require_no_partial_overlap(op, "grad_in", grad_in, "x", x);
  require_no_partial_overlap(op, "grad_in", grad_in, "grad_out", grad_out);
}

}  // namespace minigen
