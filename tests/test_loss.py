import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigen
import minigen.nn.functional as F
from minigen import _C
from minigen.backend import cpu
from minigen.testing import strategies as mst

from helpers import assert_matches_torch, check_op, torch

# A kernel test module: scripts/sanitize.py and CI's pass on the AVX2 micro-kernels run these.
pytestmark = pytest.mark.kernels

SHAPES = mst.shapes(max_dims=3, max_side=4)
REDUCTIONS = ["mean", "sum", "none"]


def probabilities(shape):
    return mst.arrays(shape, min_value=0.05, max_value=0.95)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_binary_cross_entropy(reduction, data):
    shape = data.draw(SHAPES)
    p, t = data.draw(probabilities(shape)), data.draw(mst.arrays(shape, min_value=0.0, max_value=1.0))
    reference = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    check_op(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), [p, t],
             lambda a, b: reduce(reference),
             lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, reduction=reduction))


@given(data=st.data())
def test_binary_cross_entropy_with_weight(data):
    shape = data.draw(mst.shapes(min_dims=1, max_dims=3, max_side=4))
    p, t = data.draw(probabilities(shape)), data.draw(mst.arrays(shape, min_value=0.0, max_value=1.0))
    weight = data.draw(mst.arrays(shape[-1:], min_value=0.0, max_value=2.0))
    # A constant weight: PyTorch does not differentiate with respect to it.
    check_op(lambda a, b: F.binary_cross_entropy(a, b, weight=minigen.tensor(weight, dtype=a.dtype)),
             [p, t],
             torch_fn=lambda a, b: torch.nn.functional.binary_cross_entropy(
                 a, b, weight=torch.tensor(weight, dtype=a.dtype)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_binary_cross_entropy_with_logits(reduction, data):
    shape = data.draw(SHAPES)
    x = data.draw(mst.arrays(shape, min_value=-6.0, max_value=6.0))
    t = data.draw(mst.arrays(shape, min_value=0.0, max_value=1.0))
    reference = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    check_op(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction), [x, t],
             lambda a, b: reduce(reference),
             lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(a, b, reduction=reduction))


def test_saturated_probabilities_give_the_clamped_loss_of_pytorch():
    p = minigen.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    t = minigen.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_array_equal(loss.detach().numpy(), np.float32([100, 100, 0, 0]))
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad.numpy()))  # PyTorch's max(p(1-p), 1e-12) denominator


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_weight", [False, True])
@given(data=st.data())
def test_binary_cross_entropy_with_logits_and_pos_weight(reduction, with_weight, data):
    """pos_weight (one per class, the last dimension) and weight (broadcast) are differentiable
    inputs here (PyTorch refuses to differentiate with respect to them, so it is compared with
    them as constants): every gradient, and each one's own gradient, is checked."""
    shape = data.draw(mst.shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(mst.arrays(shape, min_value=-6.0, max_value=6.0))
    t = data.draw(mst.arrays(shape, min_value=0.0, max_value=1.0))
    pos_weight = data.draw(mst.arrays(shape[-1:], min_value=0.0, max_value=3.0))
    weight = data.draw(mst.arrays(shape[-1:], min_value=0.0, max_value=2.0))
    log_sigmoid = -np.logaddexp(0, -x)
    reference = -(pos_weight * t * log_sigmoid + (1 - t) * (log_sigmoid - x)) * (weight if with_weight else 1)
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    arrays = [x, t, pos_weight] + [weight] * with_weight

    def loss(lib):
        return lambda x, t, pos_weight, weight=None: lib.nn.functional.binary_cross_entropy_with_logits(
            x, t, weight, reduction=reduction, pos_weight=pos_weight)

    check_op(loss(minigen), arrays, lambda *_: reduce(reference))

    def with_constant_weights(lib):
        return lambda x, t: loss(lib)(x, t, *(lib.tensor(a, dtype=x.dtype) for a in arrays[2:]))

    if torch is not None:
        assert_matches_torch(with_constant_weights(minigen), with_constant_weights(torch), [x, t])


def test_pos_weight_must_broadcast_to_the_target():
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) does not broadcast to the "
                                         r"target's shape \(2, 4\)"):
        F.binary_cross_entropy_with_logits(minigen.zeros(2, 4), minigen.zeros(2, 4),
                                           pos_weight=minigen.ones(3))


@pytest.mark.parametrize("logit", [100.0, -100.0, np.inf, -np.inf])
@pytest.mark.parametrize("target", [0.0, 1.0])
def test_extreme_logits_give_the_exact_loss_and_a_finite_gradient(logit, target):
    x = minigen.tensor([logit], dtype=minigen.float64, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, minigen.tensor([target], dtype=minigen.float64))
    loss.backward()
    right = (logit > 0) == (target == 1.0)  # a confident, correct prediction
    if np.isinf(logit):
        # The limits; PyTorch's formula gives NaN for three of these four cases.
        assert loss.item() == (0.0 if right else np.inf)
    else:
        np.testing.assert_allclose(loss.item(), np.log1p(np.exp(-100.0)) if right else 100.0,
                                   rtol=1e-15)
        if torch is not None:
            ref = torch.nn.functional.binary_cross_entropy_with_logits(
                torch.tensor([logit], dtype=torch.float64), torch.tensor([target], dtype=torch.float64))
            np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-15, atol=1e-30)
    np.testing.assert_allclose(x.grad.item(), (1.0 if logit > 0 else 0.0) - target, atol=1e-40)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(n=st.integers(0, 70_000), seed=st.integers(0, 2**16))
