// Argument checks of the gradient-penalty bindings, shared by minigen._C (csrc/bind_penalty.cc)
// and minigen._cuda (csrc/cuda/bind_penalty.cc).
#pragma once

#include "checks.h"

namespace minigen {

// grads (N, D) float, contiguous.
inline void require_grads(const char* op, const py::array& grads) {
  require_float(op, "grads", grads);
  require_contiguous(op, "grads", grads);
  require_matrix(op, "grads", grads);
}

// grads (N, D) -> out (0-d, grads' dtype, writeable)
inline void check_gradient_penalty_fwd(const char* op, const py::array& grads,
                                       const py::array& out) {
  require_grads(op, grads);
  require_same_dtype(op, "out", out, "grads", grads);
  if (out.ndim() != 0) fail(op, "out must be 0-d, got shape " + shape_str(out));
  require_contiguous(op, "out", out);  // 0-d is always contiguous, but may be misaligned
  require_writeable(op, "out", out);
}

// grads (N, D) -> grad_in (N, D); grad_in may be grads itself.
inline void check_gradient_penalty_bwd(const char* op, const py::array& grads,
                                       const py::array& grad_in) {
  require_grads(op, grads);
  require_like(op, "grad_in", grad_in, "grads", grads);
  require_writeable(op, "grad_in", grad_in);
  require_no_partial_overlap(op, "grad_in", grad_in, "grads", grads);
}

}  // namespace minigen
