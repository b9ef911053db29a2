"""``Tensor.register_hook`` with PyTorch's semantics, checked against real PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

# ---------------------------------------------------------------------------- hooks


def _hook_scenario(lib, grad_fn):
    """Hooks on a leaf and a non-leaf; returns every gradient PyTorch would report."""
    seen = []
    x = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([0.5, 1.5, -1.0], dtype=lib.float64, requires_grad=True)
    handle = x.register_hook(lambda g: seen.append(g.detach().numpy().copy()))
    x.register_hook(lambda g: g * 2)  # replaces the gradient x accumulates
    y = x * w
    y.register_hook(lambda g: g + 1)  # replaces what flows on to x and w
    y.retain_grad()
    ((y * y).sum() + (x * 3).sum()).backward()  # x used twice: hooks see the sum once
    out = {"x": x.grad.numpy(), "y": y.grad.numpy(), "w": w.grad.numpy(), "calls": len(seen)}
    handle.remove()
    x.grad = None
    (x * x).sum().backward()
    out["x_after_remove"], out["calls_after_remove"] = x.grad.numpy(), len(seen)
    a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    b = a * a
    b.register_hook(lambda g: g * 10)  # fires under create_graph, and stays differentiable
    (ga,) = grad_fn(b.sum(), a, create_graph=True)
    (gga,) = grad_fn(ga.sum(), a)
    out["ga"], out["gga"] = ga.detach().numpy(), gga.numpy()
    c = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    c.register_hook(lambda g: g * 3)
    out["grad_of_leaf"] = grad_fn((c * c).sum(), c)[0].numpy()
    e = c * 2
    e.register_hook(lambda g: g * 5)
    out["grad_of_non_leaf"] = grad_fn((e * e).sum(), e)[0].numpy()
    return out


def test_register_hook_sees_and_replaces_gradients():
    got = _hook_scenario(mg, mg.grad)
    # d/dx [(x w)^2 + 3x]: y's hook adds 1 to dL/dy = 2y, x's hook doubles the total.
    x, w = np.array([1.0, -2.0, 3.0]), np.array([0.5, 1.5, -1.0])
    dl_dy = 2 * x * w + 1
    np.testing.assert_allclose(got["x"], 2 * (dl_dy * w + 3))
    np.testing.assert_allclose(got["y"], dl_dy)  # retain_grad keeps the hooked gradient
    np.testing.assert_allclose(got["w"], dl_dy * x)
    assert got["calls"] == 1 and got["calls_after_remove"] == 1
    np.testing.assert_allclose(got["x_after_remove"], 2 * (2 * x))
    np.testing.assert_allclose(got["ga"], [20.0, 40.0])
    np.testing.assert_allclose(got["gga"], [20.0, 20.0])
    np.testing.assert_allclose(got["grad_of_leaf"], [6.0, 12.0])
    np.testing.assert_allclose(got["grad_of_non_leaf"], [20.0, 40.0])


def test_register_hook_matches_torch():
    torch = pytest.importorskip("torch")
    ours = _hook_scenario(mg, mg.grad)
    theirs = _hook_scenario(torch, torch.autograd.grad)
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], err_msg=key)


def test_register_hook_refuses_bad_hooks():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        mg.zeros(2).register_hook(lambda g: g)
    x = mg.zeros(2, requires_grad=True)
    x.register_hook(lambda g: mg.zeros(3))
    with pytest.raises(RuntimeError, match="changed the size"):
        (x * 1).sum().backward()
    y = mg.zeros(2, requires_grad=True)
    y.register_hook(lambda g: 1.0)
    with pytest.raises(TypeError, match="Tensor or None"):
        (y * 1).sum().backward()


def test_hook_handle_is_a_context_manager():
    x = mg.ones(2, requires_grad=True)
    with x.register_hook(lambda g: g * 0):
        (x * 1).sum().backward()
    assert x.grad.numpy().tolist() == [0.0, 0.0]
    x.grad = None
    (x * 1).sum().backward()
    assert x.grad.numpy().tolist() == [1.0, 1.0]
