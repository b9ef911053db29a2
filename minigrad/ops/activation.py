"""Activations: fused forward kernels, and backwards that stay differentiable.

``relu`` and ``leaky_relu`` run their backward as its own Function (a fused mask kernel),
whose own backward is the same mask again: that keeps second derivatives exact while a
plain first-order backward costs one pass.
"""

from __future__ import annotations

from minigrad.autograd import Function
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
