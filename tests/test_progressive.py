"""Progressive growing (gan/progressive): fade-in, growth, stabilisers, penalty, resume."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from gan.losses import gradient_penalty
from gan.progressive.architecture import ProgressiveArchitecture
from gan.progressive.data import average_pool_2x2, pixels_to_pyramid
from gan.progressive.discriminator import GrowingDiscriminator
from gan.progressive.ema import update_average
from gan.progressive.equalized import EqualizedConv2d, EqualizedLinear
from gan.progressive.fade_in import blend_reals, downsample, upsample
from gan.progressive.generator import GrowingGenerator
from gan.progressive.grow import grow
from gan.progressive.growth_picture import growth_grid
from gan.progressive.options import GrowOptions
from gan.progressive.pixel_norm import pixel_norm
from gan.progressive.schedule import FADE, STABILISE, GrowthSchedule
from gan.progressive.trainer import ProgressiveTrainer
from gan.remedies import MinibatchStdDev
from minigrad.nn import functional as F
from minigrad.runs import RunFolder, load_checkpoint

SMALL = ProgressiveArchitecture(z_dim=8, image_channels=1, widths=(8, 8, 4), stddev_group=4)


def _state(module: mg.nn.Module) -> dict[str, np.ndarray]:
    return {name: tensor.numpy().copy() for name, tensor in module.state_dict().items()}


# ------------------------------------------------------------------- fade-in
def test_generator_fade_in_starts_at_the_upsampled_old_output_and_ends_at_the_new_block():
    mg.manual_seed(0)
    generator = GrowingGenerator(SMALL, levels=2)
    z = mg.randn(4, SMALL.z_dim)
    with mg.no_grad():
        old = generator(z).numpy()  # 8x8, before growing
        generator.grow()
        at_zero = generator(z, 0.0).numpy()
        at_one = generator(z, 1.0).numpy()
        halfway = generator(z, 0.25).numpy()
        h = generator.blocks[1](generator.blocks[0](z))
        new_block = generator.to_rgb[2](generator.blocks[2](h)).numpy()
    assert at_zero.shape == (4, 1, 16, 16)
    np.testing.assert_allclose(at_zero, upsample(mg.tensor(old)).numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(at_one, new_block, rtol=1e-6, atol=1e-6)
    assert not np.allclose(at_zero, at_one, atol=1e-3)  # the two ends really differ
    np.testing.assert_allclose(halfway, 0.75 * at_zero + 0.25 * at_one, rtol=1e-5, atol=1e-5)


def test_discriminator_fade_in_starts_at_the_old_network_on_pooled_images():
    mg.manual_seed(1)
    discriminator = GrowingDiscriminator(SMALL, levels=1)
    x = mg.randn(8, 1, 8, 8)
    with mg.no_grad():
        old = discriminator(downsample(x)).numpy()  # the 4x4 network on pooled images
        discriminator.grow()
        at_zero = discriminator(x, 0.0).numpy()
        at_one = discriminator(x, 1.0).numpy()
        new_path = discriminator.blocks[0](
            discriminator.blocks[1](discriminator.from_rgb[1](x))
        ).numpy()
    np.testing.assert_allclose(at_zero, old, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(at_one, new_path, rtol=1e-6, atol=1e-6)
    assert not np.allclose(at_zero, at_one, atol=1e-3)


def test_real_images_are_blended_between_resolutions_like_the_fakes():
    x = mg.randn(2, 1, 8, 8)
    blurred = upsample(downsample(x)).numpy()
    np.testing.assert_allclose(blend_reals(x, 0.0).numpy(), blurred, rtol=1e-6)
    np.testing.assert_allclose(blend_reals(x, 1.0).numpy(), x.numpy())
    np.testing.assert_allclose(
        blend_reals(x, 0.4).numpy(), 0.6 * blurred + 0.4 * x.numpy(), rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match="alpha"):
        blend_reals(x, 1.5)


def test_schedule_raises_alpha_linearly_during_fade_in_then_holds_it_at_one():
    schedule = GrowthSchedule((4, 8, 16), images_per_phase=100, final_images=50)
    kinds = [(p.resolution, p.kind, p.start, p.length) for p in schedule.phases()]
    assert kinds == [
        (4, STABILISE, 0, 100),
        (8, FADE, 100, 100),
        (8, STABILISE, 200, 100),
        (16, FADE, 300, 100),
        (16, STABILISE, 400, 50),
    ]
    assert schedule.total_images == 450
    assert [schedule.alpha_at(n) for n in (0, 99, 100, 125, 150, 199, 200, 299)] == [
        1.0, 1.0, 0.0, 0.25, 0.5, 0.99, 1.0, 1.0,
    ]  # fmt: skip
    assert schedule.phase_at(10_000).resolution == 16  # past the end: the last phase goes on


# ------------------------------------------------------------------- growth
def test_growing_keeps_the_trained_weights_and_resets_adam():
    pixels = np.random.default_rng(0).random((32, 1, 28, 28)).astype(np.float32)
    options = GrowOptions(
        widths=(8, 8, 8, 4), z_dim=8, batch_size=8, images_per_phase=16, progress=False
    )
    mg.manual_seed(2)
    trainer = ProgressiveTrainer(options, pixels_to_pyramid(pixels, options.resolutions))
    for _ in range(2):
        trainer.train_round()  # two steps at 4x4: the weights are now trained ones
    models = (trainer.generator, trainer.discriminator, trainer.generator_ema)
    before = [_state(model) for model in models]
    old_params = [dict(model.named_parameters()) for model in models]
    assert trainer.d_optimizer.state  # Adam has moments for the 4x4 layers
    trainer.grow()
    assert trainer.resolution == 8
    for model, saved, params in zip(models, before, old_params, strict=True):
        after = _state(model)
        assert set(saved) < set(after)  # new layers were added ...
        for name, values in saved.items():  # ... and every old one is unchanged
            np.testing.assert_array_equal(after[name], values)
            assert dict(model.named_parameters())[name] is params[name]
    assert not trainer.d_optimizer.state and not trainer.g_optimizer.state
    new = {n for n in _state(trainer.generator) if n not in before[0]}
    ema_after, g_after = _state(trainer.generator_ema), _state(trainer.generator)
    for name in new:  # the average's new layers start as copies of G's
        np.testing.assert_array_equal(ema_after[name], g_after[name])


def test_data_pyramid_pads_to_32_and_average_pools_down():
    pixels = np.random.default_rng(1).random((3, 1, 28, 28)).astype(np.float32)
    pyramid = pixels_to_pyramid(pixels, (4, 8, 16, 32))
    assert {r: p.shape for r, p in pyramid.items()} == {r: (3, 1, r, r) for r in (4, 8, 16, 32)}
    np.testing.assert_allclose(pyramid[32][:, :, 2:30, 2:30], 2 * pixels - 1, rtol=1e-6)
    assert np.all(pyramid[32][:, :, :2] == -1.0)
    np.testing.assert_allclose(pyramid[4], average_pool_2x2(pyramid[8]), rtol=1e-6)
    np.testing.assert_allclose(pyramid[4][0, 0, 0, 0], pyramid[32][0, 0, :8, :8].mean(), rtol=1e-5)
    x = mg.tensor(pyramid[16])
    np.testing.assert_allclose(downsample(x).numpy(), pyramid[8], rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------- stabilisers
def test_equalized_layers_scale_standard_normal_weights_at_run_time():
    mg.manual_seed(3)
    conv = EqualizedConv2d(6, 5, 3, dtype=mg.float64)
    linear = EqualizedLinear(40, 7, dtype=mg.float64)
    assert conv.scale == pytest.approx(math.sqrt(2.0 / (6 * 3 * 3)), rel=1e-12)
    assert linear.scale == pytest.approx(math.sqrt(2.0 / 40), rel=1e-12)
    assert EqualizedConv2d(4, 1, 1, gain=1.0).scale == pytest.approx(1.0 / math.sqrt(4))
    stored = np.concatenate([conv.weight.numpy().ravel(), linear.weight.numpy().ravel()])
    assert abs(stored.mean()) < 0.15 and 0.85 < stored.std() < 1.15  # N(0, 1), unscaled
    np.testing.assert_allclose(conv.bias.numpy(), 0.0)
    x = mg.randn(2, 6, 5, 5, dtype=mg.float64)
    expected = F.conv2d(x, conv.weight.detach() * conv.scale, conv.bias.detach(), padding=1)
    np.testing.assert_allclose(conv(x).numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    v = mg.randn(3, 40, dtype=mg.float64)
    expected = v.numpy() @ (linear.weight.numpy() * linear.scale).T
    np.testing.assert_allclose(linear(v).numpy(), expected, rtol=1e-12, atol=1e-12)
    # The gradient reaching the stored weight carries the scale: d y / d w = c * d y / d w_used.
    linear(v).sum().backward()
    np.testing.assert_allclose(
        linear.weight.grad.numpy(), linear.scale * np.tile(v.numpy().sum(0), (7, 1)), rtol=1e-12
    )


def test_pixel_norm_gives_unit_rms_feature_vectors_at_every_pixel():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 16, 5, 5)) * rng.uniform(0.1, 50.0, size=(3, 1, 5, 5))
    y = pixel_norm(mg.tensor(x, dtype=mg.float64)).numpy()
    rms = np.sqrt((y**2).mean(axis=1))
    np.testing.assert_allclose(rms, 1.0, rtol=1e-6)
    np.testing.assert_allclose(y / x, np.broadcast_to(y[:, :1] / x[:, :1], x.shape), rtol=1e-9)


def test_minibatch_stddev_feature_is_zero_for_identical_samples():
    one = mg.randn(1, 3, 4, 4)
    identical = MinibatchStdDev(4)(one.expand(8, 3, 4, 4)).numpy()
    assert identical.shape == (8, 4, 4, 4)
    # sqrt(0 + 1e-8) = 1e-4: zero up to the layer's numerical floor.
    np.testing.assert_allclose(identical[:, 3], 1e-4, rtol=1e-3)
    varied = MinibatchStdDev(4)(mg.randn(8, 3, 4, 4)).numpy()
    assert varied[:, 3].min() > 0.3


# ------------------------------------------------------------------- gradient penalty
def test_gradient_penalty_matches_finite_differences_float64():
    mg.manual_seed(5)
    architecture = ProgressiveArchitecture(z_dim=4, widths=(3, 2), stddev_group=2)
    critic = GrowingDiscriminator(architecture, levels=2, dtype=mg.float64)
    real = mg.randn(2, 1, 8, 8, dtype=mg.float64)
    fake = mg.randn(2, 1, 8, 8, dtype=mg.float64)
    epsilon = mg.tensor([0.3, 0.8], dtype=mg.float64)
    alpha = 0.6

    def penalty() -> mg.Tensor:
        return gradient_penalty(lambda x: critic(x, alpha), real, fake, epsilon)

    # The penalty's value: ||grad_x D(x_hat)|| by central differences of the summed scores.
    points = (0.3 * real.numpy()[:1].repeat(2, 0)).copy()
    points[0] = 0.3 * real.numpy()[0] + 0.7 * fake.numpy()[0]
    points[1] = 0.8 * real.numpy()[1] + 0.2 * fake.numpy()[1]
    step, slopes = 1e-6, np.zeros_like(points)
    with mg.no_grad():
        for index in np.ndindex(*points.shape):
            shifted = [points.copy(), points.copy()]
            shifted[0][index] += step
            shifted[1][index] -= step
            up, down = (critic(mg.tensor(p), alpha).numpy().sum() for p in shifted)
            slopes[index] = (up - down) / (2 * step)
    norms = np.sqrt((slopes.reshape(2, -1) ** 2).sum(axis=1))
    np.testing.assert_allclose(penalty().item(), ((norms - 1) ** 2).mean(), rtol=1e-6)

    # Its gradient w.r.t. D's weights (a second-order gradient) against finite differences.
    weights = [critic.from_rgb[1].conv.weight, critic.blocks[0].score.weight]
    assert mg.gradcheck(lambda *_: penalty(), weights, eps=1e-6, atol=1e-6, rtol=1e-4)


# ------------------------------------------------------------------- the run
def _tiny_options(out) -> GrowOptions:
    return GrowOptions(
        out=str(out),
        resolutions=(4, 8),
        widths=(8, 4),
        z_dim=8,
        batch_size=8,
        images_per_phase=48,
        final_images=32,
        checkpoint_every=1000,
        eval_samples=0,
        progress=False,
    )


def test_resume_mid_fade_continues_with_the_same_alpha_and_the_same_numbers(tmp_path):
    pixels = np.random.default_rng(6).random((40, 1, 28, 28)).astype(np.float32)
    whole = grow(_tiny_options(tmp_path / "whole"), pixels=pixels)

    # Killed after 9 rounds: 6 at 4x4, then 3 of the 6 fade-in rounds to 8x8.
    options = _tiny_options(tmp_path / "resumed")
    grow(options, pixels=pixels, max_rounds=9)
    run = RunFolder(options.out)
    saved = load_checkpoint(run.latest_checkpoint())
    assert saved["step"] == 9 and saved["extra"]["levels"] == 2
    assert saved["extra"]["alpha"] == pytest.approx(0.5)  # image 72 of the 48-image fade
    resumed = grow(options, pixels=pixels, resume=True)

    records = run.read_metrics()
    assert records == RunFolder(tmp_path / "whole").read_metrics()
    assert records[9]["alpha"] == pytest.approx(0.5) and records[9]["phase"] == FADE
    assert [r["alpha"] for r in records[6:12]] == pytest.approx([i / 6 for i in range(6)])
    assert resumed.step == whole.step == 16 and resumed.resolution == 8
    for name in ("generator", "discriminator", "generator_ema"):
        ours, theirs = _state(getattr(resumed, name)), _state(getattr(whole, name))
        assert ours.keys() == theirs.keys()
        for key in ours:
            np.testing.assert_array_equal(ours[key], theirs[key])
    assert (tmp_path / "resumed" / "growth.png").is_file()
    assert sorted(p.name for p in run.path("samples").iterdir()) == ["res-004.png", "res-008.png"]


def test_weight_average_and_growth_grid():
    mg.manual_seed(7)
    model, average = mg.nn.Linear(3, 2), mg.nn.Linear(3, 2)
    expected = 0.9 * average.weight.numpy() + 0.1 * model.weight.numpy()
    update_average(average, model, 0.9)
    np.testing.assert_allclose(average.weight.numpy(), expected, rtol=1e-6)
    samples = {4: np.zeros((2, 1, 4, 4)), 8: np.ones((2, 1, 8, 8))}
    grid = growth_grid(samples)
    assert grid.shape == (4, 1, 8, 8)  # row by row: z0 at 4 and 8 px, then z1
    assert grid[0].max() == 0 and grid[1].min() == 1 and grid[2].max() == 0


def test_grow_command_trains_writes_the_run_folder_and_resumes_from_its_config(tmp_path):
    from gan.cli import main

    out = tmp_path / "cli"
    flags = ["--resolutions", "4,8", "--widths", "8,4", "--z-dim", "8", "--batch-size", "8"]
    flags += ["--images-per-phase", "16", "--final-images", "16", "--train-examples", "64"]
    flags += ["--eval-samples", "0", "--checkpoint-every", "3", "--no-progress"]
    assert main(["grow", "--out", str(out), *flags]) == 0
    run = RunFolder(out)
    assert run.read_config()["resolutions"] == [4, 8]
    assert len(run.read_metrics()) == 6 and (out / "growth.png").is_file()
    # --resume takes every option from config.json: nothing is left to train.
    assert main(["grow", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert len(run.read_metrics()) == 6
    # A fresh run may not write into a folder that holds one, nor resume from nothing.
    with pytest.raises(SystemExit) as occupied:
        main(["grow", "--out", str(out), *flags])
    with pytest.raises(SystemExit) as empty:
        main(["grow", "--out", str(tmp_path / "empty"), "--resume", *flags])
    assert occupied.value.code == empty.value.code == 2
    assert len(run.read_metrics()) == 6
