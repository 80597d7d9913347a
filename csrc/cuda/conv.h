// 2-D convolution kernels for CUDA (csrc/cuda/conv.cu), instantiated for float and double.
//
// The contract of csrc/cpu/conv.h, on device memory: the same three primitives, the same sizes
// (cpu::Conv2dShape), outputs written (never accumulated into) and sharing no memory with the
// inputs, every shape checked by the caller (csrc/cuda/bind_conv.cc runs csrc/check_conv.h).
// Each launcher queues its kernels on `stream` and returns; impl picks the plain or the fast ones.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cpu/conv.h"
#include "impl.h"

namespace minigen::cuda {

using cpu::Conv2dShape;

// y = conv2d(x, w): x (N, C_in, H, W), w (C_out, C_in/groups, kH, kW) -> y (N, C_out, H_out, W_out)
template <typename T>
void conv2d_fwd(Impl impl, const Conv2dShape& s, const T* x, const T* w, T* y,
                cudaStream_t stream);

// gx = the adjoint of conv2d_fwd applied to gy (conv_transpose2d's forward)
template <typename T>
void conv2d_bwd_input(Impl impl, const Conv2dShape& s, const T* gy, const T* w, T* gx,
                      cudaStream_t stream);

// gw = the gradient of conv2d with respect to w. The fast kernel splits its long sum over samples
// and pixels into conv2d_bwd_weight_workspace_size(s) / (C_out * C_in/groups * kH * kW) chunks
// when `workspace` holds that many elements, partial sums that a second kernel adds up; with
// workspace == nullptr, or a size of 0, it runs the sum whole.
template <typename T>
void conv2d_bwd_weight(Impl impl, const Conv2dShape& s, const T* x, const T* gy, T* gw,
                       T* workspace, cudaStream_t stream);

// The elements of T that conv2d_bwd_weight's fast kernel asks for in `workspace`: 0 where one
// undivided sum gives the GPU enough blocks, else chunks * gw's size. Never more than gw's size
// plus about a million (the split stops at kTargetTiles tiles of 64 x 64; csrc/cuda/conv.cu).
int64_t conv2d_bwd_weight_workspace_size(const Conv2dShape& s);

}  // namespace minigen::cuda
