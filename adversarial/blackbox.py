"""The black-box attack of Papernot et al. (2017): attack a model you can only query.

The attacker sees no weights and no gradients — only the oracle's *labels* Õ(x) for
inputs it chooses. The lecture's recipe, step by step:

1. Examine inputs and outputs: label a small seed set S₀ (≤ 150 images) with the oracle.
2. Train a model that performs the same: a substitute F on (S_ρ, Õ(S_ρ)).
3. Grow the set where F is most uncertain about the oracle's boundary, by Jacobian-based
   dataset augmentation:   S_{ρ+1} = S_ρ ∪ { x + λ_ρ · sign(∇x F_{Õ(x)}(x)) : x ∈ S_ρ },
   with λ_ρ = λ · (−1)^⌊ρ/τ⌋ (the periodic sign keeps new points from drifting away).
   Repeat 2-3 for a few rounds: the set doubles each round.
4. Attack the substitute with a white-box attack (FGSM), and
5. use those adversarial examples on the black box: adversarial examples *transfer*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import minigrad as mg
from adversarial.attacks.fgsm import fgsm
from adversarial.attacks.objective import Model, frozen_parameters, logits_of
from minigrad import nn
from minigrad.data import DataLoader, TensorDataset
from minigrad.models import accuracy, fit


class LabelOracle:
    """The black box: answers a batch of inputs with labels only, and counts the queries."""

    def __init__(self, model: Model, batch_size: int = 500) -> None:
        self._model = model
        self.batch_size = batch_size
        self.queries = 0

    def __call__(self, x: mg.Tensor) -> mg.Tensor:
        self.queries += x.shape[0]
        labels = []
        with mg.no_grad():
            for start in range(0, x.shape[0], self.batch_size):
                labels.append(
                    logits_of(self._model, x[start : start + self.batch_size]).argmax(dim=1)
                )
        return mg.cat(labels, 0)


JACOBIAN_OUTPUTS = ("logits", "probabilities")


def jacobian_augmentation(
    substitute: Model,
    x: mg.Tensor,
    labels: mg.Tensor,
    lam: float,
    clip_min: float = 0.0,
    clip_max: float = 1.0,
    output: str = "logits",
) -> mg.Tensor:
    """x' = clip(x + λ · sign(∂F_{Õ(x)}(x) / ∂x)): the step along the substitute's Jacobian
    row of the oracle's label (the direction in which F's belief in that label changes
    fastest, hence toward the oracle's decision boundary when λ is negative).

    ``output`` says what F is: "logits" (the substitute's raw scores), or "probabilities"
    (softmax of them, F as Papernot et al. write it). The two signs differ where the
    softmax couples the classes: ∂p_y/∂x = p_y (∂z_y/∂x − Σ_k p_k ∂z_k/∂x).
    """
    if output not in JACOBIAN_OUTPUTS:
        raise ValueError(f"output must be one of {JACOBIAN_OUTPUTS}, got {output!r}")
    x_var = x.detach().requires_grad_(True)
    with frozen_parameters(substitute):
        scores = logits_of(substitute, x_var)
        if output == "probabilities":
            scores = scores.softmax(dim=1)
        pick = mg.tensor(np.eye(scores.shape[1], dtype=x.dtype)[labels.numpy()], device=x.device)
        (grad,) = mg.grad(scores, x_var, grad_outputs=pick)
    with mg.no_grad():
        return (x.detach() + grad.sign() * lam).clamp(clip_min, clip_max)


@dataclass
class SubstituteOptions:
    """λ = 0.1 as in Papernot et al.; ``rounds`` training rounds, the synthetic set doubling
    between them (150 seeds and 6 rounds: 4,800 points, as many oracle queries)."""

    rounds: int = 6
    lam: float = 0.1
    tau: int | None = None  # period of λ's sign flip; None keeps λ positive
    epochs_per_round: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    jacobian_output: str = "logits"  # or "probabilities" (Papernot et al.'s F)


@dataclass
class SubstituteResult:
    substitute: nn.Module
    queries: int
    history: list[dict] = field(default_factory=list)  # per round: size, agreement


def train_substitute(
    oracle: LabelOracle,
    seed_images: mg.Tensor,
    make_substitute: Callable[[], nn.Module],
    options: SubstituteOptions | None = None,
    agreement_images: mg.Tensor | None = None,
    progress: bool = False,
) -> SubstituteResult:
    """Steps 1-3: train a substitute from the oracle's labels on a growing synthetic set.

    After each round, when ``agreement_images`` are given, records how often the substitute
    agrees with the oracle on them (the attacker could not measure this; we can).
    """
    options = options or SubstituteOptions()
    substitute = make_substitute()
    optimizer = mg.optim.Adam(substitute.parameters(), lr=options.learning_rate)
    reference = None if agreement_images is None else oracle(agreement_images)
    queries_before = oracle.queries  # the agreement check is ours, not the attacker's
    data = seed_images.detach()
    labels = oracle(data)
    history = []
    for round_index in range(options.rounds):
        loader = DataLoader(
            TensorDataset(data, labels), batch_size=options.batch_size, shuffle=True
        )
        fit(substitute, loader, optimizer, epochs=options.epochs_per_round, progress=progress)
        record = {
            "round": round_index,
            "examples": data.shape[0],
            "queries": oracle.queries - queries_before,
        }
        if reference is not None:
            record["agreement"] = accuracy(substitute, agreement_images, reference)
        history.append(record)
        if round_index < options.rounds - 1:
            sign = 1.0 if options.tau is None else (-1.0) ** (round_index // options.tau)
            new_points = jacobian_augmentation(
                substitute, data, labels, options.lam * sign, output=options.jacobian_output
            )
            # Only the new points are sent to the oracle: old labels are kept.
            data = mg.cat([data, new_points], 0)
            labels = mg.cat([labels, oracle(new_points)], 0)
    substitute.eval()
    return SubstituteResult(substitute, oracle.queries - queries_before, history)


def transfer_attack(
    oracle_model: Model,
    substitute: Model,
    x: mg.Tensor,
    y: mg.Tensor,
    eps: float,
    attack: Callable[..., mg.Tensor] = fgsm,
    clip_min: float = 0.0,
    clip_max: float = 1.0,
) -> dict:
    """Steps 4-5: craft on the substitute, test on the oracle.

    Returns the oracle's accuracy on clean and transferred inputs, its misclassification
    rate on the transferred inputs (Papernot et al.'s measure), and the success rate
    among the examples it had classified correctly.
    """
    x_adv = attack(substitute, x, eps=eps, clip_min=clip_min, clip_max=clip_max)
    with mg.no_grad():
        clean = logits_of(oracle_model, x).argmax(dim=1).numpy()
        adversarial = logits_of(oracle_model, x_adv).argmax(dim=1).numpy()
    truth = y.numpy()
    correct = clean == truth
    return {
        "eps": eps,
        "oracle_clean_accuracy": float(correct.mean()),
        "oracle_adversarial_accuracy": float((adversarial == truth).mean()),
        "misclassification_rate": float((adversarial != truth).mean()),
        "success_rate_on_correct": float((adversarial[correct] != truth[correct]).mean()),
    }
