"""minigrad.nn layers: outputs and gradients against PyTorch with copied weights (float64),
train/eval behaviour of BatchNorm and Dropout, containers, reshaping layers and init."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _torch():
    return pytest.importorskip("torch")


def _copy_weights(ours: nn.Module, theirs) -> None:
    """Load a PyTorch module's parameters and buffers into ours, by state_dict name."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _compare_forward_backward(ours: nn.Module, theirs, x: np.ndarray) -> None:
    """Same output, same input gradient and same parameter gradients for a random cotangent."""
    torch = _torch()
    x_ours = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    x_theirs = torch.from_numpy(x).requires_grad_(True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)  # once each: BatchNorm counts calls
    np.testing.assert_allclose(y_ours.numpy(), y_theirs.detach().numpy(), **TOL)
    upstream = np.random.default_rng(7).standard_normal(y_ours.shape)
    y_ours.backward(mg.tensor(upstream, dtype=mg.float64))
    y_theirs.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), **TOL)
    theirs_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(
            param.grad.numpy(), theirs_params[name].grad.numpy(), **TOL, err_msg=name
        )


def test_linear_matches_pytorch() -> None:
    torch = _torch()
    theirs = torch.nn.Linear(5, 3).double()
    ours = nn.Linear(5, 3).double()
    _copy_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((4, 2, 5))
    _compare_forward_backward(ours, theirs, x)


def test_conv2d_matches_pytorch() -> None:
    torch = _torch()
    theirs = torch.nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=1).double()
    ours = nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=1).double()
    assert ours.weight.shape == tuple(theirs.weight.shape)
    _copy_weights(ours, theirs)
    _compare_forward_backward(ours, theirs, np.random.default_rng(1).standard_normal((2, 3, 7, 6)))


def test_conv_transpose2d_matches_pytorch() -> None:
    torch = _torch()
    kwargs = {"stride": 2, "padding": 1, "output_padding": 1, "bias": True}
    theirs = torch.nn.ConvTranspose2d(3, 2, 4, **kwargs).double()
    ours = nn.ConvTranspose2d(3, 2, 4, **kwargs).double()
    assert ours.weight.shape == tuple(theirs.weight.shape) == (3, 2, 4, 4)
    _copy_weights(ours, theirs)
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 4))
    _compare_forward_backward(ours, theirs, x)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm2d_train_then_eval_matches_pytorch(momentum: float | None) -> None:
    torch = _torch()
    theirs = torch.nn.BatchNorm2d(3, momentum=momentum).double()
    ours = nn.BatchNorm2d(3, momentum=momentum).double()
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-0.5, 0.5)
    _copy_weights(ours, theirs)
    rng = np.random.default_rng(3)
    for _ in range(3):  # three training batches move the running statistics
        batch = rng.standard_normal((4, 3, 5, 5)) * 2.0 + 1.0
        _compare_forward_backward(ours, theirs, batch)
        for name in ("running_mean", "running_var"):
            np.testing.assert_allclose(
                getattr(ours, name).numpy(), getattr(theirs, name).numpy(), **TOL
            )
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 3
    ours.eval(), theirs.eval()
    ours.zero_grad(), theirs.zero_grad()
    _compare_forward_backward(ours, theirs, rng.standard_normal((2, 3, 5, 5)))
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), **TOL)


def test_batchnorm1d_on_features_and_sequences_matches_pytorch() -> None:
    torch = _torch()
    rng = np.random.default_rng(4)
    for shape in [(6, 4), (3, 4, 5)]:
        theirs = torch.nn.BatchNorm1d(4, affine=False).double()
        ours = nn.BatchNorm1d(4, affine=False).double()
        x = rng.standard_normal(shape)
        y_theirs = theirs(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), y_theirs, **TOL)
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), **TOL)


