// Argument checks shared by the bindings of minigen._C and minigen._cuda (csrc/cuda/device_view.h
// gives a CUDA array the py::array form these read).
//
// Each require_* raises ValueError (py::value_error) naming the op, the argument and its shape or
// dtype, so that a bad call from Python becomes an exception before any kernel touches memory.
// They read Python objects: call them while holding the GIL, before releasing it for the kernel.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "impl.h"

namespace minigen {

namespace py = pybind11;

// "(2, 3)", "(5,)", "()": a shape or strides as Python prints the tuple.
inline std::string tuple_str(const py::ssize_t* v, py::ssize_t n) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (n == 1 ? ",)" : ")");
}

inline std::string shape_str(const py::array& a) { return tuple_str(a.shape(), a.ndim()); }

inline std::string dtype_str(const py::array& a) { return py::str(a.dtype()); }

[[noreturn]] inline void fail(const char* op, const std::string& msg) {
  throw py::value_error(std::string(op) + ": " + msg);
}

// float32 or float64 in native byte order: the two dtypes every kernel is instantiated for.
inline void require_float(const char* op, const char* name, const py::array& a) {
  if (!a.dtype().equal(py::dtype::of<float>()) && !a.dtype().equal(py::dtype::of<double>()))
    fail(op, std::string(name) + " has dtype " + dtype_str(a) + "; expected float32 or float64");
}

inline void require_same_dtype(const char* op, const char* name, const py::array& a,
                               const char* ref_name, const py::array& ref) {
  if (!a.dtype().equal(ref.dtype()))
    fail(op, std::string(name) + " has dtype " + dtype_str(a) + " but " + ref_name +
                 " has dtype " + dtype_str(ref));
}

inline void require_same_shape(const char* op, const char* name, const py::array& a,
                               const char* ref_name, const py::array& ref) {
  bool same = a.ndim() == ref.ndim();
  for (py::ssize_t i = 0; same && i < a.ndim(); ++i) same = a.shape(i) == ref.shape(i);
  if (!same)
    fail(op, std::string(name) + " has shape " + shape_str(a) + " but " + ref_name +
                 " has shape " + shape_str(ref));
}

// A zero-size array whose other dimensions multiply to more than this is refused: kernels still
// loop over its rows (a (2**40, 0) gradient penalty input would run for hours) and the fast ones
// allocate per row (8 bytes each), yet no real batch is that large.
constexpr int64_t kMaxEmptyExtent = int64_t{1} << 28;

// Kernels walk a plain pointer: the elements must be C-contiguous, and aligned to their size
// (a vector loop may use aligned loads; np.frombuffer at an odd offset is not), and the loops
// bounded (kMaxEmptyExtent).
inline void require_contiguous(const char* op, const char* name, const py::array& a) {
  if (a.size() == 0) {
    int64_t extent = 1;  // the product of the non-zero dimensions, saturated at INT64_MAX
    for (py::ssize_t i = 0; i < a.ndim(); ++i)
      if (a.shape(i) > 0 && __builtin_mul_overflow(extent, int64_t{a.shape(i)}, &extent))
        extent = INT64_MAX;
    if (extent > kMaxEmptyExtent)
      fail(op, std::string(name) + " has shape " + shape_str(a) +
                   ": its non-zero dimensions multiply to more than 2**28, which the kernels "
                   "would loop over although it holds no elements");
  }
  if (!(a.flags() & py::array::c_style))
    fail(op, std::string(name) + " with shape " + shape_str(a) + " and strides " +
                 tuple_str(a.strides(), a.ndim()) +
                 " is not C-contiguous; pass np.ascontiguousarray(" + name + ")");
  if (reinterpret_cast<std::uintptr_t>(a.data()) % a.itemsize() != 0)
    fail(op, std::string(name) + " is not aligned to its " + std::to_string(a.itemsize()) +
                 "-byte elements; pass a copy");
}

