// 2-D convolution on the CPU: conv2d forward and its two gradients, NCHW.
//
// Contents, each a template instantiated for float and double (g = groups):
//   conv2d_fwd_ref / _fast          x (N, C_in, H, W), w (C_out, C_in/g, kH, kW)
//                                   -> y (N, C_out, H_out, W_out)
//   conv2d_bwd_input_ref / _fast    gy (N, C_out, H_out, W_out), w -> gx (N, C_in, H, W)
//   conv2d_bwd_weight_ref / _fast   x, gy -> gw (C_out, C_in/g, kH, kW)
// The references are one loop nest over every product x * w that conv2d sums, read three ways.
// The fast versions lower the convolution to matrix products (csrc/cpu/gemm.h), one chunk of a
// few samples of one group at a time:
//   pad_image   x[n, g] (C_in/g, H, W) -> the same inside a border of zeros (C_in/g, Hp, Wp)
//   cols        the unrolled input (C_in/g * kH * kW, H_out * W_out per sample): each window a
//               column. It is never written out: offset tables into the padded images
//               (`Unrolled`) describe it, the GEMM gathers its panels straight from the images as
//               it packs them (implicit im2col, gemm_gathered) or adds its results straight onto
//               the pixels they belong to (implicit col2im, gemm_scattered); crop_image then
//               drops the border
// then, with the chunk's samples side by side in the columns,
//   y[chunk, g] = w[g] @ cols,   cols += w[g]^T @ gy[chunk, g],   gw[g] += gy[chunk, g] @ cols^T.
// A kernel that covers the whole input needs none of this: the batch is one GEMM.
// The fast versions sum in a different order than the references (and with FMAs), so they
// agree to rounding, not bit for bit.

#include "cpu/conv.h"

#include <omp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "cpu/gemm.h"

namespace minigen::cpu {

namespace {

// Calls term(xi, wi, yi) for every product x[xi] * w[wi] that conv2d adds into y[yi] (flat
// indices into the three arrays). A tap that falls into the padding multiplies a 0: it comes
// with xi = kPadding. It adds nothing unless the other factor is inf or NaN, where 0 * inf = NaN:
// conv2d(pad(x), w) taken literally, as the fast versions (which multiply padded copies) and
// PyTorch's im2col path compute it. (PyTorch's oneDNN path skips such taps instead.)
constexpr int64_t kPadding = -1;

template <typename F>
void for_each_term(const Conv2dShape& s, F term) {
  const int64_t in_ch = s.C_in / s.groups, out_ch = s.C_out / s.groups;  // per group
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t o = 0; o < s.C_out; ++o)                // output channel
      for (int64_t oh = 0; oh < s.H_out; ++oh)           // output pixel (oh, ow)
        for (int64_t ow = 0; ow < s.W_out; ++ow)
          for (int64_t c = 0; c < in_ch; ++c)            // input channel within o's group
            for (int64_t p = 0; p < s.kH; ++p)           // kernel tap (p, q)
              for (int64_t q = 0; q < s.kW; ++q) {
                const int64_t ih = oh * s.stride_h - s.pad_h + p * s.dil_h;
                const int64_t iw = ow * s.stride_w - s.pad_w + q * s.dil_w;
                const bool in_padding = ih < 0 || ih >= s.H || iw < 0 || iw >= s.W;
                const int64_t ci = o / out_ch * in_ch + c;  // channel c of o's group
                term(in_padding ? kPadding : ((n * s.C_in + ci) * s.H + ih) * s.W + iw,
                     ((o * in_ch + c) * s.kH + p) * s.kW + q,
                     ((n * s.C_out + o) * s.H_out + oh) * s.W_out + ow);
              }
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Reference: read these first. Each output starts at zero and collects its terms.

// x[xi], or the 0 of the padding
template <typename T>
inline T input_at(const T* x, int64_t xi) {
  return xi == kPadding ? T(0) : x[xi];
}

template <typename T>
void conv2d_fwd_ref(const Conv2dShape& s, const T* x, const T* w, T* y) {
  std::fill_n(y, s.N * s.C_out * s.H_out * s.W_out, T(0));
  for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) { y[yi] += input_at(x, xi) * w[wi]; });
}

