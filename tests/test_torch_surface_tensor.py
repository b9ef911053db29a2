"""PyTorch's Tensor surface as scripts use it: ``.data``, devices, methods, hooks, and the
behaviours that used to differ silently. Each rule is checked on its own, and against real
PyTorch where it is installed (``pytest.importorskip("torch")``)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

# ---------------------------------------------------------------------------- .data


def test_data_is_a_detached_tensor_sharing_storage():
    w = mg.zeros(3, 4, requires_grad=True)
    view = w.data
    assert isinstance(view, mg.Tensor)
    assert not view.requires_grad and view.grad_fn is None
    mg.manual_seed(0)
    view.normal_(0, 0.02)  # the DCGAN idiom nn.init.normal_(m.weight.data, 0, 0.02)
    np.testing.assert_array_equal(w.numpy(), view.numpy())
    assert 0.005 < w.numpy().std() < 0.05
    w.data.fill_(2.0)
    assert (w.numpy() == 2).all()
    w.data.copy_(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(w.numpy(), np.arange(12.0).reshape(3, 4))
    assert w.is_leaf and w.requires_grad  # changes through .data leave w a leaf


def test_data_of_a_gradient_gives_its_sign():
    x = mg.tensor([-1.0, 2.0, 0.5], requires_grad=True)
    (x * mg.tensor([3.0, -2.0, 1.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data.sign().numpy(), [1.0, -1.0, 1.0])  # FGSM idiom


def _data_changes_hidden_from_autograd(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data.mul_(10)  # no version bump: backward uses the new values, as PyTorch does
    y.backward()
    return x.grad.numpy()


def test_data_changes_are_hidden_from_autograd():
    np.testing.assert_array_equal(_data_changes_hidden_from_autograd(mg), [20.0, 40.0])


def test_data_changes_match_torch():
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(
        _data_changes_hidden_from_autograd(mg), _data_changes_hidden_from_autograd(torch)
    )


def test_assigning_data_replaces_storage():
    w = mg.zeros(2, requires_grad=True)
    new = mg.ones(3)
    w.data = new
    assert w.shape == (3,) and w.requires_grad and w.is_leaf
    new.fill_(5.0)  # w now shares new's storage
    np.testing.assert_array_equal(w.numpy(), [5.0, 5.0, 5.0])
    w.data = np.array([1.0, 2.0], dtype=np.float32)  # a host array is accepted too
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])
    with pytest.raises(RuntimeError, match="floating-point"):
        w.data = mg.tensor([1, 2])
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])  # the refused assignment left w alone


def test_data_of_a_zero_dim_result_is_writable():
    y = mg.tensor(1.0) + mg.tensor(2.0)  # numpy hands 0-d results back as scalars
    y.data.fill_(7.0)
    assert y.item() == 7.0


def test_setitem_writes_in_place_and_guards_leaves():
    x = mg.zeros(2, 3)
    x[0, 1] = 5.0
    x[1] = mg.tensor([1.0, 2.0, 3.0])
    x[x > 2.5] = -1.0
    np.testing.assert_array_equal(x.numpy(), [[0.0, -1.0, 0.0], [1.0, 2.0, -1.0]])
    w = mg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w[0] = 1.0
    with mg.no_grad():
        w[0] = 1.0
    w.data[1] = 2.0
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0, 0.0])
