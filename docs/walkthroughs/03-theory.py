# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 03 — The theory, computed
#
# > "V(θᴰ, θᴳ) = E_{x∼p_data} log D(x) + E_z log(1 − D(G(z)))" —
# > "min_{θᴳ} max_{θᴰ} J(θᴳ, θᴰ) — Equilibrium is a saddle-point." —
# > "There is no proof that they will converge."
#
# Three facts behind those lines, each computed rather than quoted:
#
# 1. For a fixed G, the best discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x)),
#    and a trained D approaches it.
# 2. At that D*, V(D*, G) = −log 4 + 2·JSD(p_data ‖ p_g): G minimising V minimises a
#    Jensen–Shannon divergence, which is 0 only when p_g = p_data.
# 3. Gradient steps on a saddle point need not converge: on min_x max_y x·y, simultaneous
#    steps spiral outward while alternating steps circle forever.

# %%
import math
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from gan.losses import discriminator_loss, minimax_value
from gan.models.mlp import MLPDiscriminator
from gan.toy_data import Gaussian1D

OUT = Path(os.environ.get("MINIGRAD_WALKTHROUGHS", "runs/walkthroughs")) / "03-theory"
OUT.mkdir(parents=True, exist_ok=True)
QUICK = os.environ.get("MINIGRAD_WALKTHROUGH_QUICK") == "1"  # the test suite's short run


def normal_pdf(x, mean, std):
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


# %% [markdown]
# ## 1. The optimal discriminator
#
# p_data is the lecture's N(2, 0.5²). We freeze a generator that is off target,
# p_g = N(1.2, 0.8²) (G(z) = 1.2 + 0.8·z), and train only D on the two samples. For each
# x, D maximises p_data(x) log D + p_g(x) log(1 − D); setting the derivative to zero gives
# D*(x) = p_data(x) / (p_data(x) + p_g(x)).

# %%
target, g_mean, g_std = Gaussian1D(2.0, 0.5), 1.2, 0.8
mg.manual_seed(0)
discriminator = MLPDiscriminator(1, width=32)
optimizer = mg.optim.Adam(discriminator.parameters(), lr=3e-3)
for _ in range(300 if QUICK else 1500):
    real = target.sample(256)
    fake = g_mean + g_std * mg.randn(256, 1)
    optimizer.zero_grad()
    loss = discriminator_loss(discriminator(real), discriminator(fake))
    loss.backward()
    optimizer.step()

grid = np.linspace(-1.0, 4.5, 221)
p_data, p_g = normal_pdf(grid, 2.0, 0.5), normal_pdf(grid, g_mean, g_std)
d_star = p_data / (p_data + p_g)
with mg.no_grad():
    learned = F.sigmoid(discriminator(mg.tensor(grid[:, None], dtype=mg.float32))).numpy()[:, 0]
# Compare where there is data to learn from (either density above 5% of its peak).
where = (p_data > 0.05 * p_data.max()) | (p_g > 0.05 * p_g.max())
gap = np.abs(learned - d_star)[where].max()
print(f"largest |D(x) - D*(x)| where there is data: {gap:.3f}")

figure, axis = plt.subplots(figsize=(6, 3.5))
axis.plot(grid, p_data, label="p_data = N(2, 0.5²)")
axis.plot(grid, p_g, label="p_g = N(1.2, 0.8²)")
axis.plot(grid, d_star, "k--", label="D*(x) = p_data / (p_data + p_g)")
axis.plot(grid, learned, "r", label="learned D(x)")
axis.legend(fontsize=8)
axis.set_xlabel("x")
figure.tight_layout()
figure.savefig(OUT / "optimal-discriminator.png", dpi=100)

# %% [markdown]
# ## 2. V(D*, G) = −log 4 + 2·JSD(p_data ‖ p_g)
#
# Substituting D* into V and adding and subtracting log 2 twice gives
# V(D*, G) = KL(p_data ‖ m) + KL(p_g ‖ m) − log 4 with m = (p_data + p_g)/2, and the
# two KL terms are 2·JSD. We compute both sides: the left by the library's
# `minimax_value` on samples with D*'s logit log p_data − log p_g, the right by
# integrating the densities on a fine grid.

