// Bindings of the batch-norm kernels (csrc/cpu/norm.cc): check, release the GIL, call.

#include "bind.h"
#include "checks.h"
#include "cpu/norm.h"

namespace minigen {
namespace {

// x must be (N, C, S); a per-channel vector must be (C,), x's dtype, contiguous.
void require_batch(const char* op, const py::array& x) {
  require_float(op, "x", x);
  require_contiguous(op, "x", x);
  if (x.ndim() != 3) fail(op, "x must be 3-D (N, C, S), got shape " + shape_str(x));
}

void require_channels(const char* op, const char* name, const py::array& v, const py::array& x) {
  require_same_dtype(op, name, v, "x", x);
  require_contiguous(op, name, v);
  if (v.ndim() != 1 || v.shape(0) != x.shape(1))
    fail(op, std::string(name) + " has shape " + shape_str(v) + " but x has " +
                 std::to_string(x.shape(1)) + " channels (shape " + shape_str(x) + ")");
}

// x (N, C, S), weight (C), bias (C) -> y (N, C, S), mean (C), var (C, biased)
void batch_norm_fwd(const py::array& x, const py::array& weight, const py::array& bias, double eps,
                    py::array y, py::array mean, py::array var, const std::string& impl) {
  const char* op = "batch_norm_fwd";
  const Impl which = parse_impl(op, impl);
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
  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel = which == Impl::ref ? cpu::batch_norm_fwd_ref<T> : cpu::batch_norm_fwd_fast<T>;
    py::gil_scoped_release nogil;
    kernel(input_ptr<T>(x), x.shape(0), x.shape(1), x.shape(2), input_ptr<T>(weight), input_ptr<T>(bias), T(eps),
           output_ptr<T>(y), output_ptr<T>(mean), output_ptr<T>(var));
  });
}

// x, grad_out (N, C, S), weight, mean, var (C) -> grad_in (N, C, S), grad_weight, grad_bias (C)
void batch_norm_bwd(const py::array& x, const py::array& grad_out, const py::array& weight,
                    const py::array& mean, const py::array& var, double eps, py::array grad_in,
                    py::array grad_weight, py::array grad_bias, const std::string& impl) {
  const char* op = "batch_norm_bwd";
  const Impl which = parse_impl(op, impl);
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
  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel = which == Impl::ref ? cpu::batch_norm_bwd_ref<T> : cpu::batch_norm_bwd_fast<T>;
    py::gil_scoped_release nogil;
    kernel(input_ptr<T>(x), input_ptr<T>(grad_out), x.shape(0), x.shape(1), x.shape(2), input_ptr<T>(weight),
           input_ptr<T>(mean), input_ptr<T>(var), T(eps), output_ptr<T>(grad_in), output_ptr<T>(grad_weight),
           output_ptr<T>(grad_bias));
  });
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("batch_norm_fwd", &batch_norm_fwd, py::arg("x").noconvert(), py::arg("weight").noconvert(),
        py::arg("bias").noconvert(), py::arg("eps"), py::arg("y").noconvert(),
        py::arg("mean").noconvert(), py::arg("var").noconvert(), py::arg("impl") = "fast",
        "Per-channel mean and biased var of x (N, C, S); y = (x - mean) / sqrt(var + eps) * w + b.");
  m.def("batch_norm_bwd", &batch_norm_bwd, py::arg("x").noconvert(),
        py::arg("grad_out").noconvert(), py::arg("weight").noconvert(), py::arg("mean").noconvert(),
        py::arg("var").noconvert(), py::arg("eps"), py::arg("grad_in").noconvert(),
        py::arg("grad_weight").noconvert(), py::arg("grad_bias").noconvert(),
        py::arg("impl") = "fast", "Gradients of batch_norm_fwd in x, weight and bias.");
}

}  // namespace minigen