// A padding tap's gradient lands on the border, which gx does not have: dropped.
template <typename T>
void conv2d_bwd_input_ref(const Conv2dShape& s, const T* gy, const T* w, T* gx) {
  std::fill_n(gx, s.N * s.C_in * s.H * s.W, T(0));
  for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) {
    if (xi != kPadding) gx[xi] += gy[yi] * w[wi];
  });
}

template <typename T>
void conv2d_bwd_weight_ref(const Conv2dShape& s, const T* x, const T* gy, T* gw) {
  std::fill_n(gw, s.C_out * (s.C_in / s.groups) * s.kH * s.kW, T(0));
  for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) { gw[wi] += gy[yi] * input_at(x, xi); });
}

// ----------------------------------------------------------------------------------------------
// Fast: lower to the GEMM (on W2's layers about 100 times the speed of the loops above).

namespace {

// A kernel as large as the unpadded input (no dilation, one group) has one window, the whole
// image: the conv is a Linear layer, y (N, C_out) = x (N, C_in*H*W) @ w (C_out, C_in*H*W)^T,
// and the batch is one GEMM (threaded inside) with no lowering at all. W2's first
// ConvTranspose2d (1x1 -> 7x7) and D's last Conv2d (7x7 -> 1x1) are this case.
bool is_dense(const Conv2dShape& s) {
  return s.groups == 1 && s.kH == s.H && s.kW == s.W && s.pad_h == 0 && s.pad_w == 0 &&
         s.dil_h == 1 && s.dil_w == 1;
}

// Samples are lowered a few at a time, side by side: a GEMM with few columns (a 7x7 output
// has 49) wastes part of its register tiles at the edge and packs w again for every call, so
// it ran at half speed on W2's 7x7 layers; a chunk of samples gives it about kColumns columns.
constexpr int64_t kColumns = 384;

// Samples n0 .. n0 + count - 1 of group g, lowered together.
struct Chunk {
  int64_t n0, count, g;
  int64_t width;  // count * pixels: columns of the chunk's matrices
};

// The sizes of the lowering, and the work cut into items: item i is chunk i / groups in group
// i % groups. Threads share the items; each item's GEMM runs whole on the thread that owns it.
// On W2's layers (64 samples, 2 cores) this measured faster than one item at a time with the
// GEMM split over both threads: the lowering runs in parallel too.
struct Lowering {
  int64_t N, groups;
  int64_t in_ch, out_ch;  // channels per group
  int64_t rows;           // in_ch * kH * kW: columns of w[g] as a matrix, rows of cols
  int64_t pixels;         // H_out * W_out: columns per sample in cols
  int64_t image;          // H * W
  bool padded;            // whether a sample is copied into a zero border first
  int64_t padded_size;    // in_ch * (H + 2 pad_h) * (W + 2 pad_w)
  int64_t batch;          // samples per chunk
  int64_t items;          // chunks * groups
  int threads;            // OpenMP threads: no more than items
  explicit Lowering(const Conv2dShape& s)
      : N(s.N),
        groups(s.groups),
        in_ch(s.C_in / s.groups),
        out_ch(s.C_out / s.groups),
        rows(in_ch * s.kH * s.kW),
        pixels(s.H_out * s.W_out),
        image(s.H * s.W),
        padded(s.pad_h > 0 || s.pad_w > 0),
        padded_size(in_ch * (s.H + 2 * s.pad_h) * (s.W + 2 * s.pad_w)) {
    const int64_t max_threads = omp_get_max_threads();
    // enough samples for kColumns columns, but no fewer chunks than threads where N allows
    batch = std::clamp<int64_t>((kColumns + pixels - 1) / pixels, 1,
                                std::max<int64_t>(1, s.N / max_threads));
    items = (s.N + batch - 1) / batch * s.groups;
    threads = static_cast<int>(std::clamp<int64_t>(items, 1, max_threads));
  }
  // Scratch memory per thread: a chunk's outputs side by side (out_ch, batch * pixels) and its
  // samples padded (batch * padded_size, when padded).
  int64_t out_size() const { return out_ch * batch * pixels; }
  int64_t images_size() const { return padded ? batch * padded_size : 0; }
  int64_t scratch_size() const { return out_size() + images_size(); }
  // where sample n's group g starts in x (or gx) and in y (or gy)
  int64_t x_offset(int64_t n, int64_t g) const { return (n * groups + g) * in_ch * image; }
  int64_t y_offset(int64_t n, int64_t g) const { return (n * groups + g) * out_ch * pixels; }
  Chunk chunk(int64_t item) const {
    const int64_t n0 = item / groups * batch, count = std::min(batch, N - n0);
    return {n0, count, item % groups, count * pixels};
  }
};

// One thread's part of the scratch memory: the chunk's outputs side by side and its padded
// samples (their borders zeroed once, when there is padding).
template <typename T>
struct Workspace {
  T* side;
  T* images;
  Workspace(const Lowering& l, T* scratch, int thread)
      : side(scratch + thread * l.scratch_size()), images(side + l.out_size()) {
    std::fill_n(images, l.images_size(), T(0));
  }
};

// x_pad (in_ch, H + 2 pad_h, W + 2 pad_w) = one sample's channels x (in_ch, H, W) inside a
// border of pad zeros. Only the interior is written: the border must already hold zeros.
// With it, every window lies inside the image and the offset tables need no test at the border.
template <typename T>
void pad_image(const Conv2dShape& s, const T* x, T* x_pad) {
  const int64_t in_ch = s.C_in / s.groups, Hp = s.H + 2 * s.pad_h, Wp = s.W + 2 * s.pad_w;
  for (int64_t c = 0; c < in_ch; ++c)
    for (int64_t h = 0; h < s.H; ++h)
      std::copy_n(x + (c * s.H + h) * s.W, s.W, x_pad + (c * Hp + s.pad_h + h) * Wp + s.pad_w);
}

// gx (in_ch, H, W) = the interior of gx_pad (in_ch, H + 2 pad_h, W + 2 pad_w): what fell on
// the border (taps in the padding) is dropped.
template <typename T>
void crop_image(const Conv2dShape& s, const T* gx_pad, T* gx) {
  const int64_t in_ch = s.C_in / s.groups, Hp = s.H + 2 * s.pad_h, Wp = s.W + 2 * s.pad_w;
  for (int64_t c = 0; c < in_ch; ++c)
    for (int64_t h = 0; h < s.H; ++h)
      std::copy_n(gx_pad + (c * Hp + s.pad_h + h) * Wp + s.pad_w, s.W, gx + (c * s.H + h) * s.W);
}

// The offset tables that make a chunk's columns a Gathered matrix (csrc/cpu/gemm.h) over its
// samples, padded or as they are: cols[r, j] = images[taps[r] + pixels[j]], r = (c, p, q) a tap
// of a channel, j = (sample, oh, ow) an output pixel of a sample. The same tables serve every
// chunk of a call; only where the images start changes (`chunk_images`).
struct Unrolled {
  std::vector<int64_t> taps;    // rows: c * Hp * Wp + p * dil_h * Wp + q * dil_w
  std::vector<int64_t> pixels;  // batch * pixels columns: sample * its size + the window's corner
  Unrolled(const Conv2dShape& s, const Lowering& l) : taps(l.rows), pixels(l.batch * l.pixels) {
    const int64_t Hp = s.H + 2 * s.pad_h, Wp = s.W + 2 * s.pad_w;
    // consecutive samples: one padded image apart, or in x itself all the groups' channels apart
    const int64_t sample = l.padded ? l.padded_size : l.groups * l.in_ch * l.image;
    auto tap = taps.begin();
    for (int64_t c = 0; c < l.in_ch; ++c)
      for (int64_t p = 0; p < s.kH; ++p)
        for (int64_t q = 0; q < s.kW; ++q) *tap++ = (c * Hp + p * s.dil_h) * Wp + q * s.dil_w;
    auto pixel = pixels.begin();
    for (int64_t j = 0; j < l.batch; ++j)
      for (int64_t oh = 0; oh < s.H_out; ++oh)
        for (int64_t ow = 0; ow < s.W_out; ++ow)
          *pixel++ = j * sample + oh * s.stride_h * Wp + ow * s.stride_w;
  }
};

// Where the chunk's samples of group g start, as Unrolled's offsets see them: copied into this
// thread's padded images when there is padding, else in x itself.
template <typename T>
const T* chunk_images(const Conv2dShape& s, const Lowering& l, const Chunk& c, const T* x,
                      T* images) {
  if (!l.padded) return x + l.x_offset(c.n0, c.g);
  for (int64_t j = 0; j < c.count; ++j)
    pad_image(s, x + l.x_offset(c.n0 + j, c.g), images + j * l.padded_size);
  return images;
}

// The chunk's y[n, g] blocks (out_ch, pixels), one per sample, to and from one matrix
// (out_ch, count * pixels) holding them side by side, as the chunk's GEMM reads or writes it.
template <typename T>
void to_side_by_side(const Lowering& l, const Chunk& c, const T* y, T* side) {
  for (int64_t j = 0; j < c.count; ++j)
    for (int64_t o = 0; o < l.out_ch; ++o)
      std::copy_n(y + l.y_offset(c.n0 + j, c.g) + o * l.pixels, l.pixels,
                  side + o * c.width + j * l.pixels);
}

template <typename T>
void from_side_by_side(const Lowering& l, const Chunk& c, const T* side, T* y) {
  for (int64_t j = 0; j < c.count; ++j)
    for (int64_t o = 0; o < l.out_ch; ++o)
      std::copy_n(side + o * c.width + j * l.pixels, l.pixels,
                  y + l.y_offset(c.n0 + j, c.g) + o * l.pixels);
}

constexpr GemmIsa kIsa = GemmIsa::best;

}  // namespace

