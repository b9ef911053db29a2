# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 07 — Double backpropagation: a gradient you can differentiate again
#
# > "More defences: smooth decision boundaries — regularise the derivatives with respect
# > to x"
#
# The defence adds a penalty on the input gradient to the training loss:
#
#     J̃ = mean ℓ + λ · R,    R = (1/N) Σ_n ‖∇x_n ℓ(f(x_n), y_n)‖²
#
# To train on J̃ we need ∂R/∂θ: the derivative, with respect to the weights, of a
# gradient. `minigrad.grad(..., create_graph=True)` records the backward pass itself as a
# graph, so a second backward pass can run through it. WGAN-GP's gradient penalty
# (`gan.losses.gradient_penalty`) is the same mechanism on the GAN side.

# %%
import os
import shutil
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from adversarial.defences.input_gradient import input_gradient_penalty
from minigrad.viz import draw_graph

OUT = Path(os.environ.get("MINIGRAD_WALKTHROUGHS", "runs/walkthroughs")) / "07-double-backprop"
OUT.mkdir(parents=True, exist_ok=True)

mg.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
x = mg.randn(2, 3, dtype=mg.float64)
y = mg.tensor([0, 1])

# %% [markdown]
# ## First order: ∇x ℓ, with and without a graph
#
# Without `create_graph` the gradient is a plain number array: the backward pass ran
# under `no_grad` and left nothing to differentiate. With it, the gradient has a
# `grad_fn` like any other result.

# %%
x_var = x.detach().requires_grad_(True)
loss = F.cross_entropy(model(x_var), y, reduction="sum")
(plain,) = mg.grad(loss, x_var, retain_graph=True)
(recorded,) = mg.grad(loss, x_var, create_graph=True)
print("create_graph=False: grad_fn =", plain.grad_fn)
print("create_graph=True:  grad_fn =", recorded.grad_fn)
assert plain.grad_fn is None and recorded.grad_fn is not None

# %% [markdown]
# ## The second-order graph
#
# Drawing R shows the forward ops (`MatMul`, `Tanh`, …) *and* the ops of the backward pass
# that computed ∇x ℓ — the transposed weight products and tanh's (1 − y²) factor —
# joined into one graph whose leaves are still the weights.

# %%
penalty = (recorded * recorded).sum() / x.shape[0]
graph = draw_graph(penalty, model.named_parameters())
graph.save(OUT / "second-order.gv")
if shutil.which("dot"):
    graph.render(OUT / "second-order", format="png", cleanup=True)
ops = {line.split('"')[1].split("\n")[0] for line in graph.body if "[label=" in line}
print("ops in the graph of R:", sorted(op for op in ops if not op[0].isdigit()))
print("graph written to", OUT / "second-order.gv")

# %% [markdown]
# ## ∂R/∂θ, checked against finite differences
#
# `input_gradient_penalty` is the library's R. We differentiate it with respect to the
# first layer's weight by double backprop and by nudging each weight entry by ±h.

# %%
weight = model[0].weight
(by_engine,) = mg.grad(input_gradient_penalty(model, x, y), weight)
h = 1e-6
original = weight.numpy().copy()
by_differences = np.zeros(weight.shape)
for index in np.ndindex(*weight.shape):
    values = []
    for shift in (h, -h):
        nudged = original.copy()
        nudged[index] += shift
        with mg.no_grad():
            weight.copy_(nudged)
        values.append(input_gradient_penalty(model, x, y).item())
    by_differences[index] = (values[0] - values[1]) / (2 * h)
with mg.no_grad():
    weight.copy_(original)
worst = np.abs(by_engine.numpy() - by_differences).max()
print(f"largest difference, double backprop vs finite differences: {worst:.2e}")
assert worst < 1e-6
