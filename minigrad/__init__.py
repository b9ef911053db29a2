"""minigrad: a small, readable reverse-mode autodiff library with hand-written kernels.

import minigrad as mg
x = mg.randn(3, requires_grad=True)
(x * x).sum().backward()      # x.grad == 2 x
"""

from minigrad.autograd import (
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from minigrad.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    get_default_dtype,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    set_default_dtype,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.devices import device
from minigrad.functions import *  # noqa: F403  (torch.* spellings, dtype names)
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.ops import clamp, maximum, minimum, pow, where
from minigrad.ops.activation import leaky_relu, logsigmoid, relu, sigmoid, softplus, tanh
from minigrad.ops.broadcast import expand as broadcast_to
from minigrad.ops.matmul import matmul
from minigrad.ops.reduce import (
    amax,
    amin,
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    mean,
    norm,
    softmax,
    sum,
    var,
)
from minigrad.ops.shape import (
    cat,
    flatten,
    pad,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from minigrad.random import (
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    set_rng_state,
)
from minigrad.serialize import load, save
from minigrad.tensor import Tensor, bool_, float32, float64, int64

# isort: split
# nn and optim import the names above from this package, so they must come last.
from minigrad import accelerator, backends, cuda, data, nn, optim, utils


def exp(x: Tensor) -> Tensor:
    return x.exp()


def log(x: Tensor) -> Tensor:
    return x.log()


def sqrt(x: Tensor) -> Tensor:
    return x.sqrt()


def abs(x: Tensor) -> Tensor:  # noqa: A001
    return x.abs()


def sign(x: Tensor) -> Tensor:
    return x.sign()


clip = clamp

__all__ = [name for name in dir() if not name.startswith("_")]
