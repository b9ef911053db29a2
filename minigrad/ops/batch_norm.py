"""Batch normalisation in training, x̂ = (x − μ_B) / √(σ²_B + ε), with its affine map and
an optional activation after it, as one Function with the classic backward formula
(Ioffe & Szegedy 2015, section 3).

With m values per channel (every axis but the channel axis 1), μ_B and σ²_B the batch's
mean and biased variance, σ = √(σ²_B + ε), γ/β the layer's weight and bias and f the
activation (``None``, "relu", "leaky_relu", "tanh" or "sigmoid"):

    z = f(γ x̂ + β)
    g = dL/dz · f'(z)                   dL/dβ = Σ g,   dL/dγ = Σ g x̂
    dL/dx = (γ/σ) · (g − mean(g) − x̂ · mean(g · x̂))

(sums and means over the same m values). Composed of Tensor ops this is about ten graph
nodes forward, each with its own backward, and on a GPU some twenty kernel launches
each way; here it is one node whose forward and backward are one fused kernel each
(``batch_norm_forward`` / ``batch_norm_backward`` of the device's kernel module:
kernels/cpu/batch_norm.py, kernels/cuda/batch_norm.py). The statistics are summed in
float64 around a shift, so float32 keeps its accuracy when the mean is large.

Second derivatives stay exact: when the backward is itself recorded
(``create_graph=True``) it is written with differentiable Tensor ops instead, x̂ and 1/σ
recomputed from x so that their dependence on x is differentiated too, and f'(z) read
off the graph-connected output z.
"""

from __future__ import annotations

from minigrad.autograd import Function, is_grad_enabled
from minigrad.ops.activation import activation_backward
from minigrad.tensor import Tensor


class BatchNormalize(Function):
    """z = f(γ x̂ + β), x̂ = (x − μ)/σ;  dL/dx = (γ/σ)(g − mean g − x̂·mean(g x̂)), g = dL/dz·f'(z)"""

    save_inputs = True
    save_output = True

    def forward(self, x, weight=None, bias=None, *, eps, activation, negative_slope, statistics):
        self.eps, self.activation, self.negative_slope = eps, activation, negative_slope
        z, mean, variance, self.stats = self.backend.batch_norm_forward(
            x, weight, bias, eps, activation, negative_slope
        )
        statistics += [mean, variance]  # handed back to normalize_batch, graph or not
        return z

    def backward(self, grad):
        x, *affine = self.saved_inputs
        weight = affine[0] if affine else None
        z = self.output
        if is_grad_enabled():
            grads = self._recorded_backward(grad, x, weight, z)
        else:
            arrays = self.backend.batch_norm_backward(
                grad._data,
                z._data,
                x._data,
                self.stats,
                None if weight is None else weight._data,
                self.activation,
                self.negative_slope,
            )
            grads = tuple(Tensor._make(a, x.device, False) for a in arrays)
        return grads if affine else grads[0]

    def _recorded_backward(self, grad, x, weight, z):
        """The same formulas as differentiable Tensor ops (for create_graph=True)."""
        axes = (0, *range(2, x.ndim))
        g = activation_backward(grad, z, self.activation, self.negative_slope)
        centred = x - x.mean(dim=axes, keepdim=True)
        inv_std = ((centred * centred).mean(dim=axes, keepdim=True) + self.eps) ** -0.5
        x_hat = centred * inv_std
        grad_bias = g.sum(dim=axes)
        grad_weight = (g * x_hat).sum(dim=axes)
        g_hat = g if weight is None else g * weight.reshape((1, -1) + (1,) * (x.ndim - 2))
        mean_g_hat = g_hat.mean(dim=axes, keepdim=True)
        mean_g_hat_x_hat = (g_hat * x_hat).mean(dim=axes, keepdim=True)
        grad_x = inv_std * (g_hat - mean_g_hat - x_hat * mean_g_hat_x_hat)
        return grad_x, grad_weight, grad_bias


def normalize_batch(
    x: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    eps: float,
    activation: str | None = None,
    negative_slope: float = 0.0,
) -> tuple[Tensor, Tensor, Tensor]:
    """(z, μ_B, σ²_B): z = f(γ x̂ + β) for the batch x (N, C, ...), and the batch's
    per-channel mean and biased variance, shape (C,), without graph (for the running
    averages). ``weight`` and ``bias`` are both given or both None (γ = 1, β = 0)."""
    if (weight is None) != (bias is None):
        raise ValueError("normalize_batch: pass weight and bias together, or neither")
    affine = () if weight is None else (weight, bias)
    statistics: list = []
    z = BatchNormalize.apply(
        x,
        *affine,
        eps=eps,
        activation=activation,
        negative_slope=negative_slope,
        statistics=statistics,
    )
    mean, variance = (Tensor._make(array, x.device, False) for array in statistics)
    return z, mean, variance
