"""minigen._cuda runs minigen._C's argument checks: the same bad call gives the same error.

Every call the binding fuzzer draws (test_fuzz_bindings: a valid call of a function, then 1-3
mutations: wrong shapes, dtypes, layouts, overlaps, hyper-parameters, non-arrays) goes to _C with
its NumPy arrays and to _cuda with stand-ins that describe the very same memory through
``__cuda_array_interface__``. No GPU is needed: a call the checks refuse never reaches a kernel.
Where _C refuses a call, _cuda must refuse it with the same exception (for ValueError, the same
message). Where _C accepts it, _cuda's checks must pass too: without a GPU it then fails at the
launch with CUDA's error (or launches nothing, for empty arrays); on a GPU the call is not made,
since the stand-ins point at host memory.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigen
from minigen import _C

import test_fuzz_bindings as fuzz

_cuda = pytest.importorskip("minigen._cuda", reason="minigen._cuda is not built (no nvcc)")

# The kernels _cuda has so far (issue 7: GEMM and the convolutions are still to come); the thread
# count is the CPU's business, and device_count is the GPU's.
GPU_ONLY = {"device_count", "conv2d_bwd_weight_workspace_size"}
FUNCTIONS = sorted(n for n in dir(_cuda) if not n.startswith("_") and n not in GPU_ONLY)


class DeviceStandIn:
    """What a CUDA array of ``a``'s shape, dtype, strides and address would show."""

    def __init__(self, a):
        self.__cuda_array_interface__ = {
            "shape": a.shape, "typestr": a.dtype.str, "version": 3,
            "data": (a.__array_interface__["data"][0], not a.flags.writeable),
            "strides": None if a.flags.c_contiguous else a.strides}


def on_device(value):
    return DeviceStandIn(value) if isinstance(value, np.ndarray) else value


def test_every_cuda_kernel_has_a_cpu_counterpart_and_is_fuzzed():
    assert set(FUNCTIONS) <= set(fuzz.SPECS) - {"set_num_threads", "get_num_threads"}
    assert {"leaky_relu_fwd", "bce_fwd", "gradient_penalty_fwd", "batch_norm_fwd",
            "adam_step"} <= set(FUNCTIONS)


def test_a_numpy_array_is_refused_naming_the_argument():
    x = np.zeros(3, np.float32)
    with pytest.raises(TypeError, match="leaky_relu_fwd: out must be a CUDA array .* lives on the CPU"):
        _cuda.leaky_relu_fwd(DeviceStandIn(x), x, 0.2)


def outcome(fn, kw):
    try:
        fn(**kw)
    except (TypeError, ValueError, RuntimeError) as error:
        return type(error), str(error)
    return None, None


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_call_gets_the_cpu_binding_s_answer(name):
    @settings(settings.get_profile("fuzz"), max_examples=max(1, fuzz.examples(name) // 4))
    @given(data=st.data())
    def run(data):
        kw, _, _ = fuzz.mutated_call(name, data.draw)
        if name == "gemm":   # the ISAs differ: the CPU's AVX flavours, the GPU's opt-in "tf32"
            kw.pop("isa", None)
        cpu_error, cpu_message = outcome(getattr(_C, name), kw)
        if cpu_error is None and minigen.cuda.is_available():
            return
        cuda_error, cuda_message = outcome(getattr(_cuda, name), {k: on_device(v) for k, v in kw.items()})
        if cpu_error is None:  # the checks passed: only the launch may fail, for want of a GPU
            assert cuda_error in (None, RuntimeError), cuda_message
            assert cuda_error is None or "CUDA error" in cuda_message, cuda_message
        else:
            assert cuda_error is cpu_error, (cpu_message, cuda_message)
            if cpu_error is ValueError:
                assert cuda_message == cpu_message

    run()
