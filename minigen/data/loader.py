"""Datasets and the DataLoader that cuts them into batches, with PyTorch's names.

A batch is built by one call to the dataset's ``__getitems__(indices)`` when it has one (it
returns the whole batch, e.g. one fancy-index per tensor), else by stacking single items along
a new first dimension. Shuffled orders depend only on ``(seed, epoch)``, so a trainer can stop
anywhere and resume the same batches with ``loader.batches(epoch, start)``.
"""
import numpy as np

from .. import random
from ..tensor import Tensor


class Dataset:
    """A map-style dataset: ``dataset[i]`` for ``0 <= i < len(dataset)``.

    A subclass may add ``__getitems__(indices)`` returning the whole batch for a sequence of
    indices, already stacked (unlike PyTorch's, which returns a list of items to collate).
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class TensorDataset(Dataset):
    """Item ``i`` is ``tuple(t[i] for t in tensors)``; the tensors share their first dimension."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}, not a Tensor")
            if t.ndim == 0 or len(t) != len(tensors[0]):
                raise ValueError("TensorDataset: all tensors need the same first dimension, got shapes "
                                 + ", ".join(str(t.shape) for t in tensors))
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices):
        indices = np.asarray(indices, dtype=np.int64)
        return tuple(t[indices] for t in self.tensors)

    def __len__(self):
        return len(self.tensors[0])


class DataLoader:
    """Batches of ``batch_size`` items of ``dataset``, in order or shuffled.

    Epoch ``e`` visits the items in the order ``np.random.default_rng([seed, e]).permutation(n)``
    (``range(n)`` without ``shuffle``). When ``seed`` is None and ``shuffle`` is on, one seed is
    drawn from minigen's generator here, so ``manual_seed`` makes the run reproducible.

    ``epoch`` is the epoch the next ``iter(loader)`` runs: each ``iter`` runs it and advances it
    at once (also when the pass is abandoned). ``batches(epoch, start)`` runs any epoch from
    any batch without touching ``epoch``; it is what a resumed trainer calls.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None):
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: dataset must have __getitem__ and __len__, "
                            f"got a {type(dataset).__name__}")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"DataLoader: {name} must be a bool, got {flag!r}")
        self.dataset = dataset
        self.batch_size = _natural("batch_size", batch_size, minimum=1)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        if seed is None and self.shuffle:
            seed = int(random.generator().integers(2**63))
        self.seed = None if seed is None else _natural("seed", seed)
        self.epoch = 0

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        epoch = self.epoch
        self.epoch += 1
        return self.batches(epoch)

    def batches(self, epoch, start=0):
        """The batches of epoch ``epoch`` from batch index ``start`` on (a generator)."""
        epoch = _natural("epoch", epoch)
        start = _natural("start", start)
        if start > len(self):
            raise ValueError(f"DataLoader.batches: start={start} is past the {len(self)} batches")
        return self._batches(self._order(epoch), start)

    def stream(self, step=0):
        """Batches forever, epoch after epoch, starting at the ``step``-th batch of the run.

        Training loops that count steps rather than epochs iterate over this; a resumed run
        passes the step it stopped at and sees exactly the batches it would have seen.
        """
        if len(self) == 0:
            raise ValueError(f"DataLoader.stream: no complete batch of {self.batch_size} in "
                             f"{len(self.dataset)} items")
        epoch, start = divmod(_natural("step", step), len(self))
        while True:
            yield from self.batches(epoch, start)
            epoch, start = epoch + 1, 0

    def _order(self, epoch):
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, epoch]).permutation(n)

    def _batches(self, order, start):
        getitems = getattr(self.dataset, "__getitems__", None)
        for b in range(start, len(self)):
            indices = order[b * self.batch_size:(b + 1) * self.batch_size]
            if getitems is not None:
                yield getitems(indices)
            else:
                yield _collate([self.dataset[int(i)] for i in indices])

    def state_dict(self):
        return {"epoch": self.epoch, "seed": self.seed}

    def load_state_dict(self, state_dict):
        if set(state_dict) != {"epoch", "seed"}:
            raise ValueError(f"DataLoader.load_state_dict: expected the keys 'epoch' and 'seed', "
                             f"got {sorted(state_dict)}")
        seed = state_dict["seed"]
        if seed is None and self.shuffle:
            raise ValueError("DataLoader.load_state_dict: a shuffling loader needs an integer seed")
        self.seed = None if seed is None else _natural("seed", seed)
        self.epoch = _natural("epoch", state_dict["epoch"])


def _collate(items):
    """Stack items along a new first dimension; tuples of fields stay tuples (of batches)."""
    if isinstance(items[0], (tuple, list)):
        return tuple(_stack([item[i] for item in items]) for i in range(len(items[0])))
    return _stack(items)


def _stack(values):
    return Tensor(np.stack([v.detach().numpy() if isinstance(v, Tensor) else np.asarray(v)
                            for v in values]))


def _natural(name, value, minimum=0):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"DataLoader: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
