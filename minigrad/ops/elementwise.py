"""Elementwise arithmetic: each formula beside its gradient.

Binary operations broadcast like numpy; their backward hands each input a gradient of
its own shape through ``unbroadcast``. Every backward is written in Tensor operations,
so it can itself be differentiated (``create_graph=True``).
"""

from __future__ import annotations

from minigrad.autograd import Function
from minigrad.ops.broadcast import unbroadcast
from minigrad.tensor import Tensor


def _constant(array, like: Tensor) -> Tensor:
    """An array as a tensor that takes no gradient (a mask, a fixed factor)."""
    return Tensor._make(array, like.device, False)


class Add(Function):
    """z = a + b;   dL/da = dL/dz,   dL/db = dL/dz"""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, grad):
        return unbroadcast(grad, self.shapes[0]), unbroadcast(grad, self.shapes[1])


class Sub(Function):
    """z = a - b;   dL/da = dL/dz,   dL/db = -dL/dz"""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, grad):
        return unbroadcast(grad, self.shapes[0]), unbroadcast(-grad, self.shapes[1])


class Mul(Function):
    """z = a * b;   dL/da = dL/dz * b,   dL/db = dL/dz * a"""

    save_inputs = True

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.saved_inputs
        grad_a = unbroadcast(grad * b, a.shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * a, b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    """z = a / b;   dL/da = dL/dz / b,   dL/db = -dL/dz * a / b²"""

    save_inputs = True

    def forward(self, a, b):
        return a / b

    def backward(self, grad):
        a, b = self.saved_inputs
        grad_a = unbroadcast(grad / b, a.shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(-grad * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    """y = -x;   dL/dx = -dL/dy"""

    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class PowScalar(Function):
    """y = x ** p (p a number);   dL/dx = dL/dy * p * x ** (p - 1)"""

    save_inputs = True

    def forward(self, x, exponent):
        self.exponent = exponent
        return x**exponent

    def backward(self, grad):
        (x,) = self.saved_inputs
        p = self.exponent
        if p == 0:
            return grad * 0
        return grad * p * (x ** (p - 1) if p != 2 else x)


class Pow(Function):
    """z = a ** b;   dL/da = dL/dz * b * a ** (b - 1),   dL/db = dL/dz * z * log(a)"""

    save_inputs = True
    save_output = True

    def forward(self, a, b):
        return a**b

    def backward(self, grad):
        a, b = self.saved_inputs
        grad_a = unbroadcast(grad * b * a ** (b - 1), a.shape) if self.needs_input_grad[0] else None
        grad_b = (
            unbroadcast(grad * self.output * a.log(), b.shape) if self.needs_input_grad[1] else None
        )
        return grad_a, grad_b


class Exp(Function):
    """y = e^x;   dL/dx = dL/dy * y"""

    save_output = True

    def forward(self, x):
        return self.backend.xp.exp(x)

    def backward(self, grad):
        return grad * self.output


class Log(Function):
    """y = ln x;   dL/dx = dL/dy / x"""

    save_inputs = True

    def forward(self, x):
        return self.backend.xp.log(x)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad / x


class Sqrt(Function):
    """y = √x;   dL/dx = dL/dy / (2 y)"""

    save_output = True

    def forward(self, x):
        return self.backend.xp.sqrt(x)

    def backward(self, grad):
        return grad / (2 * self.output)


class Abs(Function):
    """y = |x|;   dL/dx = dL/dy * sign(x)   (0 at x = 0)"""

    save_inputs = True

    def forward(self, x):
        return self.backend.xp.abs(x)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad * x.sign()


class Sign(Function):
    """y = sign(x);   dL/dx = 0 (flat almost everywhere)"""

    def forward(self, x):
        return self.backend.xp.sign(x)

    def backward(self, grad):
        return grad * 0


class Where(Function):
    """z = condition ? a : b;   dL/da = dL/dz where condition, dL/db = dL/dz elsewhere"""

    def forward(self, a, b, condition):
        self.condition = condition
        self.shapes = a.shape, b.shape
        return self.backend.xp.where(condition, a, b)

    def backward(self, grad):
        zero = _constant(self.backend.xp.zeros((), dtype=grad.dtype), grad)
        grad_a = Where.apply(grad, zero, condition=self.condition)
        grad_b = Where.apply(zero, grad, condition=self.condition)
        return unbroadcast(grad_a, self.shapes[0]), unbroadcast(grad_b, self.shapes[1])


class Maximum(Function):
    """z = max(a, b);   the gradient goes to the larger input (split evenly on ties)"""

    save_inputs = True

    def forward(self, a, b):
        return self.backend.xp.maximum(a, b)

    def backward(self, grad):
        return _split_by_winner(grad, *self.saved_inputs, self.backend.xp.greater)


class Minimum(Function):
    """z = min(a, b);   the gradient goes to the smaller input (split evenly on ties)"""

    save_inputs = True

    def forward(self, a, b):
        return self.backend.xp.minimum(a, b)

    def backward(self, grad):
        return _split_by_winner(grad, *self.saved_inputs, self.backend.xp.less)


def _split_by_winner(grad: Tensor, a: Tensor, b: Tensor, wins) -> tuple[Tensor, Tensor]:
    share_a = wins(a._data, b._data) + 0.5 * (a._data == b._data)
    share_a = _constant(share_a.astype(grad.dtype), grad)
    return unbroadcast(grad * share_a, a.shape), unbroadcast(grad * (1 - share_a), b.shape)


class Clamp(Function):
    """y = min(max(x, lo), hi);   dL/dx = dL/dy inside [lo, hi], 0 outside"""

    save_inputs = True

    def forward(self, x, low, high):
        self.low, self.high = low, high
        return self.backend.xp.clip(x, low, high)

    def backward(self, grad):
        (x,) = self.saved_inputs
        inside = self.backend.xp.ones(x.shape, dtype=bool)
        if self.low is not None:
            inside &= x._data >= self.low
        if self.high is not None:
            inside &= x._data <= self.high
        return grad * _constant(inside.astype(grad.dtype), grad)
