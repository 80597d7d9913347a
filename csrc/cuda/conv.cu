// 2-D convolution on the GPU: conv2d forward and its two gradients, NCHW (csrc/cuda/conv.h).
//
// Contents, each a template instantiated for float and double (g = groups, in_ch = C_in / g and
// out_ch = C_out / g the channels of one group):
//   plain kernels   one thread per output element, a direct loop over the terms of its sum, in
//                   the order of the CPU's reference loops (csrc/cpu/conv.cc):
//     FwdRef          y[n, o, i, j]
//     BwdInputRef     gx[n, c, h, w], a gather: the taps and output pixels that reach it
//     BwdWeightRef    gw[o, c, p, q], a loop over the samples and output pixels
//   fast kernels    implicit GEMMs on the tiled engine (csrc/cuda/gemm_tiles.cuh): each Map gives
//                   the engine a GEMM's sizes and its index maps, which read the unrolled input
//                   (im2col) straight from the image, zeros in the padding, and never write it;
//                   they split indices with FastDiv (a multiplication for a division):
//     FwdGemm         y[:, g] (out_ch, N * H_out * W_out) = w[g] (out_ch, in_ch kH kW) @ cols
//     BwdInputGemm    gx[:, g] = w[g]^T @ gy[:, g] placed back on the image, one GEMM per group
//                     and stride phase (Axis), so that no tap is spent on pixels it cannot reach
//     BwdWeightGemm   gw[g] (out_ch, in_ch kH kW) = gy[:, g] @ cols^T, its long sum (over samples
//                     and pixels) split into chunks written apart; SumChunks adds them up
//   launchers       at the end
//
// Results: the plain kernels equal the CPU's references bit for bit (same terms, same order, no
// fused multiply-add); the fast ones differ from them by summation order only, with one
// exception: BwdInputGemm multiplies a weight by the 0 of a zero-padded gy where a tap's output
// pixel lies outside gy (at the border of gx), so an infinite or NaN weight makes those gx
// pixels NaN, where the references add no such term. No kernel uses atomics: every result is
// deterministic, the same from run to run. Plain kernels index in int64, fast ones split their
// indices in 32 bits: a convolution too large for that runs the plain kernel.

#include <algorithm>
#include <initializer_list>
#include <numeric>

#include "cuda/conv.h"
#include "cuda/gemm_tiles.cuh"
#include "cuda/launch.cuh"

namespace minigen::cuda {
namespace {

// (i / (b c), i / c % b, i % c): the indices of element i of an array of shape (_, b, c).
struct Index3 {
  int64_t i0, i1, i2;
};

__device__ inline Index3 split3(int64_t i, int64_t b, int64_t c) {
  const int64_t rest = i / c;
  return {rest / b, rest % b, i % c};
}

// x[n, c, h, w], or the 0 of the padding where (h, w) lies outside the image.
template <typename T>
__device__ T pixel_or_zero(const Conv2dShape& s, const T* x, int64_t n, int64_t c, int64_t h,
                           int64_t w) {
  const bool inside = h >= 0 && h < s.H && w >= 0 && w < s.W;
  return inside ? x[((n * s.C_in + c) * s.H + h) * s.W + w] : T(0);
}

// ---- Plain kernels ----------------------------------------------------------------------------

// a * b, rounded before it is added: nvcc would fuse `sum + a * b` into one FMA, which rounds
// once, where the CPU's reference loops (built for any x86-64, which has no FMA) round twice.
__device__ inline float product(float a, float b) { return __fmul_rn(a, b); }
__device__ inline double product(double a, double b) { return __dmul_rn(a, b); }

// out[i] = at(i) for every i < n: one thread per output element (a grid-stride loop).
template <typename T, typename At>
__global__ void compute_each(int64_t n, At at, T* out) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) out[i] = at(i);
}

template <typename T, typename At>
void launch_each(const char* op, int64_t n, At at, T* out, cudaStream_t stream) {
  if (n == 0) return;
  compute_each<<<grid_for(n), kBlock, 0, stream>>>(n, at, out);
  check_launch(op);
}

