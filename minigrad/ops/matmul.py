"""Matrix multiplication: C = A B, batched over leading dimensions like ``numpy.matmul``."""

from __future__ import annotations

from minigrad.autograd import Function
from minigrad.ops.broadcast import unbroadcast
from minigrad.tensor import Tensor


class MatMul(Function):
    """C = A B;   dL/dA = dL/dC Bᵀ,   dL/dB = Aᵀ dL/dC   (both at least 2-D)"""

    save_inputs = True

    def forward(self, a, b):
        return self.backend.matmul(a, b)

    def backward(self, grad):
        a, b = self.saved_inputs
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = unbroadcast(grad @ b.transpose(-1, -2), a.shape)
        if self.needs_input_grad[1]:
            grad_b = unbroadcast(a.transpose(-1, -2) @ grad, b.shape)
        return grad_a, grad_b


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b``; a 1-D operand is treated as a row (left) or column (right) vector."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got {a.shape} @ {b.shape}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not line up "
            f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})"
        )
    if a.dtype != b.dtype:
        raise TypeError(f"matmul: dtype mismatch {a.dtype} @ {b.dtype}")
    left = a.reshape(1, -1) if a.ndim == 1 else a
    right = b.reshape(-1, 1) if b.ndim == 1 else b
    out = MatMul.apply(left, right)
    if a.ndim == 1:
        out = out.reshape(*out.shape[:-2], out.shape[-1])
    if b.ndim == 1:
        out = out.reshape(*out.shape[:-1])
    return out
