// Argument checks of the binary cross-entropy bindings, shared by minigen._C (csrc/bind_loss.cc)
// and minigen._cuda (csrc/cuda/bind_loss.cc).
#pragma once

#include <initializer_list>

#include "checks.h"

namespace minigen {

// The four ops' checks: `inputs` (the first one the reference) and the output all float, alike in
// dtype and shape, contiguous; the output writeable, and each input either the output itself or
// apart from it.
inline void check_bce(const char* op, std::initializer_list<Arg> inputs, const Arg& out) {
  const Arg& first = *inputs.begin();
  require_float(op, first.name, first.a);
  require_contiguous(op, first.name, first.a);
  for (const Arg& in : inputs) require_like(op, in.name, in.a, first.name, first.a);
  require_like(op, out.name, out.a, first.name, first.a);
  require_writeable(op, out.name, out.a);
  for (const Arg& in : inputs) require_no_partial_overlap(op, out.name, out.a, in.name, in.a);
}

}  // namespace minigen
