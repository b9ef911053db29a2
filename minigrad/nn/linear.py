"""Linear: y = x W^T + b, with PyTorch's weight layout and default initialisation."""

from __future__ import annotations

import math

import numpy as np

from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.arguments import float_dtype, positive_int
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor


class Linear(Module):
    """y = x @ weight.T + bias, weight (out_features, in_features), bias (out_features,).

    Default init as PyTorch: weight ~ kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)),
    and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, dtype: object = None
    ):
        super().__init__()
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        dtype = float_dtype(dtype)
        self.weight = Parameter(np.zeros((out_features, in_features), dtype))
        if bias:
            self.bias = Parameter(np.zeros(out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear expects input of shape (..., {self.in_features}), got {tuple(x.shape)}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
