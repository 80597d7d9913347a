"""Pictures of a run: sample grids, 2D scatter plots, loss curves, all written as PNG.

Every function takes NumPy arrays and a path and writes the file atomically, so an image
being viewed while training never shows up half-written.
"""
import io

import numpy as np
from PIL import Image

from .files import atomic_write


def image_grid(images, nrow=None, padding=2, value_range=(-1.0, 1.0)):
    """Tile (N, C, H, W) images into one (rows, cols, C) uint8 array, ``nrow`` per row."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"image_grid: expected (N, 1 or 3, H, W) images, got shape {images.shape}")
    low, high = value_range
    images = np.clip((images - low) / (high - low), 0.0, 1.0)
    count, channels, height, width = images.shape
    nrow = nrow or int(np.ceil(np.sqrt(count)))
    ncol = int(np.ceil(count / nrow))
    grid = np.ones((ncol * (height + padding) + padding, nrow * (width + padding) + padding,
                    channels))
    for index, image in enumerate(images):
        top = padding + (index // nrow) * (height + padding)
        left = padding + (index % nrow) * (width + padding)
        grid[top:top + height, left:left + width] = image.transpose(1, 2, 0)
    return (grid * 255 + 0.5).astype(np.uint8)


def save_image_grid(images, path, nrow=None, value_range=(-1.0, 1.0), scale=2):
    """Write a grid of (N, C, H, W) images to ``path``, each pixel ``scale`` × ``scale``."""
    grid = image_grid(images, nrow, value_range=value_range)
    grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    picture = Image.fromarray(grid[:, :, 0] if grid.shape[2] == 1 else grid)
    with atomic_write(path) as file:
        picture.save(file, format="PNG")


def save_reconstructions(originals, reconstructions, path, nrow=8, value_range=(0.0, 1.0)):
    """Rows of ``nrow`` originals, each row followed by the row of their reconstructions."""
    originals, reconstructions = np.asarray(originals), np.asarray(reconstructions)
    rows = len(originals) // nrow
    pairs = np.stack([a[:rows * nrow].reshape(rows, nrow, *a.shape[1:])
                      for a in (originals, reconstructions)], axis=1)
    save_image_grid(pairs.reshape(-1, *originals.shape[1:]), path, nrow, value_range)


def save_scatter(points, path, reference=None, title=None):
    """2D samples (blue) over reference points (grey), e.g. generated over real data."""
    figure = new_figure(figsize=(5, 5))
    axes = figure.subplots()
    if reference is not None:
        axes.scatter(*np.asarray(reference).T, s=2, c="0.7", label="data")
    axes.scatter(*np.asarray(points).T, s=2, c="tab:blue", label="samples")
    axes.set_aspect("equal")
    axes.legend(loc="upper right", markerscale=4)
    if title:
        axes.set_title(title)
    save_figure(figure, path)


def save_loss_curves(history, path, smoothing=50):
    """One curve per loss in ``history`` ({name: [(step, value), ...]}), moving-averaged."""
    figure = new_figure(figsize=(7, 4))
    axes = figure.subplots()
    for name, points in history.items():
        if not points:
            continue
        steps, values = np.asarray(points, dtype=np.float64).T
        window = max(1, min(smoothing, len(values) // 10))
        smooth = np.convolve(values, np.ones(window) / window, mode="valid")
        axes.plot(steps[window - 1:], smooth, label=name)
    axes.set_xlabel("step")
    axes.set_ylabel(f"loss (moving average over {smoothing} steps at most)")
    axes.legend()
    axes.grid(alpha=0.3)
    save_figure(figure, path)


def new_figure(**kwargs):
    """A matplotlib ``Figure``: not pyplot's, so no GUI backend and no global figure state.

    matplotlib is imported here, on the first picture, because importing it takes about a
    second that every ``minigen`` command would otherwise pay at start-up."""
    from matplotlib.figure import Figure
    return Figure(**kwargs)


def save_figure(figure, path):
    """Write a matplotlib ``Figure`` to ``path`` as PNG, atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    with atomic_write(path) as file:
        file.write(buffer.getvalue())
