// One registration function per op family; csrc/cuda/bind.cc calls them all from PYBIND11_MODULE.
// Each binding has the name, arguments and checks of its minigen._C counterpart (csrc/bind_*.cc),
// takes CUDA arrays (csrc/cuda/device_view.h) and one more argument, `stream`: the CUDA stream
// (as an integer, cupy.cuda.get_current_stream().ptr) its kernel is queued on. A binding views its
// arrays before it reads `impl`, as _C's do (pybind11 refuses a non-array before the body runs), so
// that a call with both wrong gets the same error from both modules.
#pragma once

#include <pybind11/pybind11.h>

// The bindings live in their own namespace, apart from the launchers (minigen::cuda) they call by
// the same names.
namespace minigen::bind_cuda {

namespace py = pybind11;

void bind_activation(py::module_& m);  // csrc/cuda/bind_activation.cc
void bind_loss(py::module_& m);        // csrc/cuda/bind_loss.cc
void bind_penalty(py::module_& m);     // csrc/cuda/bind_penalty.cc
void bind_norm(py::module_& m);        // csrc/cuda/bind_norm.cc
void bind_optim(py::module_& m);       // csrc/cuda/bind_optim.cc
void bind_gemm(py::module_& m);        // csrc/cuda/bind_gemm.cc
void bind_conv(py::module_& m);        // csrc/cuda/bind_conv.cc

}  // namespace minigen::bind_cuda
