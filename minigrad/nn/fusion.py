"""Which adjacent layers of an ``nn.Sequential`` run as one fused op: a layer and the
activation right after it.

    BatchNorm1d/2d then ReLU/LeakyReLU/Tanh/Sigmoid    z = f(γ x̂ + β)       one node
    Conv2d, ConvTranspose2d (with bias) then the same   z = f(conv(x) + b)   one node

(one kernel each way on a GPU).

Run separately, a GPU launches the layer's own kernels, then the activation's forward
kernel, and in backward the activation's mask kernel before the layer's (a BatchNorm in
training: two reductions and ~9 elementwise kernels forward, four reductions backward,
plus the activation's two). Fused, the activation is the last step of the layer's kernel
and its derivative, f'(z) read off the output, the first step of the layer's backward
kernel (kernels/epilogue.py). The values are the layer's and the activation's formulas
unchanged (to rounding); the intermediate tensor is never materialised, and only the
graph shows the difference (one node where there were two): minigrad's modules have no
forward hooks, and only the exact classes below, with the ``forward`` of their class,
are fused (a subclass or a module whose ``forward`` was replaced runs as written). A
leaky ReLU with a negative slope is not fused: its derivative cannot be read off the
output's sign.

Linear layers are not fused: they are where the lecture draws and traces graphs op by op
(docs/walkthroughs: an MLP's Linear, Tanh, Linear), and the DCGAN's only Linear has no
activation after it, so fusing them would hide the chain rule and save no measured launch.
"""

from __future__ import annotations

from collections.abc import Callable

from minigrad.nn.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from minigrad.nn.batchnorm import BatchNorm1d, BatchNorm2d
from minigrad.nn.conv import Conv2d, ConvTranspose2d
from minigrad.nn.module import Module
from minigrad.tensor import Tensor

#: Activation layers that a layer before them can apply itself, by kernel name.
FUSED_ACTIVATIONS: dict[type, str] = {
    ReLU: "relu",
    LeakyReLU: "leaky_relu",
    Tanh: "tanh",
    Sigmoid: "sigmoid",
}
#: Layers with a ``forward_activation(x, activation, negative_slope)``.
FUSING_LAYERS: tuple[type, ...] = (BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d)


def _as_written(module: Module) -> bool:
    """True unless ``forward`` was replaced on the instance."""
    return "forward" not in vars(module)


def fused_forward(layer: Module, follower: Module) -> Callable[[Tensor], Tensor] | None:
    """``x -> follower(layer(x))`` as one fused op, or None when the pair does not fuse."""
    activation = FUSED_ACTIVATIONS.get(type(follower))
    if activation is None or type(layer) not in FUSING_LAYERS:
        return None
    if not (_as_written(layer) and _as_written(follower)):
        return None
    if isinstance(layer, Conv2d | ConvTranspose2d) and layer.bias is None:
        return None  # no bias to fuse: the activation's own kernel is as cheap
    slope = float(follower.negative_slope) if activation == "leaky_relu" else 0.0
    if not slope >= 0:
        return None
    return lambda x: layer.forward_activation(x, activation, slope)
