// CUDA arrays as the CUDA bindings see them: a NumPy header over device memory.
//
// The bindings of minigen._cuda take any object that exposes __cuda_array_interface__ (a
// cupy.ndarray; a GPU tensor of another library). device_view describes such an object as a
// py::array whose data pointer is the device address. Nothing ever reads that pointer on the host:
// the header only lets the CUDA bindings run the very checks the CPU bindings run (csrc/checks.h:
// shapes, dtypes, contiguity, alignment, overlap) on the same metadata, with the same messages.
#pragma once

#include <cuda_runtime.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "checks.h"

namespace minigen::cuda {

// `obj` as a py::array header over its device memory; TypeError if it is not a CUDA array (a
// NumPy array here means the caller mixed devices).
inline py::array device_view(const char* op, const char* name, const py::handle& obj) {
  if (!py::hasattr(obj, "__cuda_array_interface__")) {
    const std::string type = py::str(py::type::handle_of(obj).attr("__qualname__"));
    throw py::type_error(std::string(op) + ": " + name +
                         " must be a CUDA array (an object with __cuda_array_interface__, such "
                         "as a cupy.ndarray), got " + type +
                         (py::isinstance<py::array>(obj) ? ", which lives on the CPU" : ""));
  }
  const py::dict cai = obj.attr("__cuda_array_interface__");
  if (cai.contains("mask") && !cai["mask"].is_none())
    fail(op, std::string(name) + " has a mask; masked arrays are not supported");
  const auto shape = cai["shape"].cast<std::vector<py::ssize_t>>();
  const py::dtype dtype(cai["typestr"].cast<std::string>());
  const py::tuple data = cai["data"];
  const auto address = data[0].cast<std::uintptr_t>();
  const bool readonly = data[1].cast<bool>();

  std::vector<py::ssize_t> strides(shape.size());  // None in the interface: C-contiguous
  if (cai.contains("strides") && !cai["strides"].is_none()) {
    strides = cai["strides"].cast<std::vector<py::ssize_t>>();
  } else {
    py::ssize_t step = dtype.itemsize();
    for (size_t i = shape.size(); i-- > 0;) strides[i] = step, step *= shape[i];
  }
  // With `obj` as its base, the header borrows the address and never copies; an empty array's
  // address may be 0, and then NumPy gives the (empty) header a buffer of its own.
  py::array view(dtype, shape, strides, reinterpret_cast<const void*>(address), obj);
  if (readonly) view.attr("setflags")(py::arg("write") = false);
  return view;
}

// The stream a kernel is queued on: the caller passes CuPy's current stream as an integer.
inline cudaStream_t as_stream(std::uintptr_t stream) { return reinterpret_cast<cudaStream_t>(stream); }

}  // namespace minigen::cuda
