// minigen._cuda: the CUDA kernels, bound with pybind11. Built where nvcc is found (CMakeLists.txt);
// it imports on a machine without a GPU, where device_count() is 0 and a kernel call raises
// RuntimeError with CUDA's reason.
//
// Convention (DESIGN.md): Python allocates every output in CuPy's memory pool; a binding views
// its arrays (csrc/cuda/device_view.h), runs the CPU binding's checks on them, and queues the
// kernel on the caller's stream. Each op family binds its kernels in csrc/cuda/bind_<family>.cc.

#include <cuda_runtime.h>

#include "cuda/bind.h"

namespace minigen::bind_cuda {
namespace {

// The number of CUDA devices this process can use: 0 where there is no GPU or no driver (CUDA
// then reports an error, which here means "none", not a failure).
int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the error, so that it is not reported by the next launch
    return 0;
  }
  return count;
}

}  // namespace
}  // namespace minigen::bind_cuda

PYBIND11_MODULE(_cuda, m) {
  using namespace minigen::bind_cuda;
  m.doc() = "minigen CUDA kernels. Python allocates outputs (CuPy); kernels write them.";
  bind_activation(m);
  bind_loss(m);
  bind_penalty(m);
  bind_norm(m);
  bind_optim(m);
  bind_gemm(m);
  bind_conv(m);
  m.def("device_count", &device_count, "Number of usable CUDA devices (0 without a GPU).");
}
