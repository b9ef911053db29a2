"""minigrad.images: grids, GIFs and line plots on known inputs."""

import numpy as np
import pytest
from PIL import Image

from minigrad.images import make_grid, save_gif, save_image_grid, save_line_plots


def test_make_grid_places_and_scales_each_image():
    images = np.stack([np.full((1, 2, 3), value) for value in (-1.0, 0.0, 1.0)])
    grid = make_grid(images, nrow=2, padding=1, value_range=(-1, 1), pad_value=-1.0)
    assert grid.shape == (1 + 2 * (2 + 1), 1 + 2 * (3 + 1))
    assert grid.dtype == np.uint8
    assert (grid[1:3, 1:4] == 0).all()  # -1 -> black
    assert (grid[1:3, 5:8] == 128).all()  # 0 -> mid grey (127.5 rounds to even 128)
    assert (grid[4:6, 1:4] == 255).all()  # +1 -> white
    assert (grid[4:6, 5:8] == 0).all()  # the missing fourth tile is padding
    assert (grid[0, :] == 0).all() and (grid[:, 0] == 0).all()


def test_make_grid_rgb_and_clipping():
    images = np.zeros((2, 3, 2, 2))
    images[0, 0] = 5.0  # clipped to white in the red channel
    grid = make_grid(images, nrow=8, padding=0, value_range=(0, 1))
    assert grid.shape == (2, 4, 3)
    assert (grid[:, :2, 0] == 255).all() and (grid[:, :2, 1:] == 0).all()


@pytest.mark.parametrize("shape", [(2, 2, 4, 4), (4, 4), (0, 1, 2, 2)])
def test_make_grid_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="images must be"):
        make_grid(np.zeros(shape))


def test_save_image_grid_png_and_gif_roundtrip(tmp_path):
    images = np.linspace(0, 1, 4 * 4 * 4).reshape(4, 1, 4, 4)
    grid = save_image_grid(images, tmp_path / "g.png", nrow=2, value_range=(0, 1), scale=3)
    with Image.open(tmp_path / "g.png") as picture:
        assert picture.size == (grid.shape[1] * 3, grid.shape[0] * 3)
        loaded = np.asarray(picture)
    assert (loaded[::3, ::3] == grid).all()
    save_gif([grid, 255 - grid, tmp_path / "g.png"], tmp_path / "a.gif", scale=3)
    with Image.open(tmp_path / "a.gif") as animation:
        assert animation.n_frames == 3


def test_save_gif_rejects_mixed_sizes(tmp_path):
    with pytest.raises(ValueError, match="one size"):
        save_gif([np.zeros((4, 4), np.uint8), np.zeros((5, 4), np.uint8)], tmp_path / "a.gif")


def test_line_plots_write_png_and_check_lengths(tmp_path):
    panels = {"losses": {"D": [1.0, 0.5, 0.7], "G": [2, 1, 1]}, "D out": {"D(x)": [0.9, 0.6, 0.5]}}
    save_line_plots(tmp_path / "c.png", panels, x=[10, 20, 30])
    with Image.open(tmp_path / "c.png") as picture:
        assert picture.format == "PNG" and picture.size[0] > 100
    with pytest.raises(ValueError, match="has 2 values but x has 3"):
        save_line_plots(tmp_path / "bad.png", {"p": {"a": [1, 2]}}, x=[1, 2, 3])
