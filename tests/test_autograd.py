"""The backward engine: accumulation, graph freeing, higher order, and its error messages."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import functional as F


def f64(values, requires_grad=True) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def test_gradients_accumulate_across_backward_calls_like_pytorch():
    x = f64([1.0, 2.0])
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0]) + 3)


def test_shared_subexpression_receives_the_sum_of_its_paths():
    x = f64(1.5)
    y = x * x
    (y * y + y).backward()  # d/dx (x^4 + x^2) = 4x^3 + 2x
    assert x.grad.item() == pytest.approx(4 * 1.5**3 + 2 * 1.5)


def test_a_100000_op_chain_backpropagates_without_recursion():
    x = f64(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.000001
    y.backward()
    assert x.grad.item() == pytest.approx(1.000001**100_000, rel=1e-9)


def test_second_backward_through_freed_graph_raises():
    x = f64([1.0])
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = f64([1.0])
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp(1.0))


def test_backward_of_non_scalar_needs_gradient():
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(gradient=f64([1.0, 10.0], requires_grad=False))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_in_place_change_of_a_saved_tensor_is_caught():
    x = f64([1.0, 2.0])
    w = f64([3.0, 4.0], requires_grad=False)
    y = (x * w).sum()
    w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_in_place_on_a_leaf_that_requires_grad_needs_no_grad():
    x = f64([1.0])
    with pytest.raises(RuntimeError, match="no_grad"):
        x.add_(1.0)
    with mg.no_grad():
        x.add_(1.0)
    assert x.item() == 2.0


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        mg.zeros(2, 3) @ mg.zeros(4, 5)
    with pytest.raises(ValueError, match="broadcast"):
        mg.zeros(2, 3) + mg.zeros(4, 5)


def test_dtype_mismatch_is_a_clear_error():
    with pytest.raises(TypeError, match="float32.*float64"):
        mg.zeros(2) + mg.zeros(2, dtype=mg.float64)


def test_no_grad_records_nothing_and_detach_cuts_the_graph():
    x = f64([1.0])
    with mg.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    z = (x * 2).detach()
    assert not z.requires_grad


def test_grad_returns_without_touching_dot_grad_and_checks_unused():
    x, unused = f64([2.0]), f64([5.0])
    (g,) = mg.grad((x**3).sum(), x)
    assert g.item() == pytest.approx(12.0) and x.grad is None
    with pytest.raises(RuntimeError, match="not used"):
        mg.grad((x * 2).sum(), [x, unused])
    assert mg.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None


def test_create_graph_gives_second_and_third_derivatives():
    x = f64(0.7)
    (dy,) = mg.grad(x.tanh(), x, create_graph=True)
    (d2y,) = mg.grad(dy, x, create_graph=True)
    (d3y,) = mg.grad(d2y, x)
    t = np.tanh(0.7)
    assert dy.item() == pytest.approx(1 - t**2)
    assert d2y.item() == pytest.approx(-2 * t * (1 - t**2))
    assert d3y.item() == pytest.approx(-2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2))


def _critic(x: mg.Tensor, conv_w: mg.Tensor, lin_w: mg.Tensor) -> mg.Tensor:
    hidden = F.leaky_relu(F.conv2d(x, conv_w, stride=2, padding=1), 0.2)
    return F.linear(hidden.flatten(1), lin_w).tanh()


def _gradient_penalty(x: mg.Tensor, conv_w: mg.Tensor, lin_w: mg.Tensor) -> mg.Tensor:
    """WGAN-GP style: (‖∇x D(x)‖ - 1)², differentiated again with respect to D's weights."""
    (grad_x,) = mg.grad(_critic(x, conv_w, lin_w).sum(), x, create_graph=True)
    return ((grad_x.flatten(1).norm(dim=1) - 1) ** 2).mean()


def test_gradient_penalty_backpropagates_to_parameters_correctly():
    rng = np.random.default_rng(0)
    x = f64(rng.normal(size=(2, 1, 4, 4)))
    conv_w = f64(rng.normal(size=(3, 1, 3, 3)) * 0.5)
    lin_w = f64(rng.normal(size=(1, 12)) * 0.5)
    assert mg.gradcheck(lambda a, b: _gradient_penalty(x, a, b), [conv_w, lin_w])
    penalty = _gradient_penalty(x, conv_w, lin_w)
    penalty.backward()
    assert conv_w.grad is not None and float(np.abs(conv_w.grad.numpy()).sum()) > 0


def test_gradcheck_catches_a_wrong_gradient():
    class WrongSquare(mg.autograd.Function):
        save_inputs = True

        def forward(self, x):
            return x * x

        def backward(self, grad):
            (x,) = self.saved_inputs
            return grad * x  # should be 2x

    with pytest.raises(mg.GradcheckError, match="mismatch"):
        mg.gradcheck(WrongSquare.apply, [f64([1.0, 2.0])])


def test_gradcheck_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        mg.gradcheck(lambda t: t * 2, [mg.ones(2, requires_grad=True)])


def test_retain_grad_keeps_an_intermediate_gradient():
    x = f64([1.0, 2.0])
    hidden = x * 3
    hidden.retain_grad()
    (hidden * hidden).sum().backward()
    np.testing.assert_allclose(hidden.grad.numpy(), 2 * 3 * np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), 18 * np.array([1.0, 2.0]))
