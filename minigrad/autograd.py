"""Reverse-mode automatic differentiation: ``Function``, grad mode, and the backward engine.

A ``Function`` has two halves:

* ``forward(ctx, *arrays, **options)`` runs on raw device arrays (a kernel runs here);
* ``backward(ctx, grad)`` receives and returns **Tensors**, built from differentiable Tensor
  ops. With ``create_graph=True`` the backward pass is itself recorded, so differentiating
  it again gives second derivatives for free (WGAN-GP, R1, double backpropagation).

The engine walks the graph in an iterative topological order (no recursion limit), adds
up gradients per node, accumulates into leaves, and frees each node after use unless
``retain_graph`` asks to keep it.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from minigrad.devices import get_backend
from minigrad.hooks import run_hooks

if TYPE_CHECKING:
    from minigrad.tensor import Tensor



class _ThreadState(threading.local):
    grad_enabled = True  # every thread starts in grad mode; a class default reads fastest


_state = _ThreadState()
_backends: dict[str, Any] = {}  # device -> kernel module, memoised for Function.apply

# The Tensor class and its device check, registered by minigrad.tensor when it loads
# (tensor.py imports this module, so importing it back here would be circular).
_Tensor: Any = None
_check_same_device: Any = None

# Called as observer(node, grad, input_grads) after each node's backward (minigrad.trace).
backward_observers: list[Any] = []


def register_tensor_class(tensor_class: type, check_same_device: Any) -> None:
    """Called once by ``minigrad.tensor``: the class that wraps every op's output."""
    global _Tensor, _check_same_device
    _Tensor, _check_same_device = tensor_class, check_same_device


def is_grad_enabled() -> bool:
    """True when new operations are being recorded for differentiation."""
    return _state.grad_enabled


class _GradMode(contextlib.ContextDecorator):
    def __init__(self, enabled: bool | None) -> None:
        self.enabled = enabled  # None: leave grad mode as it is

    def __enter__(self) -> None:
        self.previous = is_grad_enabled()
        _state.grad_enabled = self.previous if self.enabled is None else self.enabled

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self.previous


def no_grad() -> _GradMode:
    """Context manager / decorator: operations inside record no graph."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Context manager / decorator: record operations even inside ``no_grad``."""
    return _GradMode(True)


def set_grad_enabled(enabled: bool) -> _GradMode:
    """Context manager / decorator that sets grad mode to ``enabled``."""
    return _GradMode(enabled)


def inference_mode(mode: bool = True) -> _GradMode:
    """PyTorch's faster ``no_grad`` for inference; here it is ``no_grad`` (``mode=False``
    changes nothing, as in PyTorch). Tensors made inside are ordinary tensors."""
    return _GradMode(False if mode else None)


