"""Adadelta, RMSprop, AdamW, Adagrad and MultiStepLR against PyTorch in float64;
PyTorch-style custom optimizers."""

from __future__ import annotations

import numpy as np
import pytest
from test_optim import _our_loss, _our_params, _run_ours, _run_torch

import minigrad as mg
from minigrad import nn, optim

CASES = {
    "Adadelta": [{}, {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1}, {"maximize": True}],
    "RMSprop": [
        {},
        {"lr": 0.005, "alpha": 0.9, "momentum": 0.7},
        {"lr": 0.01, "centered": True, "weight_decay": 0.05},
        {"lr": 0.01, "centered": True, "momentum": 0.5, "eps": 1e-3, "maximize": True},
    ],
    "AdamW": [{}, {"lr": 0.05, "weight_decay": 0.3}, {"lr": 0.1, "betas": (0.8, 0.9)}],
    "Adagrad": [
        {},
        {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.5},
        {"eps": 1e-3, "maximize": True},
    ],
}


@pytest.mark.parametrize(
    ("name", "kwargs"), [(name, kwargs) for name, cases in CASES.items() for kwargs in cases]
)
def test_trajectory_matches_pytorch(name: str, kwargs: dict) -> None:
    torch = pytest.importorskip("torch")
    ours = _run_ours(lambda p: getattr(optim, name)(p, **kwargs), 25)
    theirs = _run_torch(lambda p: getattr(torch.optim, name)(p, **kwargs), 25)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-11, atol=1e-13)


def test_defaults_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for name in CASES:
        ours = getattr(optim, name)([nn.Parameter(np.zeros(1))]).defaults
        theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
        for key, value in ours.items():
            expected = theirs[key]
            assert (tuple(value) if isinstance(value, tuple) else value) == expected, (name, key)


def test_adamw_decays_weights_without_a_gradient_signal() -> None:
    param = nn.Parameter(np.array([2.0]))
    optimizer = optim.AdamW([param], lr=0.1, weight_decay=0.5)
    param.grad = mg.zeros(1, dtype=mg.float64)
    optimizer.step()
    # m = v = 0: the Adam part is 0 / (0 + eps) = 0, only the decoupled decay acts.
    np.testing.assert_allclose(param.numpy(), [2.0 * (1 - 0.1 * 0.5)])


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda p: optim.Adadelta(p, rho=0.8),
        lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
        lambda p: optim.AdamW(p, lr=0.05),
    ],
)
def test_state_dict_round_trip_resumes_exactly(make_optimizer, tmp_path) -> None:
    params = _our_params()
    optimizer = make_optimizer(params)

    def train(optimizer, params, steps):
        for _ in range(steps):
            optimizer.zero_grad()
            _our_loss(*params).backward()
            optimizer.step()

    train(optimizer, params, 4)
    mg.save({"opt": optimizer.state_dict(), "p": [p.detach() for p in params]}, tmp_path / "c.npz")
    train(optimizer, params, 4)
    checkpoint = mg.load(tmp_path / "c.npz")
    resumed_params = [nn.Parameter(p) for p in checkpoint["p"]]
    resumed = make_optimizer(resumed_params)
    resumed.load_state_dict(checkpoint["opt"])
    train(resumed, resumed_params, 4)
    for mine, reference in zip(resumed_params, params, strict=True):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())


class SignSGD(optim.Optimizer):
    """Written as a PyTorch user writes one: only __init__ and step, state via self.state[p]."""

    def __init__(self, params, lr=0.01):
        super().__init__(params, {"lr": lr})

    @mg.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                state["steps"] = state.get("steps", 0) + 1
                p.sub_(p.grad.sign(), alpha=group["lr"])


def test_a_custom_optimizer_that_only_overrides_step_works() -> None:
    param = nn.Parameter(np.array([1.0, -2.0, 0.5]))
    optimizer = SignSGD([param], lr=0.25)
    for _ in range(2):
        optimizer.zero_grad()
        (param * param).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(param.numpy(), [0.5, -1.5, 0.0])
    assert optimizer.state[param]["steps"] == 2
    assert optimizer.state_dict()["state"] == {0: {"steps": 2}}


def test_an_optimizer_with_neither_step_nor_update_says_what_is_missing() -> None:
    class Empty(optim.Optimizer):
        pass

    param = nn.Parameter(np.ones(1))
    param.grad = mg.ones(1, dtype=mg.float64)
    with pytest.raises(NotImplementedError, match=r"Empty must override step\(\) or _update"):
        Empty([param], {"lr": 1.0}).step()


def test_bad_hyperparameters_are_named() -> None:
    param = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="rho"):
        optim.Adadelta([param], rho=1.5)
    with pytest.raises(ValueError, match="alpha"):
        optim.RMSprop([param], alpha=-0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        optim.AdamW([param], weight_decay=-1.0)


def test_multistep_lr_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    ours_opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=0.5)
    theirs_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    ours = optim.lr_scheduler.MultiStepLR(ours_opt, milestones=[6, 2, 2], gamma=0.3)
    theirs = torch.optim.lr_scheduler.MultiStepLR(theirs_opt, milestones=[6, 2, 2], gamma=0.3)
    for _ in range(9):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
        ours_opt.step(), theirs_opt.step(), ours.step(), theirs.step()
