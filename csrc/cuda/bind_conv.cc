// Bindings of the CUDA convolution kernels (csrc/cuda/conv.cu): view, check (csrc/check_conv.h,
// as minigen._C does), launch. conv2d_bwd_weight takes one argument more than minigen._C's, an
// optional workspace, whose size conv2d_bwd_weight_workspace_size gives.

#include <optional>
#include <string>
#include <vector>

#include "check_conv.h"
#include "cuda/bind.h"
#include "cuda/conv.h"
#include "cuda/device_view.h"

namespace minigen::bind_cuda {
namespace {

using cuda::as_stream;
using cuda::device_view;

// x (N, C_in, H, W), w (C_out, C_in / groups, kH, kW) -> y (N, C_out, H_out, W_out)
void conv2d_fwd(const py::object& x_obj, const py::object& w_obj, const py::object& y_obj,
                Pair stride, Pair padding, Pair dilation, int groups, const std::string& impl,
                std::uintptr_t stream) {
  const char* op = "conv2d_fwd";
  const py::array x = device_view(op, "x", x_obj), w = device_view(op, "w", w_obj);
  py::array y = device_view(op, "y", y_obj);
  const Impl which = parse_impl(op, impl);
  const cpu::Conv2dShape s =
      check_conv(op, {"x", x}, {"w", w}, {"y", y}, stride, padding, dilation, groups);
  require_separate_output(op, {"y", y}, {{"x", x}, {"w", w}});
  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    cuda::conv2d_fwd(which, s, input_ptr<T>(x), input_ptr<T>(w), output_ptr<T>(y),
                     as_stream(stream));
  });
}

// gy (N, C_out, H_out, W_out), w (C_out, C_in / groups, kH, kW) -> gx (N, C_in, H, W)
void conv2d_bwd_input(const py::object& gy_obj, const py::object& w_obj,
                      const py::object& gx_obj, Pair stride, Pair padding, Pair dilation,
                      int groups, const std::string& impl, std::uintptr_t stream) {
  const char* op = "conv2d_bwd_input";
  const py::array gy = device_view(op, "gy", gy_obj), w = device_view(op, "w", w_obj);
  py::array gx = device_view(op, "gx", gx_obj);
  const Impl which = parse_impl(op, impl);
  const cpu::Conv2dShape s =
      check_conv(op, {"gx", gx}, {"w", w}, {"gy", gy}, stride, padding, dilation, groups);
  require_separate_output(op, {"gx", gx}, {{"gy", gy}, {"w", w}});
  dispatch_float(gy, [&](auto zero) {
    using T = decltype(zero);
    cuda::conv2d_bwd_input(which, s, input_ptr<T>(gy), input_ptr<T>(w), output_ptr<T>(gx),
                           as_stream(stream));
  });
}

// x (N, C_in, H, W), gy (N, C_out, H_out, W_out) -> gw (C_out, C_in / groups, kH, kW), with
// scratch memory for the fast kernel's partial sums (None: the sum runs undivided).
void conv2d_bwd_weight(const py::object& x_obj, const py::object& gy_obj,
                       const py::object& gw_obj, Pair stride, Pair padding, Pair dilation,
                       int groups, const std::string& impl, const py::object& workspace_obj,
                       std::uintptr_t stream) {
  const char* op = "conv2d_bwd_weight";
  const py::array x = device_view(op, "x", x_obj), gy = device_view(op, "gy", gy_obj);
  py::array gw = device_view(op, "gw", gw_obj);
  const Impl which = parse_impl(op, impl);
  const cpu::Conv2dShape s =
      check_conv(op, {"x", x}, {"gw", gw}, {"gy", gy}, stride, padding, dilation, groups);
  require_separate_output(op, {"gw", gw}, {{"x", x}, {"gy", gy}});
  std::optional<py::array> workspace;  // (a default py::array is not "none": an empty array)
  if (!workspace_obj.is_none()) {
    workspace = device_view(op, "workspace", workspace_obj);
    require_same_dtype(op, "workspace", *workspace, "x", x);
    require_contiguous(op, "workspace", *workspace);
    require_separate_output(op, {"workspace", *workspace}, {{"x", x}, {"gy", gy}, {"gw", gw}});
    const int64_t needed = cuda::conv2d_bwd_weight_workspace_size(s);
    if (workspace->size() < needed)
      fail(op, "workspace has " + std::to_string(workspace->size()) +
                   " elements, fewer than the " + std::to_string(needed) +
                   " that conv2d_bwd_weight_workspace_size gives for these shapes");
  }
  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    cuda::conv2d_bwd_weight(which, s, input_ptr<T>(x), input_ptr<T>(gy), output_ptr<T>(gw),
                            workspace ? output_ptr<T>(*workspace) : nullptr, as_stream(stream));
  });
}

