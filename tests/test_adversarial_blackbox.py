"""Black box (Papernot et al. 2017): Jacobian augmentation, substitute training from
labels only, and transfer of the substitute's adversarial examples to the oracle."""

from __future__ import annotations

import numpy as np
from adversarial_helpers import held_out_images, trained_cnn

import minigrad as mg
from adversarial.blackbox import (
    LabelOracle,
    SubstituteOptions,
    jacobian_augmentation,
    train_substitute,
    transfer_attack,
)
from adversarial.models import lenet


def test_jacobian_augmentation_moves_every_free_pixel_by_lambda() -> None:
    model = trained_cnn()
    x, _ = held_out_images(16)
    labels = LabelOracle(model)(x)
    new = jacobian_augmentation(model, x, labels, lam=0.1)
    step = (new - x).numpy()
    inside = (x.numpy() >= 0.1) & (x.numpy() <= 0.9)  # pixels no clip can reach
    moved = np.abs(step[inside])
    assert np.all((np.abs(moved - 0.1) < 1e-6) | (moved == 0))
    assert np.mean(np.abs(moved - 0.1) < 1e-6) > 0.5
    assert float(new.min().item()) >= 0 and float(new.max().item()) <= 1


def test_oracle_answers_labels_only_and_counts_queries() -> None:
    model = trained_cnn()
    x, _ = held_out_images(30)
    oracle = LabelOracle(model, batch_size=7)
    labels = oracle(x)
    assert labels.dtype == mg.int64 and labels.shape == (30,)
    np.testing.assert_array_equal(labels.numpy(), model(x).argmax(dim=1).numpy())
    assert oracle.queries == 30


def test_substitute_from_labels_only_transfers_adversarial_examples() -> None:
    oracle_model = trained_cnn()
    x, y = held_out_images(700)
    seeds, pool_x, pool_y = x[:60], x[100:400], y[100:400]
    mg.manual_seed(0)
    oracle = LabelOracle(oracle_model)
    result = train_substitute(
        oracle,
        seeds,
        lenet,
        SubstituteOptions(rounds=3, epochs_per_round=8, batch_size=32),
        agreement_images=x[400:700],
    )
    # The attacker's queries: 60 seeds, then 60 and 120 augmented points.
    assert result.queries == 60 + 60 + 120
    assert [r["examples"] for r in result.history] == [60, 120, 240]
    agreement = [r["agreement"] for r in result.history]
    assert agreement[-1] > 0.5  # ten classes: chance is about 0.1
    assert agreement[-1] > agreement[0]  # augmentation helped (measured 0.18 -> 0.66)
    transfer = transfer_attack(oracle_model, result.substitute, pool_x, pool_y, eps=0.2)
    clean_error = 1 - transfer["oracle_clean_accuracy"]
    assert transfer["misclassification_rate"] > clean_error + 0.15
    assert 0 <= transfer["success_rate_on_correct"] <= 1
