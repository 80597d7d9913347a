"""Modules: registration, traversal, modes, state_dict, and the layers against PyTorch's."""
import numpy as np
import pytest

import minigen
import minigen.nn as nn

from helpers import to_float64, torch


class Block(nn.Module):
    def __init__(self, lib):
        super().__init__()
        self.conv = lib.nn.Conv2d(1, 4, 3, padding=1)
        self.norm = lib.nn.BatchNorm2d(4)
        self.head = lib.nn.Sequential(lib.nn.Linear(4 * 5 * 5, 3), lib.nn.BatchNorm1d(3))

    def forward(self, x):
        h = self.norm(self.conv(x))
        return self.head(h.reshape(h.shape[0], -1))


class TorchBlock(torch.nn.Module if torch else object):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.norm = torch.nn.BatchNorm2d(4)
        self.head = torch.nn.Sequential(torch.nn.Linear(4 * 5 * 5, 3), torch.nn.BatchNorm1d(3))

    def forward(self, x):
        h = self.norm(self.conv(x))
        return self.head(h.reshape(h.shape[0], -1))


def test_registration_and_traversal():
    block = Block(minigen)
    assert [name for name, _ in block.named_children()] == ["conv", "norm", "head"]
    assert [name for name, _ in block.named_parameters()] == [
        "conv.weight", "conv.bias", "norm.weight", "norm.bias", "head.0.weight", "head.0.bias",
        "head.1.weight", "head.1.bias"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in block.parameters())
    assert len(list(block.modules())) == 6
    assert sorted(name for name, _ in block.named_buffers()) == sorted(
        f"{m}.{b}" for m in ("norm", "head.1") for b in ("running_mean", "running_var",
                                                          "num_batches_tracked"))


def test_train_eval_and_zero_grad():
    block = Block(minigen)
    assert all(m.training for m in block.modules())
    block.eval()
    assert not any(m.training for m in block.modules())
    block.train()
    block(minigen.randn(4, 1, 5, 5)).sum().backward()
    assert all(p.grad is not None for p in block.parameters())
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())


@pytest.mark.skipif(torch is None, reason="PyTorch is the reference")
def test_a_model_trains_and_evaluates_like_pytorch_with_the_same_state():
    ours, theirs = Block(minigen), TorchBlock()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    # In float64: sums of up to 100 terms, normalised over batches of 6, differ by about 1e-15
    # (times what the normalisation amplifies), not by the float32 rounding of each library's
    # (and CPU's) order of summation.
    to_float64(ours), theirs.double()
    rng = np.random.default_rng(0)
    for _ in range(2):  # training mode: batch statistics, running statistics updated
        x = rng.standard_normal((6, 1, 5, 5))
        np.testing.assert_allclose(ours(minigen.tensor(x)).detach().numpy(),
                                   theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-10)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-10,
                                   atol=1e-10, err_msg=key)
    ours.eval(), theirs.eval()
    x = rng.standard_normal((3, 1, 5, 5))
    np.testing.assert_allclose(ours(minigen.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-10)
    assert repr(ours.norm) == repr(theirs.norm) and repr(ours.head) == repr(theirs.head)


def test_load_state_dict_checks_names_and_shapes():
    block = Block(minigen)
    state = block.state_dict()
    with pytest.raises(KeyError, match=r"missing keys \['conv.bias'\]"):
        block.load_state_dict({k: v for k, v in state.items() if k != "conv.bias"})
    with pytest.raises(ValueError, match=r"conv.weight has shape \(2,\) in the state dict but "
                                         r"\(4, 1, 3, 3\) in the module"):
        block.load_state_dict(dict(state, **{"conv.weight": np.zeros(2)}))
    missing, unexpected = block.load_state_dict(dict(state, extra=np.zeros(1)), strict=False)
    assert missing == [] and unexpected == ["extra"]


def test_state_dict_round_trip_restores_the_values():
    a, b = Block(minigen), Block(minigen)
    b.load_state_dict(a.state_dict())
    for (key, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=key)


def test_batch_norm_modules_check_their_input_rank():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected a 4-D input, got shape \(2, 3\)"):
        nn.BatchNorm2d(3)(minigen.zeros(2, 3))
    with pytest.raises(ValueError, match="BatchNorm1d: expected a 2 or 3-D input"):
        nn.BatchNorm1d(3)(minigen.zeros(2, 3, 1, 1))


def test_a_module_must_call_init_before_assigning():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"call Module.__init__\(\)"):
        Broken()


def test_a_module_or_parameter_assigned_over_a_plain_value_is_registered_and_seen():
    owner = nn.Module()
    layer = nn.Linear(2, 2)
    owner.layer = layer
    owner.layer = None          # a plain attribute now
    assert owner.layer is None and "layer" not in dict(owner.named_children())
    owner.layer = layer         # registered again, and the plain None no longer hides it
    assert owner.layer is layer and list(owner.parameters()) == list(layer.parameters())
    owner.scale = 1.0
    owner.scale = nn.Parameter(minigen.ones(1))
    assert isinstance(owner.scale, nn.Parameter) and owner.state_dict()["scale"].shape == (1,)
