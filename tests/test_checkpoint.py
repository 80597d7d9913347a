"""Checkpoint files: what goes in comes out, writes are atomic, bad files are named as bad."""
import os

import numpy as np
import pytest

import minigen
from minigen import checkpoint
from minigen.checkpoint import CheckpointError


def nested_state():
    return {"step": 7, "lr": 2e-4, "name": "dcgan", "betas": [0.5, 0.999], "none": None,
            "weights": minigen.randn(3, 2), "ints": np.arange(4),
            "optimizer": {"state": {0: {"step": 3, "exp_avg": minigen.zeros(2)}}, "param_groups": []}}


def test_round_trip_keeps_values_types_and_integer_keys(tmp_path):
    state = nested_state()
    checkpoint.save(tmp_path / "a.npz", state)
    loaded = checkpoint.load(tmp_path / "a.npz")
    assert loaded["step"] == 7 and loaded["lr"] == 2e-4 and loaded["name"] == "dcgan"
    assert loaded["betas"] == [0.5, 0.999] and loaded["none"] is None
    assert isinstance(loaded["weights"], minigen.Tensor)
    np.testing.assert_array_equal(loaded["weights"].numpy(), state["weights"].numpy())
    assert loaded["weights"].dtype == np.float32 and loaded["ints"].dtype == np.int64
    assert list(loaded["optimizer"]["state"]) == [0]   # an int key stays an int
    np.testing.assert_array_equal(loaded["optimizer"]["state"][0]["exp_avg"].numpy(), np.zeros(2))


def test_unstorable_values_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(TypeError, match="cannot store a value of type object"):
        checkpoint.save(tmp_path / "a.npz", {"x": object()})
    assert os.listdir(tmp_path) == []


def test_a_failed_write_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    path = tmp_path / "a.npz"
    checkpoint.save(path, {"step": 1})

    def crash(file, **entries):
        file.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(path, {"step": 2})
    monkeypatch.undo()
    assert checkpoint.load(path) == {"step": 1}
    assert os.listdir(tmp_path) == ["a.npz"]   # no temporary file left behind


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[: len(data) // 2], "truncated or corrupt"),
    (lambda data: bytes(len(data)), "truncated or corrupt"),
    (lambda data: np.random.default_rng(0).bytes(len(data)), "truncated or corrupt"),
])
def test_damaged_files_raise_checkpoint_error(tmp_path, damage, message):
    path = tmp_path / "a.npz"
    checkpoint.save(path, nested_state())
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError, match=message):
        checkpoint.load(path)


def test_other_files_are_not_mistaken_for_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        checkpoint.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a minigen checkpoint"):
        checkpoint.load(tmp_path / "plain.npz")
    document = np.frombuffer(b'{"format": "minigen-checkpoint", "version": 99}', dtype=np.uint8)
    np.savez(tmp_path / "future.npz", document=document)
    with pytest.raises(CheckpointError, match="version 99"):
        checkpoint.load(tmp_path / "future.npz")
