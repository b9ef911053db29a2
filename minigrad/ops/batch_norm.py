"""Batch normalisation's core, x̂ = (x − μ_B) / √(σ²_B + ε), as one Function with the
classic backward formula (Ioffe & Szegedy 2015, section 3).

With m values per channel (every axis but the channel axis), μ_B and σ²_B the batch's
mean and biased variance, σ = √(σ²_B + ε) and g = dL/dx̂:

    dL/dx = (1/σ) · (g − mean(g) − x̂ · mean(g · x̂))

(the means over the same m values). It replaces the chain rule through the composed ops
x − μ, (·)², mean, + ε, √, ÷ — six graph nodes, each with its own backward — by one
node whose backward is three reductions and a few elementwise ops.

Second derivatives stay exact: ``x̂`` is read as the graph-connected output, and when the
backward is itself recorded (``create_graph=True``) 1/σ is recomputed from x with Tensor
ops so that its dependence on x is differentiated too. A plain first-order backward
uses the 1/σ the forward already computed.
"""

from __future__ import annotations

from minigrad.autograd import Function, is_grad_enabled
from minigrad.tensor import Tensor


class BatchNormalize(Function):
    """x̂ = (x − μ) / √(σ² + ε) per channel;  dL/dx = (g − mean g − x̂·mean(g x̂)) / σ"""

    save_inputs = True
    save_output = True

    def forward(self, x, mean, variance, axes, eps):
        self.axes, self.eps = axes, eps
        self.inv_std = 1.0 / self.backend.xp.sqrt(variance + eps)
        return (x - mean) * self.inv_std

    def backward(self, grad):
        x_hat = self.output
        (x,) = self.saved_inputs
        if is_grad_enabled():  # recorded: 1/σ must stay a function of x
            centred = x - x.mean(dim=self.axes, keepdim=True)
            inv_std = ((centred * centred).mean(dim=self.axes, keepdim=True) + self.eps) ** -0.5
        else:
            inv_std = Tensor._make(self.inv_std, x.device, False)
        mean_grad = grad.mean(dim=self.axes, keepdim=True)
        mean_grad_x_hat = (grad * x_hat).mean(dim=self.axes, keepdim=True)
        return inv_std * (grad - mean_grad - x_hat * mean_grad_x_hat)


def normalize_batch(
    x: Tensor, axes: tuple[int, ...], eps: float
) -> tuple[Tensor, Tensor, Tensor]:
    """(x̂, μ_B, σ²_B): the normalised batch and the batch statistics (no graph on these two).

    The statistics keep x's rank (size 1 on ``axes``), ready for the running averages.
    """
    xp = x.backend.xp
    mean = xp.mean(x._data, axis=axes, keepdims=True)
    centred = x._data - mean
    variance = xp.mean(centred * centred, axis=axes, keepdims=True)
    x_hat = BatchNormalize.apply(x, mean=mean, variance=variance, axes=axes, eps=eps)
    return (
        x_hat,
        Tensor._make(mean, x.device, False),
        Tensor._make(variance, x.device, False),
    )
