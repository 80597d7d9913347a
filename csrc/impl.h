// Which version of a kernel runs: the plain reference loop or the fast one. Shared by the CPU
// and CUDA kernels (a plain header: nvcc includes it without pybind11).
#pragma once

namespace minigen {

enum class Impl { ref, fast };

}  // namespace minigen
