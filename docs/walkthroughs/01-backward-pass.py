# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 01 — One backward pass, by hand and by the engine
#
# The lecture trains both of its networks with one sentence: *"Update D using back-prop"*.
# This walkthrough opens that sentence up. We compute a gradient three ways — by hand with
# the chain rule, by minigrad's backward engine (watching each step it takes), and by
# finite differences — and check that all three agree. Then we draw the graph.
#
# Run it as a script (`python docs/walkthroughs/01-backward-pass.py`) or as a notebook
# (`jupytext --to ipynb docs/walkthroughs/01-backward-pass.py`). Pictures go to
# `runs/walkthroughs/01-backward-pass/` (set `MINIGRAD_WALKTHROUGHS` to move them).

# %%
import os
import shutil
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.trace import trace_backward
from minigrad.viz import draw_graph

OUT = Path(os.environ.get("MINIGRAD_WALKTHROUGHS", "runs/walkthroughs")) / "01-backward-pass"
OUT.mkdir(parents=True, exist_ok=True)
CAN_RENDER = shutil.which("dot") is not None  # Graphviz's program; the .gv text is kept anyway


def save(graph, name):
    """Write the graph's source, and a PNG when Graphviz is installed."""
    graph.save(OUT / f"{name}.gv")
    if CAN_RENDER:
        graph.render(OUT / name, format="png", cleanup=True)
    print("graph written to", OUT / name)


# %% [markdown]
# ## A neuron: y = tanh(w·x + b)
#
# Forward: `s = w·x`, `t = s + b`, `y = tanh(t)`. Backward multiplies local derivatives
# from the output down:
#
# - dy/dt = 1 − y²  (tanh's derivative, written with its output)
# - dt/db = 1, dt/ds = 1
# - ds/dw = x, ds/dx = w
#
# so dy/dw = (1 − y²)·x and dy/db = 1 − y².

# %%
x = mg.tensor(2.0, dtype=mg.float64)
w = mg.tensor(-0.5, dtype=mg.float64, requires_grad=True)
b = mg.tensor(0.3, dtype=mg.float64, requires_grad=True)
y = mg.tanh(w * x + b)

by_hand_w = (1 - y.item() ** 2) * x.item()
by_hand_b = 1 - y.item() ** 2

save(draw_graph(y, {"w": w, "b": b, "x": x}, show_values=True), "neuron")

with trace_backward() as steps:
    y.backward()
print("the engine's steps, output first:")
print(steps)

print(f"dy/dw by hand {by_hand_w:.10f}   by the engine {w.grad.item():.10f}")
print(f"dy/db by hand {by_hand_b:.10f}   by the engine {b.grad.item():.10f}")
assert np.isclose(by_hand_w, w.grad.item()) and np.isclose(by_hand_b, b.grad.item())

# %% [markdown]
# Each line of the trace is one node's chain-rule step: it receives dL/d(output) and
# returns dL/d(input) for each input. The `Tanh` step turned 1 into 1 − y²; the `Add`
# step passed it on unchanged to both of its inputs; the `Mul` step multiplied by the
# *other* factor (x for w). The input `x` needs no gradient, so the engine skips it ("-").
#
# Finite differences need no calculus at all: nudge w by ±h and watch y.

# %%
h = 1e-6


def neuron(w_value):
    return np.tanh(w_value * x.item() + b.item())


numerical = (neuron(w.item() + h) - neuron(w.item() - h)) / (2 * h)
print(f"dy/dw by finite differences {numerical:.10f}")
assert abs(numerical - w.grad.item()) < 1e-8

# %% [markdown]
# ## A small MLP and its loss
#
# The same engine, a bigger graph: two `Linear` layers with a `Tanh` between them and a
# mean squared error. The trace now has one line per op in the network, in the order the
# engine ran them — from the loss back to the first layer's weights.

# %%
mg.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
inputs = mg.randn(5, 3, dtype=mg.float64)
targets = mg.randn(5, 1, dtype=mg.float64)
loss = F.mse_loss(model(inputs), targets)

save(draw_graph(loss, model.named_parameters()), "mlp")

with trace_backward() as steps:
    loss.backward()
print(steps)

# %% [markdown]
# `gradcheck` repeats the finite-difference check for every weight at once: it perturbs
# each entry of each parameter and compares the change of the loss with the gradient the
# engine computed.

# %%
weights = [p.detach().requires_grad_(True) for p in model.parameters()]


def mlp_loss(w1, b1, w2, b2):
    hidden = mg.tanh(F.linear(inputs, w1, b1))
    return F.mse_loss(F.linear(hidden, w2, b2), targets)


print("every weight's gradient matches finite differences:", mg.gradcheck(mlp_loss, weights))
(first_layer,) = mg.grad(mlp_loss(*weights), weights[:1])
assert np.allclose(first_layer.numpy(), model[0].weight.grad.numpy())
