"""minigrad.optim: SGD and Adam trajectories (against PyTorch and against known minima),
a hand-computed Adam step, state dicts through save/load, param groups, LR schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.optim import lr_scheduler

RNG = np.random.default_rng(0)
DESIGN = RNG.standard_normal((6, 3))  # least squares: loss = 0.5 |A w + c - y|^2 + 0.5 |c|^2
TARGET = RNG.standard_normal(6)
START_W, START_C = RNG.standard_normal(3), RNG.standard_normal(6)


def _least_squares_minimum() -> tuple[np.ndarray, np.ndarray]:
    """Minimiser of 0.5 |A w + c - y|^2 + 0.5 |c|^2 over (w, c), from its normal equations."""
    rows = DESIGN.shape[0]
    system = np.block([[DESIGN.T @ DESIGN, DESIGN.T], [DESIGN, 2 * np.eye(rows)]])
    solution = np.linalg.solve(system, np.concatenate([DESIGN.T @ TARGET, TARGET]))
    return solution[:3], solution[3:]


def _our_params() -> list[mg.Tensor]:
    return [nn.Parameter(START_W.copy()), nn.Parameter(START_C.copy())]


def _our_loss(w: mg.Tensor, c: mg.Tensor) -> mg.Tensor:
    residual = mg.tensor(DESIGN, dtype=mg.float64) @ w + c - mg.tensor(TARGET, dtype=mg.float64)
    return 0.5 * (residual * residual).sum() + 0.5 * (c * c).sum()


def _run_ours(make_optimizer, steps: int) -> list[np.ndarray]:
    params = _our_params()
    optimizer = make_optimizer(params)
    for _ in range(steps):
        optimizer.zero_grad()
        _our_loss(*params).backward()
        optimizer.step()
    return [p.numpy() for p in params]


def _run_torch(make_optimizer, steps: int) -> list[np.ndarray]:
    torch = pytest.importorskip("torch")
    params = [torch.tensor(START_W, requires_grad=True), torch.tensor(START_C, requires_grad=True)]
    optimizer = make_optimizer(params)
    design, target = torch.tensor(DESIGN), torch.tensor(TARGET)
    for _ in range(steps):
        optimizer.zero_grad()
        residual = design @ params[0] + params[1] - target
        (0.5 * (residual * residual).sum() + 0.5 * (params[1] * params[1]).sum()).backward()
        optimizer.step()
    return [p.detach().numpy() for p in params]


SGD_CASES = [
    {"lr": 0.05},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.03, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01},
    {"lr": 0.03, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
]
ADAM_CASES = [
    {"lr": 0.05},
    {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.02, "weight_decay": 0.1},
]


@pytest.mark.parametrize("kwargs", SGD_CASES)
def test_sgd_trajectory_matches_pytorch(kwargs: dict) -> None:
    torch = pytest.importorskip("torch")
    ours = _run_ours(lambda p: optim.SGD(p, **kwargs), 20)
    theirs = _run_torch(lambda p: torch.optim.SGD(p, **kwargs), 20)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("kwargs", ADAM_CASES)
def test_adam_trajectory_matches_pytorch(kwargs: dict) -> None:
    torch = pytest.importorskip("torch")
    ours = _run_ours(lambda p: optim.Adam(p, **kwargs), 20)
    theirs = _run_torch(lambda p: torch.optim.Adam(p, **kwargs), 20)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-11, atol=1e-13)


def test_sgd_with_momentum_converges_to_the_least_squares_minimum() -> None:
    w, c = _run_ours(lambda p: optim.SGD(p, lr=0.02, momentum=0.9), 1000)
    expected_w, expected_c = _least_squares_minimum()
    np.testing.assert_allclose(w, expected_w, atol=1e-8)
    np.testing.assert_allclose(c, expected_c, atol=1e-8)


def test_adam_with_cosine_annealing_converges_to_the_least_squares_minimum() -> None:
    params = _our_params()
    optimizer = optim.Adam(params, lr=0.05)
    schedule = lr_scheduler.CosineAnnealingLR(optimizer, T_max=3000)
    for _ in range(3000):
        optimizer.zero_grad()
        _our_loss(*params).backward()
        optimizer.step()
        schedule.step()
    expected_w, expected_c = _least_squares_minimum()
    np.testing.assert_allclose(params[0].numpy(), expected_w, atol=1e-5)
    np.testing.assert_allclose(params[1].numpy(), expected_c, atol=1e-5)


def test_one_adam_step_by_hand() -> None:
    param = nn.Parameter(np.array([1.0, -2.0]))
    param.grad = mg.tensor([0.5, -0.1], dtype=mg.float64)
    optimizer = optim.Adam([param], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
    optimizer.step()
    # g = grad + 0.1 p = [0.6, -0.3];  m = 0.1 g;  v = 0.001 g^2;  m_hat = g, v_hat = g^2
    # p <- p - 0.1 * g / (|g| + 1e-8)
    expected = [1.0 - 0.1 * 0.6 / (0.6 + 1e-8), -2.0 + 0.1 * 0.3 / (0.3 + 1e-8)]
    np.testing.assert_allclose(param.numpy(), expected, rtol=1e-13)
    state = optimizer.state[param]
    assert state["step"] == 1
    np.testing.assert_allclose(state["exp_avg"], [0.06, -0.03], rtol=1e-13)
    np.testing.assert_allclose(state["exp_avg_sq"], [0.00036, 0.00009], rtol=1e-12)


def test_one_sgd_momentum_step_by_hand() -> None:
    param = nn.Parameter(np.array([1.0, -2.0]))
    optimizer = optim.SGD([param], lr=0.5, momentum=0.9, dampening=0.5, weight_decay=0.1)
    for _ in range(2):
        param.grad = mg.tensor([0.5, -0.1], dtype=mg.float64)
        optimizer.step()
    # step 1: d = [0.6, -0.3], buf = d, p = [0.7, -1.85]
    # step 2: d = [0.57, -0.285], buf = 0.9 [0.6, -0.3] + 0.5 d = [0.825, -0.4125]
    np.testing.assert_allclose(param.numpy(), [0.7 - 0.4125, -1.85 + 0.20625], rtol=1e-14)


def test_a_step_invalidates_graphs_that_saved_the_old_parameter() -> None:
    param = nn.Parameter(np.array([1.0, 2.0]))
    for optimizer in (optim.SGD([param], lr=0.1), optim.Adam([param])):
        loss = (param * param).sum()
        loss.backward(retain_graph=True)
        version = param._version
        optimizer.step()
        assert param._version > version
        with pytest.raises(RuntimeError, match="modified in place"):
            loss.backward()
        param.grad = None


def test_parameters_without_gradients_are_left_alone() -> None:
    used, unused = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    optimizer = optim.Adam([used, unused], lr=0.1)
    (used * 3).sum().backward()
    optimizer.step()
    assert unused not in optimizer.state or not optimizer.state[unused]
    np.testing.assert_array_equal(unused.numpy(), [1.0, 1.0])
    assert np.all(used.numpy() < 1.0)


def test_param_groups_have_their_own_hyperparameters() -> None:
    fast, slow = nn.Parameter(np.zeros(1)), nn.Parameter(np.zeros(1))
    optimizer = optim.SGD([{"params": [fast], "lr": 1.0}, {"params": [slow]}], lr=0.1)
    assert optimizer.param_groups[1]["lr"] == 0.1 and optimizer.param_groups[0]["momentum"] == 0
    fast.grad, slow.grad = mg.ones(1, dtype=mg.float64), mg.ones(1, dtype=mg.float64)
    optimizer.step()
    np.testing.assert_allclose([fast.item(), slow.item()], [-1.0, -0.1])
    optimizer.zero_grad()
    assert fast.grad is None and slow.grad is None


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda p: optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True),
        lambda p: optim.Adam(p, lr=0.05, betas=(0.8, 0.99)),
    ],
)
def test_state_dict_round_trip_through_save_resumes_exactly(make_optimizer, tmp_path) -> None:
    params = _our_params()
    optimizer = make_optimizer(params)

    def train(optimizer, params, steps):
        for _ in range(steps):
            optimizer.zero_grad()
            _our_loss(*params).backward()
            optimizer.step()

    train(optimizer, params, 5)
    mg.save(
        {"optimizer": optimizer.state_dict(), "params": [p.detach() for p in params]},
        tmp_path / "checkpoint.npz",
    )
    train(optimizer, params, 5)

    checkpoint = mg.load(tmp_path / "checkpoint.npz")
    resumed_params = [nn.Parameter(p) for p in checkpoint["params"]]
    resumed = make_optimizer(resumed_params)
    resumed.load_state_dict(checkpoint["optimizer"])
    train(resumed, resumed_params, 5)
    for mine, reference in zip(resumed_params, params, strict=True):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())


def test_state_dict_is_plain_data_referring_to_params_by_index() -> None:
    params = _our_params()
    optimizer = optim.Adam([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}])
    _our_loss(*params).backward()
    optimizer.step()
    state = optimizer.state_dict()
    assert [group["params"] for group in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"][1]["lr"] == 0.5
    assert set(state["state"]) == {0, 1} and state["state"][1]["step"] == 1
    assert isinstance(state["state"][0]["exp_avg"], np.ndarray)
    snapshot = state["state"][0]["exp_avg"].copy()
    optimizer.step()
    np.testing.assert_array_equal(state["state"][0]["exp_avg"], snapshot)  # a copy, not a view


def test_loading_a_mismatched_state_dict_is_refused() -> None:
    params = _our_params()
    two_groups = optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=0.1)
    one_group = optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="2 param groups.*this optimizer has 1"):
        one_group.load_state_dict(two_groups.state_dict())
    other = optim.SGD([{"params": [params[0], params[1]]}, {"params": [nn.Parameter([1.0])]}], lr=1)
    with pytest.raises(ValueError, match="param group 0 has 1 parameters"):
        other.load_state_dict(two_groups.state_dict())
    with pytest.raises(ValueError, match="keys 'state' and 'param_groups'"):
        one_group.load_state_dict({"state": {}})


def test_module_to_dtype_keeps_the_optimizer_working() -> None:
    model = nn.Linear(3, 1)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    model.double()
    model(mg.ones(2, 3, dtype=mg.float64)).sum().backward()
    before = model.weight.numpy().copy()
    optimizer.step()
    np.testing.assert_allclose(model.weight.numpy(), before - 0.1 * 2.0)


def test_bad_arguments_are_named() -> None:
    param = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr must be a number >= 0"):
        optim.SGD([param], lr=-1.0)
    with pytest.raises(ValueError, match="nesterov needs momentum > 0"):
        optim.SGD([param], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"betas must be two numbers in \[0, 1\)"):
        optim.Adam([param], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="appears twice"):
        optim.Adam([param, param])
    with pytest.raises(ValueError, match="not a leaf"):
        optim.Adam([param * 2])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(param, lr=0.1)


def _schedule(make_scheduler, epochs: int = 20) -> list[float]:
    optimizer = optim.SGD([nn.Parameter(np.zeros(1))], lr=0.5)
    scheduler = make_scheduler(optimizer)
    rates = [optimizer.param_groups[0]["lr"]]
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    assert scheduler.get_last_lr() == [rates[-1]]
    return rates


SCHEDULES = {
    "step": (
        lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
        lambda t: 0.5 * 0.5 ** (t // 3),
    ),
    "exponential": (
        lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
        lambda t: 0.5 * 0.9**t,
    ),
    "lambda": (
        lambda o: lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + t)),
        lambda t: 0.5 / (1 + t),
    ),
    "cosine": (
        lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.1),
        lambda t: 0.1 + 0.4 * (1 + math.cos(math.pi * t / 8)) / 2,
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_follow_their_formulas(name: str) -> None:
    make, formula = SCHEDULES[name]
    np.testing.assert_allclose(_schedule(make), [formula(t) for t in range(21)], rtol=1e-14)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    make_theirs = {
        "step": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
        "exponential": lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
        "lambda": lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + t)),
        "cosine": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.1),
    }[name]
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    scheduler = make_theirs(optimizer)
    theirs = [optimizer.param_groups[0]["lr"]]
    for _ in range(20):
        optimizer.step()
        scheduler.step()
        theirs.append(optimizer.param_groups[0]["lr"])
    # PyTorch updates most schedules recursively (lr *= factor); ours is the closed form.
    np.testing.assert_allclose(_schedule(SCHEDULES[name][0]), theirs, rtol=1e-12, atol=1e-15)


def test_scheduler_state_dict_resumes_the_schedule(tmp_path) -> None:
    optimizer = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
    for _ in range(3):
        scheduler.step()
    mg.save(scheduler.state_dict(), tmp_path / "schedule.npz")

    fresh_optimizer = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    fresh = lr_scheduler.StepLR(fresh_optimizer, step_size=2, gamma=0.1)
    fresh.load_state_dict(mg.load(tmp_path / "schedule.npz"))
    fresh.step(), scheduler.step()
    assert fresh.last_epoch == 4
    assert fresh_optimizer.param_groups[0]["lr"] == pytest.approx(0.01)
    assert fresh.get_last_lr() == scheduler.get_last_lr()
    with pytest.raises(KeyError, match="lacks"):
        fresh.load_state_dict({"T_max": 3})


def test_resuming_a_schedule_needs_initial_lr() -> None:
    optimizer = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.ExponentialLR(optimizer, gamma=0.5, last_epoch=3)
    with pytest.raises(ValueError, match="lr_lambda must be a function or a list of 1"):
        lr_scheduler.LambdaLR(optimizer, [abs, abs])


def test_adam_accepts_a_strided_gradient() -> None:
    strided, contiguous = nn.Parameter(np.ones((2, 3))), nn.Parameter(np.ones((2, 3)))
    strided.grad = mg.tensor(np.arange(6.0).reshape(3, 2), dtype=mg.float64).T
    assert not strided.grad.numpy().flags.c_contiguous
    contiguous.grad = mg.tensor(np.arange(6.0).reshape(3, 2).T.copy(), dtype=mg.float64)
    optim.Adam([strided, contiguous], lr=0.1).step()
    np.testing.assert_array_equal(strided.numpy(), contiguous.numpy())
    assert strided.numpy()[0, 0] == 1.0 and strided.numpy()[0, 1] < 1.0  # zero grad: no move
