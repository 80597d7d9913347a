import os

import pytest
from hypothesis import HealthCheck, settings

from minigen import _C

# Compiled kernels and Jacobians make examples slow to run: no per-example deadline.
settings.register_profile("dev", deadline=None, max_examples=25,
                          suppress_health_check=[HealthCheck.too_slow])
# CI: the same examples every run, so a red build can be reproduced.
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True,
                          print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# tests/test_fuzz_bindings.py: examples per function of minigen._C (times a weight per function
# there). In CI 650: 11,049 calls in all (its issue asks for at least 10,000), in about 100 s on
# 2 busy cores; locally a quick 40 (680 calls, 5 s). The other tests keep the profile above.
settings.register_profile("fuzz-ci", parent=settings.get_profile("ci"), max_examples=650)
settings.register_profile("fuzz-dev", parent=settings.get_profile("dev"), max_examples=40)
settings.register_profile("fuzz", parent=settings.get_profile(
    "fuzz-ci" if os.environ.get("CI") else "fuzz-dev"))

# scripts/gpu_check.sh memcheck: compute-sanitizer sees an access out of bounds only past the end
# of a cudaMalloc'd block, and CuPy's pool hands out arrays side by side in large blocks: without
# the pool every array is a block of its own.
if os.environ.get("MINIGEN_CUDA_MEMCHECK"):
    import cupy

    cupy.cuda.set_allocator(None)


# The kernels' global settings, for tests that change them.
@pytest.fixture
def restore_threads():
    before = _C.get_num_threads()
    yield
    _C.set_num_threads(before)


@pytest.fixture
def restore_isa():
    before = _C.get_cpu_isa()  # under MINIGEN_CPU_ISA, the cap it set
    yield
    _C.set_cpu_isa(before)
