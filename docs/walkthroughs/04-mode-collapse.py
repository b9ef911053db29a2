# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 04 — Mode collapse, and a diversity term that fights it
#
# > "A generator could then just produce that image every time independently of the input
# > noise … This problem … is called modal collapse." "Much more common is when the system
# > produces the same few outputs … partial modal collapse."
# > "Solution: Extend the discriminator's loss function with additional terms to measure
# > the diversity of the outputs produced. If the outputs are all the same, or nearly the
# > same, the discriminator can assign a larger error to the result."
#
# The target is a ring of 8 Gaussians. The textbook GAN (one D step per G step, constant
# learning rate) tends to put all its samples on one or two of them. The remedy here is
# the minibatch standard-deviation layer (Karras et al. 2018): it hands D the spread of
# the whole batch as one more feature, so a batch of near-identical fakes is easy to
# reject — the lecture's "diversity term", learned by D instead of written into its loss.

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import minigrad as mg
from gan.build import build_models, build_optimizers, noise_sampler, real_batches, toy_target
from gan.learning_round import learning_round
from gan.mode_collapse import mode_coverage
from gan.options import TrainOptions, resolve
from gan.snapshots import generate

OUT = Path(os.environ.get("MINIGRAD_WALKTHROUGHS", "runs/walkthroughs")) / "04-mode-collapse"
OUT.mkdir(parents=True, exist_ok=True)
QUICK = os.environ.get("MINIGRAD_WALKTHROUGH_QUICK") == "1"  # the test suite's short run
STEPS = 50 if QUICK else 1000


def train(remedy):
    """The library's learning round, STEPS times, on the ring; returns G and z sampler."""
    options = resolve(
        TrainOptions(
            data="ring", steps=STEPS, batch_size=64, seed=0, d_steps=1, g_width=64, d_width=64,
            lr_decay="constant", remedy=remedy,
        )
    )
    mg.manual_seed(options.seed)
    generator, discriminator = build_models(options)
    g_optimizer, d_optimizer = build_optimizers(options, generator, discriminator)
    next_real, sample_z = real_batches(options), noise_sampler(options)
    for _ in range(options.steps):
        learning_round(generator, discriminator, d_optimizer, g_optimizer, next_real, sample_z)
    return generator, sample_z


# %% [markdown]
# `mode_coverage` assigns each sample to its nearest mode, keeps it when it lies within
# three standard deviations ("high quality"), and reports how many modes got any samples
# and the reverse KL of that histogram to the uniform one (0 when every mode gets its
# eighth; log 8 ≈ 2.08 when all land on one mode).

# %%
ring = toy_target("ring")
figure, axes = plt.subplots(1, 2, figsize=(8, 4))
for axis, remedy in zip(axes, ("none", "minibatch-stddev"), strict=True):
    generator, sample_z = train(remedy)
    mg.manual_seed(1)
    samples = generate(generator, sample_z(2500))
    coverage = mode_coverage(samples, ring)
    print(
        f"{remedy:>16}: {coverage.modes_covered}/8 modes, "
        f"{coverage.high_quality_fraction:.0%} high quality, reverse KL {coverage.reverse_kl:.3f}"
    )
    axis.scatter(*ring.sample(1000).numpy().T, s=2, c="lightgray", label="data")
    axis.scatter(*samples.T, s=2, c="tab:red", label="G(z)")
    axis.set_title(f"remedy = {remedy}: {coverage.modes_covered}/8 modes", fontsize=9)
    axis.set_aspect("equal")
    axis.set_xlim(-1.6, 1.6)
    axis.set_ylim(-1.6, 1.6)
axes[0].legend(fontsize=8, loc="lower left")
figure.tight_layout()
figure.savefig(OUT / "ring-before-after.png", dpi=100)
print("picture written to", OUT / "ring-before-after.png")

# %% [markdown]
# Read the high-quality fraction too: after these few rounds the generator with the
# remedy has found the whole ring but few of its samples sit tightly on a mode yet; the
# baseline has put everything near one spot. Longer runs sharpen the spread one.
# One seed is an anecdote; `gan/experiments/mode_coverage.py` repeats this over five
# seeds and the ring and grid targets, and `docs/results.md` (section GAN) holds the
# numbers.
