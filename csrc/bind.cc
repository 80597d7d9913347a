// minigen._C: the CPU kernels, bound with pybind11.
//
// Convention (DESIGN.md): Python allocates every output; a binding checks all its arrays
// (csrc/checks.h), releases the GIL and calls the kernel, which only writes the output.
// Arrays are taken as py::array without conversion, so a wrong dtype is an error, not a copy.
// Each op family binds its kernels in its own csrc/bind_<family>.cc.

#include <omp.h>

#include <algorithm>
#include <string>

#include "bind.h"

namespace minigen {
namespace {

// The most threads set_num_threads takes: OpenMP accepts any int, but the next parallel region
// then tries to start them all, and 100,000 threads crashed the interpreter (2**31 - 1: libgomp
// aborts, out of memory). A few per core is already more than helps.
int max_threads() { return std::max(256, omp_get_num_procs()); }

// OpenMP keeps the thread count per calling thread: set it from the thread that runs kernels.
void set_num_threads(int n) {
  if (n < 1) throw py::value_error("set_num_threads: n must be >= 1, got " + std::to_string(n));
  if (n > max_threads())
    throw py::value_error("set_num_threads: n must be <= " + std::to_string(max_threads()) +
                          " (max(256, processors)), got " + std::to_string(n));
  omp_set_num_threads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace
}  // namespace minigen

PYBIND11_MODULE(_C, m) {
  using namespace minigen;
  m.doc() = "minigen CPU kernels (C++, OpenMP). Python allocates outputs; kernels write them.";
  bind_activation(m);
  bind_gemm(m);
  bind_loss(m);
  bind_penalty(m);
  bind_conv(m);
  bind_norm(m);
  bind_optim(m);
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Number of OpenMP threads the CPU kernels use (1 <= n <= max(256, processors)).");
  m.def("get_num_threads", &get_num_threads, "Number of OpenMP threads the CPU kernels use.");
}