class Function:
    """One differentiable operation; an instance is also the graph node (the ``ctx``).

    Subclasses define ``forward(self, *arrays, **options) -> array`` and
    ``backward(self, grad: Tensor) -> Tensor | tuple[Tensor | None, ...]``.
    Set ``save_inputs = True`` on the subclass to read the input Tensors as
    ``self.saved_inputs`` in backward (e.g. (xy)' needs both), and ``save_output = True``
    to read the result as ``self.output`` (e.g. tanh' = 1 - y²). Both are checked against
    in-place changes made after the forward.
    """

    save_inputs = False
    save_output = False
    _freed = False  # set on the instance by _free

    @classmethod
    def apply(cls, *inputs: Tensor, **options: Any) -> Tensor:
        # Every op runs through here, so it is written for speed: one pass over the inputs,
        # no helper calls on the common path (it cost ~2x PyTorch's per-op time before).
        device = inputs[0].device if inputs else None
        arrays = []
        needs = []
        for tensor in inputs:
            if tensor.device is not device:
                device = _check_same_device(inputs, cls.__name__)  # raises if they differ
            arrays.append(tensor._data)
            needs.append(tensor._requires_grad)
        if device is None:
            device = _check_same_device(inputs, cls.__name__)
        ctx = cls()
        backend = _backends.get(device)
        if backend is None:
            backend = _backends[device] = get_backend(device)
        ctx.backend = backend  # forward reads ``self.backend.xp`` and kernels
        output_array = ctx.forward(*arrays, **options)
        requires_grad = True in needs and _state.grad_enabled
        output = _Tensor._make(output_array, device, requires_grad)
        if requires_grad:
            ctx.inputs = inputs
            ctx.needs_input_grad = tuple(needs)
            output.grad_fn = ctx
            if cls.save_inputs:
                ctx._input_versions = tuple([t._version for t in inputs])
            if cls.save_output:
                ctx._output_ref = weakref.ref(output)
                ctx._output_version = output._version
        return output

    @property
    def saved_inputs(self) -> tuple[Tensor, ...]:
        """The forward's input Tensors, checked against later in-place changes."""
        self._check_alive()
        for tensor, version in zip(self.inputs, self._input_versions, strict=True):
            if tensor._version != version:
                raise RuntimeError(
                    f"{type(self).__name__}: an input of shape {tensor.shape} needed for "
                    f"backward was modified in place (version {version} -> {tensor._version}); "
                    "clone it before the in-place change"
                )
        return self.inputs

    @property
    def output(self) -> Tensor:
        self._check_alive()
        output = self._output_ref()
        if output is None:
            raise RuntimeError(f"{type(self).__name__}: its output was freed before backward")
        if output._version != self._output_version:
            raise RuntimeError(
                f"{type(self).__name__}: its output (shape {output.shape}), needed for "
                "backward, was modified in place"
            )
        return output

    def _check_alive(self) -> None:
        if self._freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time ({type(self).__name__} "
                "was already freed); pass retain_graph=True to the first backward"
            )

    def _free(self) -> None:
        self.__dict__.clear()  # drops inputs, saved tensors and options at once
        self._freed = True

    def forward(self, *arrays: Any, **options: Any) -> Any:
        raise TypeError(f"{type(self).__name__} must define forward")

    def backward(self, grad: Tensor) -> Any:
        raise TypeError(f"{type(self).__name__} must define backward")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"


