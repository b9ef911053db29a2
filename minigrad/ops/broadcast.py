"""Broadcasting, and the one place its gradient is undone (``unbroadcast``).

When ``a`` of shape (3, 1) meets ``b`` of shape (4,), numpy broadcasts both to (3, 4).
Each input's gradient must come back in its own shape: sum over the dimensions that
broadcasting added or stretched.
"""

from __future__ import annotations

from minigrad.autograd import Function
from minigrad.tensor import Tensor


class Expand(Function):
    """y = broadcast_to(x, shape);   dL/dx = unbroadcast(dL/dy, x.shape)"""

    def forward(self, x, shape):
        self.input_shape = x.shape
        try:
            return self.backend.xp.broadcast_to(x, tuple(shape))
        except ValueError:
            raise ValueError(
                f"expand: cannot broadcast shape {x.shape} to {tuple(shape)}"
            ) from None

    def backward(self, grad):
        return unbroadcast(grad, self.input_shape)


def expand(x: Tensor, *shape: int) -> Tensor:
    """Broadcast ``x`` to ``shape`` (-1 keeps a dimension), as ``Tensor.expand``."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: shape {shape} has fewer dims than the tensor's {x.shape}")
    target = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    if target == x.shape:
        return x
    return Expand.apply(x, shape=target)


def unbroadcast(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``grad`` down to ``shape``: over added leading dims and over stretched size-1 dims."""
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    stretched = tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    axes = tuple(range(lead)) + stretched
    reduced = grad.sum(dim=axes, keepdim=True) if axes else grad
    return reduced.reshape(shape)