// y[n, o, i, j] = sum over the channels c of o's group and the taps (p, q) of
//                 x[n, c, i * stride_h - pad_h + p * dil_h, j * stride_w - pad_w + q * dil_w]
//                 * w[o, c - first channel of the group, p, q]
template <typename T>
struct FwdRef {
  Conv2dShape s;
  const T* x;
  const T* w;
  __device__ T operator()(int64_t e) const {
    const auto [no, i, j] = split3(e, s.H_out, s.W_out);
    const int64_t n = no / s.C_out, o = no % s.C_out;
    const int64_t in_ch = s.C_in / s.groups, c0 = o / (s.C_out / s.groups) * in_ch;
    T sum = 0;
    for (int64_t c = 0; c < in_ch; ++c)
      for (int64_t p = 0; p < s.kH; ++p)
        for (int64_t q = 0; q < s.kW; ++q)
          sum += product(pixel_or_zero(s, x, n, c0 + c, i * s.stride_h - s.pad_h + p * s.dil_h,
                                       j * s.stride_w - s.pad_w + q * s.dil_w),
                         w[((o * in_ch + c) * s.kH + p) * s.kW + q]);
    return sum;
  }
};

// gx[n, c, h, w] = sum of gy[n, o, i, j] * w[o, c - first channel of the group, p, q] over the
// output channels o of c's group and the taps (p, q) that reach (h, w) from an output pixel
// (i, j): h = i * stride_h - pad_h + p * dil_h, so i = (h + pad_h - p * dil_h) / stride_h where
// that is whole and inside gy (likewise j). Each thread sums its own element: no atomics. The
// taps run backwards so that i, then j, increase: the order in which the CPU's reference adds.
template <typename T>
struct BwdInputRef {
  Conv2dShape s;
  const T* gy;
  const T* w;
  __device__ T operator()(int64_t e) const {
    const auto [nc, h, wc] = split3(e, s.H, s.W);
    const int64_t n = nc / s.C_in, c = nc % s.C_in;
    const int64_t in_ch = s.C_in / s.groups, out_ch = s.C_out / s.groups;
    const int64_t o0 = c / in_ch * out_ch, cg = c % in_ch;
    T sum = 0;
    for (int64_t o = o0; o < o0 + out_ch; ++o)
      for (int64_t p = s.kH - 1; p >= 0; --p) {
        const int64_t ih = h + s.pad_h - p * s.dil_h;  // i * stride_h
        if (ih < 0 || ih % s.stride_h != 0 || ih / s.stride_h >= s.H_out) continue;
        for (int64_t q = s.kW - 1; q >= 0; --q) {
          const int64_t jw = wc + s.pad_w - q * s.dil_w;  // j * stride_w
          if (jw < 0 || jw % s.stride_w != 0 || jw / s.stride_w >= s.W_out) continue;
          sum += product(gy[((n * s.C_out + o) * s.H_out + ih / s.stride_h) * s.W_out +
                            jw / s.stride_w],
                         w[((o * in_ch + cg) * s.kH + p) * s.kW + q]);
        }
      }
    return sum;
  }
};

// gw[o, c, p, q] = sum over n, i, j of gy[n, o, i, j] * (the x that multiplies w[o, c, p, q] in
//                  y[n, o, i, j], 0 in the padding)
template <typename T>
struct BwdWeightRef {
  Conv2dShape s;
  const T* x;
  const T* gy;
  __device__ T operator()(int64_t e) const {
    const int64_t in_ch = s.C_in / s.groups;
    const auto [oc, p, q] = split3(e, s.kH, s.kW);
    const int64_t o = oc / in_ch, c = o / (s.C_out / s.groups) * in_ch + oc % in_ch;
    T sum = 0;
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < s.H_out; ++i)
        for (int64_t j = 0; j < s.W_out; ++j)
          sum += product(gy[((n * s.C_out + o) * s.H_out + i) * s.W_out + j],
                         pixel_or_zero(s, x, n, c, i * s.stride_h - s.pad_h + p * s.dil_h,
                                       j * s.stride_w - s.pad_w + q * s.dil_w));
    return sum;
  }
};

