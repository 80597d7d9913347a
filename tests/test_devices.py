"""Devices: naming them, moving tensors and modules between them, refusing to mix them, and,
where there is no GPU, saying so clearly. (The GPU's own tests are in test_cuda.py.)"""
import numpy as np
import pytest

import minigen
from minigen import backend, nn
from minigen.cli import main

from helpers import DEVICES, requires_gpu

no_gpu = pytest.mark.skipif(minigen.cuda.is_available(), reason="a GPU is present: nothing to refuse")


def test_devices_are_named_like_pytorch_s():
    assert minigen.device("cuda") == minigen.device("cuda:0") == "cuda" != minigen.device("cpu")
    assert repr(minigen.device("cuda")) == "device(type='cuda')" and str(minigen.device("cpu")) == "cpu"
    with pytest.raises(ValueError, match="one GPU"):
        minigen.device("cuda:1")
    with pytest.raises(ValueError, match="expected 'cpu' or 'cuda'"):
        minigen.device("tpu")


@pytest.mark.parametrize("device", DEVICES)
def test_tensors_move_between_devices_and_gradients_follow(device):
    x = minigen.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    y = x.to(device)
    assert y.device == device and (y is x) == (device == "cpu")
    assert np.array_equal(y.cpu().detach().numpy(), x.detach().numpy())
    (y * y).sum().backward()   # the copy's gradient comes back to the CPU leaf
    assert x.grad.device == "cpu" and np.array_equal(x.grad.numpy(), 2 * x.detach().numpy())
    z = minigen.zeros(2, 3, dtype=minigen.float64, device=device)
    assert z.device == device and z.dtype == minigen.float64
    assert minigen.randn_like(z).device == device
    # the same seed, the same numbers, on either device
    minigen.manual_seed(5)
    a = minigen.randn(4, device=device)
    minigen.manual_seed(5)
    assert np.array_equal(a.cpu().numpy(), minigen.randn(4).numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_a_module_and_its_optimiser_state_move_in_place(device):
    minigen.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    weight = model[0].weight
    opt = minigen.optim.Adam(model.parameters(), lr=1e-2)
    assert model.to(device) is model and model[0].weight is weight and weight.device == device
    assert all(t.device == device for t in model.state_dict().values())
    x = minigen.randn(8, 3, device=device)
    model(x).sum().backward()
    opt.step()
    assert all(v.device == device for s in opt.state_dict()["state"].values()
               for v in s.values() if isinstance(v, minigen.Tensor))


@requires_gpu
def test_one_op_never_mixes_devices():
    x, y = minigen.ones(3), minigen.ones(3, device="cuda")
    with pytest.raises(ValueError, match="Add: expected all tensors on one device, got .* cpu and cuda"):
        x + y
    with pytest.raises(TypeError, match=r"\.cpu\(\)\.numpy\(\)"):
        y.numpy()


@no_gpu
def test_without_a_gpu_every_way_onto_it_says_why(tmp_path, capsys):
    assert not minigen.cuda.is_available() and minigen.cuda.device_count() == 0
    reason = minigen.cuda.unavailable_reason()
    assert reason and isinstance(reason, str)
    for attempt in (lambda: minigen.zeros(2, device="cuda"), lambda: minigen.ones(2).cuda(),
                    lambda: minigen.tensor([1.0], device="cuda"), lambda: nn.Linear(2, 2).to("cuda")):
        with pytest.raises(RuntimeError, match="CUDA is not available: " + reason[:20]):
            attempt()
    assert main(["train", "gan", "--device", "cuda", "--out", str(tmp_path / "z")]) == 1
    assert "CUDA is not available" in capsys.readouterr().err


def test_the_kernel_table_is_the_device_s():
    assert backend.kernels(np.zeros(2)) is backend.cpu.kernels
    assert backend.device_of(np.zeros(2)) == "cpu" and backend.array_module("cpu") is np
