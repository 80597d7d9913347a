import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigen
import minigen.nn.functional as F
from minigen.backend import cpu
from minigen.testing import strategies as mst

from helpers import check_op, torch


@given(data=st.data(), bias=st.booleans())
def test_linear(data, bias):
    batch = data.draw(st.sampled_from([(), (1,), (3,), (2, 3)]))
    in_features, out_features = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    arrays = [data.draw(mst.arrays(batch + (in_features,))),
              data.draw(mst.arrays((out_features, in_features)))]
    if bias:
        arrays.append(data.draw(mst.arrays((out_features,))))
    check_op(F.linear, arrays, lambda x, w, b=0.0: x @ w.T + b, torch.nn.functional.linear if torch else None)


def test_linear_reads_transposed_operands_in_place(monkeypatch):
    """Forward and backward run minigen's GEMM, with transposes passed as flags: no copies."""
    calls = []
    gemm = cpu._C.gemm

    def spy(a, b, c, trans_a, trans_b, alpha, beta, impl):
        calls.append((a.shape, b.shape, trans_a, trans_b, beta))
        return gemm(a, b, c, trans_a, trans_b, alpha, beta, impl)

    monkeypatch.setattr(cpu._C, "gemm", spy)
    x = minigen.randn(5, 3, requires_grad=True)
    weight = minigen.randn(4, 3, requires_grad=True)
    bias = minigen.randn(4, requires_grad=True)
    upstream = minigen.randn(5, 4)  # a dense gradient (that of .sum() would be a broadcast)
    (F.linear(x, weight, bias) * upstream).sum().backward()
    assert calls == [
        ((4, 3), (5, 3), False, True, 1.0),    # yᵀ = W @ xᵀ + b: x read transposed, bias in C
        ((5, 4), (4, 3), False, False, 0.0),   # dx = gy @ W
        ((5, 4), (5, 3), True, False, 0.0),    # dW = gyᵀ @ x: gy read transposed
    ]


def test_bad_shapes_name_all_three():
    with pytest.raises(ValueError, match=r"linear: input \(2, 3\), weight \(4, 5\) and bias None"):
        F.linear(minigen.zeros(2, 3), minigen.zeros(4, 5))
    with pytest.raises(ValueError, match=r"bias \(3,\)"):
        F.linear(minigen.zeros(2, 5), minigen.zeros(4, 5), minigen.zeros(3))


def test_nan_propagates_through_the_gemm():
    x = minigen.tensor([[np.nan, 1.0]])
    out = F.linear(x, minigen.ones(3, 2)).numpy()
    assert np.isnan(out).all()