// ---- Fast kernels: implicit GEMMs -------------------------------------------------------------
// A Map describes one batched GEMM C_z = A_z @ B_z to the engine: its sizes (GemmSizes) and
// three __device__ functions a(z, m, k), b(z, k, n) and store(z, m, n, value). The engine takes
// the three as separate functors; these pass each call on to the map.

template <typename Map>
struct LoadA {
  Map map;
  __device__ auto operator()(int64_t z, int64_t m, int64_t k) const { return map.a(z, m, k); }
};

template <typename Map>
struct LoadB {
  Map map;
  __device__ auto operator()(int64_t z, int64_t k, int64_t n) const { return map.b(z, k, n); }
};

template <typename Map>
struct StoreC {
  Map map;
  template <typename T>
  __device__ void operator()(int64_t z, int64_t m, int64_t n, T value) const {
    map.store(z, m, n, value);
  }
};

template <typename T, typename Map>
void launch_gemm(const char* op, const Map& map, cudaStream_t stream) {
  launch_tiled_gemm<T>(op, map.batches, map.M, map.N, map.K, LoadA<Map>{map}, LoadB<Map>{map},
                       StoreC<Map>{map}, stream);
}

// n / d for 0 <= n < 2^31 and 1 <= d <= 2^31 by a multiplication and a shift: n * mul >> shift
// with shift = 31 + ceil(log2 d) and mul = ceil(2^shift / d) < 2^32. GPUs have no integer
// divider: a division by a number known only at run time costs about 20 instructions (this, 2),
// and the maps split every index the engine gives them, in the GEMM's inner loop; nor can the
// compiler hoist a true division out of a loop (it might divide by 0). It is exact: mul * d =
// 2^shift + e with 0 <= e < d <= 2^(shift - 31), so n * mul / 2^shift = n / d + n e / (d 2^shift)
// exceeds n / d by less than 1 / d (n e < 2^shift), too little to reach the next integer.
struct FastDiv {
  uint32_t mul, shift;
  explicit FastDiv(int64_t d) : shift(31) {
    // A divisor of 0 (an image of height 0) or past 2^31 (a kernel that tall over no channels)
    // comes only with an empty GEMM, which divides nothing.
    d = std::clamp<int64_t>(d, 1, int64_t{1} << 31);
    while ((int64_t{1} << (shift - 31)) < d) ++shift;
    mul = static_cast<uint32_t>(((uint64_t{1} << shift) + d - 1) / d);
  }
  __device__ uint32_t operator()(uint32_t n) const {
    return static_cast<uint32_t>((uint64_t{n} * mul) >> shift);
  }
};

// split3 by FastDivs, for indices i < 2^31 of an array (_, b, c).
struct Split3 {
  uint32_t b, c;
  FastDiv by_b, by_c;
  Split3(int64_t b, int64_t c)
      : b(static_cast<uint32_t>(b)), c(static_cast<uint32_t>(c)), by_b(b), by_c(c) {}
  __device__ Index3 operator()(int64_t i) const {
    const uint32_t rest = by_c(static_cast<uint32_t>(i)), i0 = by_b(rest);
    return {i0, rest - i0 * b, static_cast<uint32_t>(i) - rest * c};
  }
};

// The maps split indices with FastDivs, whose dividends must be < 2^31: each map's
// fits_31_bits() says whether every index it splits is, and where not (a convolution with a
// 2^31-pixel output, say, which no real network has) the launchers run the plain kernel.
bool below_2_31(std::initializer_list<int64_t> sizes) {
  return std::all_of(sizes.begin(), sizes.end(), [](int64_t v) { return v < (int64_t{1} << 31); });
}

// A map's GEMM: C_z (M x N) = A_z (M x K) @ B_z (K x N) for z < batches.
struct GemmSizes {
  int64_t batches, M, N, K;
};

