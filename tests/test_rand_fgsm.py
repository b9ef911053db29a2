"""R+FGSM (Tramèr et al. 2018): a random sign step of α, then FGSM with ε − α."""

import numpy as np
import pytest
from adversarial_helpers import accuracy_of, held_out_images, trained_cnn

import minigrad as mg
import minigrad.nn as nn
from adversarial.attacks import fgsm, rand_fgsm


def _tiny_model():
    mg.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(9, 3))


def _images(count=6):
    return mg.tensor(np.random.default_rng(0).uniform(0, 1, (count, 1, 3, 3)).astype(np.float32))


def test_stays_in_the_eps_ball_and_the_box_and_moves_by_eps_away_from_the_box_edges():
    model, x = _tiny_model(), _images()
    adversarial = rand_fgsm(model, x, eps=0.1, clip_min=0.0, clip_max=1.0)
    delta = (adversarial - x).numpy()
    assert np.abs(delta).max() <= 0.1 + 1e-6
    assert adversarial.numpy().min() >= 0 and adversarial.numpy().max() <= 1
    inside = (x.numpy() > 0.1) & (x.numpy() < 0.9)
    # each free pixel moved by α ± (ε − α): 0.1 (same signs) or 0.0 (opposite signs)
    np.testing.assert_allclose(np.sort(np.unique(np.abs(delta[inside]).round(5))), [0.0, 0.1])


def test_alpha_zero_is_fgsm_and_the_random_start_is_seeded():
    model, x, y = _tiny_model(), _images(), mg.tensor([0, 1, 2, 0, 1, 2])
    plain = fgsm(model, x, y, eps=0.1, clip_min=0.0, clip_max=1.0)
    np.testing.assert_array_equal(
        rand_fgsm(model, x, y, eps=0.1, alpha=0.0, clip_min=0.0, clip_max=1.0).numpy(),
        plain.numpy(),
    )
    mg.manual_seed(3)
    first = rand_fgsm(model, x, y, eps=0.1)
    mg.manual_seed(3)
    np.testing.assert_array_equal(rand_fgsm(model, x, y, eps=0.1).numpy(), first.numpy())


def test_argument_checks():
    model, x = _tiny_model(), _images()
    with pytest.raises(ValueError, match="alpha"):
        rand_fgsm(model, x, eps=0.1, alpha=0.1)
    with pytest.raises(ValueError, match="alpha"):
        rand_fgsm(model, x, eps=0.1, alpha=-0.01)
    np.testing.assert_array_equal(rand_fgsm(model, x, eps=0.0).numpy(), x.numpy())


def test_on_a_trained_cnn_it_hurts_far_more_than_noise_of_the_same_size():
    model = trained_cnn()
    x, y = held_out_images(200)
    mg.manual_seed(0)
    attacked = rand_fgsm(model, x, y, eps=0.1, clip_min=0.0, clip_max=1.0)
    noise = (x + 0.1 * mg.randn(*x.shape).sign()).clamp(0, 1)
    clean = accuracy_of(model, x, y)
    assert accuracy_of(model, attacked, y) < clean - 0.3
    assert accuracy_of(model, noise, y) > clean - 0.1
