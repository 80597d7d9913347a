#!/usr/bin/env bash
# What a machine with an NVIDIA GPU must show before the CUDA backend can be called verified:
#
#   scripts/gpu_check.sh STAGE [STAGE ...]      logs and JSON under $OUT (default runs/gpu-check)
#
#   build       minigen._C and minigen._cuda with CMake into build/gpu, copied into minigen/
#   test        the GPU's tests: every kernel against the CPU's, gradients on the GPU, the models'
#               steps, a GPU run that resumes exactly, the devices' API
#   memcheck    compute-sanitizer's memcheck over every kernel's comparison with the CPU, with
#               CuPy's memory pool off (MINIGEN_CUDA_MEMCHECK, tests/conftest.py): out of a pool,
#               an access past an array lands in another array, where memcheck cannot see it
#   bench       W1-W4 (minigen bench) beside PyTorch on the GPU
#   bench-ops   GEMM (IEEE float32, then TF32), the W2/W3 convolutions and the ops, beside PyTorch
#
# Each stage is meant to fit in one command of the device tool (10 minutes) on an H100, so that
# a lent machine can run them one call at a time (carry build/gpu between calls). Needs CuPy,
# PyTorch with CUDA, pybind11, CMake, nvcc, pytest and hypothesis (the device image has them).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu-check}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1

GPU_TESTS=(tests/test_cuda.py tests/test_devices.py tests/test_conv.py tests/test_models.py
           tests/test_cuda_bindings.py)

build() {
  cmake -S . -B build/gpu -DCMAKE_BUILD_TYPE=Release -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)"
  cmake --build build/gpu -j "$(nproc)"
  cp build/gpu/_C.*.so build/gpu/_cuda.*.so minigen/
  python3 -c "import minigen.cuda as c; print('GPU:', c.is_available() or c.unavailable_reason())"
}

gpu_tests() {
  python3 -m pytest -q -rs --junitxml="$OUT/test.xml" "${GPU_TESTS[@]}" 2>&1 | tee "$OUT/test.log"
}

memcheck() {
  MINIGEN_CUDA_MEMCHECK=1 compute-sanitizer --tool memcheck --error-exitcode 1 \
    --log-file "$OUT/memcheck.log" python3 -m pytest -q -x \
    "tests/test_cuda.py::test_every_cuda_kernel_gives_the_cpu_kernel_s_result" \
    "tests/test_cuda.py::test_the_weight_gradient_summed_over_a_workspace_is_the_cpu_s_every_time" \
    2>&1 | tee "$OUT/memcheck-pytest.log"
  tail -n 3 "$OUT/memcheck.log"
}

bench() {
  python3 -m minigen bench --device cuda --json "$OUT/workloads-cuda.json" 2>&1 | tee "$OUT/bench.log"
}

bench_ops() {
  python3 benchmarks/gemm.py --device cuda --json "$OUT/gemm-cuda.json" 2>&1 | tee "$OUT/gemm.log"
  python3 benchmarks/gemm.py --device cuda --tf32 --json "$OUT/gemm-cuda-tf32.json" 2>&1 |
    tee "$OUT/gemm-tf32.log"
  python3 benchmarks/conv.py --device cuda --json "$OUT/conv-cuda.json" 2>&1 | tee "$OUT/conv.log"
  python3 benchmarks/ops.py --device cuda --json "$OUT/ops-cuda.json" 2>&1 | tee "$OUT/ops.log"
}

[ $# -gt 0 ] || { sed -n '2,17p' "$0"; exit 2; }
for stage in "$@"; do
  case $stage in
    build) build ;;
    test) gpu_tests ;;
    memcheck) memcheck ;;
    bench) bench ;;
    bench-ops) bench_ops ;;
    *) echo "gpu_check.sh: unknown stage '$stage' (build, test, memcheck, bench, bench-ops)" >&2; exit 2 ;;
  esac
done