// The unrolled input of group g, cols[(c, p, q), (n, i, j)] =
// x[n, g in_ch + c, i * stride_h - pad_h + p * dil_h, j * stride_w - pad_w + q * dil_w]:
// a row per tap of a channel, a column per output pixel of a sample.
template <typename T>
struct Unrolled {
  Conv2dShape s;
  const T* x;
  int64_t in_ch;
  Split3 taps, pixels;  // row (c, p, q), column (n, i, j)
  Unrolled(const Conv2dShape& s, const T* x)
      : s(s), x(x), in_ch(s.C_in / s.groups), taps(s.kH, s.kW), pixels(s.H_out, s.W_out) {}
  __device__ T operator()(int64_t g, int64_t row, int64_t column) const {
    const auto [c, p, q] = taps(row);
    const auto [n, i, j] = pixels(column);
    return pixel_or_zero(s, x, n, g * in_ch + c, i * s.stride_h - s.pad_h + p * s.dil_h,
                         j * s.stride_w - s.pad_w + q * s.dil_w);
  }
};

// conv2d_fwd, one GEMM per group (z = g) with every sample's pixels side by side in its columns,
// so that small images (a 4 x 4 output has 16 pixels) still fill whole tiles.
template <typename T>
struct FwdGemm : GemmSizes {
  Unrolled<T> cols;
  const T* w;
  T* y;
  FwdGemm(const Conv2dShape& s, const T* x, const T* w, T* y)
      : GemmSizes{s.groups, s.C_out / s.groups, s.N * s.H_out * s.W_out,
                  s.C_in / s.groups * s.kH * s.kW},
        cols(s, x), w(w), y(y) {}
  bool fits_31_bits() const { return below_2_31({K, N}); }
  __device__ T a(int64_t g, int64_t m, int64_t k) const { return w[(g * M + m) * K + k]; }
  __device__ T b(int64_t g, int64_t k, int64_t n) const { return cols(g, k, n); }
  __device__ void store(int64_t g, int64_t m, int64_t n, T value) const {
    const auto [sample, i, j] = cols.pixels(n);
    y[(((sample * cols.s.groups + g) * M + m) * cols.s.H_out + i) * cols.s.W_out + j] = value;
  }
};

// conv2d_bwd_input along one axis (height or width). Tap p reaches input pixel
// h = i * stride - pad + p * dil from output pixel i, and only the taps for which i comes out
// whole reach a given h: with gcd = gcd(stride, dil), one in step = stride / gcd. So the taps
// split into classes r = p mod step (r < step), and the taps r, r + step, r + 2 step, ... of a
// class reach exactly the input pixels of one phase, h = phase + a * stride (a = 0, 1, ...), the
// t-th of them from output pixel i = a + base - t * jump, jump = dil / gcd. Class by class the
// gather is a dense GEMM: no tap spent on a pixel it cannot reach (3 in 4 for stride 2 in 2-D).
// Distinct classes have distinct phases; where fewer classes than stride have a tap (a kernel
// smaller than step, or gcd > 1) the phases left over are pixels no tap reaches, zeros.
struct Axis {
  int64_t stride, pad, dil, kernel, out;  // out: H_out (or W_out)
  int64_t step, jump;
  int64_t classes;  // the classes with a tap: min(step, kernel)
  int64_t taps;     // the most taps of a class: ceil(kernel / step)
  int64_t pixels;   // the most input pixels of a phase: ceil(H / stride)
  int64_t lift;     // ceil(pad / stride): r * dil - pad + lift * stride >= 0
  FastDiv by_stride;
  Axis(int64_t stride, int64_t pad, int64_t dil, int64_t kernel, int64_t in, int64_t out)
      : stride(stride), pad(pad), dil(dil), kernel(kernel), out(out),
        step(stride / std::gcd(stride, dil)), jump(dil / std::gcd(stride, dil)),
        classes(std::min(step, kernel)), taps((kernel + step - 1) / step),
        pixels((in + stride - 1) / stride), lift((pad + stride - 1) / stride),
        by_stride(stride) {}
  bool covers_every_phase() const { return classes == stride; }
  // The largest dividend of by_stride, in class(): under 2^31 where fits_31_bits.
  int64_t largest_lifted() const { return (classes - 1) * dil + lift * stride; }