def _topological_order(
    roots: Sequence[Tensor], targets: set[int] | None
) -> tuple[list[Function], list[Tensor]]:
    """Nodes reachable from ``roots`` in reverse topological order (outputs first).

    With ``targets`` (ids of tensors we want gradients for), nodes that cannot reach any
    target are pruned. Also returns every tensor met, kept alive for the walk.
    """
    order: list[Function] = []
    reaches: dict[Function, bool] = {}
    tensors_seen: list[Tensor] = []
    stack: list[tuple[Function, bool]] = [
        (root.grad_fn, False) for root in roots if root.grad_fn is not None
    ]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            inputs = node.inputs
            reaches[node] = targets is None or any(
                id(t) in targets or (t.grad_fn is not None and reaches.get(t.grad_fn, False))
                for t in inputs
            )
            order.append(node)
            continue
        if node in reaches:
            continue
        node._check_alive()
        reaches[node] = False  # visiting: a placeholder until its children are done
        stack.append((node, True))
        for tensor in node.inputs:
            tensors_seen.append(tensor)
            if tensor.grad_fn is not None and tensor.grad_fn not in reaches:
                stack.append((tensor.grad_fn, False))
    order.reverse()
    if targets is not None:
        order = [node for node in order if reaches[node]]
    return order, tensors_seen


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
) -> list[Tensor | None] | None:
    """Propagate ``root_grads`` from ``roots`` back through the graph.

    Without ``inputs``: accumulate into the ``.grad`` of every leaf that requires grad.
    With ``inputs``: return their gradients instead and touch no ``.grad``.
    A tensor's hooks see its total gradient once, before it goes further (as PyTorch's).
    """
    targets = None if inputs is None else {id(t) for t in inputs}
    order, _keep_alive = _topological_order(roots, targets)
    node_grads: dict[Function, Tensor] = {}
    node_tensors: dict[Function, Tensor] = {}
    leaf_grads: dict[int, tuple[Tensor, Tensor]] = {}
    captured: dict[int, Tensor] = {}

    def deliver(tensor: Tensor, grad: Tensor) -> None:
        node = tensor.grad_fn
        if node is not None:
            node_grads[node] = node_grads[node] + grad if node in node_grads else grad
            node_tensors[node] = tensor
        elif targets is None or id(tensor) in targets:
            if id(tensor) in leaf_grads:
                grad = leaf_grads[id(tensor)][1] + grad
            leaf_grads[id(tensor)] = (tensor, grad)

    def finish(tensor: Tensor, grad: Tensor) -> Tensor:
        """``tensor``'s gradient is complete: run its hooks, then keep or return it."""
        grad = run_hooks(tensor, grad)
        if targets is not None:
            if id(tensor) in targets:
                captured[id(tensor)] = grad
        elif tensor.grad_fn is None or tensor._retains_grad:
            tensor._accumulate_grad(grad if create_graph else grad.detach())
        return grad

    with set_grad_enabled(create_graph):
        for root, grad in zip(roots, root_grads, strict=True):
            deliver(root, grad)
        for node in order:
            grad = node_grads.pop(node, None)
            if grad is None:
                continue
            grad = finish(node_tensors.pop(node), grad)
            input_grads = node.backward(grad)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for observer in backward_observers:
                observer(node, grad, input_grads)
            if len(input_grads) != len(node.inputs):
                raise RuntimeError(
                    f"{type(node).__name__}.backward returned {len(input_grads)} gradients "
                    f"for {len(node.inputs)} inputs"
                )
            for tensor, needs, input_grad in zip(
                node.inputs, node.needs_input_grad, input_grads, strict=True
            ):
                if needs and input_grad is not None:
                    deliver(tensor, input_grad)
            if not retain_graph:
                node._free()
        # Targets whose own node reaches no other target were pruned from the walk.
        for node, grad in node_grads.items():
            if targets is not None and id(node_tensors[node]) in targets:
                finish(node_tensors[node], grad)
        for tensor, grad in leaf_grads.values():
            finish(tensor, grad)
    if inputs is None:
        return None
    return [captured.get(id(t)) for t in inputs]


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs`` (like ``torch.autograd.grad``).

    Computes ``sum_k grad_outputs[k] · d outputs[k] / d inputs`` without touching ``.grad``.
    With ``create_graph=True`` the result is itself differentiable.
    """
    from minigrad.tensor import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad_outputs has {len(grad_outputs)} entries, outputs has {len(outputs)}"
        )
    for index, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(f"inputs[{index}] (shape {tensor.shape}) does not require grad")
    root_grads = [
        _default_root_grad(out, g, f"grad_outputs[{i}]")
        for i, (out, g) in enumerate(zip(outputs, grad_outputs, strict=True))
    ]
    for index, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"outputs[{index}] does not require grad and has no grad_fn: nothing to "
                "differentiate"
            )
    keep = create_graph if retain_graph is None else retain_graph
    result = run_backward(outputs, root_grads, keep, create_graph, inputs=inputs)
    assert result is not None
    for index, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"inputs[{index}] (shape {inputs[index].shape}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it"
            )
    return tuple(result)


def _default_root_grad(output: Tensor, given: Tensor | None, name: str) -> Tensor:
    from minigrad.tensor import Tensor

    if given is None:
        if output._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; got shape "
                f"{output.shape}: pass {name} (a tensor of that shape)"
            )
        return Tensor._make(output.backend.xp.ones_like(output._data), output.device, False)
    if tuple(given.shape) != tuple(output.shape):
        raise ValueError(f"{name} has shape {given.shape} but the output has shape {output.shape}")
    return given


def backward(
    tensor: Tensor,
    gradient: Tensor | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """``tensor.backward()``: accumulate d tensor / d leaf into every leaf's ``.grad``."""
    if not tensor.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    root_grad = _default_root_grad(tensor, gradient, "gradient")
    run_backward([tensor], [root_grad], retain_graph or create_graph, create_graph)
