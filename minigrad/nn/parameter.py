"""Parameter: a leaf Tensor that a Module registers as learnable."""

from __future__ import annotations

from typing import Any

from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is picked up by ``Module.parameters()``.

    Built from a Tensor (keeping its device and dtype) or from anything ``minigrad.tensor``
    accepts (Python floats become float32, numpy arrays keep their dtype). The values are
    copied, so the parameter never aliases the array it was made from.
    """

    def __init__(self, data: Any, requires_grad: bool = True):
        if isinstance(data, Tensor):
            super().__init__(data, dtype=data.dtype, device=data.device)
        else:
            super().__init__(data)
        if self.dtype.kind != "f":
            raise TypeError(f"a Parameter must hold floating-point data, got dtype {self.dtype}")
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
