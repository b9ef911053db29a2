"""minigrad.nn's Module machinery: registration, traversal, modes, state dicts, to(), repr."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
        self.head = nn.Linear(4, 2)
        self.scale = nn.Parameter(np.ones(2, np.float32))
        self.register_buffer("calls", mg.zeros(1))
        self.register_buffer("scratch", mg.zeros(2), persistent=False)
        self.note = "a plain attribute"

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.head(self.body(x)) * self.scale


def test_registration_and_traversal_names() -> None:
    model = TwoLayer()
    assert [name for name, _ in model.named_parameters()] == [
        "scale",
        "body.0.weight",
        "body.0.bias",
        "body.1.weight",
        "body.1.bias",
        "head.weight",
        "head.bias",
    ]
    assert [name for name, _ in model.named_buffers()] == [
        "calls",
        "scratch",
        "body.1.running_mean",
        "body.1.running_var",
        "body.1.num_batches_tracked",
    ]
    assert [name for name, _ in model.named_children()] == ["body", "head"]
    assert [type(m).__name__ for m in model.modules()] == [
        "TwoLayer",
        "Sequential",
        "Linear",
        "BatchNorm1d",
        "ReLU",
        "Linear",
    ]
    assert model.note == "a plain attribute"
    assert "note" not in dict(model.named_parameters())


def test_reassigning_and_deleting_attributes_updates_the_registries() -> None:
    model = TwoLayer()
    model.head = nn.Linear(4, 5)  # a new module replaces the old under the same name
    assert model.head.out_features == 5
    model.head = None
    assert model.head is None and "head.weight" not in model.state_dict()
    model.scale = None
    assert "scale" not in dict(model.named_parameters())
    with pytest.raises(TypeError, match="parameter 'scale'"):
        model.scale = mg.ones(2)  # a plain Tensor cannot silently replace a Parameter
    del model.body
    assert list(model.children()) == []
    with pytest.raises(AttributeError, match="body"):
        _ = model.body


def test_shared_parameter_is_listed_once_and_forgotten_init_is_explained() -> None:
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 3
    # state_dict lists every path to the shared layer, so PyTorch checkpoints load as they are
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    model.load_state_dict(model.state_dict())

    class Forgetful(nn.Module):
        def __init__(self) -> None:
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Forgetful()


def test_register_buffer_rejects_non_tensors_and_dotted_names() -> None:
    module = nn.Module()
    with pytest.raises(TypeError, match="buffer 'x'"):
        module.register_buffer("x", np.zeros(2))
    with pytest.raises(ValueError, match="without '.'"):
        module.register_buffer("a.b", mg.zeros(2))


def test_train_and_eval_reach_every_descendant() -> None:
    model = TwoLayer()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_call_runs_forward_and_a_module_without_forward_says_so() -> None:
    mg.manual_seed(0)
    model = TwoLayer()
    assert model(mg.randn(5, 3)).shape == (5, 2)
    with pytest.raises(TypeError, match="must define forward"):
        nn.Module()(mg.ones(1))


def test_zero_grad_drops_or_zeroes_gradients() -> None:
    model = nn.Linear(3, 2)
    model(mg.randn(4, 3)).sum().backward()
    grad = model.weight.grad
    assert np.abs(grad.numpy()).sum() > 0
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is grad  # zeroed in place and reused, as PyTorch does
    np.testing.assert_array_equal(grad.numpy(), np.zeros((2, 3)))
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_requires_grad_toggles_every_parameter() -> None:
    model = TwoLayer().requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_apply_visits_children_before_parents() -> None:
    order: list[str] = []
    TwoLayer().apply(lambda m: order.append(type(m).__name__))
    assert order == ["Linear", "BatchNorm1d", "ReLU", "Sequential", "Linear", "TwoLayer"]


def test_state_dict_keys_are_parameters_and_persistent_buffers() -> None:
    state = TwoLayer().state_dict()
    assert list(state) == [
        "scale",
        "calls",
        "body.0.weight",
        "body.0.bias",
        "body.1.weight",
        "body.1.bias",
        "body.1.running_mean",
        "body.1.running_var",
        "body.1.num_batches_tracked",
        "head.weight",
        "head.bias",
    ]
    assert all(not value.requires_grad for value in state.values())


def test_state_dict_round_trip_through_save_and_load(tmp_path) -> None:
    mg.manual_seed(1)
    source = TwoLayer()
    source(mg.randn(8, 3))  # moves the BatchNorm running statistics off their start
    mg.save(source.state_dict(), tmp_path / "model.npz")

    mg.manual_seed(2)
    target = TwoLayer()
    weight = target.head.weight
    result = target.load_state_dict(mg.load(tmp_path / "model.npz"))
    assert result == nn.IncompatibleKeys([], [])
    assert target.head.weight is weight  # loaded in place: optimizers stay valid
    expected = source.state_dict()
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), expected[name].numpy(), err_msg=name)
    assert int(target.body[1].num_batches_tracked.item()) == 1
    x = mg.randn(6, 3)
    source.eval(), target.eval()
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())


def test_loaded_values_are_copies_not_aliases() -> None:
    source, target = nn.Linear(2, 2), nn.Linear(2, 2)
    target.load_state_dict(source.state_dict())
    with mg.no_grad():
        source.weight.fill_(7.0)
    assert not np.any(target.weight.numpy() == 7.0)


def test_strict_loading_names_missing_and_unexpected_keys() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    state = model.state_dict()
    del state["1.bias"]
    state["2.weight"] = mg.zeros(1, 3)
    with pytest.raises(
        KeyError, match=r"missing keys \['1.bias'\].*unexpected keys \['2.weight'\]"
    ):
        model.load_state_dict(state)
    assert model.load_state_dict(state, strict=False) == (["1.bias"], ["2.weight"])


def test_loading_a_wrong_shape_names_the_key_and_both_shapes() -> None:
    model = nn.Linear(2, 3)
    state = {"weight": np.zeros((3, 4), np.float32), "bias": np.zeros(3, np.float32)}
    with pytest.raises(ValueError, match=r"'weight'.*\(3, 4\).*\(3, 2\)"):
        model.load_state_dict(state)
    with pytest.raises(TypeError, match="state_dict must be a dict"):
        model.load_state_dict([("weight", np.zeros((3, 2)))])


def test_to_dtype_casts_in_place_and_keeps_identity() -> None:
    model = TwoLayer()
    weight = model.head.weight
    model(mg.randn(4, 3)).sum().backward()
    version = weight._version
    assert model.double() is model
    assert model.head.weight is weight and weight.dtype == mg.float64
    assert weight.grad.dtype == mg.float64 and weight._version > version
    assert model.body[1].running_var.dtype == mg.float64
    assert model.body[1].num_batches_tracked.dtype == mg.int64  # counters are not cast
    assert model(mg.randn(4, 3, dtype=mg.float64)).dtype == mg.float64
    model.float()
    assert all(p.dtype == mg.float32 for p in model.parameters())
    with pytest.raises(TypeError, match="floating dtype"):
        model.to(mg.int64)


def test_to_device_validates_the_name() -> None:
    model = nn.Linear(2, 2)
    assert model.to("cpu").weight.device == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        model.to("tpu")


def test_repr_is_nested_like_pytorch() -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1),
        nn.BatchNorm2d(4),
        nn.LeakyReLU(0.2),
        nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(4, 1, bias=False)),
        nn.ConvTranspose2d(2, 1, 4, 2, 1, bias=False),
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))\n"
        "  (1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  (2): LeakyReLU(negative_slope=0.2)\n"
        "  (3): Sequential(\n"
        "    (0): Flatten(start_dim=1, end_dim=-1)\n"
        "    (1): Dropout(p=0.3, inplace=False)\n"
        "    (2): Linear(in_features=4, out_features=1, bias=False)\n"
        "  )\n"
        "  (4): ConvTranspose2d(2, 1, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), "
        "bias=False)\n"
        ")"
    )
    assert repr(nn.Parameter([1.0, 2.0])).startswith("Parameter containing:\ntensor([1., 2.]")


def test_parameter_is_a_leaf_that_requires_grad() -> None:
    source = mg.tensor([1.0, 2.0], dtype=mg.float64)
    param = nn.Parameter(source)
    assert param.is_leaf and param.requires_grad and param.dtype == mg.float64
    assert not nn.Parameter(source, requires_grad=False).requires_grad
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter([1, 2])
