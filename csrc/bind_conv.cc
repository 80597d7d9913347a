// Bindings of the convolution kernels (csrc/cpu/conv.cc): check every argument (csrc/check_conv.h),
// release the GIL, call.

#include <string>

#include "bind.h"
#include "check_conv.h"
#include "cpu/conv.h"

namespace minigen {
namespace {

// x (N, C_in, H, W), w (C_out, C_in / groups, kH, kW) -> y (N, C_out, H_out, W_out)
void conv2d_fwd(const py::array& x, const py::array& w, py::array y, Pair stride, Pair padding,
                Pair dilation, int groups, const std::string& impl) {
  const char* op = "conv2d_fwd";
  const Impl which = parse_impl(op, impl);
  const cpu::Conv2dShape s =
      check_conv(op, {"x", x}, {"w", w}, {"y", y}, stride, padding, dilation, groups);
  require_separate_output(op, {"y", y}, {{"x", x}, {"w", w}});
  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel = which == Impl::ref ? cpu::conv2d_fwd_ref<T> : cpu::conv2d_fwd_fast<T>;
    const T* xp = static_cast<const T*>(x.data());
    const T* wp = static_cast<const T*>(w.data());
    T* yp = static_cast<T*>(y.mutable_data());
    py::gil_scoped_release nogil;
    kernel(s, xp, wp, yp);
  });
}

// gy (N, C_out, H_out, W_out), w (C_out, C_in / groups, kH, kW) -> gx (N, C_in, H, W); gx's H, W
// are the caller's choice (conv_transpose2d's output_padding) among those that give H_out, W_out.
void conv2d_bwd_input(const py::array& gy, const py::array& w, py::array gx, Pair stride,
                      Pair padding, Pair dilation, int groups, const std::string& impl) {
  const char* op = "conv2d_bwd_input";
  const Impl which = parse_impl(op, impl);
  const cpu::Conv2dShape s =
      check_conv(op, {"gx", gx}, {"w", w}, {"gy", gy}, stride, padding, dilation, groups);
  require_separate_output(op, {"gx", gx}, {{"gy", gy}, {"w", w}});
  dispatch_float(gy, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel =
        which == Impl::ref ? cpu::conv2d_bwd_input_ref<T> : cpu::conv2d_bwd_input_fast<T>;
    const T* gyp = static_cast<const T*>(gy.data());
    const T* wp = static_cast<const T*>(w.data());
    T* gxp = static_cast<T*>(gx.mutable_data());
    py::gil_scoped_release nogil;
    kernel(s, gyp, wp, gxp);
  });
}

// x (N, C_in, H, W), gy (N, C_out, H_out, W_out) -> gw (C_out, C_in / groups, kH, kW)
void conv2d_bwd_weight(const py::array& x, const py::array& gy, py::array gw, Pair stride,
                       Pair padding, Pair dilation, int groups, const std::string& impl) {
  const char* op = "conv2d_bwd_weight";
  const Impl which = parse_impl(op, impl);
  const cpu::Conv2dShape s =
      check_conv(op, {"x", x}, {"gw", gw}, {"gy", gy}, stride, padding, dilation, groups);
  require_separate_output(op, {"gw", gw}, {{"x", x}, {"gy", gy}});
  dispatch_float(x, [&](auto zero) {
    using T = decltype(zero);
    const auto kernel =
        which == Impl::ref ? cpu::conv2d_bwd_weight_ref<T> : cpu::conv2d_bwd_weight_fast<T>;
    const T* xp = static_cast<const T*>(x.data());
    const T* gyp = static_cast<const T*>(gy.data());
    T* gwp = static_cast<T*>(gw.mutable_data());
    py::gil_scoped_release nogil;
    kernel(s, xp, gyp, gwp);
  });
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def("conv2d_fwd", &conv2d_fwd, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("y").noconvert(), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("groups"), py::arg("impl") = "fast",
        "y = conv2d(x, w) (PyTorch's cross-correlation, no bias); stride, padding, dilation are "
        "(h, w) pairs. impl: 'ref' or 'fast'.");
  m.def("conv2d_bwd_input", &conv2d_bwd_input, py::arg("gy").noconvert(),
        py::arg("w").noconvert(), py::arg("gx").noconvert(), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), py::arg("groups"), py::arg("impl") = "fast",
        "gx = the gradient of conv2d with respect to x (= conv_transpose2d(gy, w)); gx's H, W "
        "are taken from its shape. impl: 'ref' or 'fast'.");
  m.def("conv2d_bwd_weight", &conv2d_bwd_weight, py::arg("x").noconvert(),
        py::arg("gy").noconvert(), py::arg("gw").noconvert(), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), py::arg("groups"), py::arg("impl") = "fast",
        "gw = the gradient of conv2d with respect to w. impl: 'ref' or 'fast'.");
}

}  // namespace minigen
