"""The data layer: DataLoader semantics, the toy distributions, the bundled digits, the IDX
parser on files written here, and MNIST downloads from a local HTTP server."""
import functools
import gzip
import hashlib
import http.server
import itertools
import socket
import threading

import numpy as np
import pytest

import minigen
from minigen.data import (TOY, DataLoader, Dataset, TensorDataset, cache_dir, digits_dataset, get_toy,
                          load_digits, load_mnist, mnist, read_idx, to_dataset, toy_dataset)


def numbers(n):
    """A dataset whose item i is (i, 2 i): batches show exactly which indices they hold."""
    x = minigen.arange(n)
    return TensorDataset(x, 2 * x)


def firsts(batches):
    return [b[0].numpy().tolist() for b in batches]


class ItemsOnly(Dataset):
    """Wraps a dataset without ``__getitems__``, so the loader stacks single items."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __getitem__(self, index):
        return self.dataset[index]

    def __len__(self):
        return len(self.dataset)


# --- DataLoader ------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 11])
@pytest.mark.parametrize("shuffle", [False, True])
def test_every_index_once_per_epoch(batch_size, shuffle):
    loader = DataLoader(numbers(10), batch_size=batch_size, shuffle=shuffle, seed=0)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader) == -(-10 // batch_size)
        seen = [i for b in firsts(batches) for i in b]
        assert sorted(seen) == list(range(10))
        assert all(len(b) == batch_size for b in firsts(batches)[:-1])
        for x, doubled in batches:
            assert np.array_equal(doubled.numpy(), 2 * x.numpy())


def test_in_order_without_shuffle():
    assert firsts(DataLoader(numbers(5), batch_size=2)) == [[0, 1], [2, 3], [4]]


def test_drop_last():
    loader = DataLoader(numbers(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert firsts(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(numbers(3), batch_size=4, drop_last=True)) == 0


def test_shuffle_depends_only_on_seed_and_epoch():
    a, b = (DataLoader(numbers(50), batch_size=50, shuffle=True, seed=7) for _ in range(2))
    epochs_a = [firsts(a)[0] for _ in range(3)]
    assert epochs_a == [firsts(b)[0] for _ in range(3)]
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]
    assert epochs_a[2] == np.random.default_rng([7, 2]).permutation(50).tolist()
    assert firsts(DataLoader(numbers(50), batch_size=50, shuffle=True, seed=8))[0] != epochs_a[0]


def test_unseeded_shuffle_follows_manual_seed():
    orders = []
    for _ in range(2):
        minigen.manual_seed(3)
        orders.append(firsts(DataLoader(numbers(30), batch_size=30, shuffle=True)))
    assert orders[0] == orders[1]
    assert DataLoader(numbers(3)).seed is None  # an unshuffled loader draws nothing


def test_batches_from_start_is_the_tail_of_the_epoch():
    loader = DataLoader(numbers(23), batch_size=5, shuffle=True, seed=1)
    full = firsts(loader.batches(4))
    for start in range(len(loader) + 1):
        assert firsts(loader.batches(4, start)) == full[start:]
    assert loader.epoch == 0


def test_stream_runs_epoch_after_epoch_from_any_step():
    loader = DataLoader(numbers(23), batch_size=5, shuffle=True, drop_last=True, seed=1)
    epochs = [batch for epoch in range(3) for batch in firsts(loader.batches(epoch))]
    for step in (0, 3, 4, 9):
        assert firsts(itertools.islice(loader.stream(step), 12 - step)) == epochs[step:]
    with pytest.raises(ValueError, match="no complete batch of 30 in 23 items"):
        next(DataLoader(numbers(23), batch_size=30, drop_last=True).stream())


def test_iter_advances_the_epoch_and_state_dict_resumes():
    loader = DataLoader(numbers(12), batch_size=5, shuffle=True, seed=4)
    first = firsts(loader)
    assert loader.epoch == 1
    iter(loader)  # an abandoned pass still counts
    assert loader.state_dict() == {"epoch": 2, "seed": 4}
    resumed = DataLoader(numbers(12), batch_size=5, shuffle=True, seed=99)
    resumed.load_state_dict({"epoch": 0, "seed": 4})
    assert firsts(resumed) == first
    assert firsts(resumed) == firsts(loader.batches(1))


def test_one_tuples_stay_tuples():
    batch = next(iter(DataLoader(TensorDataset(minigen.zeros(6, 2)), batch_size=4)))
    assert isinstance(batch, tuple) and len(batch) == 1
    assert batch[0].shape == (4, 2) and batch[0].dtype == minigen.float32


def test_stacking_path_gives_the_same_batches_as_getitems():
    data = TensorDataset(minigen.randn(17, 3), minigen.arange(17))
    fast = DataLoader(data, batch_size=5, shuffle=True, seed=2)
    slow = DataLoader(ItemsOnly(data), batch_size=5, shuffle=True, seed=2)
    for a, b in zip(fast, slow, strict=True):
        assert len(a) == len(b) == 2
        for x, y in zip(a, b):
            assert x.dtype == y.dtype and np.array_equal(x.numpy(), y.numpy())


def test_stacking_items_that_are_not_tuples():
    class Squares(Dataset):
        def __getitem__(self, i):
            return np.array([i, i * i])

        def __len__(self):
            return 4

    batch = next(iter(DataLoader(Squares(), batch_size=3)))
    assert isinstance(batch, minigen.Tensor)
    assert batch.tolist() == [[0, 0], [1, 1], [2, 4]] and batch.dtype == minigen.int64


def test_tensor_dataset_items():
    data = numbers(4)
    assert len(data) == 4
    assert [t.item() for t in data[3]] == [3, 6]


@pytest.mark.parametrize("kwargs, error", [
    ({"batch_size": 0}, ValueError), ({"batch_size": 2.0}, ValueError),
    ({"batch_size": True}, ValueError), ({"shuffle": "yes"}, TypeError),
    ({"drop_last": 1}, TypeError), ({"seed": -1}, ValueError),
])
def test_loader_validates_arguments(kwargs, error):
    with pytest.raises(error):
        DataLoader(numbers(4), **kwargs)


def test_loader_validates_dataset_start_and_state():
    with pytest.raises(TypeError, match="__getitem__"):
        DataLoader(42)
    loader = DataLoader(numbers(4), batch_size=2, shuffle=True, seed=0)
    with pytest.raises(ValueError, match="start=3"):
        loader.batches(0, 3)
    with pytest.raises(ValueError, match="epoch"):
        loader.batches(-1)
    with pytest.raises(ValueError, match="keys"):
        loader.load_state_dict({"epoch": 1})
    with pytest.raises(ValueError, match="seed"):
        loader.load_state_dict({"epoch": 1, "seed": None})


def test_tensor_dataset_validates():
    with pytest.raises(ValueError, match=r"\(3,\), \(4,\)"):
        TensorDataset(minigen.zeros(3), minigen.zeros(4))
    with pytest.raises(TypeError, match="argument 1"):
        TensorDataset(minigen.zeros(3), np.zeros(3))
    with pytest.raises(ValueError):
        TensorDataset()


# --- toy distributions -----------------------------------------------------------------------

def test_ring8_has_eight_distinct_means_at_radius_2():
    ring = TOY["ring8"]
    assert ring.means.shape == (8, 2) and ring.means.dtype == np.float64 and ring.std == 0.02
    assert len(np.unique(ring.means.round(9), axis=0)) == 8
    np.testing.assert_allclose(np.linalg.norm(ring.means, axis=1), 2.0, rtol=0, atol=1e-12)
    angles = np.sort(np.arctan2(ring.means[:, 1], ring.means[:, 0]) % (2 * np.pi))
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-12)


def test_grid25_means():
    grid = TOY["grid25"]
    assert grid.std == 0.05
    assert sorted(map(tuple, grid.means)) == list(itertools.product([-4, -2, 0, 2, 4], repeat=2))


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_mixture_samples_spread_with_the_stated_std(name):
    mixture = TOY[name]
    points = mixture.sample(20_000, np.random.default_rng(0))
    assert points.shape == (20_000, 2) and points.dtype == np.float32
    nearest = np.linalg.norm(points[:, None] - mixture.means, axis=-1).argmin(axis=1)
    residual = points - mixture.means[nearest]
    np.testing.assert_allclose(residual.std(axis=0), mixture.std, rtol=0.03)
    counts = np.bincount(nearest, minlength=len(mixture.means))
    assert counts.min() > 0.8 * 20_000 / len(mixture.means)  # components chosen uniformly


def test_swissroll_range():
    roll = TOY["swissroll"]
    assert roll.means is None
    points = roll.sample(5000, np.random.default_rng(0)).astype(np.float64)
    radius = np.linalg.norm(points, axis=1)
    # t / 7.5 with t in [1.5 pi, 4.5 pi], blurred by noise of std 0.25 / 7.5
    assert 1.5 * np.pi / 7.5 - 0.15 < radius.min() < 1.5 * np.pi / 7.5 + 0.05
    assert 4.5 * np.pi / 7.5 - 0.05 < radius.max() < 4.5 * np.pi / 7.5 + 0.15


def test_moons_shape():
    moons = TOY["moons"]
    assert moons.means is None
    points = moons.sample(4000, np.random.default_rng(0))
    assert points.dtype == np.float32
    assert -1.5 < points[:, 0].min() and points[:, 0].max() < 2.5
    assert -1 < points[:, 1].min() and points[:, 1].max() < 1.5
    upper = points[:, 1] > 0.25
    assert 0.3 < upper.mean() < 0.7


@pytest.mark.parametrize("name", sorted(TOY))
def test_toy_samples_are_reproducible(name):
    toy = get_toy(name)
    a, b, c = (toy.sample(100, np.random.default_rng(s)) for s in (5, 5, 6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    data = toy_dataset(name, size=64, seed=1)
    assert len(data) == 64 and data.tensors[0].dtype == minigen.float32
    assert np.array_equal(data.tensors[0].numpy(), toy_dataset(name, size=64, seed=1).tensors[0].numpy())


def test_unknown_toy_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="ring9.*ring8, grid25, swissroll, moons"):
        toy_dataset("ring9")


def test_sample_validates():
    with pytest.raises(TypeError, match="Generator"):
        TOY["ring8"].sample(3, 0)
    with pytest.raises(ValueError, match="n must"):
        TOY["ring8"].sample(-1, np.random.default_rng(0))


# --- bundled digits --------------------------------------------------------------------------

def test_bundled_digits():
    images, labels = load_digits()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [500] * 10
    assert images.max() == 255 and images.min() == 0


@pytest.mark.parametrize("value_range", [(-1, 1), (0, 1)])
def test_digits_dataset_scales_images(value_range):
    images, labels = digits_dataset(value_range).tensors
    assert images.shape == (5000, 1, 28, 28) and images.dtype == minigen.float32
    assert labels.dtype == minigen.int64
    assert (images.numpy().min(), images.numpy().max()) == value_range


def test_to_dataset_validates_range():
    with pytest.raises(ValueError, match="low < high"):
        to_dataset(np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.int64), value_range=(1, 0))


# --- IDX files -------------------------------------------------------------------------------

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D,
             np.float64: 0x0E}


def idx_bytes(array):
    array = np.asarray(array)
    header = bytes([0, 0, IDX_CODES[array.dtype.type], array.ndim])
    payload = array.astype(array.dtype.newbyteorder(">")).tobytes()
    return header + np.array(array.shape, ">u4").tobytes() + payload


def write(path, data, compress=False):
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("shape", [(3, 28, 28), (7,), (2, 3)])
def test_read_idx_uint8(tmp_path, shape, compress):
    array = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
    out = read_idx(write(tmp_path / "f.idx", idx_bytes(array), compress))
    assert out.dtype == np.uint8 and np.array_equal(out, array)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_big_endian_types(tmp_path, dtype):
    array = (np.arange(-6, 6).reshape(3, 4) * 1000.5).astype(dtype)
    out = read_idx(write(tmp_path / "f.idx", idx_bytes(array)))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and np.array_equal(out, array)


GOOD = idx_bytes(np.zeros((2, 4, 4), np.uint8))


@pytest.mark.parametrize("data, problem", [
    (b"\x00\x00", "shorter than the 4-byte magic"),
    (b"\x01" + GOOD[1:], "two zero bytes"),
    (GOOD[:2] + b"\x07" + GOOD[3:], "unknown type code 0x07"),
    (GOOD[:3] + b"\x00" + GOOD[4:], "zero dimensions"),
    (GOOD[:3] + b"\x20" + GOOD[4:], "header of 32 dimensions needs 132 bytes"),
    (GOOD[:-1], "need 32 bytes of data, the file has 31"),
    (GOOD + b"\x00", "need 32 bytes of data, the file has 33"),
    (GOOD[:4] + np.array([3, 4, 4], ">u4").tobytes() + GOOD[16:], r"dimensions \(3, 4, 4\)"),
], ids=["short", "magic", "type", "no-dims", "header", "truncated", "trailing", "dims"])
def test_read_idx_rejects_corrupt_files(tmp_path, data, problem):
    path = write(tmp_path / "bad.idx", data)
    with pytest.raises(ValueError, match=f"bad.idx: not a valid IDX file: .*{problem}"):
        read_idx(path)


def test_read_idx_rejects_corrupt_gzip(tmp_path):
    path = write(tmp_path / "bad.gz", gzip.compress(GOOD)[:-6])
    with pytest.raises(ValueError, match="bad.gz: corrupt gzip data"):
        read_idx(path)


# --- MNIST downloads from a local server -----------------------------------------------------

def mnist_files(n):
    rng = np.random.default_rng(n)
    images = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


class Recorder(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        self.server.requests.append(self.path)


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve the four MNIST files (12 training and 5 test digits) from ``tmp_path / "www"``;
    the mirror list and checksums point at it and the cache at ``tmp_path / "cache"``."""
    www = tmp_path / "www"
    www.mkdir()
    checksums = {}
    for train, n in ((True, 12), (False, 5)):
        for name, array in zip(mnist.FILES[train], mnist_files(n)):
            data = write(www / name, idx_bytes(array), compress=True).read_bytes()
            checksums[name] = hashlib.md5(data).hexdigest()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Recorder, directory=str(www)))
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    monkeypatch.setattr(mnist, "MIRRORS", [url])
    monkeypatch.setattr(mnist, "MD5", checksums)
    monkeypatch.setenv("MINIGEN_DATA", str(tmp_path))
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def test_download_checks_caches_and_reads(server, tmp_path):
    images, labels = load_mnist()
    expected = mnist_files(12)
    assert np.array_equal(images, expected[0]) and labels.dtype == np.int64
    assert np.array_equal(labels, expected[1])
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(mnist.FILES[True])
    assert len(server.requests) == 2
    load_mnist()
    assert len(server.requests) == 2  # the second call reads the cache
    test_images, _ = load_mnist(train=False)
    assert test_images.shape == (5, 28, 28) and len(server.requests) == 4