# %%
mg.manual_seed(1)
count = 200_000
real = target.sample(count).numpy()[:, 0].astype(np.float64)
fake = g_mean + g_std * np.random.default_rng(1).standard_normal(count)


def d_star_logit(x):
    return np.log(normal_pdf(x, 2.0, 0.5)) - np.log(normal_pdf(x, g_mean, g_std))


value = minimax_value(
    mg.tensor(d_star_logit(real), dtype=mg.float64), mg.tensor(d_star_logit(fake))
).item()
fine = np.linspace(-8, 12, 200_001)
pd, pg = normal_pdf(fine, 2.0, 0.5), normal_pdf(fine, g_mean, g_std)
m = (pd + pg) / 2
jsd = 0.5 * np.trapezoid(pd * np.log(pd / m), fine) + 0.5 * np.trapezoid(pg * np.log(pg / m), fine)
print(f"V(D*, G) by Monte Carlo   = {value:.4f}")
print(f"-log 4 + 2 JSD            = {-math.log(4) + 2 * jsd:.4f}   (JSD = {jsd:.4f})")
assert abs(value - (-math.log(4) + 2 * jsd)) < 0.01
print(f"and at p_g = p_data, D* = 1/2 and V = -log 4 = {-math.log(4):.4f}")

# %% [markdown]
# ## 3. A saddle point that gradient steps do not reach
#
# The smallest min–max game: x minimises and y maximises f(x, y) = x·y. Its only
# equilibrium is the saddle (0, 0). Both players follow their gradient (∂f/∂x = y,
# ∂f/∂y = x), computed here by `minigrad.grad`:
#
# - **simultaneous** steps (x, y) ← (x − η·y, y + η·x) multiply the distance from the
#   saddle by √(1 + η²) every step: an outward spiral;
# - **alternating** steps (x first, then y using the new x) keep a nearby quantity
#   constant: the players circle the saddle and never arrive.
#
# A GAN's learning round is the alternating version in a far bigger space.

# %%
def gradients(x_value, y_value):
    """(∂f/∂x, ∂f/∂y) of f = x·y at one point."""
    x = mg.tensor(x_value, dtype=mg.float64, requires_grad=True)
    y = mg.tensor(y_value, dtype=mg.float64, requires_grad=True)
    return [g.item() for g in mg.grad(x * y, [x, y])]


def play(alternating, steps=200, lr=0.1):
    x, y = 1.0, 1.0
    path = [(x, y)]
    for _ in range(steps):
        grad_x, grad_y = gradients(x, y)
        x = x - lr * grad_x  # x descends f
        if alternating:
            grad_y = gradients(x, y)[1]  # y answers the x that just moved
        y = y + lr * grad_y  # y ascends f
        path.append((x, y))
    return np.array(path)


simultaneous, alternating = play(False), play(True)
radius = np.hypot(*simultaneous.T)
print(f"simultaneous: distance from the saddle {radius[0]:.3f} -> {radius[-1]:.3f}")
print(f"  predicted sqrt(1 + lr^2)^200 * sqrt(2) = {math.sqrt(2) * 1.01 ** 100:.3f}")
orbit = np.hypot(*alternating.T)
print(f"alternating: distance stays in [{orbit.min():.3f}, {orbit.max():.3f}]")
assert radius[-1] > 2 * radius[0] and orbit.max() < 1.2 * orbit[0]

figure, axis = plt.subplots(figsize=(4.5, 4.5))
axis.plot(*simultaneous.T, label="simultaneous: spirals out")
axis.plot(*alternating.T, label="alternating: orbits")
axis.plot([0], [0], "k+", markersize=12)
axis.set_xlabel("x (minimises xy)")
axis.set_ylabel("y (maximises xy)")
axis.legend(fontsize=8)
axis.set_aspect("equal")
figure.tight_layout()
figure.savefig(OUT / "bilinear-game.png", dpi=100)
print("pictures written to", OUT)
