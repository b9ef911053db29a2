"""Pictures of a computation graph: ``draw_graph(output)`` returns a ``graphviz.Digraph``.

One box per tensor met on the way back from ``output``: the op that made it (the name of
its backward ``Function``), its shape and dtype, and optionally its values and ``.grad``.
An arrow goes from each input of an op to the op's result, the direction the forward pass
ran; the backward pass walks the same arrows the other way, multiplying by each op's local
derivative (the chain rule).

Leaves are coloured by what backprop does with them:

* trainable parameters (``requires_grad=True``) — filled blue, named from ``params``;
* parameters that take no gradient (a frozen discriminator, ``requires_grad=False``) —
  grey and dashed: backprop passes *through* the ops that use them to the generator
  below, but stops at them;
* other inputs and constants (data, labels, the 2 in ``2 * x``) — plain white.

A graph recorded with ``create_graph=True`` (a gradient of a gradient) is an ordinary
graph too, so it draws the same way. Draw before ``backward()`` frees the graph, or pass
``retain_graph=True`` to it.

Needs the Python package ``graphviz`` (``pip install "minigrad[viz]"``); rendering the
picture to a file needs Graphviz's ``dot`` program as well (Debian package ``graphviz``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from minigrad.tensor import Tensor

if TYPE_CHECKING:
    import graphviz

_STYLES = {
    "output": {"shape": "box", "style": "filled,bold", "fillcolor": "#c7e9c0"},
    "op": {"shape": "box", "style": "rounded"},
    "parameter": {"shape": "box", "style": "filled", "fillcolor": "#c6dbef"},
    "frozen": {"shape": "box", "style": "filled,dashed", "fillcolor": "#e0e0e0"},
    "input": {"shape": "box", "style": "solid"},
}


def _base_id(tensor: Tensor) -> int:
    """The id of the array that owns the tensor's memory (itself, or the array it views)."""
    array = tensor._data
    return id(array if getattr(array, "base", None) is None else array.base)


def _named_tensors(
    params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None,
) -> dict[int, str]:
    """Names keyed by tensor id and by storage id.

    A frozen weight used as ``W.T`` enters the graph as a view made outside autograd (no
    op is recorded on a tensor that needs no gradient), so it is found by its storage.
    """
    if params is None:
        return {}
    items = params.items() if isinstance(params, Mapping) else params
    names: dict[int, str] = {}
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Tensor)):
            raise TypeError(
                "draw_graph: params must be a dict name -> Tensor or an iterable of "
                f"(name, Tensor) pairs such as model.named_parameters(); got an item {item!r}"
            )
        names[id(item[1])] = str(item[0])
        names.setdefault(_base_id(item[1]), str(item[0]))
    return names


def _name_of(tensor: Tensor, names: dict[int, str]) -> str | None:
    if id(tensor) in names:
        return names[id(tensor)]
    if tensor.grad_fn is None and _base_id(tensor) in names:
        return names[_base_id(tensor)] + " (view)"
    return None


def _summary(array: np.ndarray) -> str:
    """A few characters that describe an array: the value itself when small."""
    if array.size <= 4:
        return np.array2string(array.reshape(-1), precision=4, separator=", ")
    return f"mean {array.mean():.4g}, std {array.std():.4g}"


def _kind(tensor: Tensor, is_output: bool, names: dict[int, str]) -> str:
    if is_output:
        return "output"
    if tensor.grad_fn is not None:
        return "op"
    if _name_of(tensor, names) is not None:
        return "parameter" if tensor.requires_grad else "frozen"
    return "parameter" if tensor.requires_grad else "input"


def _label(tensor: Tensor, kind: str, names: dict[int, str], values: bool, grads: bool) -> str:
    name = _name_of(tensor, names)
    if tensor.grad_fn is not None:
        title = type(tensor.grad_fn).__name__
        if name is not None:
            title = f"{name} = {title}"
    elif name is not None:
        title = name + (" frozen" if kind == "frozen" else "")
    else:
        title = "leaf" if tensor.requires_grad else "input"
    lines = [title, f"{tuple(tensor.shape)} {tensor.dtype}"]
    if values:
        lines.append("value " + _summary(tensor.numpy()))
    if grads and tensor.grad is not None:
        lines.append("grad " + _summary(tensor.grad.numpy()))
    return "\n".join(lines)


def _walk(output: Tensor) -> tuple[list[Tensor], list[tuple[int, int]]]:
    """Every tensor reachable backwards from ``output`` and the (input, result) edges."""
    tensors: dict[int, Tensor] = {id(output): output}
    edges: list[tuple[int, int]] = []
    stack = [output]
    while stack:
        tensor = stack.pop()
        node = tensor.grad_fn
        if node is None:
            continue
        if node._freed:
            raise RuntimeError(
                f"draw_graph: the graph behind a tensor of shape {tuple(tensor.shape)} was "
                "freed by backward(); draw before backward or pass retain_graph=True to it"
            )
        for source in node.inputs:
            edges.append((id(source), id(tensor)))
            if id(source) not in tensors:
                tensors[id(source)] = source
                stack.append(source)
    return list(tensors.values()), edges


def draw_graph(
    output: Tensor,
    params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None,
    show_values: bool = False,
    show_grads: bool = False,
) -> graphviz.Digraph:
    """The graph that produced ``output``, as a ``graphviz.Digraph`` (inputs at the top).

    ``params`` names the leaves: a dict name -> Tensor, or ``model.named_parameters()``.
    ``show_values`` adds each tensor's value (or its mean and std when large);
    ``show_grads`` adds ``.grad`` where one is held (leaves after ``backward``, tensors
    that called ``retain_grad``). Render with ``.render(path, format="png")``; in a
    notebook the returned object displays itself.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"draw_graph: output must be a Tensor, got {type(output).__name__}")
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(
            'draw_graph needs the graphviz package: pip install "minigrad[viz]" '
            "(and Graphviz's dot program to render, e.g. apt-get install graphviz)"
        ) from error
    names = _named_tensors(params)
    tensors, edges = _walk(output)
    graph = graphviz.Digraph(graph_attr={"rankdir": "TB"}, node_attr={"fontname": "Helvetica"})
    for tensor in tensors:
        kind = _kind(tensor, tensor is output, names)
        graph.node(
            str(id(tensor)), _label(tensor, kind, names, show_values, show_grads), **_STYLES[kind]
        )
    for source, result in edges:
        graph.edge(str(source), str(result))
    return graph
