// Placeholder until the GEMM lands.
#include "bind.h"

namespace minigen {
void bind_gemm(py::module_&) {}
}  // namespace minigen
