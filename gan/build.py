"""From options to the objects of a run: real batches, noise, G and D, their optimizers.

Images are scaled from pixels in [0, 1] to [-1, 1] (the range of the generator's Tanh)
and, for ``image_size=32``, zero-padded by 2 pixels a side (background stays black).
``to_pixels`` undoes both, giving 28x28 images in [0, 1] for the evaluation classifier.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

import minigrad as mg
from gan.models import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    dcgan_init_,
)
from gan.options import TrainOptions, options_from_dict, resolve
from gan.toy_data import Gaussian1D, GaussianMixture2D, grid, normal_noise, ring, uniform_noise
from minigrad import Tensor, nn, optim
from minigrad.data import DataLoader, TensorDataset, fashion_mnist, mnist
from minigrad.runs import load_checkpoint, require_extra

_LOADERS = {"fashion-mnist": fashion_mnist, "mnist": mnist}


def load_pixels(data: str, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """(images float32 (N, 1, 28, 28) in [0, 1], labels int64 (N,)) of an image data set."""
    if data not in _LOADERS:
        raise ValueError(f"data must be one of {sorted(_LOADERS)} for images, got {data!r}")
    dataset = _LOADERS[data](split)
    images, labels = dataset.tensors
    return images.numpy(), labels.numpy()


def to_generator_range(pixels: np.ndarray, image_size: int = 28) -> np.ndarray:
    """Pixels in [0, 1], 28x28 -> x = 2 * pixel - 1 in [-1, 1], padded with -1 to 32x32."""
    images = 2.0 * np.asarray(pixels, dtype=np.float32) - 1.0
    if image_size == 32:
        images = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=-1.0)
    return images


def to_pixels(images: Tensor | np.ndarray) -> np.ndarray:
    """Generator output in [-1, 1] (28 or 32 square) -> 28x28 pixels in [0, 1] (centre crop)."""
    array = images.detach().numpy() if isinstance(images, Tensor) else np.asarray(images)
    if array.ndim != 4 or array.shape[2] != array.shape[3] or array.shape[2] not in (28, 32):
        raise ValueError(f"images must be (N, C, 28, 28) or (N, C, 32, 32), got {array.shape}")
    if array.shape[2] == 32:
        array = array[:, :, 2:30, 2:30]
    return np.clip((array + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)


class ImageBatches:
    """Endless real image batches: a shuffled DataLoader restarted at each epoch's end.

    ``loader`` is exposed so a checkpoint can save and restore its position.
    """

    def __init__(self, options: TrainOptions) -> None:
        pixels, labels = load_pixels(options.data, "train")
        images = to_generator_range(pixels, options.image_size)
        dataset = TensorDataset(mg.tensor(images), mg.tensor(labels))
        self.device = options.device
        self.loader = DataLoader(
            dataset, batch_size=options.batch_size, shuffle=True, drop_last=True
        )
        self._batches = None

    def __call__(self) -> Tensor:
        if self._batches is None:
            self._batches = iter(self.loader)
        try:
            images, _ = next(self._batches)
        except StopIteration:
            self._batches = iter(self.loader)
            images, _ = next(self._batches)
        return images.to(self.device)


class ToyBatches:
    """Endless fresh samples of a toy target, drawn from minigrad's seeded generator."""

    def __init__(self, target: Gaussian1D | GaussianMixture2D, options: TrainOptions) -> None:
        self.target = target
        self.batch_size = options.batch_size
        self.device = options.device

    def __call__(self) -> Tensor:
        return self.target.sample(self.batch_size, self.device)


def toy_target(data: str) -> Gaussian1D | GaussianMixture2D:
    targets = {"ring": ring, "grid": grid, "gaussian-1d": Gaussian1D}
    if data not in targets:
        raise ValueError(f"data must be one of {sorted(targets)} for a toy target, got {data!r}")
    return targets[data]()


def real_batches(options: TrainOptions) -> ImageBatches | ToyBatches:
    if options.is_image:
        return ImageBatches(options)
    return ToyBatches(toy_target(options.data), options)


def noise_sampler(options: TrainOptions) -> Callable[[int], Tensor]:
    """z ~ U(0, 1) for the 1-D example (as in the lecture), z ~ N(0, I) otherwise."""
    if options.data == "gaussian-1d":
        return lambda count: uniform_noise(count, options.z_dim, options.device)
    return lambda count: normal_noise(count, options.z_dim, options.device)


def build_models(options: TrainOptions) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for the options, initialised, on the options' device."""
    if options.is_image:
        generator = DCGANGenerator(options.z_dim, options.image_size, 1, options.g_width)
        discriminator = DCGANDiscriminator(
            options.image_size,
            1,
            options.d_width,
            batch_norm=options.loss != "wgan-gp",
            remedy=options.remedy,
            stddev_group=options.stddev_group,
        )
        dcgan_init_(generator)
        dcgan_init_(discriminator)
    else:
        data_dim = 1 if options.data == "gaussian-1d" else 2
        generator = MLPGenerator(
            options.z_dim, data_dim, options.g_width, batch_norm=options.g_batch_norm
        )
        discriminator = MLPDiscriminator(
            data_dim, options.d_width, remedy=options.remedy, stddev_group=options.stddev_group
        )
    return generator.to(options.device), discriminator.to(options.device)


def build_optimizers(
    options: TrainOptions, generator: nn.Module, discriminator: nn.Module
) -> tuple[optim.Adam, optim.Adam]:
    """(Adam for G, Adam for D) with the options' learning rates and betas."""
    betas = (options.beta1, options.beta2)
    return (
        optim.Adam(generator.parameters(), lr=options.lr_g, betas=betas),
        optim.Adam(discriminator.parameters(), lr=options.lr_d, betas=betas),
    )


def generator_from_checkpoint(path: str | os.PathLike[str]) -> tuple[nn.Module, TrainOptions]:
    """(generator in eval mode with the checkpoint's weights, the run's options).

    ``path`` is a checkpoint file or a run folder (its newest checkpoint).
    """
    state = load_checkpoint(path)
    require_extra(state, path, ("options",), "python -m gan train")
    options = resolve(options_from_dict(state["extra"]["options"]))
    generator, _ = build_models(options)
    generator.load_state_dict(state["models"]["generator"])
    generator.eval()
    return generator, options
