"""The Tensor API a PyTorch user reaches for: creation, dtypes, conversion, printing, errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_default_dtypes_follow_pytorch():
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor(np.zeros(2)).dtype == mg.float64  # numpy arrays keep their dtype
    assert mg.zeros(2, 3).dtype == mg.float32 and mg.zeros(2, 3).shape == (2, 3)
    assert mg.ones((2, 3), dtype=mg.float64).dtype == mg.float64


def test_tensor_copies_its_data():
    source = np.ones(3, dtype=np.float32)
    t = mg.tensor(source)
    source[0] = 5
    assert t.numpy()[0] == 1


def test_factories_and_like_variants():
    x = mg.full((2, 2), 3.5)
    np.testing.assert_array_equal(x.numpy(), np.full((2, 2), 3.5, dtype=np.float32))
    np.testing.assert_array_equal(mg.arange(4).numpy(), np.arange(4))
    assert mg.zeros_like(x).shape == (2, 2) and mg.ones_like(x).numpy().sum() == 4
    assert mg.randn_like(x).shape == x.shape and mg.rand_like(x).dtype == x.dtype
    r = mg.rand(1000)
    assert 0 <= r.numpy().min() and r.numpy().max() < 1


def test_manual_seed_repeats_and_rng_state_round_trips():
    mg.manual_seed(3)
    first = mg.randn(5).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(first, mg.randn(5).numpy())
    state = mg.get_rng_state()
    later = mg.randn(4).numpy()
    mg.set_rng_state(state)
    np.testing.assert_array_equal(later, mg.randn(4).numpy())


def test_conversion_item_tolist_and_to():
    x = mg.tensor([[1.5, 2.5]], requires_grad=True)
    assert mg.tensor([2.5]).item() == 2.5
    assert x.tolist() == [[1.5, 2.5]]
    y = x.double()
    assert y.dtype == mg.float64 and y.requires_grad
    y.sum().backward()  # the cast is differentiable and the gradient comes back as float32
    assert x.grad.dtype == mg.float32
    with pytest.raises(ValueError, match="one element"):
        x.item()


def test_shape_helpers_and_transpose():
    x = mg.arange(6, dtype=mg.float32).reshape(2, 3)
    assert x.T.shape == (3, 2) and x.size() == (2, 3) and x.size(1) == 3
    assert x.view(3, 2).shape == (3, 2) and x.flatten().shape == (6,)
    assert x.unsqueeze(0).shape == (1, 2, 3) and len(x) == 2 and x.numel() == 6


def test_max_with_dim_returns_values_and_indices():
    x = mg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert x.max().item() == 7.0 and x.argmax().item() == 3


def test_comparisons_give_bool_tensors_without_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == mg.bool_ and not mask.requires_grad
    assert mask.tolist() == [False, True]


def test_repr_shows_values_and_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn" in repr(x * 2)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="device"):
        mg.zeros(2, device="tpu")
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(ValueError, match="size"):
        mg.zeros(-1)
    with pytest.raises(ValueError, match="clamp"):
        mg.zeros(2).clamp(1.0, 0.0)


def test_copy_takes_host_data_broadcasts_and_refuses_a_wrong_shape():
    target = mg.zeros(2, 3)
    target.copy_(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(target.numpy(), np.arange(6.0).reshape(2, 3))
    target.copy_([1.0, 2.0, 3.0])  # broadcast over the rows, as torch's copy_
    np.testing.assert_array_equal(target.numpy(), [[1, 2, 3], [1, 2, 3]])
    assert target.dtype == np.float32
    with pytest.raises(ValueError):
        target.copy_(np.ones((3, 2)))
    np.testing.assert_array_equal(target.numpy(), [[1, 2, 3], [1, 2, 3]])