template <typename T>
void conv2d_fwd_fast(const Conv2dShape& s, const T* x, const T* w, T* y) {
  if (is_dense(s))  // y (N, C_out) = x (N, C_in*H*W) @ w (C_out, C_in*H*W)^T
    return gemm_fast(false, true, s.N, s.C_out, s.C_in * s.H * s.W, T(1), x, w, T(0), y, kIsa);
  const Lowering l(s);
  const Unrolled unrolled(s, l);
  // Scratch per thread, allocated here so that running out of memory is a Python MemoryError.
  const std::unique_ptr<T[]> scratch(new T[l.threads * l.scratch_size()]);
#pragma omp parallel num_threads(l.threads)
  {
    const Workspace<T> ws(l, scratch.get(), omp_get_thread_num());
#pragma omp for schedule(static)
    for (int64_t i = 0; i < l.items; ++i) {
      const Chunk c = l.chunk(i);
      const Gathered<T> cols{chunk_images(s, l, c, x, ws.images), unrolled.taps.data(),
                             unrolled.pixels.data()};
      // y[chunk, g] side by side (out_ch, width) = w[g] (out_ch, rows) @ cols (rows, width);
      // a chunk of one sample is written in place
      T* y_chunk = c.count == 1 ? y + l.y_offset(c.n0, c.g) : ws.side;
      gemm_gathered(l.out_ch, c.width, l.rows, w + c.g * l.out_ch * l.rows, cols, T(0), y_chunk,
                    kIsa);
      if (c.count > 1) from_side_by_side(l, c, ws.side, y);
    }
  }
}

