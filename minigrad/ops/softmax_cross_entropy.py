"""Softmax cross-entropy with class indices as one Function, with the classic gradient.

For logits z (N, C) and classes y (N,), each example's loss and its gradient are

    ℓ_n = logsumexp(z_n) − z_n[y_n] = −log softmax(z_n)[y_n]
    dℓ_n/dz_n = softmax(z_n) − onehot(y_n)

so the backward is one subtraction, instead of the chain rule through log_softmax, the
gather of the target column and the negation (three graph nodes; the gather's backward
scatters into a zero array). The lecture's classifiers (FGSM's ∇x L, adversarial
training) all differentiate this loss.

Second derivatives stay exact: when the backward is recorded (``create_graph=True``,
e.g. an input-gradient penalty) softmax(z) is recomputed from z with a differentiable op;
a plain first-order backward reuses the probabilities of the forward.
"""

from __future__ import annotations

from typing import Any

from minigrad.autograd import Function, is_grad_enabled
from minigrad.ops.reduce import softmax
from minigrad.tensor import Tensor


class SoftmaxCrossEntropy(Function):
    """ℓ_n = logsumexp(z_n) − z_n[y_n];   dL/dz_n = dL/dℓ_n · (softmax(z_n) − onehot(y_n))"""

    save_inputs = True

    def forward(self, logits, target):
        xp = self.backend.xp
        rows = xp.arange(logits.shape[0])
        shifted = logits - self.backend.max(logits, 1, True)
        exps = xp.exp(shifted)
        total = xp.sum(exps, axis=1, keepdims=True)
        self.probabilities = exps / total
        self.one_hot = xp.zeros_like(logits)
        self.one_hot[rows, target] = 1
        return xp.log(total[:, 0]) - shifted[rows, target]

    def backward(self, grad):
        (logits,) = self.saved_inputs
        if is_grad_enabled():  # recorded: softmax must stay a function of the logits
            probabilities = softmax(logits, dim=1)
        else:
            probabilities = Tensor._make(self.probabilities, logits.device, False)
        one_hot = Tensor._make(self.one_hot, logits.device, False)
        return grad.reshape(-1, 1) * (probabilities - one_hot)


def softmax_cross_entropy(logits: Tensor, target: Any) -> Tensor:
    """Per-example losses (N,) of logits (N, C) against int class indices (an array (N,))."""
    return SoftmaxCrossEntropy.apply(logits, target=target)
