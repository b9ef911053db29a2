"""minigrad.images: grids, GIFs and line plots on known inputs."""

import io

import numpy as np
import pytest
from PIL import Image

import minigrad as mg
from minigrad.images import make_grid, save_gif, save_image, save_image_grid, save_line_plots


def test_make_grid_places_images_like_torchvision():
    images = mg.tensor(np.stack([np.full((1, 2, 3), value) for value in (0.1, 0.2, 0.3)]))
    grid = make_grid(images, nrow=2, padding=1, pad_value=0.9)
    assert isinstance(grid, mg.Tensor) and grid.dtype == np.float64
    # One channel becomes three; 2 columns x 2 rows of (2+1) x (3+1) cells, plus the border.
    assert grid.shape == (3, 1 + 2 * (2 + 1), 1 + 2 * (3 + 1))
    grid = grid.numpy()
    assert np.array_equal(grid[0], grid[2])
    assert (grid[:, 1:3, 1:4] == 0.1).all() and (grid[:, 1:3, 5:8] == 0.2).all()
    assert (grid[:, 4:6, 1:4] == 0.3).all()
    assert (grid[:, 4:6, 5:8] == 0.9).all()  # the missing fourth tile is padding
    assert (grid[:, 0, :] == 0.9).all() and (grid[:, :, 0] == 0.9).all()
    assert make_grid(images, nrow=8, padding=0).shape == (3, 2, 9)


def test_make_grid_normalizes_over_the_batch_or_each_image():
    images = np.stack([np.arange(4.0).reshape(1, 2, 2), 10 + np.arange(4.0).reshape(1, 2, 2)])
    whole = make_grid(images, padding=0, normalize=True).numpy()[0]
    np.testing.assert_allclose(whole, np.hstack([images[0, 0], images[1, 0]]) / 13.0)
    each = make_grid(images, padding=0, normalize=True, scale_each=True).numpy()[0]
    np.testing.assert_allclose(each, np.hstack([np.arange(4.0).reshape(2, 2) / 3.0] * 2))
    clipped = make_grid(images, padding=1, normalize=True, value_range=(1, 3), pad_value=7).numpy()
    assert clipped[0, 1, 1] == 0.0 and clipped[0, 2, 2] == 1.0 and clipped[0, 1, 5] == 1.0
    assert clipped[0, 0, 0] == 7  # padding is filled after normalising
    assert images[1, 0, 1, 1] == 13.0  # the input is not changed
    with pytest.raises(TypeError, match="value_range"):
        make_grid(images, normalize=True, value_range=5)


def test_make_grid_single_images_and_lists():
    single = make_grid(mg.ones(1, 1, 4, 5), padding=2)
    assert single.shape == (3, 4, 5)  # a single image gets no padding, as in torchvision
    assert make_grid(mg.ones(4, 5)).shape == (3, 4, 5)
    rgb = [mg.zeros(3, 2, 2), mg.ones(3, 2, 2)]
    assert make_grid(rgb, padding=0).numpy()[:, :, 2:].min() == 1.0
    with pytest.raises(ValueError, match="images must be"):
        make_grid(np.zeros((0, 1, 2, 2)))


def test_save_image_writes_torchvision_bytes(tmp_path):
    values = np.array([0.0, 0.5, 1 / 255 * 0.49, 1.2, -0.3, 0.998]).reshape(1, 1, 2, 3)
    save_image(mg.tensor(values), tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as picture:
        assert picture.mode == "RGB"
        pixels = np.asarray(picture)
    # floor(255 v + 0.5), clipped to 0..255
    assert pixels[..., 0].tolist() == [[0, 128, 0], [255, 0, 254]]
    buffer = io.BytesIO()
    samples = mg.tanh(mg.randn(5, 1, 3, 3))
    save_image(samples, buffer, "PNG", nrow=2, normalize=True, value_range=(-1, 1))
    with Image.open(io.BytesIO(buffer.getvalue())) as picture:
        assert picture.size == (2 + 2 * 5, 2 + 3 * 5)
        expected = make_grid(samples, nrow=2, normalize=True, value_range=(-1, 1)).numpy()
        in_bytes = np.clip(expected * 255 + 0.5, 0, 255).astype(np.uint8)
        assert np.array_equal(np.asarray(picture), in_bytes.transpose(1, 2, 0))


def test_save_image_grid_keeps_grey_padding_and_grayscale(tmp_path):
    images = np.stack([np.full((1, 2, 3), value) for value in (-1.0, 0.0, 1.0)])
    grid = save_image_grid(images, tmp_path / "g.png", nrow=2, padding=1)
    assert grid.shape == (7, 9) and grid.dtype == np.uint8
    assert (grid[1:3, 1:4] == 0).all() and (grid[1:3, 5:8] == 128).all()
    assert (grid[4:6, 1:4] == 255).all() and (grid[0] == 128).all()
    with pytest.raises(ValueError, match="images must be"):
        save_image_grid(np.zeros((2, 2, 4, 4)), tmp_path / "bad.png")


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
