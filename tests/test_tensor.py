import numpy as np
import pytest
from helpers import torch
from hypothesis import given
from hypothesis import strategies as st

import minigen


def test_tensor_infers_dtypes_like_pytorch():
    assert minigen.tensor([1.0, 2.0]).dtype == minigen.float32
    assert minigen.tensor([1, 2]).dtype == minigen.int64
    assert minigen.tensor([True]).dtype == minigen.bool
    assert minigen.tensor(np.zeros(2)).dtype == minigen.float64  # an array keeps its dtype
    assert minigen.tensor(np.zeros(2, np.uint8)).dtype == minigen.int64
    with pytest.raises(TypeError, match="float16"):
        minigen.tensor(np.zeros(2, np.float16))


def test_tensor_copies_its_data():
    data = np.zeros(3)
    t = minigen.tensor(data)
    data[0] = 1.0
    assert t[0].item() == 0.0


SAMPLES = {
    "f32": lambda lib: lib.ones(2, dtype=lib.float32),
    "f64": lambda lib: lib.ones(2, dtype=lib.float64),
    "i64": lambda lib: lib.tensor([1, 2]),
    "b": lambda lib: lib.tensor([True, False]),
    "f64_0d": lambda lib: lib.tensor(1.0, dtype=lib.float64),
    "i64_0d": lambda lib: lib.tensor(3),
    "int": lambda lib: 3,
    "float": lambda lib: 2.5,
    "bool": lambda lib: True,
}


PAIRS = [(left, right) for left in sorted(SAMPLES) for right in sorted(SAMPLES)
         if isinstance(SAMPLES[left](minigen), minigen.Tensor)
         or isinstance(SAMPLES[right](minigen), minigen.Tensor)]


@pytest.mark.skipif(torch is None, reason="PyTorch is the reference for promotion")
@pytest.mark.parametrize("left,right", PAIRS)
def test_promotion_matches_pytorch(left, right):
    ours = SAMPLES[left](minigen) * SAMPLES[right](minigen)
    theirs = SAMPLES[left](torch) * SAMPLES[right](torch)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")


def test_creation_functions():
    assert minigen.zeros(2, 3).shape == (2, 3) and minigen.zeros((2, 3)).shape == (2, 3)
    assert minigen.ones(4).numpy().sum() == 4
    full = minigen.full((2,), 7.0)
    assert full.dtype == minigen.float32 and full.tolist() == [7.0, 7.0]
    assert minigen.full((1,), 3).dtype == minigen.int64
    assert minigen.arange(5).tolist() == [0, 1, 2, 3, 4] and minigen.arange(5).dtype == minigen.int64
    assert minigen.arange(0, 1, 0.25).dtype == minigen.float32
    assert minigen.arange(1, 7, 2).tolist() == [1, 3, 5]
    x = minigen.randn(3, 2, dtype=minigen.float64)
    for like in (minigen.zeros_like, minigen.ones_like, minigen.randn_like, minigen.rand_like):
        made = like(x)
        assert made.shape == (3, 2) and made.dtype == minigen.float64
    assert minigen.full_like(x, 2.0).numpy().sum() == 12.0
    assert minigen.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="non-negative"):
        minigen.zeros(-1)


def test_random_tensors_follow_the_seed():
    minigen.manual_seed(123)
    first = minigen.randn(5).numpy(), minigen.rand(5).numpy()
    minigen.manual_seed(123)
    second = minigen.randn(5).numpy(), minigen.rand(5).numpy()
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert minigen.initial_seed() == 123
    u = minigen.rand(10000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.02
    n = minigen.randn(10000, dtype=minigen.float64).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1.0) < 0.05


def test_description():
    x = minigen.tensor([[1.0, 2.0, 3.0]], dtype=minigen.float64, requires_grad=True)
    assert x.shape == (1, 3) and x.ndim == 2 and x.numel() == 3 and x.size(1) == 3
    assert x.dtype == minigen.float64 and x.device == minigen.device("cpu") and str(x.device) == "cpu"
    assert x.is_leaf and len(x) == 1
    assert repr(x) == "tensor([[1.0000, 2.0000, 3.0000]], dtype=minigen.float64, requires_grad=True)"
    assert repr(x * 2).endswith("grad_fn=<MulBackward>)")
    assert repr(minigen.tensor([1, 2])) == "tensor([1, 2])"
    assert minigen.tensor([2.5]).item() == 2.5 and float(minigen.tensor(1.5)) == 1.5


def test_misuse_gives_clear_errors():
    x = minigen.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    with pytest.raises(ValueError, match="one element"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x > 0)
    with pytest.raises(TypeError, match="add: expected a Tensor or a number, got str"):
        x + "a"


def test_casts_are_differentiable():
    x = minigen.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == minigen.float64 and x.to(minigen.float32) is x
    (y * y).sum().backward()
    assert x.grad.dtype == minigen.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.float32([2.0, 4.0]))
    assert not x.long().requires_grad


def test_threads_setting():
    before = minigen.get_num_threads()
    try:
        minigen.set_num_threads(1)
        assert minigen.get_num_threads() == 1
    finally:
        minigen.set_num_threads(before)


@given(values=st.lists(st.floats(-5, 5, allow_subnormal=False), min_size=1, max_size=6))
def test_iteration_yields_rows(values):
    t = minigen.tensor(values, dtype=minigen.float64)
    assert [row.item() for row in t] == values


def test_assigning_data_updates_a_leaf_outside_autograd():
    p = minigen.tensor([1.0, 2.0], requires_grad=True)
    p.data -= 0.5 * minigen.tensor([2.0, 2.0])
    assert p.tolist() == [0.0, 1.0] and p.requires_grad and p.is_leaf
    with pytest.raises(ValueError, match=r"data: expected a Tensor of shape \(2,\)"):
        p.data = minigen.zeros(3)
