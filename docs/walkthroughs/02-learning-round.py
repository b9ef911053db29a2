# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 02 — The learning round, one gradient at a time
#
# > "The process - known as Learning Round - accomplishes three jobs: 1. The discriminator
# > learns to identify features that characterize a real sample 2. … that reveal a fake
# > sample 3. The generator learns how to avoid including the features that the
# > discriminator has learned to spot." — "Backprop, goes through the discriminator
# > (which frozen) to the generator."
#
# We run one round of a DCGAN on Fashion-MNIST with the library's own steps
# (`gan.learning_round`) and look inside job 3: the gradient at D's logit, and the
# *image* gradient D sends back to G. That image gradient is the same quantity FGSM uses
# in the lecture's second half.

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from gan.build import to_generator_range
from gan.learning_round import confusion_matrix, discriminator_step, frozen
from gan.losses import generator_loss_nonsaturating
from gan.models.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init_
from minigrad.viz import draw_graph

OUT = Path(os.environ.get("MINIGRAD_WALKTHROUGHS", "runs/walkthroughs")) / "02-learning-round"
OUT.mkdir(parents=True, exist_ok=True)
BATCH = 16

mg.manual_seed(0)
images, _ = mg.data.fashion_mnist("test", download=False, progress=False).tensors
real = mg.tensor(to_generator_range(images[:BATCH].numpy()))  # pixels in [-1, 1]
generator, discriminator = DCGANGenerator(z_dim=16, width=8), DCGANDiscriminator(width=8)
generator.apply(dcgan_init_)
discriminator.apply(dcgan_init_)
g_optimizer = mg.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
d_optimizer = mg.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
z = mg.randn(BATCH, 16)

# %% [markdown]
# ## Jobs 1 and 2: D on reals, D on fakes
#
# D ascends V(D, G) = E log D(x) + E log(1 − D(G(z))), i.e. descends
# L_D = −E log D(x) − E log(1 − D(G(z))). Its confusion matrix counts the lecture's four
# cases with "real" as the positive class: TP (real, D says real), FN (real, D says fake),
# FP (fake, D says real — the generator fooled it), TN (fake, D says fake — caught).

# %%
for step in range(5):
    d_loss, real_logits, fake_logits = discriminator_step(
        generator, discriminator, d_optimizer, real, z
    )
    print(f"D step {step}: L_D = {d_loss:.4f}  ", confusion_matrix(real_logits, fake_logits))

# %% [markdown]
# ## Job 3: G through the frozen D
#
# Inside `frozen(discriminator)` D's weights take no gradient, but gradients still pass
# *through* D's operations down to the fake images and on into G. We keep the
# intermediate gradients (`retain_grad`) to look at them.
#
# For the non-saturating loss L_G = −(1/N) Σ log sigmoid(l_i), the gradient at each logit
# is dL_G/dl_i = (sigmoid(l_i) − 1)/N: close to −1/N exactly when D rejects the fake
# (l very negative), so G gets a strong signal early in training.

# %%
g_optimizer.zero_grad()
d_optimizer.zero_grad()  # so that any gradient D holds after this step came from G's step
with frozen(discriminator):
    fake = generator(z)
    fake.retain_grad()
    logits = discriminator(fake)
    logits.retain_grad()
    g_loss = generator_loss_nonsaturating(logits)
    graph = draw_graph(
        g_loss,
        [(f"G.{n}", p) for n, p in generator.named_parameters()]
        + [(f"D.{n}", p) for n, p in discriminator.named_parameters()],
    )
    g_loss.backward()

expected = (F.sigmoid(logits.detach()) - 1) / BATCH
print("dL_G/dlogit from the engine :", logits.grad.numpy().ravel()[:4])
print("(sigmoid(l) - 1) / N        :", expected.numpy().ravel()[:4])
assert np.allclose(logits.grad.numpy(), expected.numpy(), atol=1e-7)
assert all(p.grad is None or not p.grad.numpy().any() for p in discriminator.parameters())
assert all(p.grad is not None for p in generator.parameters())
g_optimizer.step()
graph.save(OUT / "generator-step.gv")  # D's weights appear grey and dashed: frozen
print("graph of G's step written to", OUT / "generator-step.gv")

# %% [markdown]
# ## The image gradient D sends back to G is FGSM's input gradient
#
# `fake.grad` is ∇x L_G at each fake image: the direction in pixel space that makes D
# more convinced the image is real. Computed directly as the gradient of the same loss
# with respect to a plain input image, it is the quantity FGSM signs:
# x* = x + ε·sign(∇x L) (here we *descend* −log D(x), a targeted step toward "real").
# A generator learns from it through its weights; an attacker applies it to the pixels.

# %%
x = fake.detach().requires_grad_(True)
with frozen(discriminator):
    (input_gradient,) = mg.grad(generator_loss_nonsaturating(discriminator(x)), x)
assert np.allclose(input_gradient.numpy(), fake.grad.numpy(), atol=1e-8)
print("the image gradient through the frozen D equals the input gradient: True")

with mg.no_grad(), frozen(discriminator):
    before = F.sigmoid(discriminator(x.detach())).mean().item()
    stepped = (x.detach() - 0.05 * input_gradient.sign()).clamp(-1, 1)
    after = F.sigmoid(discriminator(stepped)).mean().item()
print(f"mean D(fake) {before:.3f} -> after one FGSM-style step of 0.05: {after:.3f}")

figure, axes = plt.subplots(1, 3, figsize=(7.5, 2.8))
for axis, picture, title in zip(
    axes,
    (x.detach()[0, 0], input_gradient[0, 0], stepped[0, 0]),
    ("a fake G(z)", "-dL_G/dx (D's advice)", "fake - 0.05 sign(dL_G/dx)"),
    strict=True,
):
    array = picture.numpy()
    if "advice" in title:
        array = -array
    axis.imshow(array, cmap="gray" if "advice" not in title else "RdBu")
    axis.set_title(title, fontsize=9)
    axis.axis("off")
figure.tight_layout()
figure.savefig(OUT / "image-gradient.png", dpi=100)
print("picture written to", OUT / "image-gradient.png")