def test_download_tries_the_next_mirror(server, tmp_path, monkeypatch):
    missing = mnist.MIRRORS[0] + "nothing-here/"
    monkeypatch.setattr(mnist, "MIRRORS", [closed_port_url(), missing, *mnist.MIRRORS])
    images, _ = load_mnist(root=tmp_path / "elsewhere")
    assert len(images) == 12 and (tmp_path / "elsewhere" / mnist.FILES[True][0]).is_file()


def test_checksum_mismatch_leaves_nothing_in_the_cache(server, tmp_path, monkeypatch):
    name = mnist.FILES[True][0]
    monkeypatch.setitem(mnist.MD5, name, "0" * 32)
    with pytest.raises(RuntimeError, match=f"{name}.*expected MD5 0{{32}}, got [0-9a-f]{{32}}"):
        load_mnist()
    assert list((tmp_path / "mnist").iterdir()) == []


def test_unreachable_mirrors_raise_a_clear_error(tmp_path, monkeypatch):
    url = closed_port_url()
    monkeypatch.setattr(mnist, "MIRRORS", [url])
    with pytest.raises(ConnectionError, match=rf"train-images-idx3-ubyte.gz(.|\n)*{url}(.|\n)*load_digits"):
        load_mnist(root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_no_download_without_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        load_mnist(root=tmp_path, download=False)


def test_cached_files_are_validated(tmp_path):
    images, labels = mnist_files(3)
    write(tmp_path / mnist.FILES[False][0], idx_bytes(images))
    write(tmp_path / mnist.FILES[False][1], idx_bytes(labels[:2]))
    with pytest.raises(ValueError, match=r"labels must be integers of shape \(3,\)"):
        load_mnist(root=tmp_path, train=False, download=False)


def test_cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("MINIGEN_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "minigen" / "mnist"
    monkeypatch.setenv("MINIGEN_DATA", str(tmp_path / "data"))
    assert cache_dir() == tmp_path / "data" / "mnist"
    assert cache_dir(tmp_path / "here") == tmp_path / "here"
