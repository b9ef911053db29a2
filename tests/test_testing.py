"""minigrad.testing: strategies draw what they promise; the assertion catches wrong backwards."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import testing
from minigrad.autograd import Function
from minigrad.testing import assert_gradients_match, broadcastable_shapes, dtypes, shapes, tensors

checks = settings(max_examples=30, deadline=None, derandomize=True)


class Square(Function):
    """y = x²;   dL/dx = dL/dy * 2x"""

    save_inputs = True

    def forward(self, x):
        return x * x

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad * 2 * x


class WrongSquare(Square):
    """The classic slip: dL/dx = dL/dy * 3x."""

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad * 3 * x


class FlatSquare(Square):
    """Right first derivative, but x is detached, so its own derivative is lost (0, not 2)."""

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad * 2 * x.detach()


def test_importing_minigrad_never_imports_hypothesis():
    code = (
        "import sys, minigrad, minigrad.testing; "
        "assert 'hypothesis' not in sys.modules, 'hypothesis was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_strategies_without_hypothesis_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # makes the import fail
    with pytest.raises(ImportError, match="pip install hypothesis"):
        testing.shapes()


@checks
@given(tensors(min_dims=1, max_dims=3, min_side=2, max_side=3, low=0.5, high=1.5))
def test_tensors_are_float64_leaves_with_well_conditioned_values(x):
    assert isinstance(x, mg.Tensor) and x.dtype == mg.float64
    assert x.requires_grad and x.is_leaf
    assert 1 <= x.ndim <= 3 and all(2 <= side <= 3 for side in x.shape)
    magnitudes = np.abs(x.numpy())
    assert magnitudes.min() >= 0.5 and magnitudes.max() <= 1.5
    assert len(np.unique(x.numpy())) == x.numel()  # no ties for max/maximum to sit on


def test_tensors_come_in_every_layout():
    contiguous = find(tensors(shape=(2, 3)), lambda t: t.numpy().flags.c_contiguous)
    assert contiguous.shape == (2, 3)
    transposed = find(tensors(shape=(2, 3)), lambda t: t.numpy().flags.f_contiguous)
    assert transposed.numpy().strides == (8, 16)
    strided = find(tensors(shape=(2, 3)), lambda t: t.numpy().strides == (48, 16))
    assert not strided.numpy().flags.c_contiguous
    with pytest.raises(ValueError, match="layouts must be among"):
        tensors(layouts=["diagonal"])


@checks
@given(tensors(shape=st.just((4,)), dtype=dtypes(floating=False, integer=True)))
def test_integer_tensors_do_not_require_grad(x):
    assert x.dtype in (np.int32, np.int64) and not x.requires_grad
    assert x.shape == (4,) and np.abs(x.numpy()).max() <= 10


@checks
@given(tensors(shape=(3,), elements=st.floats(-1, 1, width=64), layouts=["contiguous"]))
def test_tensors_take_elements_from_a_given_strategy(x):
    assert x.shape == (3,) and np.all(np.abs(x.numpy()) <= 1)


@checks
@given(broadcastable_shapes(num_shapes=3, max_dims=4), shapes(min_dims=0, max_dims=2))
def test_shape_strategies(pair, shape):
    assert len(pair) == 3
    np.broadcast_shapes(*pair)  # raises unless they broadcast
    assert 0 <= len(shape) <= 2


def test_dtypes_needs_a_kind():
    with pytest.raises(ValueError, match="at least one of"):
        dtypes(floating=False)


def test_a_correct_function_passes_first_and_second_order():
    x = mg.tensor([[0.5, -1.0], [1.5, 2.0]], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([0.3, -0.7], dtype=mg.float32, requires_grad=True)  # checked as float64
    assert_gradients_match(lambda a, b: Square.apply(a) * b.exp(), x, y)


def test_a_wrong_backward_fails_naming_input_index_and_both_values():
    x = mg.tensor([[0.5, -1.0], [1.5, 2.0]], dtype=mg.float64, requires_grad=True)
    with pytest.raises(AssertionError) as failure:
        assert_gradients_match(WrongSquare.apply, x)
    message = str(failure.value)
    assert message.startswith("first-order gradients do not match finite differences")
    # The worst entry is x = 2 at [1, 1]: 3x = 6 against the true 2x = 4.
    assert "d output[0][1, 1] / d input[0][1, 1] is 6 by backpropagation but 4 numerically" in (
        message
    )


def test_a_backward_that_cannot_be_differentiated_again_fails_second_order():
    x = mg.tensor([0.5, -2.0], dtype=mg.float64, requires_grad=True)
    assert_gradients_match(FlatSquare.apply, x, order=1)  # the first derivative is right
    with pytest.raises(AssertionError, match=r"second-order .* d grad\(input\[0\]\)\[\d\] / d "):
        assert_gradients_match(FlatSquare.apply, x)


@checks
@given(tensors(), tensors(dtype=np.float32))
def test_the_assertion_under_hypothesis(x, y):
    assert_gradients_match(lambda a: (Square.apply(a) * a).tanh(), x)
    assert_gradients_match(lambda b: Square.apply(b).sum(), y)


def test_bad_arguments():
    x = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        assert_gradients_match(Square.apply, x, order=3)
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a Tensor, got list"):
        assert_gradients_match(lambda a, b: a, x, [1.0])


def test_the_readme_example_runs_and_catches_a_slip():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Test your own gradients", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    namespace["test_cube"]()  # hypothesis runs the examples

    cube = namespace["Cube"]

    class SlippedCube(cube):
        def backward(self, grad):
            (x,) = self.saved_inputs
            return grad * 2 * x * x

    x = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True)
    with pytest.raises(AssertionError, match=r"input\[0\]\[1\] is 4.5 by .* but 6.75 numerically"):
        assert_gradients_match(SlippedCube.apply, x)
