"""The graph picture (minigrad.viz) and the backward trace (minigrad.trace)."""

import shutil

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad.trace import trace_backward

graphviz = pytest.importorskip("graphviz")
from minigrad.viz import draw_graph  # noqa: E402


def _nodes_and_edges(graph):
    lines = [line.strip() for line in graph.body]
    edges = [line for line in lines if "->" in line]
    nodes = [line for line in lines if "->" not in line and "[label=" in line]
    return nodes, edges


def _attrs_of(graph, label_start):
    nodes, _ = _nodes_and_edges(graph)
    return [n for n in nodes if f'[label="{label_start}' in n]


def test_known_expression_has_one_node_per_tensor_and_one_edge_per_use():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    z = (a * b + a * a).sum()  # tensors: a, b, a*b, a*a, +, sum
    nodes, edges = _nodes_and_edges(draw_graph(z, {"a": a, "b": b}))
    assert len(nodes) == 6
    # a->ab, b->ab, a->aa twice, ab->add, aa->add, add->sum
    assert len(edges) == 7
    graph = draw_graph(z, {"a": a, "b": b})
    assert _attrs_of(graph, "Sum") and _attrs_of(graph, "Mul") and _attrs_of(graph, "a\n")
    assert "(2,) float32" in graph.source


def test_params_accepts_named_parameters_and_frozen_ones_are_drawn_differently():
    mg.manual_seed(0)
    generator = nn.Linear(2, 3)
    discriminator = nn.Linear(3, 1)
    discriminator.requires_grad_(False)
    score = discriminator(generator(mg.randn(4, 2))).mean()
    model = nn.Sequential(generator, discriminator)  # names "0.weight" (G), "1.weight" (D)
    graph = draw_graph(score, model.named_parameters())
    frozen = _attrs_of(graph, "1.weight (view) frozen")
    trainable = _attrs_of(graph, "0.weight")
    assert len(frozen) == 1 and "dashed" in frozen[0]
    assert len(trainable) == 1 and "dashed" not in trainable[0] and "#c6dbef" in trainable[0]
    # The frozen bias enters the graph itself, not as a view.
    assert len(_attrs_of(graph, "1.bias frozen")) == 1


def test_values_and_grads_are_shown_when_asked():
    x = mg.tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    source = draw_graph(y, {"x": x}, show_values=True, show_grads=True).source
    assert "value [2.]" in source and "grad [4.]" in source
    assert "grad" not in draw_graph(y, {"x": x}).source


def test_second_order_graph_draws_and_contains_the_backward_ops():
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    y = mg.tanh(x).sum()
    (gx,) = mg.grad(y, x, create_graph=True)
    graph = draw_graph((gx * gx).sum(), {"x": x})
    nodes, edges = _nodes_and_edges(graph)
    assert len(nodes) >= 4 and len(edges) >= len(nodes) - 1
    assert _attrs_of(graph, "x\n")


def test_freed_graph_and_wrong_arguments_give_clear_errors():
    x = mg.tensor([1.0], requires_grad=True)
    y = (x * 3).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        draw_graph(y)
    with pytest.raises(TypeError, match="output must be a Tensor"):
        draw_graph(np.ones(2))
    with pytest.raises(TypeError, match="params"):
        draw_graph((x * 2).sum(), [x])


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_renders_to_png(tmp_path):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    loss = model(mg.randn(3, 2)).pow(2).mean()
    path = draw_graph(loss, model.named_parameters()).render(tmp_path / "mlp", format="png")
    with open(path, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"


def test_trace_logs_each_backward_step_with_its_local_gradients():
    a = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([3.0, 5.0], dtype=mg.float64, requires_grad=True)
    z = (a * b).sum()
    with trace_backward() as steps:
        z.backward()
    assert steps.ops() == ["Sum", "Mul"]
    mul = steps[1]
    np.testing.assert_array_equal(mul.grad_output, [1.0, 1.0])
    np.testing.assert_array_equal(mul.input_grads[0], b.numpy())  # d(ab)/da = b
    np.testing.assert_array_equal(mul.input_grads[1], a.numpy())
    assert "Mul" in str(steps)
    # Outside the block nothing is recorded any more.
    (a * b).sum().backward()
    assert len(steps) == 2


def test_trace_marks_inputs_that_need_no_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with trace_backward() as steps:
        (x * mg.tensor([3.0, 4.0])).sum().backward()
    assert steps[1].input_grads[1] is None and steps[1].input_shapes == ((2,), (2,))
