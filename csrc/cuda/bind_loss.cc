// Bindings of the CUDA binary cross-entropy kernels (csrc/cuda/loss.cu): view, check, launch.

#include "check_loss.h"
#include "cuda/bind.h"
#include "cuda/device_view.h"
#include "cuda/loss.h"

namespace minigen::bind_cuda {
namespace {

using cuda::as_stream;
using cuda::device_view;

// input (n), target (n) -> out (n). Unlike minigen._C's, it does not check that the input lies
// in [0, 1] (a device-to-host sync): out is NaN where it does not.
void bce_fwd(const py::object& input_obj, const py::object& target_obj, const py::object& out_obj,
             const std::string& impl, std::uintptr_t stream) {
  const char* op = "bce_fwd";
  const py::array input = device_view(op, "input", input_obj);
  const py::array target = device_view(op, "target", target_obj);
  py::array out = device_view(op, "out", out_obj);
  const Impl which = parse_impl(op, impl);
  check_bce(op, {{"input", input}, {"target", target}}, {"out", out});
  dispatch_float(input, [&](auto zero) {
    using T = decltype(zero);
    cuda::bce_fwd(which, input_ptr<T>(input), input_ptr<T>(target), output_ptr<T>(out),
                  input.size(), as_stream(stream));
  });
}

// input, target, grad_out (n) -> grad_in (n)
void bce_bwd(const py::object& input_obj, const py::object& target_obj,
             const py::object& grad_out_obj, const py::object& grad_in_obj,
             const std::string& impl, std::uintptr_t stream) {
  const char* op = "bce_bwd";
  const py::array input = device_view(op, "input", input_obj);
  const py::array target = device_view(op, "target", target_obj);
  const py::array grad_out = device_view(op, "grad_out", grad_out_obj);
  py::array grad_in = device_view(op, "grad_in", grad_in_obj);
  const Impl which = parse_impl(op, impl);
  check_bce(op, {{"input", input}, {"target", target}, {"grad_out", grad_out}},
            {"grad_in", grad_in});
  dispatch_float(input, [&](auto zero) {
    using T = decltype(zero);
    cuda::bce_bwd(which, input_ptr<T>(input), input_ptr<T>(target), input_ptr<T>(grad_out),
                  output_ptr<T>(grad_in), input.size(), as_stream(stream));
  });
}

// logits (n), target (n) -> out (n)
void bce_logits_fwd(const py::object& logits_obj, const py::object& target_obj,
                    const py::object& out_obj, const std::string& impl, std::uintptr_t stream) {
  const char* op = "bce_logits_fwd";
  const py::array logits = device_view(op, "logits", logits_obj);
  const py::array target = device_view(op, "target", target_obj);
  py::array out = device_view(op, "out", out_obj);
  const Impl which = parse_impl(op, impl);
  check_bce(op, {{"logits", logits}, {"target", target}}, {"out", out});
  dispatch_float(logits, [&](auto zero) {
    using T = decltype(zero);
    cuda::bce_logits_fwd(which, input_ptr<T>(logits), input_ptr<T>(target), output_ptr<T>(out),
                         logits.size(), as_stream(stream));
  });
}

// logits, target, grad_out (n) -> grad_in (n)
void bce_logits_bwd(const py::object& logits_obj, const py::object& target_obj,
                    const py::object& grad_out_obj, const py::object& grad_in_obj,
                    const std::string& impl, std::uintptr_t stream) {
  const char* op = "bce_logits_bwd";
  const py::array logits = device_view(op, "logits", logits_obj);
  const py::array target = device_view(op, "target", target_obj);
  const py::array grad_out = device_view(op, "grad_out", grad_out_obj);
  py::array grad_in = device_view(op, "grad_in", grad_in_obj);
  const Impl which = parse_impl(op, impl);
  check_bce(op, {{"logits", logits}, {"target", target}, {"grad_out", grad_out}},
            {"grad_in", grad_in});
  dispatch_float(logits, [&](auto zero) {
    using T = decltype(zero);
    cuda::bce_logits_bwd(which, input_ptr<T>(logits), input_ptr<T>(target),
                         input_ptr<T>(grad_out), output_ptr<T>(grad_in), logits.size(),
                         as_stream(stream));
  });
}

}  // namespace

void bind_loss(py::module_& m) {
  m.def("bce_fwd", &bce_fwd, py::arg("input"), py::arg("target"), py::arg("out"),
        py::arg("impl") = "fast", py::arg("stream") = 0,
        "out = (t - 1) max(log1p(-p), -100) - t max(log p, -100), PyTorch's form. p is not "
        "checked against [0, 1] (a device sync); out is NaN where p lies outside.");
  m.def("bce_bwd", &bce_bwd, py::arg("input"), py::arg("target"), py::arg("grad_out"),
        py::arg("grad_in"), py::arg("impl") = "fast", py::arg("stream") = 0,
        "grad_in = grad_out (p - t) / max(p (1 - p), 1e-12f): PyTorch's float32 constant, in "
        "float64 too.");
  m.def("bce_logits_fwd", &bce_logits_fwd, py::arg("logits"), py::arg("target"), py::arg("out"),
        py::arg("impl") = "fast", py::arg("stream") = 0,
        "out = max(x, 0) - x t + log(1 + exp(-|x|)).");
  m.def("bce_logits_bwd", &bce_logits_bwd, py::arg("logits"), py::arg("target"),
        py::arg("grad_out"), py::arg("grad_in"), py::arg("impl") = "fast", py::arg("stream") = 0,
        "grad_in = grad_out (sigmoid(x) - t).");
}

}  // namespace minigen::bind_cuda
