// One registration function per op family; csrc/bind.cc calls them all from PYBIND11_MODULE.
#pragma once

#include <pybind11/pybind11.h>

namespace minigen {

namespace py = pybind11;

void bind_activation(py::module_& m);  // csrc/bind_activation.cc
void bind_gemm(py::module_& m);        // csrc/bind_gemm.cc
void bind_loss(py::module_& m);        // csrc/bind_loss.cc
void bind_penalty(py::module_& m);     // csrc/bind_penalty.cc
void bind_conv(py::module_& m);        // csrc/bind_conv.cc
void bind_norm(py::module_& m);        // csrc/bind_norm.cc
void bind_optim(py::module_& m);       // csrc/bind_optim.cc

}  // namespace minigen
