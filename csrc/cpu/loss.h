// Binary cross-entropy kernels for the CPU (csrc/cpu/loss.cc), instantiated for float and double.
//
// All arrays are n contiguous elements (any tensor shape, seen flat); the loss is elementwise and
// the reduction (mean, sum, weights) happens in Python, in differentiable ops. The caller
// allocates the outputs and has checked shapes, dtypes and contiguity (csrc/bind_loss.cc).
#pragma once

#include <cstdint>

namespace minigen::cpu {

// l = -(t log p + (1 - t) log(1 - p)), each log clamped below at -100 as in PyTorch.
// Returns the index of the first p outside [0, 1] (nothing written past it), or -1. NaN passes.
template <typename T>
int64_t bce_fwd_ref(const T* p, const T* t, T* l, int64_t n);
template <typename T>
int64_t bce_fwd_fast(const T* p, const T* t, T* l, int64_t n);

// gp = gy (p - t) / max(p (1 - p), 1e-12), PyTorch's backward (the clamp keeps p = 0, 1 finite).
template <typename T>
void bce_bwd_ref(const T* p, const T* t, const T* gy, T* gp, int64_t n);
template <typename T>
void bce_bwd_fast(const T* p, const T* t, const T* gy, T* gp, int64_t n);

// From logits x: l = max(x, 0) - x t + log(1 + exp(-|x|)), which never overflows.
template <typename T>
void bce_logits_fwd_ref(const T* x, const T* t, T* l, int64_t n);
template <typename T>
void bce_logits_fwd_fast(const T* x, const T* t, T* l, int64_t n);

// gx = gy (sigmoid(x) - t)
template <typename T>
void bce_logits_bwd_ref(const T* x, const T* t, const T* gy, T* gx, int64_t n);
template <typename T>
void bce_logits_bwd_fast(const T* x, const T* t, const T* gy, T* gx, int64_t n);

}  // namespace minigen::cpu
