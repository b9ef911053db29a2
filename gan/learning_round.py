"""The lecture's learning round: D on reals, D on fakes, then G through a frozen D.

"The process - known as Learning Round - accomplishes three jobs:
 1. The discriminator learns to identify features that characterize a real sample
 2. The discriminator learns to identify features that reveal a fake sample
 3. The generator learns how to avoid including the features that the discriminator
    has learned to spot."

One round here is ``k`` discriminator steps (the lecture's "optional: run k steps of one
player for every step of the other"), each on a fresh real batch and a fresh fake batch,
followed by one generator step. During the generator step D is *frozen*: its
parameters do not require grad (so backpropagation passes through D to G without
accumulating anything in D) and its BatchNorm running statistics are restored
afterwards, so D leaves the step bit-identical.

The discriminator's confusion matrix on the round, with "real" as the positive class
(the lecture's four cases):

    TP  real judged real (D(x) > 1/2)        FN  real judged fake
    FP  fake judged real (G fooled D)        TN  fake judged fake (G got caught)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import minigrad as mg
from gan.losses import (
    critic_loss,
    discriminator_loss,
    generator_loss_nonsaturating,
    generator_loss_saturating,
    generator_loss_wasserstein,
    gradient_penalty,
    minimax_value,
    wasserstein_value,
)
from minigrad import Tensor, nn

LOSSES = ("nonsaturating", "minimax", "wgan-gp")


@dataclass
class ConfusionMatrix:
    """Counts of D's verdicts (logit > 0 means "real") over a round's batches."""

    tp: int = 0  # real -> judged real
    fn: int = 0  # real -> judged fake
    fp: int = 0  # fake -> judged real
    tn: int = 0  # fake -> judged fake

    def __add__(self, other: ConfusionMatrix) -> ConfusionMatrix:
        return ConfusionMatrix(
            self.tp + other.tp, self.fn + other.fn, self.fp + other.fp, self.tn + other.tn
        )

    @property
    def accuracy(self) -> float:
        """(TP + TN) / all: 1 for a perfect D, 1/2 at the equilibrium."""
        total = self.tp + self.fn + self.fp + self.tn
        return (self.tp + self.tn) / total if total else float("nan")


def confusion_matrix(d_real_logits: Tensor, d_fake_logits: Tensor) -> ConfusionMatrix:
    """TP/FN from the real batch's logits, FP/TN from the fake batch's (threshold 0)."""
    real_says_real = int((d_real_logits.detach().numpy() > 0).sum())
    fake_says_real = int((d_fake_logits.detach().numpy() > 0).sum())
    return ConfusionMatrix(
        tp=real_says_real,
        fn=d_real_logits.numel() - real_says_real,
        fp=fake_says_real,
        tn=d_fake_logits.numel() - fake_says_real,
    )


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[nn.Module]:
    """Inside the block ``module``'s parameters take no gradient and its buffers are kept.

    Gradients still flow *through* the module to its inputs. Buffers (BatchNorm running
    statistics) are copied on entry and written back on exit, so a forward pass in
    training mode leaves no trace either.
    """
    params = list(module.parameters())
    flags = [param.requires_grad for param in params]
    saved = [(buffer, buffer.detach().clone()) for buffer in module.buffers()]
    for param in params:
        param.requires_grad_(False)
    try:
        yield module
    finally:
        for param, flag in zip(params, flags, strict=True):
            param.requires_grad_(flag)
        for buffer, data in saved:
            buffer.data = data


@dataclass
class RoundReport:
    """What one learning round logs. For "wgan-gp" ``value`` is the Wasserstein estimate
    W = E C(x) - E C(G(z)) and ``d_real``/``d_fake`` are mean critic outputs, not
    probabilities; otherwise ``value`` is V(D,G) and they are mean D(x), mean D(G(z)).
    The values are averaged over the round's k D-steps; the confusion counts summed.
    """

    value: float
    d_loss: float
    g_loss: float
    d_real: float
    d_fake: float
    confusion: ConfusionMatrix

    def as_dict(self) -> dict[str, float | int]:
        record = asdict(self)
        record.update(record.pop("confusion"))
        return record


def _check_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def discriminator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    d_optimizer: object,
    real: Tensor,
    z: Tensor,
    loss: str = "nonsaturating",
    gp_weight: float = 10.0,
) -> tuple[float, Tensor, Tensor]:
    """Jobs 1 and 2: D on a real batch, D on a fake batch, one optimizer step for D.

    The fakes are made without a graph (G is not being trained here). Returns
    (D's loss, logits on reals, logits on fakes), the logits detached.
    """
    _check_loss(loss)
    with mg.no_grad():
        fake = generator(z)
    d_optimizer.zero_grad()
    real_logits = discriminator(real)  # job 1: what makes a sample real
    fake_logits = discriminator(fake)  # job 2: what gives a fake away
    if loss == "wgan-gp":
        total = critic_loss(real_logits, fake_logits)
        total = total + gp_weight * gradient_penalty(discriminator, real, fake)
    else:
        total = discriminator_loss(real_logits, fake_logits)
    total.backward()
    d_optimizer.step()
    return total.item(), real_logits.detach(), fake_logits.detach()


def generator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    g_optimizer: object,
    z: Tensor,
    loss: str = "nonsaturating",
) -> tuple[float, Tensor]:
    """Job 3: G makes fakes, D (frozen) judges them, backprop runs through D into G.

    Returns (G's loss, D's logits on the fakes, detached).
    """
    _check_loss(loss)
    g_optimizer.zero_grad()
    with frozen(discriminator):
        fake_logits = discriminator(generator(z))
        if loss == "wgan-gp":
            total = generator_loss_wasserstein(fake_logits)
        elif loss == "minimax":
            total = generator_loss_saturating(fake_logits)
        else:
            total = generator_loss_nonsaturating(fake_logits)
        total.backward()
    g_optimizer.step()
    return total.item(), fake_logits.detach()


def learning_round(
    generator: nn.Module,
    discriminator: nn.Module,
    d_optimizer: object,
    g_optimizer: object,
    next_real: Callable[[], Tensor],
    sample_z: Callable[[int], Tensor],
    k: int = 1,
    loss: str = "nonsaturating",
    gp_weight: float = 10.0,
) -> RoundReport:
    """k discriminator steps, then one generator step; returns the round's report.

    ``next_real()`` returns the next real batch; ``sample_z(n)`` returns n noise vectors.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k (D-steps per G-step) must be a positive int, got {k!r}")
    confusion = ConfusionMatrix()
    d_losses, values, d_reals, d_fakes = [], [], [], []
    batch_size = 0
    for _ in range(k):
        real = next_real()
        batch_size = real.shape[0]
        d_loss, real_logits, fake_logits = discriminator_step(
            generator, discriminator, d_optimizer, real, sample_z(batch_size), loss, gp_weight
        )
        d_losses.append(d_loss)
        confusion = confusion + confusion_matrix(real_logits, fake_logits)
        if loss == "wgan-gp":
            values.append(wasserstein_value(real_logits, fake_logits).item())
            d_reals.append(real_logits.mean().item())
            d_fakes.append(fake_logits.mean().item())
        else:
            values.append(minimax_value(real_logits, fake_logits).item())
            d_reals.append(real_logits.sigmoid().mean().item())
            d_fakes.append(fake_logits.sigmoid().mean().item())
    g_loss, _ = generator_step(generator, discriminator, g_optimizer, sample_z(batch_size), loss)
    return RoundReport(
        value=sum(values) / k,
        d_loss=sum(d_losses) / k,
        g_loss=g_loss,
        d_real=sum(d_reals) / k,
        d_fake=sum(d_fakes) / k,
        confusion=confusion,
    )
