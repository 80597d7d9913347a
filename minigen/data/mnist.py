"""MNIST digits: the 5,000 the package ships, and the full set read from IDX files.

``load_digits()`` needs no network. ``load_mnist()`` reads the four standard IDX files from a
cache directory and downloads the missing ones from ``MIRRORS``, checking each against
``MD5`` (torchvision's list) and renaming it into place only once it is complete and correct.
"""
import gzip
import hashlib
import http.client
import os
import urllib.error
import urllib.request
import zlib
from importlib import resources
from pathlib import Path

import numpy as np

from ..files import atomic_write
from ..tensor import Tensor
from .loader import TensorDataset

MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]
MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FILES = {  # train -> (images, labels)
    True: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    False: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
TIMEOUT = 30  # seconds without an answer before a mirror counts as unreachable

# IDX type codes (the third magic byte); every multi-byte value in the file is big-endian.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


# --- the bundled digits ----------------------------------------------------------------------

def load_digits():
    """The 5,000 bundled digits (500 per class): images uint8 (5000, 28, 28), labels int64 (5000,)."""
    with resources.files(__package__).joinpath("mnist_5k.npz").open("rb") as f, np.load(f) as npz:
        images, labels = npz["images"], npz["labels"]
    return _checked(images, labels, "the bundled mnist_5k.npz", count=5000)


def to_dataset(images, labels, value_range=(-1.0, 1.0)):
    """A TensorDataset of (float32 (N, 1, 28, 28) images mapped linearly from [0, 255] onto
    ``value_range``, int64 labels): (-1, 1) for a Tanh generator, (0, 1) for a Sigmoid one."""
    low, high = (float(v) for v in value_range)
    if not low < high:
        raise ValueError(f"to_dataset: value_range must be (low, high) with low < high, got {value_range}")
    scaled = low + (high - low) / 255.0 * images[:, None].astype(np.float32)
    return TensorDataset(Tensor(scaled), Tensor(labels.astype(np.int64)))


def digits_dataset(value_range=(-1.0, 1.0)):
    """The bundled digits as a TensorDataset, see ``to_dataset``."""
    return to_dataset(*load_digits(), value_range=value_range)


# --- IDX files -------------------------------------------------------------------------------

def read_idx(path):
    """The array stored in the IDX file ``path`` (gzip-compressed or not), in native byte order.

    The header is two zero bytes, a type code, the number of dimensions d, then d big-endian
    uint32 sizes; the payload must hold exactly the product of the sizes in elements.
    """
    path = Path(path)
    data = _read_bytes(path)

    def corrupt(problem):
        return ValueError(f"{path}: not a valid IDX file: {problem}")

    if len(data) < 4:
        raise corrupt(f"{len(data)} bytes is shorter than the 4-byte magic number")
    if data[0] != 0 or data[1] != 0:
        raise corrupt(f"the magic number must start with two zero bytes, got {data[:4].hex()}")
    if data[2] not in IDX_DTYPES:
        raise corrupt(f"unknown type code 0x{data[2]:02x}; known: "
                      + ", ".join(f"0x{code:02x}" for code in IDX_DTYPES))
    ndim = data[3]
    if ndim == 0:
        raise corrupt("zero dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise corrupt(f"the header of {ndim} dimensions needs {header} bytes, the file has {len(data)}")
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise corrupt(f"dimensions {shape} of {dtype.itemsize}-byte elements need {expected} bytes "
                      f"of data, the file has {len(data) - header}")
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _read_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: corrupt gzip data: {e}") from None


# --- the full MNIST --------------------------------------------------------------------------

def cache_dir(root=None):
    """Where the IDX files live: ``root`` if given, else ``$MINIGEN_DATA/mnist``, else
    ``~/.cache/minigen/mnist``."""
    if root is not None:
        return Path(root)
    base = os.environ.get("MINIGEN_DATA")
    return (Path(base) if base else Path.home() / ".cache" / "minigen") / "mnist"


def load_mnist(root=None, train=True, download=True):
    """The 60,000 training (or 10,000 test) digits: images uint8 (N, 28, 28), labels int64 (N,).

    Missing files are downloaded into ``cache_dir(root)`` when ``download``; files already
    there are read as they are (their checksum was checked when they were downloaded).
    """
    directory = cache_dir(root)
    names = FILES[bool(train)]
    missing = [name for name in names if not (directory / name).is_file()]
    if missing and not download:
        raise FileNotFoundError(f"MNIST files {', '.join(missing)} are not in {directory}; pass "
                                "download=True, or use the bundled minigen.data.load_digits()")
    for name in missing:
        _download(name, directory)
    images, labels = (read_idx(directory / name) for name in names)
    return _checked(images, labels, f"MNIST files in {directory}")


def _download(name, directory):
    """Fetch ``name`` from the first mirror that serves it with the right checksum."""
    failures, corrupt = [], False
    for mirror in MIRRORS:
        url = mirror + name
        try:
            _fetch(url, directory / name, MD5[name])
            return
        except _ChecksumError as e:
            failures.append(f"{url}: {e}")
            corrupt = True
        except urllib.error.HTTPError as e:
            failures.append(f"{url}: {e}")
        except (OSError, http.client.HTTPException) as e:  # refused, timed out, cut off
            failures.append(f"{url}: {getattr(e, 'reason', e)}")
    error = RuntimeError if corrupt else ConnectionError
    raise error(f"could not fetch {name} into {directory}:\n  " + "\n  ".join(failures)
                + "\nOffline, minigen.data.load_digits() gives the 5,000 digits the package ships.")


class _ChecksumError(ValueError):
    pass


def _fetch(url, target, md5):
    """Download ``url`` to ``target`` if its MD5 is ``md5``; on any failure nothing is left."""
    digest = hashlib.md5(usedforsecurity=False)
    with atomic_write(target) as out, urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
        if digest.hexdigest() != md5:
            raise _ChecksumError(f"checksum mismatch: expected MD5 {md5}, got {digest.hexdigest()}")


def _checked(images, labels, source, count=None):
    """Images uint8 (N, 28, 28) and labels 0..9 of the same N, or a ValueError naming ``source``."""
    problems = []
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        problems.append(f"images must be uint8 (N, 28, 28), got {images.dtype} {images.shape}")
    if labels.dtype.kind not in "iu" or labels.shape != images.shape[:1]:
        problems.append(f"labels must be integers of shape ({len(images)},), "
                        f"got {labels.dtype} {labels.shape}")
    elif labels.size and (labels.min() < 0 or labels.max() > 9):
        problems.append(f"labels must lie in 0..9, found {labels.min()}..{labels.max()}")
    if count is not None and len(images) != count:
        problems.append(f"expected {count} digits, got {len(images)}")
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems))
    return images, labels.astype(np.int64)