  // Class r's phase ((r * dil - pad) mod stride) and base, from e = r * dil - pad + lift * stride
  // = (lift - base) * stride + phase (>= 0, so that FastDiv divides it).
  struct Class {
    int64_t phase, base;
  };
  __device__ Class of(int64_t r) const {
    const int64_t e = r * dil - pad + lift * stride, q = by_stride(e);
    return {e - q * stride, lift - q};
  }
  // Tap t of a class r, or -1 past the kernel (a class may have one tap fewer than `taps`).
  __device__ int64_t tap(int64_t r, int64_t t) const {
    const int64_t p = r + t * step;
    return p < kernel ? p : -1;
  }
  // The output pixel from which tap t of class c reaches input pixel a of its phase, or -1
  // outside gy.
  __device__ int64_t source(Class c, int64_t t, int64_t a) const {
    const int64_t i = a + c.base - t * jump;
    return i >= 0 && i < out ? i : -1;
  }
};

// conv2d_bwd_input, one GEMM per group and class pair (z = (g, r_h, r_w)):
//   gx[n, g in_ch + c, phase_h + a stride_h, phase_w + b stride_w]
//     = sum over (o, t_h, t_w) of w[g out_ch + o, c, p, q] * gy[n, g out_ch + o, i, j]
// with p, q the taps t_h, t_w of the classes and i, j their sources. M = in_ch, N = (n, a, b),
// K = (o, t_h, t_w); a tap past the kernel is 0 in both factors, a source outside gy 0 in gy's.
template <typename T>
struct BwdInputGemm : GemmSizes {
  Conv2dShape s;
  Axis height, width;
  const T* gy;
  const T* w;
  T* gx;
  int64_t out_ch;
  Split3 classes, taps, pixels;  // z = (g, r_h, r_w), k = (o, t_h, t_w), n = (sample, a, b)
  BwdInputGemm(const Conv2dShape& s, const T* gy, const T* w, T* gx, const Axis& height,
               const Axis& width)
      : GemmSizes{s.groups * height.classes * width.classes, s.C_in / s.groups,
                  s.N * height.pixels * width.pixels,
                  s.C_out / s.groups * height.taps * width.taps},
        s(s), height(height), width(width), gy(gy), w(w), gx(gx), out_ch(s.C_out / s.groups),
        classes(height.classes, width.classes), taps(height.taps, width.taps),
        pixels(height.pixels, width.pixels) {}
  BwdInputGemm(const Conv2dShape& s, const T* gy, const T* w, T* gx)
      : BwdInputGemm(s, gy, w, gx, Axis(s.stride_h, s.pad_h, s.dil_h, s.kH, s.H, s.H_out),
                     Axis(s.stride_w, s.pad_w, s.dil_w, s.kW, s.W, s.W_out)) {}
  bool fits_31_bits() const {
    return below_2_31({batches, K, N, height.largest_lifted(), width.largest_lifted()});
  }

