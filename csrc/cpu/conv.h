// 2-D convolution kernels for the CPU (csrc/cpu/conv.cc), instantiated for float and double.
//
// Three primitives make every conv2d, conv_transpose2d and all their gradients:
//   conv2d_fwd          x (N, C_in, H, W), w (C_out, C_in/groups, kH, kW)
//                       -> y (N, C_out, H_out, W_out)
//   conv2d_bwd_input    gy (N, C_out, H_out, W_out), w -> gx (N, C_in, H, W)
//   conv2d_bwd_weight   x, gy -> gw (C_out, C_in/groups, kH, kW)
// y is PyTorch's conv2d (a cross-correlation, no bias); bwd_input is its adjoint (also
// conv_transpose2d's forward), bwd_weight its gradient with respect to w. Arrays are NCHW,
// C-contiguous, and outputs share no memory with inputs. Outputs are written, never accumulated
// into. The caller allocates them and has checked every shape (csrc/bind_conv.cc).
#pragma once

#include <cstdint>

namespace minigen::cpu {

// Sizes and hyper-parameters of one convolution, all as the forward conv2d sees them.
// H_out = (H + 2 * pad_h - dil_h * (kH - 1) - 1) / stride_h + 1, likewise W_out; for
// conv2d_bwd_input, H and W are gx's (conv_transpose2d's output_padding asks for more than the
// smallest H that gives H_out).
struct Conv2dShape {
  int64_t N, C_in, H, W;        // input x (or gx)
  int64_t C_out, H_out, W_out;  // output y (or gy)
  int64_t kH, kW;               // kernel
  int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
  int64_t groups;               // C_in and C_out split into `groups` independent convolutions
};

// y[n, o, i, j] = sum over the channels c of o's group and the taps (p, q) of
//                 x[n, c, i * stride_h - pad_h + p * dil_h, j * stride_w - pad_w + q * dil_w]
//                 * w[o, c - first channel of the group, p, q]
// (terms whose x index falls in the padding are 0)
template <typename T>
void conv2d_fwd_ref(const Conv2dShape& s, const T* x, const T* w, T* y);
template <typename T>
void conv2d_fwd_fast(const Conv2dShape& s, const T* x, const T* w, T* y);

// gx = the adjoint of conv2d_fwd applied to gy: every term x[...] * w[...] of y's sum
// adds gy[n, o, i, j] * w[o, c, p, q] to gx at that x index
template <typename T>
void conv2d_bwd_input_ref(const Conv2dShape& s, const T* gy, const T* w, T* gx);
template <typename T>
void conv2d_bwd_input_fast(const Conv2dShape& s, const T* gy, const T* w, T* gx);

// gw[o, c, p, q] = sum over n, i, j of gy[n, o, i, j] * (the x that multiplies w[o, c, p, q] in
//                  y[n, o, i, j])
template <typename T>
void conv2d_bwd_weight_ref(const Conv2dShape& s, const T* x, const T* gy, T* gw);
template <typename T>
void conv2d_bwd_weight_fast(const Conv2dShape& s, const T* x, const T* gy, T* gw);

}  // namespace minigen::cpu
