"""Checking analytic gradients against central finite differences (float64).

    ∂f_i/∂x_j ≈ (f_i(x + h e_j) - f_i(x - h e_j)) / 2h

``gradcheck`` compares the whole Jacobian built by backpropagation, one output element
at a time, with the one built by nudging each input element. ``gradgradcheck`` applies
the same test to the gradient itself, which exercises the backward-of-backward.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from minigrad.autograd import grad as autograd_grad
from minigrad.tensor import Tensor, float64


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree."""


def _as_outputs(value: Tensor | Sequence[Tensor]) -> list[Tensor]:
    return [value] if isinstance(value, Tensor) else list(value)


def _check_inputs(inputs: Sequence[Tensor]) -> list[Tensor]:
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"inputs[{i}] must be a Tensor, got {type(t).__name__}")
        if t.requires_grad and t.dtype != float64:
            raise TypeError(
                f"inputs[{i}] has dtype {t.dtype}: gradcheck needs float64 for meaningful "
                "finite differences; use .double()"
            )
    if not any(t.requires_grad for t in inputs):
        raise ValueError("gradcheck: no input requires grad")
    return inputs


def _flat_values(fn: Callable[..., Tensor | Sequence[Tensor]], inputs: Sequence[Tensor]):
    """Each output of ``fn(*inputs)`` as a fresh flat float64 array (never a view)."""
    return [np.array(out.numpy(), dtype=np.float64).reshape(-1) for out in _as_outputs(fn(*inputs))]


def numerical_jacobians(
    fn: Callable[..., Tensor | Sequence[Tensor]], inputs: Sequence[Tensor], eps: float = 1e-6
) -> list[list[np.ndarray]]:
    """J[k][i] of shape (outputs[k].size, inputs[i].size), by central differences.

    Grad mode stays on: ``fn`` may itself call ``minigrad.grad`` (a gradient penalty).
    """
    sizes = [out.size for out in _flat_values(fn, inputs)]
    jacobians = [[np.zeros((size, t.numel())) for t in inputs] for size in sizes]
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            continue
        array = t._data  # nudged in place, element by element (works for any strides)
        for j, position in enumerate(np.ndindex(*t.shape)):
            original = array[position].item()
            array[position] = original + eps
            plus = _flat_values(fn, inputs)
            array[position] = original - eps
            minus = _flat_values(fn, inputs)
            array[position] = original
            for k in range(len(sizes)):
                jacobians[k][i][:, j] = (plus[k] - minus[k]) / (2 * eps)
    return jacobians


def analytical_jacobians(
    fn: Callable[..., Tensor | Sequence[Tensor]], inputs: Sequence[Tensor]
) -> list[list[np.ndarray]]:
    """J[k][i] by backpropagating each one-hot output cotangent."""
    outputs = _as_outputs(fn(*inputs))
    wanted = [t for t in inputs if t.requires_grad]
    jacobians = [[np.zeros((out.numel(), t.numel())) for t in inputs] for out in outputs]
    for k, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for row in range(out.numel()):
            one_hot = np.zeros(out.numel())
            one_hot[row] = 1.0
            cotangent = Tensor._make(
                out.backend.asarray(one_hot.reshape(out.shape), out.dtype), out.device, False
            )
            grads = autograd_grad(out, wanted, cotangent, retain_graph=True, allow_unused=True)
            grads_iter = iter(grads)
            for i, t in enumerate(inputs):
                if t.requires_grad:
                    g = next(grads_iter)
                    if g is not None:
                        jacobians[k][i][row] = g.numpy().reshape(-1)
    return jacobians


def gradcheck(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True when every analytic Jacobian entry matches finite differences.

    Raises :class:`GradcheckError` naming the input, output and worst entry otherwise
    (or returns False with ``raise_exception=False``).
    """
    inputs = _check_inputs(inputs)
    numerical = numerical_jacobians(fn, inputs, eps)
    analytical = analytical_jacobians(fn, inputs)
    for k, (num_row, ana_row) in enumerate(zip(numerical, analytical, strict=True)):
        for i, (num, ana) in enumerate(zip(num_row, ana_row, strict=True)):
            if not np.allclose(ana, num, atol=atol, rtol=rtol):
                worst = np.unravel_index(np.argmax(np.abs(ana - num)), ana.shape)
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {k} with respect to input {i}: at "
                    f"(output element, input element) {tuple(int(w) for w in worst)} "
                    f"analytical {ana[worst]:.8g} vs numerical {num[worst]:.8g}\n"
                    f"analytical:\n{ana}\nnumerical:\n{num}"
                )
    return True


def gradgradcheck(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """gradcheck of (inputs, v) ↦ vᵀ ∂fn/∂inputs, i.e. of the backward pass itself."""
    inputs = _check_inputs(inputs)
    outputs = _as_outputs(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [
            Tensor._make(
                out.backend.asarray(rng.standard_normal(out.shape), out.dtype), out.device, False
            ).requires_grad_(True)
            for out in outputs
        ]
    grad_outputs = list(grad_outputs)
    n_inputs = len(inputs)
    wanted = [i for i, t in enumerate(inputs) if t.requires_grad]

    def first_derivative(*args: Tensor) -> list[Tensor]:
        outs = _as_outputs(fn(*args[:n_inputs]))
        grads = autograd_grad(
            outs,
            [args[i] for i in wanted],
            list(args[n_inputs:]),
            create_graph=True,
            allow_unused=True,
        )
        return [g for g in grads if g is not None]

    return gradcheck(first_derivative, [*inputs, *grad_outputs], eps, atol, rtol)
