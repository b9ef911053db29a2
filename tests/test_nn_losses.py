"""Loss functions and loss modules: values and gradients against PyTorch, in float64."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _pair(array: np.ndarray, requires_grad: bool = True):
    ours = mg.tensor(array, dtype=array.dtype, requires_grad=requires_grad)
    theirs = torch.tensor(array, requires_grad=requires_grad)
    return ours, theirs


def _same_value_and_grad(ours_loss, theirs_loss, ours_in, theirs_in):
    np.testing.assert_allclose(ours_loss.numpy(), theirs_loss.detach().numpy(), rtol=1e-10)
    ours_loss.sum().backward()
    theirs_loss.sum().backward()
    np.testing.assert_allclose(ours_in.grad.numpy(), theirs_in.grad.numpy(), rtol=1e-9, atol=1e-12)


LABELS = np.array([0, 2, 1, 2, 3, 1])
SCORES = RNG.normal(size=(6, 4))
CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_with_indices_matches_torch(reduction, weighted, ignore, smoothing):
    labels = LABELS.copy()
    if ignore:
        labels[[1, 4]] = -100
    options = {"reduction": reduction, "label_smoothing": smoothing}
    ours_weight = mg.tensor(CLASS_WEIGHT) if weighted else None
    theirs_weight = torch.tensor(CLASS_WEIGHT) if weighted else None
    ours_in, theirs_in = _pair(SCORES)
    ours = nn.CrossEntropyLoss(weight=ours_weight, **options)(ours_in, mg.tensor(labels))
    theirs = torch.nn.CrossEntropyLoss(weight=theirs_weight, **options)(
        theirs_in, torch.tensor(labels)
    )
    _same_value_and_grad(ours, theirs, ours_in, theirs_in)


def test_cross_entropy_over_image_positions_and_soft_targets_match_torch():
    scores = RNG.normal(size=(2, 3, 4, 5))
    labels = RNG.integers(0, 3, size=(2, 4, 5))
    ours_in, theirs_in = _pair(scores)
    ours = F.cross_entropy(ours_in, mg.tensor(labels), label_smoothing=0.1, reduction="none")
    theirs = torch.nn.functional.cross_entropy(
        theirs_in, torch.tensor(labels), label_smoothing=0.1, reduction="none"
    )
    assert ours.shape == (2, 4, 5)
    _same_value_and_grad(ours, theirs, ours_in, theirs_in)

    soft = RNG.dirichlet(np.ones(4), size=6)
    ours_in, theirs_in = _pair(SCORES)
    ours = F.cross_entropy(ours_in, mg.tensor(soft), weight=mg.tensor(CLASS_WEIGHT))
    theirs = torch.nn.functional.cross_entropy(
        theirs_in, torch.tensor(soft), weight=torch.tensor(CLASS_WEIGHT)
    )
    _same_value_and_grad(ours, theirs, ours_in, theirs_in)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_module_with_weights_matches_torch(reduction):
    log_probs = np.log(RNG.dirichlet(np.ones(4), size=6))
    ours_in, theirs_in = _pair(log_probs)
    ours = nn.NLLLoss(mg.tensor(CLASS_WEIGHT), reduction=reduction)(ours_in, mg.tensor(LABELS))
    theirs = torch.nn.NLLLoss(torch.tensor(CLASS_WEIGHT), reduction=reduction)(
        theirs_in, torch.tensor(LABELS)
    )
    _same_value_and_grad(ours, theirs, ours_in, theirs_in)


ELEMENTWISE = {
    "MSELoss": ({}, {}),
    "L1Loss": ({}, {}),
    "SmoothL1Loss": ({"beta": 0.5}, {"beta": 0.5}),
    "HuberLoss": ({"delta": 0.7}, {"delta": 0.7}),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_torch(name, reduction):
    ours_options, theirs_options = ELEMENTWISE[name]
    prediction, target = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    ours_in, theirs_in = _pair(prediction)
    ours = getattr(nn, name)(reduction=reduction, **ours_options)(ours_in, mg.tensor(target))
    theirs = getattr(torch.nn, name)(reduction=reduction, **theirs_options)(
        theirs_in, torch.tensor(target)
    )
    _same_value_and_grad(ours, theirs, ours_in, theirs_in)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_losses_with_weights_match_torch(reduction):
    logits, target = RNG.normal(size=(4, 3)) * 3, RNG.uniform(size=(4, 3))
    weight, pos_weight = RNG.uniform(0.5, 2, size=(4, 3)), np.array([1.0, 3.0, 0.25])
    ours_in, theirs_in = _pair(logits)
    ours = nn.BCEWithLogitsLoss(
        weight=mg.tensor(weight), reduction=reduction, pos_weight=mg.tensor(pos_weight)
    )(ours_in, mg.tensor(target))
    theirs = torch.nn.BCEWithLogitsLoss(
        weight=torch.tensor(weight), reduction=reduction, pos_weight=torch.tensor(pos_weight)
    )(theirs_in, torch.tensor(target))
    _same_value_and_grad(ours, theirs, ours_in, theirs_in)

    probs = 1 / (1 + np.exp(-logits))
    ours_in, theirs_in = _pair(probs)
    ours = nn.BCELoss(mg.tensor(weight), reduction=reduction)(ours_in, mg.tensor(target))
    theirs = torch.nn.BCELoss(torch.tensor(weight), reduction=reduction)(
        theirs_in, torch.tensor(target)
    )
    _same_value_and_grad(ours, theirs, ours_in, theirs_in)


def test_new_losses_pass_first_and_second_order_gradchecks():
    x = mg.tensor(RNG.normal(size=(3, 4)), requires_grad=True)
    y = mg.tensor(RNG.normal(size=(3, 4)))
    labels = mg.tensor(np.array([1, -100, 3]))
    weight = mg.tensor(CLASS_WEIGHT)
    for fn in (
        lambda z: F.huber_loss(z, y, delta=0.8),
        lambda z: F.cross_entropy(z, labels, weight=weight, label_smoothing=0.3),
        lambda z: F.binary_cross_entropy_with_logits(z, y.sigmoid(), pos_weight=weight),
    ):
        assert mg.gradcheck(fn, [x])
        assert mg.gradgradcheck(fn, [x])


def test_loss_modules_reject_bad_options_by_name():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="average")
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(TypeError, match="weight"):
        nn.BCELoss(weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"target values must be in \[0, 4\)"):
        F.nll_loss(mg.zeros(2, 4), mg.tensor(np.array([0, 4])))
    with pytest.raises(ValueError, match="weight must have shape"):
        F.cross_entropy(mg.zeros(2, 4), mg.tensor(np.array([0, 1])), weight=mg.ones(3))


def test_loss_weights_are_buffers_that_move_with_the_module():
    criterion = nn.CrossEntropyLoss(weight=mg.tensor(CLASS_WEIGHT, dtype=mg.float32))
    assert list(criterion.state_dict()) == ["weight"]
    assert criterion.double().weight.dtype == np.float64


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    log_p = np.log(RNG.dirichlet(np.ones(5), size=4))
    q = RNG.dirichlet(np.ones(5), size=4)
    q[0, 1] = 0.0  # a zero target term contributes nothing
    target = np.log(q + 1e-3) if log_target else q
    ours_in, theirs_in = _pair(log_p)
    ours = nn.KLDivLoss(reduction, log_target)(ours_in, mg.tensor(target))
    theirs = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)(
        theirs_in, torch.tensor(target)
    )
    _same_value_and_grad(ours, theirs, ours_in, theirs_in)
