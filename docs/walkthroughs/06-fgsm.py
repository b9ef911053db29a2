# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 06 — FGSM: the lecture's panda, on Fashion-MNIST
#
# > "Panda 57.7% + Strategic Noise = Gibbon 99.3%"
# > "Attacking with the Fast Gradient Sign Method: x + λ·sign(∇x L) ⇒ x*"
#
# Goodfellow et al. (2015) put a picture next to their explanation: an image the network
# gets right, a faint pattern, and their sum, which the network gets confidently wrong.
# We redraw it with a small CNN trained here for a few seconds. The pattern is
# sign(∇x L): the sign of the same input gradient that walkthrough 02 watched D send back
# to G — here it is added to the pixels instead of being fed to a generator's weights.

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from adversarial.attacks.fgsm import fgsm
from adversarial.attacks.objective import loss_gradient
from adversarial.models import lenet
from minigrad.data import FASHION_MNIST_CLASSES, DataLoader, TensorDataset
from minigrad.models.fit import accuracy, fit

OUT = Path(os.environ.get("MINIGRAD_WALKTHROUGHS", "runs/walkthroughs")) / "06-fgsm"
OUT.mkdir(parents=True, exist_ok=True)
QUICK = os.environ.get("MINIGRAD_WALKTHROUGH_QUICK") == "1"  # the test suite's short run
EPS = 0.1  # the lecture's λ, in pixel units (pixels lie in [0, 1])

# %% [markdown]
# ## A classifier to attack
#
# LeNet-5 on 3000 Fashion-MNIST images for two epochs: far from the best it could do, but
# right on most test images, which is all the picture needs.

# %%
mg.manual_seed(0)
test_images, test_labels = mg.data.fashion_mnist("test", download=False, progress=False).tensors
train_images, train_labels = test_images[2000:5000], test_labels[2000:5000]
images, labels = test_images[:500], test_labels[:500]
model = lenet()
loader = DataLoader(TensorDataset(train_images, train_labels), batch_size=64, shuffle=True)
fit(model, loader, mg.optim.Adam(model.parameters(), lr=2e-3), epochs=1 if QUICK else 2,
    progress=False)
model.eval()
print(f"clean accuracy on 500 held-out images: {accuracy(model, images, labels):.1%}")

# %% [markdown]
# ## One step of FGSM
#
# x* = clip(x + ε·sign(∇x L(x, y)), 0, 1). Each pixel moves by exactly ε, up or down,
# whichever raises the loss; no pixel is free to move more. Goodfellow et al.'s linear
# explanation: for a linear score wᵀx that step changes the score by ε‖w‖₁, which grows
# with the number of pixels even though every pixel barely changes.

# %%
adversarial = fgsm(model, images, labels, eps=EPS, clip_min=0.0, clip_max=1.0)
print(f"accuracy under FGSM at eps = {EPS}: {accuracy(model, adversarial, labels):.1%}")
noise = (images + EPS * mg.randn(*images.shape).sign()).clamp(0, 1)
print(f"accuracy under random signs of the same size: {accuracy(model, noise, labels):.1%}")

# %% [markdown]
# ## The panda picture
#
# We pick a test image the model classifies correctly and the attack flips, and draw the
# three panels with the class and the softmax confidence under each.

# %%
with mg.no_grad():
    clean_probs = F.softmax(model(images), dim=1).numpy()
    attacked_probs = F.softmax(model(adversarial), dim=1).numpy()
truth = labels.numpy()
flipped = np.flatnonzero(
    (clean_probs.argmax(1) == truth) & (attacked_probs.argmax(1) != truth)
)
index = int(flipped[np.argmax(clean_probs[flipped, truth[flipped]])])  # the most confident
gradient, _ = loss_gradient(model, images[index : index + 1], labels[index : index + 1])
signed = gradient.sign().numpy()[0, 0]
expected = np.clip(images.numpy()[index, 0] + EPS * signed, 0, 1)
assert np.allclose(adversarial.numpy()[index, 0], expected)  # x* = clip(x + ε sign(∇x L))


def caption(probs):
    winner = int(probs.argmax())
    return f"{FASHION_MNIST_CLASSES[winner]} {probs[winner]:.1%}"


figure, axes = plt.subplots(1, 3, figsize=(7.5, 3))
panels = (
    (images.numpy()[index, 0], caption(clean_probs[index]), "gray"),
    (signed, f"+ {EPS} × sign(∇x L)", "RdBu"),
    (adversarial.numpy()[index, 0], caption(attacked_probs[index]), "gray"),
)
for axis, (picture, title, cmap) in zip(axes, panels, strict=True):
    axis.imshow(picture, cmap=cmap, vmin=-1 if cmap == "RdBu" else 0, vmax=1)
    axis.set_title(title, fontsize=9)
    axis.axis("off")
figure.tight_layout()
figure.savefig(OUT / "panda.png", dpi=100)
print(f"{caption(clean_probs[index])}  + noise  =  {caption(attacked_probs[index])}")
print("picture written to", OUT / "panda.png")
