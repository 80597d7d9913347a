// Bindings of the binary cross-entropy kernels (csrc/cpu/loss.cc): check, release the GIL, call.

#include <cmath>

#include "bind.h"
#include "check_loss.h"
#include "cpu/loss.h"

namespace minigen {
namespace {

// input (n), target (n) -> out (n); ValueError if an input element lies outside [0, 1].
void bce_fwd(const py::array& input, const py::array& target, py::array out, const std::string& impl) {
  const char* op = "bce_fwd";
  const Impl which = parse_impl(op, impl);
  check_bce(op, {{"input", input}, {"target", target}}, {"out", out});
  int64_t bad = -1;
  double bad_value = 0.0;
  dispatch_float(input, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel = which == Impl::ref ? cpu::bce_fwd_ref<T> : cpu::bce_fwd_fast<T>;
    {
      py::gil_scoped_release nogil;
      bad = kernel(input_ptr<T>(input), input_ptr<T>(target), output_ptr<T>(out), input.size());
    }
    if (bad >= 0) bad_value = double(input_ptr<T>(input)[bad]);
  });
  if (bad >= 0)
    fail("binary_cross_entropy",
         "all elements of input should be between 0 and 1, but element " + std::to_string(bad) +
             " (flat index) is " + std::to_string(bad_value));
}

// input, target, grad_out (n) -> grad_in (n)
void bce_bwd(const py::array& input, const py::array& target, const py::array& grad_out,
             py::array grad_in, const std::string& impl) {
  const char* op = "bce_bwd";
  const Impl which = parse_impl(op, impl);
  check_bce(op, {{"input", input}, {"target", target}, {"grad_out", grad_out}},
            {"grad_in", grad_in});
  dispatch_float(input, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel = which == Impl::ref ? cpu::bce_bwd_ref<T> : cpu::bce_bwd_fast<T>;
    py::gil_scoped_release nogil;
    kernel(input_ptr<T>(input), input_ptr<T>(target), input_ptr<T>(grad_out), output_ptr<T>(grad_in), input.size());
  });
}

// logits (n), target (n) -> out (n)
void bce_logits_fwd(const py::array& logits, const py::array& target, py::array out,
                    const std::string& impl) {
  const char* op = "bce_logits_fwd";
  const Impl which = parse_impl(op, impl);
  check_bce(op, {{"logits", logits}, {"target", target}}, {"out", out});
  dispatch_float(logits, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel = which == Impl::ref ? cpu::bce_logits_fwd_ref<T> : cpu::bce_logits_fwd_fast<T>;
    py::gil_scoped_release nogil;
    kernel(input_ptr<T>(logits), input_ptr<T>(target), output_ptr<T>(out), logits.size());
  });
}

// logits, target, grad_out (n) -> grad_in (n)
void bce_logits_bwd(const py::array& logits, const py::array& target, const py::array& grad_out,
                    py::array grad_in, const std::string& impl) {
  const char* op = "bce_logits_bwd";
  const Impl which = parse_impl(op, impl);
  check_bce(op, {{"logits", logits}, {"target", target}, {"grad_out", grad_out}},
            {"grad_in", grad_in});
  dispatch_float(logits, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel = which == Impl::ref ? cpu::bce_logits_bwd_ref<T> : cpu::bce_logits_bwd_fast<T>;
    py::gil_scoped_release nogil;
    kernel(input_ptr<T>(logits), input_ptr<T>(target), input_ptr<T>(grad_out), output_ptr<T>(grad_in), logits.size());
  });
}

}  // namespace

void bind_loss(py::module_& m) {
  m.def("bce_fwd", &bce_fwd, py::arg("input").noconvert(), py::arg("target").noconvert(),
        py::arg("out").noconvert(), py::arg("impl") = "fast",
        "out = (t - 1) max(log1p(-p), -100) - t max(log p, -100), PyTorch's form; p must lie "
        "in [0, 1].");
  m.def("bce_bwd", &bce_bwd, py::arg("input").noconvert(), py::arg("target").noconvert(),
        py::arg("grad_out").noconvert(), py::arg("grad_in").noconvert(), py::arg("impl") = "fast",
        "grad_in = grad_out (p - t) / max(p (1 - p), 1e-12f): PyTorch's float32 constant, in "
        "float64 too.");
  m.def("bce_logits_fwd", &bce_logits_fwd, py::arg("logits").noconvert(),
        py::arg("target").noconvert(), py::arg("out").noconvert(), py::arg("impl") = "fast",
        "out = max(x, 0) - x t + log(1 + exp(-|x|)).");
  m.def("bce_logits_bwd", &bce_logits_bwd, py::arg("logits").noconvert(),
        py::arg("target").noconvert(), py::arg("grad_out").noconvert(),
        py::arg("grad_in").noconvert(), py::arg("impl") = "fast",
        "grad_in = grad_out (sigmoid(x) - t).");
}

}  // namespace minigen