def test_fast_kernels_equal_the_reference_and_float64_matches_numpy(dtype, n, seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, n).astype(dtype)
    x = rng.normal(0, 4, n).astype(dtype)
    t = rng.uniform(0, 1, n).astype(dtype)
    gy = rng.normal(size=n).astype(dtype)
    for name, args in (("bce_fwd", (p, t)), ("bce_bwd", (p, t, gy)),
                       ("bce_logits_fwd", (x, t)), ("bce_logits_bwd", (x, t, gy))):
        outputs = {}
        for impl in ("ref", "fast"):
            outputs[impl] = np.empty(n, dtype)
            getattr(_C, name)(*args, outputs[impl], impl)
        np.testing.assert_array_equal(outputs["ref"], outputs["fast"], err_msg=name)
    if dtype == np.float64:
        out = np.empty(n)
        _C.bce_fwd(p, t, out)
        ref = -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100))
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
        _C.bce_logits_bwd(x, t, gy, out)
        np.testing.assert_allclose(out, gy * (1 / (1 + np.exp(-x)) - t), rtol=1e-12, atol=1e-15)


def test_the_compiled_kernels_run(monkeypatch):
    calls = []
    for name in ("bce_fwd", "bce_bwd", "bce_logits_fwd", "bce_logits_bwd"):
        kernel = getattr(cpu._C, name)
        monkeypatch.setattr(cpu._C, name, lambda *a, _k=kernel, _n=name: calls.append(_n) or _k(*a))
    p = minigen.tensor([0.3, 0.6], requires_grad=True)
    F.binary_cross_entropy(p, minigen.tensor([0.0, 1.0])).backward()
    F.binary_cross_entropy_with_logits(p, minigen.tensor([0.0, 1.0])).backward()
    assert calls == ["bce_fwd", "bce_bwd", "bce_logits_fwd", "bce_logits_bwd"]


def test_probabilities_outside_the_unit_interval_are_refused_and_nan_propagates():
    t = minigen.tensor([0.0, 1.0])
    with pytest.raises(ValueError, match="between 0 and 1, but element 1 .* is 1.5"):
        F.binary_cross_entropy(minigen.tensor([0.5, 1.5]), t)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(minigen.tensor([-0.1, 0.5]), t)
    assert np.isnan(F.binary_cross_entropy(minigen.tensor([np.nan, 0.5]), t).item())
    assert np.isnan(F.binary_cross_entropy_with_logits(minigen.tensor([np.nan, 0.5]), t).item())


def test_empty_batch_and_bad_arguments():
    empty = minigen.zeros(0, 1)
    assert np.isnan(F.binary_cross_entropy(empty, empty).item())  # a mean of nothing, as torch
    assert F.binary_cross_entropy(empty, empty, reduction="sum").item() == 0.0
    assert F.binary_cross_entropy_with_logits(empty, empty, reduction="none").shape == (0, 1)
    with pytest.raises(ValueError, match=r"target has shape \(3,\) but input has shape \(2,\)"):
        F.binary_cross_entropy(minigen.tensor([0.5, 0.5]), minigen.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="reduction must be"):
        F.binary_cross_entropy_with_logits(minigen.zeros(2), minigen.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="weight of shape"):
        F.binary_cross_entropy(minigen.full((2,), 0.5), minigen.zeros(2), weight=minigen.ones(3, 2))
    with pytest.raises(ValueError, match="bce_fwd: target has dtype float64 but input has dtype float32"):
        _C.bce_fwd(np.zeros(2, np.float32), np.zeros(2), np.zeros(2, np.float32))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_mse_loss_with_weight(reduction, data):
    """PyTorch's weighted squared error: weight of the input's shape, the mean Σ w e / Σ w."""
    shape = data.draw(mst.shapes(min_dims=1, max_dims=3, max_side=4))
    x, t = data.draw(mst.arrays(shape)), data.draw(mst.arrays(shape))
    weight = data.draw(mst.arrays(shape, min_value=0.1, max_value=2.0))
    errors = weight * (x - t) ** 2
    reference = {"mean": errors.sum() / weight.sum(), "sum": errors.sum(), "none": errors}[reduction]

    def loss(lib):
        return lambda x, t, w: lib.nn.functional.mse_loss(x, t, reduction=reduction, weight=w)

    check_op(loss(minigen), [x, t, weight], lambda *_: reference, loss(torch) if torch else None)


def test_mse_loss_weight_must_have_the_inputs_shape():
    with pytest.raises(ValueError, match=r"mse_loss: weight has shape \(3,\) but input has shape \(2, 3\)"):
        F.mse_loss(minigen.zeros(2, 3), minigen.zeros(2, 3), weight=minigen.ones(3))


@pytest.mark.parametrize("size_average, reduce, reduction", [
    (None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, False, "none")])
@pytest.mark.parametrize("loss", ["binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss"])
def test_deprecated_size_average_and_reduce_read_as_pytorch_reads_them(loss, size_average, reduce, reduction):
    p, t = (minigen.tensor(np.random.default_rng(i).uniform(0.1, 0.9, (3, 2))) for i in range(2))
    with pytest.warns(UserWarning, match=rf"{loss}: size_average and reduce are deprecated, as in "
                                         rf"PyTorch; use reduction='{reduction}' instead"):
        legacy = getattr(F, loss)(p, t, size_average=size_average, reduce=reduce)
    np.testing.assert_array_equal(legacy.numpy(), getattr(F, loss)(p, t, reduction=reduction).numpy())
