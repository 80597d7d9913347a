// Argument checks of the batch-norm bindings, shared by minigen._C (csrc/bind_norm.cc) and
// minigen._cuda (csrc/cuda/bind_norm.cc).
#pragma once

#include <string>
#include <utility>

#include "checks.h"

namespace minigen {

// x must be (N, C, S); a per-channel vector must be (C,), x's dtype, contiguous.
inline void require_batch(const char* op, const py::array& x) {
  require_float(op, "x", x);
  require_contiguous(op, "x", x);
  if (x.ndim() != 3) fail(op, "x must be 3-D (N, C, S), got shape " + shape_str(x));
}

inline void require_channels(const char* op, const char* name, const py::array& v,
                             const py::array& x) {
  require_same_dtype(op, name, v, "x", x);
  require_contiguous(op, name, v);
  if (v.ndim() != 1 || v.shape(0) != x.shape(1))
    fail(op, std::string(name) + " has shape " + shape_str(v) + " but x has " +
                 std::to_string(x.shape(1)) + " channels (shape " + shape_str(x) + ")");
}

// x (N, C, S), weight (C), bias (C) -> y (N, C, S), mean (C), var (C)
inline void check_batch_norm_fwd(const char* op, const py::array& x, const py::array& weight,
                                 const py::array& bias, const py::array& y, const py::array& mean,
                                 const py::array& var) {
  require_batch(op, x);
  require_channels(op, "weight", weight, x);
  require_channels(op, "bias", bias, x);
  require_like(op, "y", y, "x", x);
  require_channels(op, "mean", mean, x);
  require_channels(op, "var", var, x);
  for (auto [name, a] : {std::pair{"y", &y}, {"mean", &mean}, {"var", &var}})
    require_writeable(op, name, *a);
  // y may be x itself (in place); otherwise no output shares memory with an input or another
  // output (mean = var would hand back the variance as both).
  require_no_partial_overlap(op, "y", y, "x", x);
  require_apart(op, {{"y", y}, {"mean", mean}, {"var", var}}, {{"weight", weight}, {"bias", bias}});
  require_apart(op, {{"mean", mean}, {"var", var}}, {{"x", x}});
}

// x, grad_out (N, C, S), weight, mean, var (C) -> grad_in (N, C, S), grad_weight, grad_bias (C)
inline void check_batch_norm_bwd(const char* op, const py::array& x, const py::array& grad_out,
                                 const py::array& weight, const py::array& mean,
                                 const py::array& var, const py::array& grad_in,
                                 const py::array& grad_weight, const py::array& grad_bias) {
  require_batch(op, x);
  require_like(op, "grad_out", grad_out, "x", x);
  for (auto [name, a] : {std::pair{"weight", &weight}, {"mean", &mean}, {"var", &var}})
    require_channels(op, name, *a, x);
  require_like(op, "grad_in", grad_in, "x", x);
  require_channels(op, "grad_weight", grad_weight, x);
  require_channels(op, "grad_bias", grad_bias, x);
  for (auto [name, a] :
       {std::pair{"grad_in", &grad_in}, {"grad_weight", &grad_weight}, {"grad_bias", &grad_bias}})
    require_writeable(op, name, *a);
  // grad_in may be x or grad_out itself (in place); otherwise no output shares memory with an
  // input or another output.
  require_no_partial_overlap(op, "grad_in", grad_in, "x", x);
  require_no_partial_overlap(op, "grad_in", grad_in, "grad_out", grad_out);
  require_apart(op, {{"grad_in", grad_in}, {"grad_weight", grad_weight}, {"grad_bias", grad_bias}},
                {{"weight", weight}, {"mean", mean}, {"var", var}});
  require_apart(op, {{"grad_weight", grad_weight}, {"grad_bias", grad_bias}},
                {{"x", x}, {"grad_out", grad_out}});
}

}  // namespace minigen
