# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 05 — Progressive growing: the fade-in
#
# > "Train with the 4 by 4 images until it does well. Add a few more convolution layers to
# > the end network, and now train them with 8 by 8 images."
#
# Adding layers to a trained network would throw away what it learned if the new layers
# took over at once: their random weights would replace a good picture with noise. Karras
# et al. (2018) fade them in instead. While a new resolution is being added, the picture is
#
#     x = (1 − α) · upsample(old toRGB(h)) + α · new toRGB(new block(h)),
#
# with α rising from 0 to 1. At α = 0 the grown generator draws exactly what the small one
# drew (only blown up); at α = 1 only the new block speaks. The real images are blended
# the same way, so that D always compares like with like.

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import minigrad as mg
from gan.build import to_generator_range
from gan.progressive.architecture import ProgressiveArchitecture
from gan.progressive.fade_in import blend_reals, downsample, upsample
from gan.progressive.generator import GrowingGenerator

OUT = Path(os.environ.get("MINIGRAD_WALKTHROUGHS", "runs/walkthroughs")) / "05-progressive"
OUT.mkdir(parents=True, exist_ok=True)
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)

# %% [markdown]
# ## The real side: `blend_reals`
#
# A Fashion-MNIST image padded to 32×32 and pooled to 16×16 is the "new" resolution; its
# 8×8 average, upsampled back, is what the previous stage saw.

# %%
images, _ = mg.data.fashion_mnist("test", download=False, progress=False).tensors
reals_32 = mg.tensor(to_generator_range(images[:1].numpy(), image_size=32))
reals_16 = downsample(reals_32)
blended = [blend_reals(reals_16, alpha) for alpha in ALPHAS]
coarse = upsample(downsample(reals_16))
assert np.array_equal(blended[0].numpy(), coarse.numpy())  # alpha = 0: the old detail only
assert np.array_equal(blended[-1].numpy(), reals_16.numpy())  # alpha = 1: the new image

# %% [markdown]
# ## The generator side: `GrowingGenerator(z, alpha)`
#
# We build a generator at 8×8, draw from it, grow it to 16×16 and draw again from the same
# z at several α. At α = 0 the grown generator's picture is the 8×8 picture upsampled —
# the growth step costs nothing — and the new block's weights enter gradually.

# %%
mg.manual_seed(0)
architecture = ProgressiveArchitecture(z_dim=16, widths=(16, 16, 8))
generator = GrowingGenerator(architecture, levels=2)  # 4 and 8 px
z = mg.randn(1, 16)
with mg.no_grad():
    small = generator(z)
    generator.grow()  # now 16 px; every existing weight is kept
    faded = [generator(z, alpha) for alpha in ALPHAS]
print("8x8 picture", small.shape, "-> grown generator", faded[0].shape)
assert np.allclose(faded[0].numpy(), upsample(small).numpy())
print("at alpha = 0 the grown generator draws the small one's picture, upsampled: True")

# %%
figure, axes = plt.subplots(2, len(ALPHAS), figsize=(2 * len(ALPHAS), 4.3))
for column, alpha in enumerate(ALPHAS):
    for row, picture in enumerate((blended[column], faded[column])):
        axes[row, column].imshow(picture.numpy()[0, 0], cmap="gray")
        axes[row, column].axis("off")
    axes[0, column].set_title(f"alpha = {alpha}", fontsize=9)
axes[0, 0].text(-4, 8, "reals", rotation=90, va="center")
axes[1, 0].text(-4, 8, "G(z)", rotation=90, va="center")
figure.tight_layout()
figure.savefig(OUT / "fade-in.png", dpi=100)
print("picture written to", OUT / "fade-in.png")

# %% [markdown]
# The untrained generator draws noise, of course; what the bottom row shows is that its
# 16×16 picture moves smoothly from the 8×8 one toward the new block's as α rises.
# `python -m gan grow` runs the whole schedule (`gan/progressive/schedule.py`).
