import matplotlib
import numpy as np
import pytest

from genlab import plots


def test_ranges_are_read_from_dtype_and_values():
    uint8 = np.full((2, 4, 4), 255, np.uint8)
    tanh = np.full((2, 4, 4, 1), -1.0, np.float32)
    unit = np.full((2, 4, 4), 0.5, np.float32)
    assert plots.as_displayable(uint8).max() == 1.0
    assert plots.as_displayable(tanh).shape == (2, 4, 4) and plots.as_displayable(tanh).max() == 0.0
    assert plots.as_displayable(unit).max() == 0.5
    with pytest.raises(ValueError):
        plots.as_displayable(np.zeros((2, 3, 4, 5, 6)))


def test_tile_places_images_row_major():
    images = np.stack([np.full((2, 2), value, np.uint8) for value in (0, 85, 170, 255, 255)])
    canvas = plots.tile(images, ncols=3)
    assert canvas.shape == (4, 6)
    assert canvas[0, 2] == pytest.approx(85 / 255) and canvas[2, 0] == 1.0
    assert canvas[3, 5] == 1.0  # empty slot is white


def test_figures_are_drawn_and_saved(tmp_path):
    matplotlib.use("Agg")
    images = np.random.default_rng(0).integers(0, 256, (16, 28, 28), dtype=np.uint8)
    figure = plots.sample_grid(images, ncols=4, title="grid", path=tmp_path / "grid.png")
    assert figure.axes[0].get_title() == "grid"
    history = {"d_loss": [1.0, 0.8, 0.7], "g_loss": [0.5, 0.9, 1.1], "d_acc": [0.5, 0.6, 0.7]}
    plots.history_curves(history, groups=[["d_loss", "g_loss"], ["d_acc"]], smooth=2,
                         path=tmp_path / "curves.png")
    plots.grid_strip([images[:4], images[4:8]], labels=["0", "100"], path=tmp_path / "strip.png")
    plots.scatter_2d(np.zeros((5, 2)), reference=np.ones((5, 2)), path=tmp_path / "ring.png")
    for name in ("grid.png", "curves.png", "strip.png", "ring.png"):
        assert (tmp_path / name).stat().st_size > 1000
    with pytest.raises(ValueError):
        plots.grid_strip([images[:4]], labels=["a", "b"])
    plots.close_all()


def test_learning_curve_draws_the_points_and_the_floor(tmp_path):
    matplotlib.use("Agg")
    curve = {"n": 2000, "seed": 0, "points": [[1000, 97.4], [2000, 49.8], [3000, 31.7]]}
    figure = plots.learning_curve(curve, floor=2.6, path=tmp_path / "curve.png")
    samples, floor = figure.axes[0].get_lines()
    assert list(samples.get_xdata()) == [1000, 2000, 3000] and list(samples.get_ydata()) == [97.4, 49.8, 31.7]
    assert list(floor.get_ydata()) == [2.6, 2.6] and "2,000" in samples.get_label()
    assert (tmp_path / "curve.png").stat().st_size > 1000
    plots.close_all()
