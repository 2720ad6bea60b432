"""Plots the notebooks share: image grids, training curves, grids over time, 2-D samples.

Code too long to inline in every notebook (as in tensorflow_docs.plots). Each
function draws with matplotlib, returns the Figure, and can also save it
(``path=``), which is how training loops keep a grid per interval.
"""

import math
from pathlib import Path

import numpy as np


def _pyplot():
    # Imported lazily: without a display matplotlib picks the Agg backend by
    # itself, and in Jupyter the inline backend is already set.
    import matplotlib.pyplot as plt

    return plt


def as_displayable(images):
    """Images as float (N, H, W) or (N, H, W, 3) in [0, 1] from uint8, [-1, 1] or [0, 1].

    The range is read from the dtype and values: uint8 is 0-255; floats with a
    negative value are taken as [-1, 1] (tanh outputs), otherwise [0, 1].
    """
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[np.newaxis]
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4):
        raise ValueError(f"expected images shaped (N, H, W) or (N, H, W, C), got {images.shape}")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    images = images.astype(np.float32)
    if images.size and images.min() < 0:
        images = (images + 1.0) / 2.0
    return np.clip(images, 0.0, 1.0)


def tile(images, ncols=None):
    """One big image from a batch, row-major, ``ncols`` per row (default: square-ish)."""
    images = as_displayable(images)
    count = len(images)
    ncols = ncols or int(math.ceil(math.sqrt(count)))
    nrows = int(math.ceil(count / ncols))
    height, width = images.shape[1:3]
    canvas = np.ones((nrows * height, ncols * width) + images.shape[3:], dtype=np.float32)
    for index, image in enumerate(images):
        row, col = divmod(index, ncols)
        canvas[row * height:(row + 1) * height, col * width:(col + 1) * width] = image
    return canvas


def _save(figure, path):
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, bbox_inches="tight", dpi=100)


def sample_grid(images, ncols=None, title=None, ax=None, path=None, size=4.0):
    """Show a batch of images as one grid; returns the Figure.

    Args:
        images: uint8 (0-255) or float ([-1, 1] or [0, 1]) images, (N, H, W[, C]).
        ncols: images per row (default: square-ish).
        title: text above the grid.
        ax: draw into this matplotlib Axes instead of a new figure.
        path: also save the figure here (PNG).
    """
    plt = _pyplot()
    canvas = tile(images, ncols)
    if ax is None:
        figure, ax = plt.subplots(figsize=(size, size * canvas.shape[0] / canvas.shape[1]))
    else:
        figure = ax.figure
    ax.imshow(canvas, cmap="gray" if canvas.ndim == 2 else None, vmin=0.0, vmax=1.0)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    _save(figure, path)
    return figure


def history_curves(history, groups=None, title=None, path=None, smooth=1):
    """Plot training curves, one panel per group of history keys.

    Args:
        history: dict of name -> list of values per iteration (or a Keras History).
        groups: list of lists of keys per panel, e.g. ``[["d_loss", "g_loss"], ["d_acc"]]``;
            default: one panel with every key.
        smooth: moving-average window (iterations), to read trends in noisy GAN losses.
    """
    plt = _pyplot()
    history = getattr(history, "history", history)
    groups = groups or [list(history)]
    figure, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 3.2), squeeze=False)
    for ax, keys in zip(axes[0], groups):
        for key in keys:
            values = np.asarray(history[key], dtype=np.float64)
            if smooth > 1 and len(values) >= smooth:
                values = np.convolve(values, np.ones(smooth) / smooth, mode="valid")
            ax.plot(np.arange(len(values)) + (smooth - 1 if smooth > 1 else 0), values, label=key)
        ax.set_xlabel("iteration")
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    _save(figure, path)
    return figure


def learning_curve(curve, floor=None, title=None, path=None):
    """FID against training steps, from a manifest's ``curve`` (``{"n", "seed", "points": [[step, FID], ...]}``).

    ``floor``: the real-vs-real FID at the curve's N and seed, drawn as a line so the
    distance still to go is visible. Log scale: early points are an order of magnitude higher.
    """
    plt = _pyplot()
    steps, values = np.asarray(curve["points"], dtype=np.float64).T
    figure, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.plot(steps, values, "o-", label=f"samples (N = {curve['n']:,})")
    if floor is not None:
        ax.axhline(floor, color="grey", linestyle="--", label=f"floor, same N ({floor:.2f})")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("FID")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3, which="both")
    if title:
        ax.set_title(title)
    figure.tight_layout()
    _save(figure, path)
    return figure


def grid_strip(grids, labels=None, path=None, size=2.2):
    """Grids side by side, e.g. the fixed-noise samples at several iterations."""
    plt = _pyplot()
    labels = labels or [""] * len(grids)
    if len(labels) != len(grids):
        raise ValueError(f"got {len(grids)} grids but {len(labels)} labels")
    figure, axes = plt.subplots(1, len(grids), figsize=(size * len(grids), size), squeeze=False)
    for ax, images, label in zip(axes[0], grids, labels):
        sample_grid(images, ax=ax, title=str(label))
    figure.tight_layout()
    _save(figure, path)
    return figure


def scatter_2d(points, reference=None, title=None, ax=None, path=None):
    """Scatter 2-D samples, optionally over reference points (e.g. the ring of Gaussians)."""
    plt = _pyplot()
    if ax is None:
        figure, ax = plt.subplots(figsize=(3.5, 3.5))
    else:
        figure = ax.figure
    if reference is not None:
        reference = np.asarray(reference)
        ax.scatter(reference[:, 0], reference[:, 1], s=4, alpha=0.3, c="tab:gray", label="real")
    points = np.asarray(points)
    ax.scatter(points[:, 0], points[:, 1], s=4, alpha=0.6, c="tab:orange", label="generated")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize="small")
    if title:
        ax.set_title(title)
    _save(figure, path)
    return figure


def close_all():
    """Close every open figure (long loops that save grids should call this)."""
    _pyplot().close("all")