template <typename T>
void conv2d_bwd_input_fast(const Conv2dShape& s, const T* gy, const T* w, T* gx) {
  if (is_dense(s))  // gx (N, C_in*H*W) = gy (N, C_out) @ w (C_out, C_in*H*W)
    return gemm_fast(false, false, s.N, s.C_in * s.H * s.W, s.C_out, T(1), gy, w, T(0), gx, kIsa);
  const Lowering l(s);
  const Unrolled unrolled(s, l);
  const std::unique_ptr<T[]> scratch(new T[l.threads * l.scratch_size()]);
#pragma omp parallel num_threads(l.threads)
  {
    const Workspace<T> ws(l, scratch.get(), omp_get_thread_num());
#pragma omp for schedule(static)
    for (int64_t i = 0; i < l.items; ++i) {
      const Chunk c = l.chunk(i);
      const T* gy_chunk = gy + l.y_offset(c.n0, c.g);  // one sample: read in place
      if (c.count > 1) {
        to_side_by_side(l, c, gy, ws.side);
        gy_chunk = ws.side;
      }
      // The chunk's gx, zeroed: padded copies (border included), or gx itself.
      T* images = l.padded ? ws.images : gx + l.x_offset(c.n0, c.g);
      for (int64_t j = 0; j < c.count; ++j)
        std::fill_n(l.padded ? images + j * l.padded_size : gx + l.x_offset(c.n0 + j, c.g),
                    l.padded ? l.padded_size : l.in_ch * l.image, T(0));
      // cols (rows, width) = w[g]^T (rows, out_ch) @ gy[chunk, g] side by side (out_ch, width),
      // each value added onto the pixel its tap read (overlapping windows add up)
      gemm_scattered(true, l.rows, c.width, l.out_ch, w + c.g * l.out_ch * l.rows, gy_chunk,
                     Scattered<T>{images, unrolled.taps.data(), unrolled.pixels.data()}, kIsa);
      if (l.padded)
        for (int64_t j = 0; j < c.count; ++j)
          crop_image(s, images + j * l.padded_size, gx + l.x_offset(c.n0 + j, c.g));
    }
  }
}

