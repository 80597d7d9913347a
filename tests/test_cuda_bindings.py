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
from helpers import DCGAN_CONV

_cuda = pytest.importorskip("minigen._cuda", reason="minigen._cuda is not built (no nvcc)")

# Every kernel _cuda has is one of _C's; the thread count is the CPU's business, the device count
# and the convolution's workspace size are the GPU's (tested at the end).
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
    assert set(FUNCTIONS) <= set(fuzz.SPECS) - fuzz.SETTINGS
    assert {"leaky_relu_fwd", "bce_fwd", "gradient_penalty_fwd", "batch_norm_fwd", "adam_step",
            "gemm", "conv2d_fwd", "conv2d_bwd_input", "conv2d_bwd_weight"} <= set(FUNCTIONS)


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


# --- conv2d_bwd_weight's workspace: sized and checked on the host, no GPU needed ----------------

def test_workspace_size_is_whole_partial_gradients_and_zero_for_short_sums():
    size = _cuda.conv2d_bwd_weight_workspace_size(**DCGAN_CONV)
    weights = int(np.prod(DCGAN_CONV["w_shape"]))
    assert size > weights and size % weights == 0   # partial gradients, two or more
    tiny = dict(DCGAN_CONV, x_shape=(1, 1, 4, 4), y_shape=(1, 64, 2, 2))
    assert _cuda.conv2d_bwd_weight_workspace_size(**tiny) == 0   # 4 terms: nothing to split


def test_workspace_size_refuses_shapes_the_kernel_would_refuse():
    bad = dict(DCGAN_CONV, w_shape=(64, 3, 4, 4))
    with pytest.raises(ValueError, match="conv2d_bwd_weight_workspace_size: .*x_shape"):
        _cuda.conv2d_bwd_weight_workspace_size(**bad)
    with pytest.raises(ValueError, match="negative size"):
        _cuda.conv2d_bwd_weight_workspace_size(**dict(DCGAN_CONV, x_shape=(64, 1, -28, 28)))


def dcgan_weight_gradient_call(workspace):
    arrays = {name: np.zeros(DCGAN_CONV[f"{name}_shape"], np.float32) for name in ("x", "w", "y")}
    geometry = {k: DCGAN_CONV[k] for k in ("stride", "padding", "dilation", "groups")}
    return lambda: _cuda.conv2d_bwd_weight(DeviceStandIn(arrays["x"]), DeviceStandIn(arrays["y"]),
                                           DeviceStandIn(arrays["w"]), **geometry,
                                           workspace=DeviceStandIn(workspace))


def test_a_workspace_too_small_or_of_another_dtype_is_refused():
    size = _cuda.conv2d_bwd_weight_workspace_size(**DCGAN_CONV)
    with pytest.raises(ValueError, match=f"workspace has {size - 1} elements, fewer than the {size}"):
        dcgan_weight_gradient_call(np.zeros(size - 1, np.float32))()
    with pytest.raises(ValueError, match="workspace"):
        dcgan_weight_gradient_call(np.zeros(size, np.float64))()


@pytest.mark.skipif(minigen.cuda.is_available(), reason="the stand-ins point at host memory, which "
                    "a GPU would run the kernel on; test_cuda runs it with a real workspace")
def test_a_workspace_of_the_right_size_passes_the_checks():
    call = dcgan_weight_gradient_call(np.zeros(_cuda.conv2d_bwd_weight_workspace_size(**DCGAN_CONV),
                                               np.float32))
    with pytest.raises(RuntimeError, match="CUDA error"):
        call()
