"""Watch the chain rule run: a log of every backward ``Function`` the engine calls.

    with minigrad.trace.trace_backward() as steps:
        loss.backward()
    print(steps)          # one line per op, outputs first: op, dL/d(output), dL/d(inputs)

Each step is one application of the chain rule at one node of the graph: the engine hands
the node dL/d(output) and the node's ``backward`` returns dL/d(input) for each input —
the incoming gradient multiplied by the op's local derivative. The steps come in the
engine's order (reverse topological: the loss first, the leaves last).

The arrays are copies taken when the step ran, so the log stays true after later
in-place updates (an optimizer step, gradient accumulation).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad import autograd


@dataclass(frozen=True)
class BackwardStep:
    """One node's chain-rule step: ``input_grads[i]`` is dL/d(inputs[i]) (None: not needed)."""

    op: str
    grad_output: np.ndarray
    input_shapes: tuple[tuple[int, ...], ...]
    input_grads: tuple[np.ndarray | None, ...]

    def __str__(self) -> str:
        ins = ", ".join("-" if g is None else _brief(g) for g in self.input_grads)
        return f"{self.op:<16} dL/dout {_brief(self.grad_output):<18} -> dL/din {ins}"


class BackwardTrace(list):
    """The steps recorded inside ``trace_backward``; ``str()`` prints one line per step."""

    def __str__(self) -> str:
        return "\n".join(str(step) for step in self)

    def ops(self) -> list[str]:
        """The op names in the order the engine ran their backward."""
        return [step.op for step in self]


def _brief(array: np.ndarray) -> str:
    """The value when it has at most 2 entries (a scalar example), else the shape."""
    if array.size <= 2:
        return np.array2string(array, precision=4, separator=", ")
    return f"shape {array.shape}"


def _copy(tensor: Any) -> np.ndarray | None:
    return None if tensor is None else np.array(tensor.numpy(), copy=True)


@contextlib.contextmanager
def trace_backward() -> Iterator[BackwardTrace]:
    """Record each backward step the engine runs inside the ``with`` block."""
    steps = BackwardTrace()

    def observe(node: autograd.Function, grad: Any, input_grads: tuple) -> None:
        steps.append(
            BackwardStep(
                op=type(node).__name__,
                grad_output=_copy(grad),
                input_shapes=tuple(tuple(t.shape) for t in node.inputs),
                input_grads=tuple(
                    _copy(g) if needs else None
                    for g, needs in zip(input_grads, node.needs_input_grad, strict=True)
                ),
            )
        )

    autograd.backward_observers.append(observe)
    try:
        yield steps
    finally:
        autograd.backward_observers.remove(observe)