template <typename T>
void conv2d_bwd_weight_fast(const Conv2dShape& s, const T* x, const T* gy, T* gw) {
  if (is_dense(s))  // gw (C_out, C_in*H*W) = gy (N, C_out)^T @ x (N, C_in*H*W)
    return gemm_fast(true, false, s.C_out, s.C_in * s.H * s.W, s.N, T(1), gy, x, T(0), gw, kIsa);
  const Lowering l(s);
  const Unrolled unrolled(s, l);
  // Every thread sums its chunks' products into its own copy of gw (thread 0 into gw itself),
  // then the copies are added up: no two threads ever write the same memory.
  const int64_t gw_size = s.C_out * l.rows;
  const std::unique_ptr<T[]> scratch(
      new T[l.threads * l.scratch_size() + (l.threads - 1) * gw_size]);
  T* const partial_sums = scratch.get() + l.threads * l.scratch_size();  // threads 1, 2, ...
#pragma omp parallel num_threads(l.threads)
  {
    const int t = omp_get_thread_num();
    const Workspace<T> ws(l, scratch.get(), t);
    T* acc = t == 0 ? gw : partial_sums + (t - 1) * gw_size;
    std::fill_n(acc, gw_size, T(0));
#pragma omp for schedule(static)
    for (int64_t i = 0; i < l.items; ++i) {
      const Chunk c = l.chunk(i);
      // cols^T (width, rows): the same offsets as cols, rows and columns swapped
      const Gathered<T> cols_t{chunk_images(s, l, c, x, ws.images), unrolled.pixels.data(),
                               unrolled.taps.data()};
      const T* gy_chunk = gy + l.y_offset(c.n0, c.g);
      if (c.count > 1) {
        to_side_by_side(l, c, gy, ws.side);
        gy_chunk = ws.side;
      }
      // acc[g] (out_ch, rows) += gy[chunk, g] side by side (out_ch, width) @ cols^T (width, rows)
      gemm_gathered(l.out_ch, l.rows, c.width, gy_chunk, cols_t, T(1),
                    acc + c.g * l.out_ch * l.rows, kIsa);
    }
    // (the loop's end is a barrier: every partial sum is complete here)
#pragma omp for schedule(static)
    for (int64_t j = 0; j < gw_size; ++j)
      for (int u = 1; u < l.threads; ++u) gw[j] += partial_sums[(u - 1) * gw_size + j];
  }
}

// ----------------------------------------------------------------------------------------------
// The two dtypes every kernel exists in (DESIGN.md): float32 to train, float64 to check.

template void conv2d_fwd_ref<float>(const Conv2dShape&, const float*, const float*, float*);
template void conv2d_fwd_ref<double>(const Conv2dShape&, const double*, const double*, double*);
template void conv2d_fwd_fast<float>(const Conv2dShape&, const float*, const float*, float*);
template void conv2d_fwd_fast<double>(const Conv2dShape&, const double*, const double*, double*);
template void conv2d_bwd_input_ref<float>(const Conv2dShape&, const float*, const float*, float*);
template void conv2d_bwd_input_ref<double>(
    const Conv2dShape&, const double*, const double*, double*);
template void conv2d_bwd_input_fast<float>(const Conv2dShape&, const float*, const float*, float*);
template void conv2d_bwd_input_fast<double>(
    const Conv2dShape&, const double*, const double*, double*);
template void conv2d_bwd_weight_ref<float>(const Conv2dShape&, const float*, const float*, float*);
template void conv2d_bwd_weight_ref<double>(
    const Conv2dShape&, const double*, const double*, double*);
template void conv2d_bwd_weight_fast<float>(const Conv2dShape&, const float*, const float*, float*);
template void conv2d_bwd_weight_fast<double>(
    const Conv2dShape&, const double*, const double*, double*);

}  // namespace minigen::cpu
