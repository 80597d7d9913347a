"""Checkpoints: nested state (dicts, lists, numbers, strings, Tensors) in one ``.npz`` file.

Arrays are stored as NumPy arrays, everything else as one JSON document in which each array
is a placeholder ``{"__array__": i}``, so loading never unpickles anything. Writing is atomic
(``files.atomic_write``): a crash or a kill at any moment leaves either the old checkpoint or
the new one, never half of one. Every way a file can be wrong (missing, truncated, not a
checkpoint, another version) raises ``CheckpointError`` naming the file and the problem.
"""
import json
import os
import zipfile

import numpy as np

from . import backend
from .files import atomic_write
from .tensor import Tensor

FORMAT = "minigen-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used, with the reason."""


def save(path, state):
    """Write ``state`` to ``path`` atomically."""
    arrays = []
    document = {"format": FORMAT, "version": VERSION, "state": _encode(state, arrays)}
    entries = {f"array_{i}": array for i, array in enumerate(arrays)}
    entries["document"] = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    with atomic_write(path) as file:
        np.savez(file, **entries)


def load(path):
    """Read a checkpoint written by ``save``; arrays come back as Tensors."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as archive:
            entries = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): "
                              f"{error}") from None
    if "document" not in entries:
        raise CheckpointError(f"{path} is an .npz file but not a minigen checkpoint")
    try:
        document = json.loads(entries.pop("document").tobytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: its state description is corrupt: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a minigen checkpoint")
    if document.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {document.get('version')}; this "
                              f"minigen reads version {VERSION}")
    return _decode(document["state"], entries, path)


def _encode(value, arrays):
    if isinstance(value, Tensor) or backend.is_array(value):
        arrays.append(backend.to_numpy(value._data if isinstance(value, Tensor) else value))
        return {"__array__": len(arrays) - 1}
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            # JSON keys are strings; integer keys (an optimiser's state) are kept as a list
            return {"__items__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
        return {key: _encode(v, arrays) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"checkpoint: cannot store a value of type {type(value).__name__}")


def _decode(value, entries, path):
    if isinstance(value, dict):
        if "__array__" in value:
            name = f"array_{value['__array__']}"
            if name not in entries:
                raise CheckpointError(f"{path} is corrupt: array {name} is missing")
            return Tensor._make(entries[name])
        if "__items__" in value:
            return {_decode(k, entries, path): _decode(v, entries, path) for k, v in value["__items__"]}
        return {key: _decode(v, entries, path) for key, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, entries, path) for v in value]
    return value