  __device__ T a(int64_t z, int64_t m, int64_t k) const {
    const auto [g, rh, rw] = classes(z);
    const auto [o, th, tw] = taps(k);
    const int64_t p = height.tap(rh, th), q = width.tap(rw, tw);
    if (p < 0 || q < 0) return T(0);
    return w[(((g * out_ch + o) * M + m) * s.kH + p) * s.kW + q];
  }
  __device__ T b(int64_t z, int64_t k, int64_t n) const {
    const auto [g, rh, rw] = classes(z);
    const auto [o, th, tw] = taps(k);
    const auto [sample, ah, aw] = pixels(n);
    if (height.tap(rh, th) < 0 || width.tap(rw, tw) < 0) return T(0);
    const int64_t i = height.source(height.of(rh), th, ah);
    const int64_t j = width.source(width.of(rw), tw, aw);
    if (i < 0 || j < 0) return T(0);
    return gy[(((sample * s.groups + g) * out_ch + o) * s.H_out + i) * s.W_out + j];
  }
  __device__ void store(int64_t z, int64_t m, int64_t n, T value) const {
    const auto [g, rh, rw] = classes(z);
    const auto [sample, ah, aw] = pixels(n);
    const int64_t h = height.of(rh).phase + ah * s.stride_h;
    const int64_t wc = width.of(rw).phase + aw * s.stride_w;
    if (h < s.H && wc < s.W)  // a phase's last row or column may lie past the image
      gx[(((sample * s.groups + g) * M + m) * s.H + h) * s.W + wc] = value;
  }
};

// conv2d_bwd_weight: gw's GEMM is small (out_ch x in_ch kH kW per group) and its sum long
// (N H_out W_out), so as one GEMM it runs on few blocks, each along the whole sum. Cut into
// `chunks` pieces of `length` terms, it runs one GEMM per chunk and group (z = (chunk, g)), each
// writing its partial sums to its own copy of gw (`out`: the workspace, or gw itself when
// there is one chunk); SumChunks then adds the copies in chunk order. The last chunk may reach
// past the sum: its terms there are 0 in both factors.
template <typename T>
struct BwdWeightGemm : GemmSizes {
  Unrolled<T> cols;
  const T* gy;
  T* out;
  int64_t groups;
  int64_t terms;      // N * H_out * W_out: the length of the sum
  FastDiv by_groups;  // z = (chunk, g)
  BwdWeightGemm(const Conv2dShape& s, const T* x, const T* gy, T* out, int64_t chunks)
      : GemmSizes{chunks * s.groups, s.C_out / s.groups, s.C_in / s.groups * s.kH * s.kW,
                  (s.N * s.H_out * s.W_out + chunks - 1) / chunks},
        cols(s, x), gy(gy), out(out), groups(s.groups), terms(s.N * s.H_out * s.W_out),
        by_groups(s.groups) {}
  bool fits_31_bits() const { return below_2_31({batches, N, batches / groups * K}); }

  // term k of chunk z / groups: an output pixel of a sample, or -1 past the sum
  __device__ int64_t term(int64_t z, int64_t k) const {
    const int64_t t = by_groups(z) * K + k;
    return t < terms ? t : -1;
  }
  __device__ int64_t group(int64_t z) const { return z - by_groups(z) * groups; }
  __device__ T a(int64_t z, int64_t m, int64_t k) const {
    const int64_t t = term(z, k);
    if (t < 0) return T(0);
    const auto [sample, i, j] = cols.pixels(t);
    return gy[(((sample * groups + group(z)) * M + m) * cols.s.H_out + i) * cols.s.W_out + j];
  }
  __device__ T b(int64_t z, int64_t k, int64_t n) const {
    const int64_t t = term(z, k);
    return t < 0 ? T(0) : cols(group(z), n, t);
  }
  // chunk z / groups, group z % groups: copy z / groups of gw, at its group's rows
  __device__ void store(int64_t z, int64_t m, int64_t n, T value) const {
    out[(z * M + m) * N + n] = value;
  }
};

// gw[e] = the chunks' partial sums of element e, added in chunk order.
template <typename T>
struct SumChunks {
  const T* partial;
  int64_t size, chunks;
  __device__ T operator()(int64_t e) const {
    T sum = partial[e];
    for (int64_t c = 1; c < chunks; ++c) sum += partial[c * size + e];
    return sum;
  }
};

// The chunks of conv2d_bwd_weight's fast kernel: enough for about kTargetTiles tiles of 64 x 64
// (two per multiprocessor of an H100, which has 132), each chunk at least kMinChunk terms long
// (a shorter one would spend more on its partial sums' trip through memory than it gains).
// The workspace is then chunks * gw's size < (kTargetTiles / tiles + 1) * gw's size, and gw's
// size <= tiles * 64 * 64: at most gw's size plus kTargetTiles * 64 * 64 elements (about 1.1M).
constexpr int64_t kTargetTiles = 264, kMinChunk = 256;