// The common case of an elementwise op: `a` has the dtype and shape of `ref` and is contiguous.
inline void require_like(const char* op, const char* name, const py::array& a,
                         const char* ref_name, const py::array& ref) {
  require_same_dtype(op, name, a, ref_name, ref);
  require_same_shape(op, name, a, ref_name, ref);
  require_contiguous(op, name, a);
}

inline void require_writeable(const char* op, const char* name, const py::array& a) {
  if (!a.writeable()) fail(op, std::string(name) + " is read-only");
}

// An output may be its input itself (in place), but a shifted view of the same memory would make
// the result depend on the order the elements are written in, and threads race on it. So would
// an output that starts where its input starts but is smaller (mean = x.ravel()[:C]).
inline void require_no_partial_overlap(const char* op, const char* out_name, const py::array& out,
                                       const char* in_name, const py::array& in) {
  const auto* o = static_cast<const char*>(out.data());
  const auto* i = static_cast<const char*>(in.data());
  const bool same = o == i && out.nbytes() == in.nbytes();
  if (!same && o < i + in.nbytes() && i < o + out.nbytes())
    fail(op, std::string(out_name) + " overlaps " + in_name +
                 " without being the same array; pass a separate output");
}

// For kernels that write their output while still reading the inputs (GEMM, convolution): the
// output may share no memory with an input, not even be that input.
inline void require_disjoint(const char* op, const char* out_name, const py::array& out,
                             const char* in_name, const py::array& in) {
  const auto* o = static_cast<const char*>(out.data());
  const auto* i = static_cast<const char*>(in.data());
  if (out.nbytes() > 0 && in.nbytes() > 0 && o < i + in.nbytes() && i < o + out.nbytes())
    fail(op, std::string(out_name) + " overlaps " + in_name + "; pass a separate output");
}

// a * b * ... of non-negative sizes, or a ValueError saying that `what` overflows int64.
inline int64_t checked_product(const char* op, const std::string& what,
                               std::initializer_list<int64_t> factors) {
  int64_t product = 1;
  for (int64_t f : factors)
    if (__builtin_mul_overflow(product, f, &product)) fail(op, what + " overflows int64");
  return product;
}

// An array argument and its name, for checks over several of them.
struct Arg {
  const char* name;
  const py::array& a;
};

// Outputs that share no memory with one another, nor with any of `inputs`.
inline void require_apart(const char* op, std::initializer_list<Arg> outputs,
                          std::initializer_list<Arg> inputs) {
  for (auto out = outputs.begin(); out != outputs.end(); ++out) {
    for (auto other = outputs.begin(); other != out; ++other)
      require_disjoint(op, out->name, out->a, other->name, other->a);
    for (const Arg& in : inputs) require_disjoint(op, out->name, out->a, in.name, in.a);
  }
}

inline void require_matrix(const char* op, const char* name, const py::array& a) {
  if (a.ndim() != 2) fail(op, std::string(name) + " must be 2-D, got shape " + shape_str(a));
}

inline Impl parse_impl(const char* op, const std::string& impl) {
  if (impl == "ref") return Impl::ref;
  if (impl == "fast") return Impl::fast;
  fail(op, "impl must be 'ref' or 'fast', got '" + impl + "'");
}

// The element pointers a kernel takes, once the checks above have passed.
template <typename T>
const T* input_ptr(const py::array& a) {
  return static_cast<const T*>(a.data());
}

template <typename T>
T* output_ptr(py::array& a) {
  return static_cast<T*>(a.mutable_data());
}

// Calls f(float{}) or f(double{}) after a's dtype, checked by require_float beforehand; f reads
// the element type as decltype of its argument.
template <typename F>
void dispatch_float(const py::array& a, F&& f) {
  if (a.dtype().equal(py::dtype::of<float>()))
    f(float{});
  else
    f(double{});
}

}  // namespace minigen
