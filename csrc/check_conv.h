// Argument checks of the convolution bindings, shared by minigen._C (csrc/bind_conv.cc) and
// minigen._cuda (csrc/cuda/bind_conv.cc).
//
// Each primitive has three arrays, named here by their role in the forward conv2d: the input x
// (gx for conv2d_bwd_input), the weight w (gw for conv2d_bwd_weight), the output y (gy for the
// two gradients). Their shapes must fit together as in conv2d, whichever of them is written.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <utility>

#include "checks.h"
#include "cpu/conv.h"

namespace minigen {

using Pair = std::pair<int, int>;  // (height, width): stride, padding, dilation

inline std::string pair_str(int64_t h, int64_t w) {
  return "(" + std::to_string(h) + ", " + std::to_string(w) + ")";
}

inline std::string pair_str(Pair p) { return pair_str(p.first, p.second); }

// The fast kernels (csrc/cpu/conv.cc) copy samples into zero-padded images and lower them to
// matrices one chunk of samples at a time; the index arithmetic there is int64 and the scratch
// memory at most the padded input plus the output, over the batch (one sample when N is 0).
// Both are bounded here, for either impl, so that a huge padding or output is a ValueError, not
// an int64 overflow (which made a 2 x 2 input with padding 2**31 - 1 write far out of bounds) or
// a std::bad_alloc, or overcommitted memory the kernel touches until the OOM killer comes. The
// limit: the arrays' own size, or 2**28 elements, whichever is more. (The CUDA kernels need no
// scratch memory, but they index in int64 too: with the same bound both devices refuse the same
// calls.)
constexpr int64_t kMaxWorkspace = int64_t{1} << 28;

inline void require_workspace(const char* op, const cpu::Conv2dShape& s, int64_t array_elements) {
  const int64_t batch = std::max<int64_t>(s.N, 1);
  const int64_t Hp = s.H + 2 * s.pad_h, Wp = s.W + 2 * s.pad_w;  // < 2**34: no overflow
  const std::string padded_desc =
      "the padded input (N, C_in, H + 2 * pad_h, W + 2 * pad_w) = (" + std::to_string(batch) +
      ", " + std::to_string(s.C_in) + ", " + pair_str(Hp, Wp).substr(1) + " with padding " +
      pair_str(s.pad_h, s.pad_w);
  const std::string out_desc = "the output (N, C_out, H_out, W_out) = (" + std::to_string(batch) +
                               ", " + std::to_string(s.C_out) + ", " +
                               pair_str(s.H_out, s.W_out).substr(1) + " with stride " +
                               pair_str(s.stride_h, s.stride_w);
  const int64_t padded = checked_product(op, padded_desc, {batch, s.C_in, Hp, Wp});
  const int64_t out = checked_product(op, out_desc, {batch, s.C_out, s.H_out, s.W_out});
  if (padded > std::max(kMaxWorkspace, array_elements) - out)  // padded + out, overflow-free
    fail(op, padded_desc + " and " + out_desc + " need " + std::to_string(padded) + " + " +
                 std::to_string(out) + " elements of scratch memory, more than the arrays' " +
                 std::to_string(array_elements) + " or 2**28; reduce the padding or stride");
}

// Checks everything a conv kernel relies on and returns its sizes: hyper-parameters in range,
// one float dtype, 4-D C-contiguous arrays, channels that split into groups, a kernel that fits
// the padded input, and the output side's shape equal to what conv2d gives for the other two.
inline cpu::Conv2dShape check_conv(const char* op, Arg input, Arg weight, Arg output,
                                   Pair stride, Pair padding, Pair dilation, int groups) {
  if (stride.first < 1 || stride.second < 1)
    fail(op, "stride must be positive, got " + pair_str(stride));
  if (padding.first < 0 || padding.second < 0)
    fail(op, "padding must be non-negative, got " + pair_str(padding));
  if (dilation.first < 1 || dilation.second < 1)
    fail(op, "dilation must be positive, got " + pair_str(dilation));
  if (groups < 1) fail(op, "groups must be >= 1, got " + std::to_string(groups));

  require_float(op, input.name, input.a);
  for (const Arg& arg : {weight, output})
    require_same_dtype(op, arg.name, arg.a, input.name, input.a);
  const char* layouts[] = {"(N, C_in, H, W)", "(C_out, C_in / groups, kH, kW)",
                           "(N, C_out, H_out, W_out)"};
  int role = 0;
  for (const Arg& arg : {input, weight, output}) {
    if (arg.a.ndim() != 4)
      fail(op, std::string(arg.name) + " must be 4-D " + layouts[role] + ", got shape " +
                   shape_str(arg.a));
    require_contiguous(op, arg.name, arg.a);
    ++role;
  }

  const py::array &x = input.a, &w = weight.a, &y = output.a;
  const std::string x_desc = std::string(input.name) + " (N, C_in, H, W) = " + shape_str(x);
  const std::string w_desc =
      std::string(weight.name) + " (C_out, C_in / groups, kH, kW) = " + shape_str(w);
  cpu::Conv2dShape s{};
  s.N = x.shape(0), s.C_in = x.shape(1), s.H = x.shape(2), s.W = x.shape(3);
  s.C_out = w.shape(0), s.kH = w.shape(2), s.kW = w.shape(3);
  s.stride_h = stride.first, s.stride_w = stride.second;
  s.pad_h = padding.first, s.pad_w = padding.second;
  s.dil_h = dilation.first, s.dil_w = dilation.second;
  s.groups = groups;

  if (s.C_in % groups != 0 || s.C_out % groups != 0)
    fail(op, "groups = " + std::to_string(groups) + " must divide C_in = " +
                 std::to_string(s.C_in) + " and C_out = " + std::to_string(s.C_out) + " (" +
                 x_desc + ", " + w_desc + ")");
  if (w.shape(1) != s.C_in / groups)
    fail(op, w_desc + " does not fit " + x_desc + " with groups = " + std::to_string(groups) +
                 ": expected C_in / groups = " + std::to_string(s.C_in / groups) +
                 " in dimension 1");
  if (s.kH < 1 || s.kW < 1) fail(op, w_desc + ": the kernel must be at least 1 x 1");

  // The dilated kernel spans dil * (k - 1) + 1 pixels; at least one window must fit.
  const int64_t span_h = s.dil_h * (s.kH - 1) + 1, span_w = s.dil_w * (s.kW - 1) + 1;
  const int64_t padded_h = s.H + 2 * s.pad_h, padded_w = s.W + 2 * s.pad_w;
  if (span_h > padded_h || span_w > padded_w)
    fail(op, "the kernel " + pair_str(s.kH, s.kW) + " with dilation " + pair_str(dilation) +
                 " spans " + pair_str(span_h, span_w) + " pixels, more than the padded input: " +
                 x_desc + " with padding " + pair_str(padding) + " is " +
                 pair_str(padded_h, padded_w) + " (" + w_desc + ")");
  s.H_out = (padded_h - span_h) / s.stride_h + 1;
  s.W_out = (padded_w - span_w) / s.stride_w + 1;
  require_workspace(op, s, x.size() + w.size() + y.size());

  const py::ssize_t expected[4] = {s.N, s.C_out, s.H_out, s.W_out};
  bool same = true;
  for (int i = 0; i < 4; ++i) same = same && y.shape(i) == expected[i];
  if (!same)
    fail(op, std::string(output.name) + " has shape " + shape_str(y) + " but " + x_desc + ", " +
                 w_desc + ", stride " + pair_str(stride) + ", padding " + pair_str(padding) +
                 ", dilation " + pair_str(dilation) + ", groups " + std::to_string(groups) +
                 " give (N, C_out, H_out, W_out) = " + tuple_str(expected, 4));
  return s;
}

// The kernels write their output while reading both inputs: it may share no memory with them,
// not even be one of them.
inline void require_separate_output(const char* op, Arg out,
                                    std::initializer_list<Arg> inputs) {
  require_writeable(op, out.name, out.a);
  for (const Arg& in : inputs) require_disjoint(op, out.name, out.a, in.name, in.a);
}

}  // namespace minigen
