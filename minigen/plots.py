"""Pictures of a run: sample grids, 2D scatter and density plots, loss curves (PNG), and the
animation of a run's pictures (GIF).

Every function takes NumPy arrays (or picture files) and a path and writes the file
atomically, so an image being viewed while training never shows up half-written.
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


def save_scatter(points, path, reference=None, title=None, modes=None, limits=None):
    """2D samples (blue) over reference points (grey), e.g. generated over real data, with the
    ``modes`` (K, 2) of the data marked and the axes fixed to ``limits`` ((low, high) for both)
    if given, so that pictures of one run line up frame by frame."""
    figure = new_figure(figsize=(5, 5))
    axes = figure.subplots()
    if reference is not None:
        axes.scatter(*np.asarray(reference).T, s=2, c="0.7", label="data")
    axes.scatter(*np.asarray(points).T, s=2, c="tab:blue", label="samples")
    _finish_plane(axes, title, modes, limits)
    legend = axes.legend(loc="upper right")
    for handle in legend.legend_handles:
        handle.set_sizes([20])   # the points' own size (2) would hardly show
    save_figure(figure, path)


def save_density(points, path, title=None, modes=None, limits=None, bins=200):
    """The density of many 2D ``points`` as a histogram in log scale, ``modes`` marked."""
    from matplotlib.colors import LogNorm
    points = np.asarray(points)
    limits = limits or (points.min(), points.max())
    figure = new_figure(figsize=(5.6, 5))
    axes = figure.subplots()
    counts, _, _, image = axes.hist2d(*points.T, bins=bins, range=[limits, limits], norm=LogNorm(),
                                      cmap="magma")
    figure.colorbar(image, ax=axes, label=f"samples per bin (of {len(points):,})")
    _finish_plane(axes, title, modes, limits)
    save_figure(figure, path)


def _finish_plane(axes, title, modes, limits):
    if modes is not None:
        axes.scatter(*np.asarray(modes).T, marker="x", s=30, c="tab:red", label="modes")
    if limits is not None:
        axes.set_xlim(limits)
        axes.set_ylim(limits)
    axes.set_aspect("equal")
    if title:
        axes.set_title(title)


def save_animation(frames, path, seconds_per_frame=0.25, hold_last=2.0):
    """A looping GIF of the picture files ``frames`` in order (padded with white to the largest),
    the last held ``hold_last`` seconds."""
    pictures = [Image.open(frame).convert("RGB") for frame in frames]
    if not pictures:
        raise ValueError(f"save_animation: no frames for {path}")
    size = tuple(max(picture.size[i] for picture in pictures) for i in (0, 1))
    padded = []
    for picture in pictures:
        canvas = Image.new("RGB", size, "white")
        canvas.paste(picture, (0, 0))
        padded.append(canvas)
    durations = [int(1000 * seconds_per_frame)] * (len(padded) - 1) + [int(1000 * hold_last)]
    buffer = io.BytesIO()
    padded[0].save(buffer, format="GIF", save_all=True, append_images=padded[1:], duration=durations,
                   loop=0)
    with atomic_write(path) as file:
        file.write(buffer.getvalue())


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
