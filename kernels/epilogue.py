"""The activation a fused kernel applies to its result before writing it (its "epilogue"),
shared by every backend's fused kernels (BatchNorm, bias + activation).

A layer followed by an activation, z = f(v), costs one kernel instead of two when the
layer's kernel applies f itself; its backward needs f'(v) and reads it off the saved
output z, so v is never stored:

    name          f(v)                      f'(v) written with z = f(v)
    "identity"    v                         1
    "relu"        max(v, 0)                 1 if z > 0 else 0
    "leaky_relu"  v if v > 0 else a·v       1 if z > 0 else a         (a >= 0: z > 0 iff v > 0)
    "tanh"        tanh v                    1 - z²
    "sigmoid"     1 / (1 + e^-v)            z (1 - z)

The two scalar functions below are plain Python: the CPU backend compiles them with
``numba.njit``, the CUDA backend with ``cuda.jit(device=True)``, so both run the same
formulas. Activations are passed to kernels as the small integer codes of
:data:`ACTIVATIONS`.
"""

from __future__ import annotations

import math

#: Names of the activations a fused kernel can apply, by kernel code (the list index).
ACTIVATIONS: tuple[str, ...] = ("identity", "relu", "leaky_relu", "tanh", "sigmoid")
IDENTITY, RELU, LEAKY_RELU, TANH, SIGMOID = range(len(ACTIVATIONS))


def activation_code(activation: str | None, negative_slope: float = 0.0) -> int:
    """The kernel code of ``activation`` (None means "identity"), checked.

    A leaky ReLU needs ``negative_slope >= 0`` here: its derivative is read off the
    output's sign, which matches the input's sign only then.
    """
    name = "identity" if activation is None else activation
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS} or None, got {activation!r}")
    if name == "leaky_relu" and not negative_slope >= 0:
        raise ValueError(
            f"a fused leaky_relu needs negative_slope >= 0, got {negative_slope!r}"
        )
    return ACTIVATIONS.index(name)


def activate(v, code, slope):
    """f(v) for the activation ``code`` (``slope``: the leaky ReLU's a)."""
    if code == RELU:
        return 0.0 if v <= 0 else v  # "<= 0" so that a NaN passes through, as in numpy
    if code == LEAKY_RELU:
        return v if v > 0 else slope * v
    if code == TANH:
        return math.tanh(v)
    if code == SIGMOID:  # exp only ever sees a non-positive argument: no overflow
        if v >= 0:
            return 1 / (1 + math.exp(-v))
        e = math.exp(v)
        return e / (1 + e)
    return v


def derivative_from_output(z, code, slope):
    """f'(v) written with the output z = f(v), for the activation ``code``."""
    if code == RELU:
        return 1.0 if z > 0 else 0.0
    if code == LEAKY_RELU:
        return 1.0 if z > 0 else slope
    if code == TANH:
        return 1 - z * z
    if code == SIGMOID:
        return z * (1 - z)
    return 1.0
