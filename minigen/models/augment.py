"""Differentiable augmentation (Zhao et al., 2020, "DiffAugment") for GANs on little data.

With 4,500 training digits a discriminator soon memorises them, and its judgement stops
teaching the generator. DiffAugment shows the discriminator real *and* generated images
through the same random transformations, built from differentiable ops, so the generator's
gradient flows back through them and it is never asked to produce augmented images.

``diff_augment(x, "translation,cutout")`` applies the named transformations in order:

- ``color``: brightness (add a per-image offset in [-0.5, 0.5)), saturation (scale each pixel's
  distance from its channel mean by [0, 2)), contrast (scale the distance from the image mean by
  [0.5, 1.5)), as in the paper;
- ``translation``: shift each image by up to 1/8 of its size in each direction, the uncovered
  border filled with zeros;
- ``cutout``: zero one random square of half the image's side in each image.

The random draws come from minigen's generator, so training runs stay reproducible.
"""
import numpy as np

from .. import backend, ops
from ..creation import rand
from ..tensor import Tensor

TRANSLATION_RATIO, CUTOUT_RATIO = 0.125, 0.5


def diff_augment(x, policy):
    """``x`` (N, C, H, W) through the comma-separated transformations of ``policy``."""
    for name in check_policy(policy):
        for transform in TRANSFORMS[name]:
            x = transform(x)
    return x


def check_policy(policy):
    """The transformations named in ``policy``, or a ValueError naming the unknown one."""
    names = [name for name in policy.split(",") if name]
    for name in names:
        if name not in TRANSFORMS:
            raise ValueError(f"diff_augment: unknown transformation {name!r}; valid: {', '.join(TRANSFORMS)}")
    return names


def _uniform(x, low, high):
    """One draw per image in [low, high), shaped (N, 1, 1, 1) to broadcast over it."""
    return rand(len(x), 1, 1, 1, dtype=x.dtype, device=x.device) * (high - low) + low


def brightness(x):
    return x + _uniform(x, -0.5, 0.5)


def saturation(x):
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * _uniform(x, 0.0, 2.0) + mean


def contrast(x):
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * _uniform(x, 0.5, 1.5) + mean


def _offsets(x, low, high):
    """Integer offsets, one per image, uniform in [low, high], as a NumPy (N, 1, 1) array."""
    draws = rand(len(x), dtype=x.dtype).numpy()
    return np.floor(draws * (high - low + 1)).astype(np.int64)[:, None, None] + low


def translation(x):
    n, _, height, width = x.shape
    shift_y, shift_x = (int(size * TRANSLATION_RATIO + 0.5) for size in (height, width))
    dy, dx = _offsets(x, -shift_y, shift_y), _offsets(x, -shift_x, shift_x)
    # row i of the output is row i + dy of the input, or the zero border where that falls outside:
    # pad by one, clip the indices into the padded range
    rows = np.clip(np.arange(height)[None, :, None] + dy + 1, 0, height + 1)
    columns = np.clip(np.arange(width)[None, None, :] + dx + 1, 0, width + 1)
    padded = ops.pad(x, (1, 1, 1, 1)).permute(0, 2, 3, 1)           # (N, H + 2, W + 2, C)
    moved = padded[np.arange(n)[:, None, None], rows, columns]      # (N, H, W, C)
    return moved.permute(0, 3, 1, 2)


def cutout(x):
    n, _, height, width = x.shape
    size_y, size_x = (int(size * CUTOUT_RATIO + 0.5) for size in (height, width))
    # the square's centre anywhere in the image; the square may stick out of it
    top = _offsets(x, 0, height - 1) - size_y // 2
    left = _offsets(x, 0, width - 1) - size_x // 2
    rows, columns = np.arange(height)[None, :, None], np.arange(width)[None, None, :]
    inside = ((rows >= top) & (rows < top + size_y) & (columns >= left) & (columns < left + size_x))
    keep = (~inside)[:, None].astype(x.dtype)                       # (N, 1, H, W)
    return x * Tensor(backend.to_device(keep, x.device))


TRANSFORMS = {"color": (brightness, saturation, contrast), "translation": (translation,),
              "cutout": (cutout,)}
