"""Property-based gradient tests for your own code: hypothesis strategies and one assertion.

    from hypothesis import given
    from minigrad.testing import assert_gradients_match, tensors

    @given(tensors(shape=(3, 4)))
    def test_my_op(x):
        assert_gradients_match(my_op, x)      # first and second order, float64

:func:`assert_gradients_match` compares backpropagation with central differences,

    ∂f_i/∂x_j ≈ (f_i(x + h e_j) - f_i(x - h e_j)) / 2h,

through :mod:`minigrad.gradcheck`, for the gradient and for the gradient of the
gradient. The strategies draw shapes, broadcastable shape pairs, dtypes and tensors
whose values are *well conditioned*: magnitudes in [0.2, 2], so finite differences stay
clear of the kinks of ``abs``/``relu`` at 0 and of overflow, and all distinct (they come
from a seeded generator), because the repeated values hypothesis likes to draw put
``max`` and ``maximum`` exactly on their ties.

hypothesis is needed for the strategies only (``pip install hypothesis``); importing
minigrad never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.tensor import Tensor, float64

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
INTEGER_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))
LAYOUTS = ("contiguous", "transposed", "strided")


def _hypothesis() -> tuple[Any, Any]:
    """``(hypothesis.strategies, hypothesis.extra.numpy)``, or an ImportError saying how."""
    try:
        from hypothesis import strategies
        from hypothesis.extra import numpy as numpy_strategies
    except ImportError as error:
        raise ImportError(
            "minigrad.testing's strategies need hypothesis: pip install hypothesis"
        ) from error
    return strategies, numpy_strategies


def shapes(min_dims: int = 1, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> Any:
    """Tensor shapes: tuples of ``min_dims``..``max_dims`` sides in ``min_side``..``max_side``."""
    _, hnp = _hypothesis()
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> Any:
    """Tuples of ``num_shapes`` shapes that broadcast together (PyTorch's/numpy's rules)."""
    _, hnp = _hypothesis()
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
        min_side=min_side, max_side=max_side,
    ).map(lambda drawn: drawn.input_shapes)  # fmt: skip


def dtypes(floating: bool = True, integer: bool = False, boolean: bool = False) -> Any:
    """The numpy dtypes minigrad computes in: float32/float64, int32/int64, bool."""
    st, _ = _hypothesis()
    choices = [*(FLOAT_DTYPES if floating else ()), *(INTEGER_DTYPES if integer else ())]
    choices += [np.dtype(np.bool_)] if boolean else []
    if not choices:
        raise ValueError("dtypes: at least one of floating, integer, boolean must be True")
    return st.sampled_from(choices)


def tensors(
    shape: tuple[int, ...] | Any = None,
    dtype: Any = float64,
    elements: Any = None,
    *,
    min_dims: int = 1,
    max_dims: int = 3,
    min_side: int = 1,
    max_side: int = 4,
    low: float = 0.2,
    high: float = 2.0,
    layouts: Sequence[str] = LAYOUTS,
    requires_grad: bool = True,
) -> Any:
    """Tensors to differentiate: each draws a shape, a dtype, values and a memory layout.

    ``shape`` and ``dtype`` are fixed values or strategies (``shape=None`` draws from
    :func:`shapes` with the side and dimension bounds). Without ``elements``, floats have
    random signs and magnitudes in [low, high], integers lie in [-10, 10]; with it, values
    are drawn from that hypothesis strategy. ``layouts`` picks how the values sit in
    memory: ``"contiguous"``, ``"transposed"`` (a view with reversed strides) or
    ``"strided"`` (every other element of a larger array), so kernels meet the views
    users hand them. Floating tensors are leaves that require grad unless told not to.
    Two tensors drawn in one example may hold the same values (hypothesis repeats its
    draws): offset one where a tie would matter, as in ``maximum(a, b + 0.05)``.
    """
    st, hnp = _hypothesis()
    for layout in layouts:
        if layout not in LAYOUTS:
            raise ValueError(f"tensors: layouts must be among {LAYOUTS}, got {layout!r}")
    if shape is None:
        shape = shapes(min_dims, max_dims, min_side, max_side)
    shape_strategy = shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))
    dtype_strategy = dtype if isinstance(dtype, st.SearchStrategy) else st.just(np.dtype(dtype))

    @st.composite
    def draw_tensor(draw: Callable[[Any], Any]) -> Tensor:
        drawn_shape, drawn_dtype = draw(shape_strategy), np.dtype(draw(dtype_strategy))
        if elements is None:
            seed = draw(st.integers(0, 2**32 - 1))
            values = _well_conditioned(drawn_shape, drawn_dtype, seed, low, high)
        else:
            values = draw(hnp.arrays(drawn_dtype, drawn_shape, elements=elements))
        array = _laid_out(values, draw(st.sampled_from(list(layouts))))
        tensor = Tensor._make(array, "cpu", False)
        return tensor.requires_grad_(requires_grad and drawn_dtype.kind == "f")

    return draw_tensor()


def _well_conditioned(
    shape: tuple[int, ...], dtype: np.dtype, seed: int, low: float, high: float
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype.kind == "f":
        magnitudes = rng.uniform(low, high, size=shape)
        return (magnitudes * rng.choice([-1.0, 1.0], size=shape)).astype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    return rng.integers(-10, 11, size=shape).astype(dtype)


def _laid_out(values: np.ndarray, layout: str) -> np.ndarray:
    """The same values as a contiguous array, a transposed view or a strided view."""
    if layout == "transposed":
        return np.ascontiguousarray(values.T).T
    if layout == "strided" and values.ndim:
        wider = np.zeros((*values.shape[:-1], 2 * values.shape[-1]), values.dtype)
        wider[..., ::2] = values
        return wider[..., ::2]
    return np.array(values)


def assert_gradients_match(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    *inputs: Tensor,
    order: int = 2,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> None:
    """Assert that ``fn``'s gradients, up to ``order`` (1 or 2), match finite differences.

    Inputs that require grad are checked, in float64: other floating inputs are replaced
    by float64 copies first. On a mismatch the AssertionError names the order, the
    input, the element index in it and both values.
    """
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    inputs64 = [_as_float64_leaf(t, position) for position, t in enumerate(inputs)]
    try:
        gradcheck(fn, inputs64, eps=eps, atol=atol, rtol=rtol)
    except GradcheckError as error:
        raise AssertionError(_first_order_message(error)) from None
    if order == 2:
        try:
            gradgradcheck(fn, inputs64, eps=eps, atol=atol, rtol=rtol)
        except GradcheckError as error:
            raise AssertionError(_second_order_message(error, inputs64)) from None


def _as_float64_leaf(tensor: Any, position: int) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"inputs[{position}] must be a Tensor, got {type(tensor).__name__}")
    if not tensor.requires_grad or tensor.dtype == float64:
        return tensor
    return tensor.detach().double().requires_grad_(True)


def _first_order_message(error: GradcheckError) -> str:
    return (
        f"first-order gradients do not match finite differences: d output[{error.output}]"
        f"{list(error.output_index)} / d input[{error.input}]{list(error.input_index)} is "
        f"{error.analytical:.8g} by backpropagation but {error.numerical:.8g} numerically"
    )


def _second_order_message(error: GradcheckError, inputs: Sequence[Tensor]) -> str:
    # gradgradcheck differentiates (inputs, v) -> the gradients of the inputs that require
    # grad; its output k is the gradient of the k-th such input, its extra inputs are v.
    wanted = [i for i, t in enumerate(inputs) if t.requires_grad]
    of = wanted[error.output]
    if error.input < len(inputs):
        by = f"input[{error.input}]{list(error.input_index)}"
    else:
        by = f"grad_output[{error.input - len(inputs)}]{list(error.input_index)}"
    return (
        f"second-order gradients do not match finite differences: d grad(input[{of}])"
        f"{list(error.output_index)} / d {by} is {error.analytical:.8g} by "
        f"backpropagation but {error.numerical:.8g} numerically"
    )
