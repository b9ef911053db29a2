"""Activations: fused forward kernels, and backwards that stay differentiable.

``relu`` and ``leaky_relu`` run their backward as its own Function (a fused mask kernel),
whose own backward is the same mask again: that keeps second derivatives exact while a
plain first-order backward costs one pass.

``bias_activation`` is a layer's bias and the activation after it in one node,
z = f(y + b): one kernel forward, and one backward that writes dL/dy and sums dL/db in
the same pass (on a GPU the bias gradient would otherwise be a reduction launch of its
own). nn.Sequential uses it for a Conv2d/ConvTranspose2d followed by an activation
(minigrad/nn/fusion.py).
"""

from __future__ import annotations

from minigrad.autograd import Function, is_grad_enabled
from minigrad.tensor import Tensor


class ReLU(Function):
    """y = max(x, 0);   dL/dx = dL/dy * [x > 0]"""

    save_inputs = True

    def forward(self, x):
        return self.backend.relu(x)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return ReLUBackward.apply(grad, x)


class ReLUBackward(Function):
    """g_x = g_y * [x > 0]: linear in g_y, flat in x (zero derivative almost everywhere)"""

    def forward(self, grad_y, x):
        return self.backend.relu_backward(grad_y, x)

    def backward(self, grad):
        x = self.inputs[1]
        return ReLUBackward.apply(grad, x), None


class LeakyReLU(Function):
    """y = x if x > 0 else a·x;   dL/dx = dL/dy * (1 if x > 0 else a)"""

    save_inputs = True

    def forward(self, x, negative_slope):
        self.negative_slope = negative_slope
        return self.backend.leaky_relu(x, negative_slope)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return LeakyReLUBackward.apply(grad, x, negative_slope=self.negative_slope)


class LeakyReLUBackward(Function):
    """g_x = g_y * (1 if x > 0 else a): linear in g_y, flat in x"""

    def forward(self, grad_y, x, negative_slope):
        self.negative_slope = negative_slope
        return self.backend.leaky_relu_backward(grad_y, x, negative_slope)

    def backward(self, grad):
        x = self.inputs[1]
        return LeakyReLUBackward.apply(grad, x, negative_slope=self.negative_slope), None


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);   dL/dx = dL/dy * y (1 - y)"""

    save_output = True

    def forward(self, x):
        return self.backend.sigmoid(x)

    def backward(self, grad):
        y = self.output
        return grad * y * (1 - y)


class Tanh(Function):
    """y = tanh x;   dL/dx = dL/dy * (1 - y²)"""

    save_output = True

    def forward(self, x):
        return self.backend.tanh(x)

    def backward(self, grad):
        y = self.output
        return grad * (1 - y * y)


class Softplus(Function):
    """y = ln(1 + e^x);   dL/dx = dL/dy * sigmoid(x)"""

    save_inputs = True

    def forward(self, x):
        return self.backend.xp.logaddexp(0, x).astype(x.dtype, copy=False)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad * x.sigmoid()


def activation_backward(
    grad: Tensor, z: Tensor, activation: str | None, negative_slope: float = 0.0
) -> Tensor:
    """dL/dv = dL/dz · f'(v) for z = f(v), written with z and differentiable Tensor ops
    (the recorded backward of the fused layers; kernels/epilogue.py lists f'(z)).

    ReLU's and leaky ReLU's masks read z's sign for v's, which needs a slope >= 0."""
    if activation is None or activation == "identity":
        return grad
    if activation == "relu":
        return ReLUBackward.apply(grad, z)
    if activation == "leaky_relu":
        return LeakyReLUBackward.apply(grad, z, negative_slope=negative_slope)
    if activation == "tanh":
        return grad * (1 - z * z)
    if activation == "sigmoid":
        return grad * z * (1 - z)
    raise ValueError(f"activation_backward: unknown activation {activation!r}")


class BiasActivation(Function):
    """z = f(y + b), b along ``axis``;  dL/dy = dL/dz · f'(z),  dL/db = Σ dL/dy (other axes)"""

    save_output = True

    def forward(self, y, bias, axis, activation, negative_slope):
        self.axis, self.activation, self.negative_slope = axis, activation, negative_slope
        return self.backend.bias_activation(y, bias, axis, activation, negative_slope)

    def backward(self, grad):
        z = self.output
        if is_grad_enabled():  # recorded: differentiable ops, f'(z) through the graph's z
            grad_y = activation_backward(grad, z, self.activation, self.negative_slope)
            other_axes = tuple(a for a in range(z.ndim) if a != self.axis)
            return grad_y, grad_y.sum(dim=other_axes)
        grad_y, grad_bias = self.backend.bias_activation_backward(
            grad._data, z._data, self.axis, self.activation, self.negative_slope
        )
        return Tensor._make(grad_y, z.device, False), Tensor._make(grad_bias, z.device, False)


def bias_activation(
    y: Tensor, bias: Tensor, axis: int, activation: str, negative_slope: float = 0.0
) -> Tensor:
    """z = f(y + b) with the 1-d ``bias`` along ``axis`` of y, one fused node; f is
    "identity", "relu", "leaky_relu" (negative_slope >= 0), "tanh" or "sigmoid"."""
    if not -y.ndim <= axis < y.ndim:
        raise ValueError(f"bias_activation: axis {axis} is out of range for {y.ndim} dims")
    return BiasActivation.apply(
        y,
        bias,
        axis=axis % y.ndim,
        activation=activation,
        negative_slope=float(negative_slope),
    )


def relu(x: Tensor) -> Tensor:
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU.apply(x, negative_slope=float(negative_slope))


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def softplus(x: Tensor) -> Tensor:
    """ln(1 + e^x), computed without overflow."""
    return Softplus.apply(x)


def logsigmoid(x: Tensor) -> Tensor:
    """log σ(x) = -softplus(-x), stable for large |x|."""
    return -Softplus.apply(-x)