def test_batchnorm_uses_batch_stats_in_train_and_running_stats_in_eval() -> None:
    layer = nn.BatchNorm1d(2, momentum=0.5).double()
    x = mg.tensor([[1.0, 10.0], [3.0, 14.0], [5.0, 18.0]], dtype=mg.float64)
    y = layer(x).numpy()
    np.testing.assert_allclose(y.mean(axis=0), [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), [1.0, 1.0], rtol=1e-4)  # eps shrinks it a little
    # running = 0.5 * start + 0.5 * batch stat (unbiased variance: 4 and 16)
    np.testing.assert_allclose(layer.running_mean.numpy(), [1.5, 7.0])
    np.testing.assert_allclose(layer.running_var.numpy(), [2.5, 8.5])
    layer.eval()
    y_eval = layer(x).numpy()
    expected = (x.numpy() - [1.5, 7.0]) / np.sqrt(np.array([2.5, 8.5]) + 1e-5)
    np.testing.assert_allclose(y_eval, expected, rtol=1e-12)
    np.testing.assert_allclose(layer.running_mean.numpy(), [1.5, 7.0])  # eval leaves them be


def test_batchnorm_without_running_stats_always_normalises_by_the_batch() -> None:
    layer = nn.BatchNorm2d(2, track_running_stats=False).eval()
    assert layer.running_mean is None and "running_mean" not in layer.state_dict()
    y = layer(mg.randn(4, 2, 3, 3) * 5 + 3).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), [0, 0], atol=1e-5)


def test_batchnorm_rejects_wrong_input_shapes() -> None:
    with pytest.raises(
        ValueError, match=r"BatchNorm2d\(3\) expects .*\(N, 3, H, W\).*\(2, 4, 5, 5\)"
    ):
        nn.BatchNorm2d(3)(mg.zeros(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"\(N, 3\) or \(N, 3, L\)"):
        nn.BatchNorm1d(3)(mg.zeros(2, 3, 4, 4))


def test_dropout_zeroes_and_rescales_in_train_and_is_identity_in_eval() -> None:
    mg.manual_seed(0)
    layer = nn.Dropout(0.25)
    x = mg.ones(200, 100)
    y = layer(x).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.01  # 20,000 draws: std of the mean is 0.003
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match=r"p must be a number in \[0, 1\]"):
        nn.Dropout(1.5)


def test_activation_layers_compute_their_formulas() -> None:
    values = np.array([-2.0, -0.5, 0.0, 1.5])
    x = mg.tensor(values, dtype=mg.float64)
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), np.maximum(values, 0))
    np.testing.assert_allclose(
        nn.LeakyReLU(0.2)(x).numpy(), np.where(values > 0, values, 0.2 * values)
    )
    np.testing.assert_allclose(nn.LeakyReLU()(x).numpy()[0], -0.02)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(values))
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-values)))


def test_flatten_and_unflatten_are_inverse_reshapes() -> None:
    x = mg.randn(2, 3, 4, 5)
    flat = nn.Flatten()(x)
    assert flat.shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    back = nn.Unflatten(1, (3, 4, 5))(flat)
    np.testing.assert_array_equal(back.numpy(), x.numpy())
    assert nn.Unflatten(-1, (-1, 5))(flat).shape == (2, 12, 5)
    with pytest.raises(ValueError, match=r"unflattened_size \(7, 8\) does not match size 60"):
        nn.Unflatten(1, (7, 8))(flat)
    with pytest.raises(ValueError, match="unflattened_size must be"):
        nn.Unflatten(1, (-1, -1))