// A float32 header of `shape` over memory that nothing reads (as device_view's), so that the
// workspace size runs conv2d_bwd_weight's very checks on the shapes alone.
py::array shape_only(const char* op, const char* name, const std::vector<py::ssize_t>& shape) {
  const std::string what = std::string(name) + " = " + tuple_str(shape.data(), shape.size());
  py::ssize_t bytes = sizeof(float);
  for (py::ssize_t size : shape) {
    if (size < 0) fail(op, what + " has a negative size");
    if (__builtin_mul_overflow(bytes, size, &bytes)) fail(op, what + " is too large an array");
  }
  static const float nowhere = 0;
  return py::array(py::dtype::of<float>(), shape, &nowhere, py::none());
}

int64_t conv2d_bwd_weight_workspace_size(const std::vector<py::ssize_t>& x_shape,
                                         const std::vector<py::ssize_t>& w_shape,
                                         const std::vector<py::ssize_t>& y_shape, Pair stride,
                                         Pair padding, Pair dilation, int groups) {
  const char* op = "conv2d_bwd_weight_workspace_size";
  const py::array x = shape_only(op, "x_shape", x_shape), w = shape_only(op, "w_shape", w_shape),
                  y = shape_only(op, "y_shape", y_shape);
  return cuda::conv2d_bwd_weight_workspace_size(check_conv(
      op, {"x_shape", x}, {"w_shape", w}, {"y_shape", y}, stride, padding, dilation, groups));
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def("conv2d_fwd", &conv2d_fwd, py::arg("x"), py::arg("w"), py::arg("y"), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), py::arg("groups"), py::arg("impl") = "fast",
        py::arg("stream") = 0,
        "y = conv2d(x, w) (PyTorch's cross-correlation, no bias); stride, padding, dilation are "
        "(h, w) pairs. impl: 'ref' or 'fast'.");
  m.def("conv2d_bwd_input", &conv2d_bwd_input, py::arg("gy"), py::arg("w"), py::arg("gx"),
        py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("groups"),
        py::arg("impl") = "fast", py::arg("stream") = 0,
        "gx = the gradient of conv2d with respect to x (= conv_transpose2d(gy, w)); gx's H, W "
        "are taken from its shape. impl: 'ref' or 'fast'. The fast kernel multiplies a weight by "
        "the 0 of a zero-padded gy at gx's border: an infinite weight gives NaN there.");
  m.def("conv2d_bwd_weight", &conv2d_bwd_weight, py::arg("x"), py::arg("gy"), py::arg("gw"),
        py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("groups"),
        py::arg("impl") = "fast", py::arg("workspace") = py::none(), py::arg("stream") = 0,
        "gw = the gradient of conv2d with respect to w. impl: 'ref' or 'fast'. workspace: None, "
        "or an array of x's dtype with at least conv2d_bwd_weight_workspace_size(...) elements, "
        "in which the fast kernel splits its long sum over samples and pixels into partial sums "
        "(more blocks run at once); the result does not depend on the workspace's contents.");
  m.def("conv2d_bwd_weight_workspace_size", &conv2d_bwd_weight_workspace_size,
        py::arg("x_shape"), py::arg("w_shape"), py::arg("y_shape"), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), py::arg("groups"),
        "The elements conv2d_bwd_weight's workspace needs for these shapes (those of x, gw, gy): "
        "0 where the fast kernel does not split its sum; at most gw's size plus about 1.1M.");
}

}  // namespace minigen::bind_cuda
