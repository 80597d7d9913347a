"""PyTorch's own sample inputs for each op minigen has (its OpInfo database, the inputs PyTorch
tests its ops with: empty, unbatched, broadcast, awkward geometry), replayed against minigen in
float64: every call PyTorch accepts, minigen accepts too and answers with PyTorch's values and
input gradients, or refuses with a ValueError naming what the README's table says it refuses."""
import re

import numpy as np
import pytest

import minigen
import minigen.nn.functional as F

from helpers import torch

# PyTorch's OpInfo name -> minigen's op, and how it spells the call when it differs
OPS = {
    "matmul": minigen.matmul, "sigmoid": minigen.sigmoid, "tanh": minigen.tanh,
    **{f"nn.functional.{name}": getattr(F, name) for name in (
        "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv2d",
        "conv_transpose2d", "dropout", "embedding", "leaky_relu", "linear", "mse_loss", "pad", "relu")},
}
# OpInfo's embedding takes (weight, indices): the reverse of F.embedding's order
REVERSED = {"nn.functional.embedding"}
# what minigen refuses on purpose (README, "PyTorch's arguments"), by the message
REFUSED = r"pad: mode='(reflect|replicate|circular)' is not supported"
# (dropout is random: its values are compared by shape only)
RANDOM = {"nn.functional.dropout"}


@pytest.fixture(scope="module")
def op_db():
    if torch is None:
        pytest.skip("PyTorch is the reference")
    # PyTorch's test database needs the expecttest package (.ci/run installs it beside PyTorch)
    pytest.importorskip("expecttest")
    from torch.testing._internal.common_methods_invocations import op_db
    return op_db


def to_minigen(value):
    if isinstance(value, torch.Tensor):
        return minigen.tensor(value.detach().numpy().copy(), requires_grad=value.requires_grad)
    if isinstance(value, (list, tuple)):
        return type(value)(to_minigen(v) for v in value)
    return value


def differentiable(values, kind):
    return [v for v in values if isinstance(v, kind) and v.requires_grad]


# PyTorch warns that padding='same' with an even total copies the input (so does minigen, silently)
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name", sorted(OPS))
def test_pytorchs_samples_give_pytorchs_answers(op_db, name):
    samples = [s for op in op_db if op.name == name
               for s in op.sample_inputs("cpu", torch.float64, requires_grad=True)]
    assert samples, f"PyTorch has no samples for {name}"
    op = next(op for op in op_db if op.name == name)
    for i, sample in enumerate(samples):
        theirs = [sample.input, *sample.args, *sample.kwargs.values()]
        try:
            reference = op.op(sample.input, *sample.args, **sample.kwargs)
        except RuntimeError:  # a sample of what PyTorch itself refuses
            continue
        arguments = [to_minigen(sample.input), *map(to_minigen, sample.args)]
        kwargs = {k: to_minigen(v) for k, v in sample.kwargs.items()}
        label = f"{name} sample {i}: {sample}"
        try:
            out = OPS[name](*(arguments[::-1] if name in REVERSED else arguments), **kwargs)
        except ValueError as error:
            assert re.search(REFUSED, str(error)), (label, error)
            continue
        assert out.shape == tuple(reference.shape), label
        if name in RANDOM:
            continue
        np.testing.assert_allclose(out.detach().numpy(), reference.detach().numpy(), rtol=1e-10,
                                   atol=1e-10, err_msg=label)
        ours = differentiable([*arguments, *kwargs.values()], minigen.Tensor)
        if not out.requires_grad or not out.numel():
            continue
        upstream = np.random.default_rng(i).standard_normal(out.shape)
        expected = torch.autograd.grad(reference, differentiable(theirs, torch.Tensor),
                                       torch.tensor(upstream), allow_unused=True)
        got = minigen.autograd.grad(out, ours, minigen.tensor(upstream), allow_unused=True)
        for g, e in zip(got, expected):
            g = 0 if g is None else g.numpy()
            np.testing.assert_allclose(g, 0 if e is None else e.numpy(), rtol=1e-9, atol=1e-9, err_msg=label)