int64_t bwd_weight_chunks(const Conv2dShape& s) {
  const int64_t M = s.C_out / s.groups, N = s.C_in / s.groups * s.kH * s.kW;
  const int64_t tiles = s.groups * ((M + 63) / 64) * ((N + 63) / 64);
  if (tiles == 0) return 1;
  const int64_t wanted = (kTargetTiles + tiles - 1) / tiles;
  return std::max<int64_t>(1, std::min(wanted, s.N * s.H_out * s.W_out / kMinChunk));
}

}  // namespace

// ---- Launchers --------------------------------------------------------------------------------

template <typename T>
void conv2d_fwd(Impl impl, const Conv2dShape& s, const T* x, const T* w, T* y,
                cudaStream_t stream) {
  const char* op = "conv2d_fwd";
  const FwdGemm<T> gemm(s, x, w, y);
  if (impl == Impl::ref || !gemm.fits_31_bits())
    return launch_each(op, s.N * s.C_out * s.H_out * s.W_out, FwdRef<T>{s, x, w}, y, stream);
  launch_gemm<T>(op, gemm, stream);
}

template <typename T>
void conv2d_bwd_input(Impl impl, const Conv2dShape& s, const T* gy, const T* w, T* gx,
                      cudaStream_t stream) {
  const char* op = "conv2d_bwd_input";
  const int64_t size = s.N * s.C_in * s.H * s.W;
  const BwdInputGemm<T> gemm(s, gy, w, gx);
  if (impl == Impl::ref || !gemm.fits_31_bits())
    return launch_each(op, size, BwdInputRef<T>{s, gy, w}, gx, stream);
  if (size > 0 && !(gemm.height.covers_every_phase() && gemm.width.covers_every_phase()))
    check(cudaMemsetAsync(gx, 0, size * sizeof(T), stream), op);  // the phases no tap reaches
  launch_gemm<T>(op, gemm, stream);
}

int64_t conv2d_bwd_weight_workspace_size(const Conv2dShape& s) {
  const int64_t chunks = bwd_weight_chunks(s);
  return chunks > 1 ? chunks * s.C_out * (s.C_in / s.groups) * s.kH * s.kW : 0;
}

template <typename T>
void conv2d_bwd_weight(Impl impl, const Conv2dShape& s, const T* x, const T* gy, T* gw,
                       T* workspace, cudaStream_t stream) {
  const char* op = "conv2d_bwd_weight";
  const int64_t size = s.C_out * (s.C_in / s.groups) * s.kH * s.kW;
  const int64_t chunks = workspace == nullptr ? 1 : bwd_weight_chunks(s);
  const BwdWeightGemm<T> gemm(s, x, gy, chunks > 1 ? workspace : gw, chunks);
  if (impl == Impl::ref || !gemm.fits_31_bits())
    return launch_each(op, size, BwdWeightRef<T>{s, x, gy}, gw, stream);
  launch_gemm<T>(op, gemm, stream);
  if (chunks > 1) launch_each(op, size, SumChunks<T>{workspace, size, chunks}, gw, stream);
}

#define MINIGEN_INSTANTIATE(T)                                                                 \
  template void conv2d_fwd<T>(Impl, const Conv2dShape&, const T*, const T*, T*, cudaStream_t); \
  template void conv2d_bwd_input<T>(Impl, const Conv2dShape&, const T*, const T*, T*,          \
                                    cudaStream_t);                                             \
  template void conv2d_bwd_weight<T>(Impl, const Conv2dShape&, const T*, const T*, T*, T*,     \
                                     cudaStream_t);
MINIGEN_INSTANTIATE(float)
MINIGEN_INSTANTIATE(double)
#undef MINIGEN_INSTANTIATE

}  // namespace minigen::cuda