def test_sequential_indexing_slicing_length_and_iteration() -> None:
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    head = model[1:]
    assert isinstance(head, nn.Sequential) and list(head) == layers[1:]
    assert list(head.state_dict()) == ["2.weight", "2.bias"]  # names are kept, like PyTorch
    x = mg.randn(4, 2)
    np.testing.assert_allclose(model(x).numpy(), layers[2](layers[1](layers[0](x))).numpy())
    with pytest.raises(IndexError, match="index 3 is out of range"):
        model[3]
    with pytest.raises(TypeError, match="Sequential takes Modules"):
        nn.Sequential(nn.ReLU(), lambda t: t)
    named = nn.Sequential({"encode": nn.Linear(2, 2), "act": nn.Tanh()})
    assert list(named.state_dict()) == ["encode.weight", "encode.bias"]
    del model[1]
    assert [type(m).__name__ for m in model] == ["Linear", "Linear"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_module_list_registers_its_modules() -> None:
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    blocks.append(nn.Linear(2, 1))
    blocks.insert(0, nn.Tanh())
    assert len(blocks) == 5 and isinstance(blocks[0], nn.Tanh)
    assert len(list(blocks.parameters())) == 8
    assert list(blocks.state_dict())[:2] == ["1.weight", "1.bias"]
    assert isinstance(blocks[1:3], nn.ModuleList) and len(blocks[1:3]) == 2


def test_layer_constructors_reject_bad_sizes() -> None:
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        nn.Conv2d(1, 2, 0)
    with pytest.raises(ValueError, match="output_padding must be smaller than stride"):
        nn.ConvTranspose2d(1, 2, 3, stride=1, output_padding=1)
    with pytest.raises(ValueError, match=r"Linear expects input of shape \(\.\.\., 3\)"):
        nn.Linear(3, 2)(mg.zeros(4, 2))
    with pytest.raises(ValueError, match=r"Conv2d expects input of shape \(N, 2, H, W\)"):
        nn.Conv2d(2, 2, 3)(mg.zeros(1, 3, 8, 8))


def test_default_inits_use_pytorch_bounds() -> None:
    mg.manual_seed(3)
    for layer, fan_in in [
        (nn.Linear(400, 300), 400),
        (nn.Conv2d(16, 32, 5), 16 * 25),
        (nn.ConvTranspose2d(32, 16, 5), 16 * 25),  # fan_in counts the *output* channels
    ]:
        bound = 1 / math.sqrt(fan_in)
        for param in (layer.weight, layer.bias):
            values = param.numpy()
            assert np.abs(values).max() <= bound
        # 120,000 / 12,800 uniform draws reach close to the bound and spread like U(-b, b)
        weight = layer.weight.numpy()
        assert np.abs(weight).max() > 0.99 * bound
        np.testing.assert_allclose(weight.std(), bound / math.sqrt(3), rtol=0.03)


def test_calculate_gain_and_fans() -> None:
    assert nn.init.calculate_gain("linear") == 1.0
    assert nn.init.calculate_gain("conv_transpose2d") == 1.0
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("relu") == math.sqrt(2)
    assert nn.init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        nn.init.calculate_gain("swish")
    weight = mg.zeros(8, 3, 5, 5)
    assert nn.init._calculate_fan_in_and_fan_out(weight) == (75, 200)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(mg.zeros(5))


def test_initialisers_fill_in_place_with_the_right_spread() -> None:
    mg.manual_seed(4)
    weight = nn.Parameter(np.zeros((200, 300), np.float64))  # requires grad: no_grad inside
    cases = [
        (lambda: nn.init.kaiming_normal_(weight, nonlinearity="relu"), math.sqrt(2 / 300)),
        (lambda: nn.init.kaiming_normal_(weight, mode="fan_out"), math.sqrt(2 / 200)),
        (lambda: nn.init.xavier_normal_(weight, gain=2.0), 2 * math.sqrt(2 / 500)),
        (lambda: nn.init.xavier_uniform_(weight), math.sqrt(6 / 500) / math.sqrt(3)),
        (lambda: nn.init.kaiming_uniform_(weight, a=1.0), math.sqrt(1 / 300)),
        (lambda: nn.init.normal_(weight, 1.0, 0.5), 0.5),
        (lambda: nn.init.uniform_(weight, -2.0, 2.0), 4 / math.sqrt(12)),
    ]
    for fill, std in cases:
        assert fill() is weight
        # 60,000 samples: the sample std is within 1% of the true one
        np.testing.assert_allclose(weight.numpy().std(), std, rtol=0.01)
    assert weight.numpy().min() >= -2.0
    assert nn.init.constant_(weight, 0.3) is weight and np.all(weight.numpy() == 0.3)
    assert np.all(nn.init.zeros_(weight).numpy() == 0) and np.all(
        nn.init.ones_(weight).numpy() == 1
    )
    with pytest.raises(ValueError, match="mode must be one of"):
        nn.init.kaiming_uniform_(weight, mode="fan_avg")
