"""The GPU: every CUDA kernel against its CPU counterpart, gradients checked on the GPU, runs
that resume exactly. Every test here needs a GPU and skips, saying why, where there is none.
(Devices themselves are test_devices.py's; the CUDA bindings' checks, which need no GPU,
test_cuda_bindings.py's. Models train a few steps on every device in test_models.py.)"""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigen
import minigen.nn.functional as F
from minigen import _C
from minigen.train import train

import test_fuzz_bindings as fuzz
from helpers import DCGAN_CONV, check_op, gamma, requires_gpu, unit_roundoff
from test_train import assert_same_state, config, parameters

pytestmark = requires_gpu

# How far a CUDA kernel may be from the CPU's: float64 only by the order of its sums (the inputs
# are in [0, 1), so no cancellation: relative to the value); float32 likewise, at float32's eps
# times the longest sum here (conv: 5 * 3 * 3 * 5 terms) with room.
TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 2e-5}
KERNELS = sorted(set(fuzz.SPECS) - fuzz.SETTINGS)


@pytest.mark.parametrize("impl", ["ref", "fast"])
@pytest.mark.parametrize("name", KERNELS)
def test_every_cuda_kernel_gives_the_cpu_kernel_s_result(name, impl):
    import cupy

    spec = fuzz.SPECS[name]

    @settings(max_examples=60, deadline=None)
    @given(data=st.data())
    def run(data):
        dtype = data.draw(st.sampled_from(fuzz.FLOATS))
        kw = spec.build(data.draw, np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))), dtype)
        kw.update(impl=impl) if "impl" in kw else None
        kw.pop("isa", None)
        assume(spec.valid(kw))
        on_gpu = {k: cupy.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        getattr(_C, name)(**kw)
        getattr(minigen._cuda, name)(**on_gpu, stream=cupy.cuda.get_current_stream().ptr)
        for out in spec.outputs:
            if kw.get(out) is not None:
                np.testing.assert_allclose(on_gpu[out].get(), kw[out], rtol=TOLERANCE[dtype],
                                           atol=TOLERANCE[dtype], err_msg=out)

    run()


@pytest.mark.parametrize("dtype", fuzz.FLOATS)
def test_the_weight_gradient_summed_over_a_workspace_is_the_cpu_s_every_time(dtype):
    import cupy

    rng = np.random.default_rng(0)
    x, gy = (rng.random(DCGAN_CONV[f"{name}_shape"]).astype(dtype) for name in ("x", "y"))
    geometry = {k: DCGAN_CONV[k] for k in ("stride", "padding", "dilation", "groups")}
    expected = np.empty(DCGAN_CONV["w_shape"], dtype)
    _C.conv2d_bwd_weight(x, gy, expected, **geometry)
    size = minigen._cuda.conv2d_bwd_weight_workspace_size(**DCGAN_CONV)
    results = []
    for fill in (np.nan, 0.0):   # what the workspace held before must not matter
        gw = cupy.empty(expected.shape, dtype)
        minigen._cuda.conv2d_bwd_weight(cupy.asarray(x), cupy.asarray(gy), gw, **geometry,
                                        workspace=cupy.full(size, fill, dtype),
                                        stream=cupy.cuda.get_current_stream().ptr)
        results.append(gw.get())
    np.testing.assert_array_equal(results[0], results[1])   # deterministic: a fixed split
    terms = DCGAN_CONV["x_shape"][0] * 14 * 14   # positive terms: each sum within gamma_terms
    np.testing.assert_allclose(results[0], expected, rtol=2 * gamma(terms, unit_roundoff(dtype)))


shapes = st.tuples(st.integers(1, 4), st.integers(1, 5))


@given(shape=shapes, seed=st.integers(0, 99))
def test_the_kernel_ops_gradients_on_the_gpu(shape, seed):
    rng = np.random.default_rng(seed)
    n, d = shape
    x, w, b = rng.standard_normal((n, d)), rng.standard_normal((3, d)), rng.standard_normal(3)
    p, t = rng.uniform(0.05, 0.95, (n, d)), rng.uniform(0, 1, (n, d))
    images = rng.standard_normal((n + 1, 2, d, 3))
    for fn, arrays in [
        (lambda x, w, b: F.linear(x, w, b), (x, w, b)),
        (lambda x: F.leaky_relu(x, 0.2), (x,)),
        (lambda p: F.binary_cross_entropy(p, minigen.tensor(t, device="cuda")), (p,)),
        (lambda x: F.binary_cross_entropy_with_logits(x, minigen.tensor(t, device="cuda")), (x,)),
        (lambda g: F.gradient_penalty(g), (x,)),
        (lambda x: F.batch_norm(x, None, None, training=True), (images,)),
    ]:
        check_op(fn, arrays, device="cuda")


def test_tf32_is_opt_in_and_as_accurate_as_documented():
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((256, 256)).astype(np.float32) for _ in range(2))
    exact = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    x, y = minigen.tensor(a, device="cuda"), minigen.tensor(b, device="cuda")
    plain = (x @ y).cpu().numpy()
    with minigen.cuda.allow_tf32():
        tf32 = (x @ y).cpu().numpy()
    # float32: sums of 256 products, in any order, within gamma_256 = 1.5e-5
    assert np.max(np.abs(plain - exact) / scale) <= gamma(256, unit_roundoff(np.float32))
    assert 1e-6 < np.max(np.abs(tf32 - exact) / scale) < 2e-3    # TF32: 10-bit mantissas


def test_a_gpu_run_resumes_to_the_parameters_of_an_uninterrupted_one(tmp_path):
    whole = config(tmp_path, "whole", model="dcgan", data="digits", steps=6, device="cuda")
    train(whole, progress=False)
    train(config(tmp_path, "split", model="dcgan", data="digits", steps=4, device="cuda"), progress=False)
    train(config(tmp_path, "split", model="dcgan", data="digits", steps=6, device="cuda"), resume=True,
          progress=False)
    assert_same_state(parameters(tmp_path / "whole"), parameters(tmp_path / "split"))
    assert (tmp_path / "whole" / "samples.png").exists()
