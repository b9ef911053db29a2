"""``minigrad.backends.cudnn``: cuDNN's switches, kept so that scripts which set them run.

minigrad's convolutions are its own kernels (kernels/cpu, kernels/cuda), not cuDNN's:
setting ``benchmark``, ``deterministic``, ``enabled`` or ``allow_tf32`` is allowed and has
no effect on what is computed, and ``is_available()`` is False, as on a PyTorch build
without cuDNN.
"""

from __future__ import annotations

#: PyTorch: let cuDNN time several convolution algorithms and keep the fastest. No effect.
benchmark: bool = False
#: PyTorch: only use deterministic cuDNN algorithms. No effect (no cuDNN is used).
deterministic: bool = False
#: PyTorch: use cuDNN when it is available. No effect.
enabled: bool = True
#: PyTorch: allow TF32 in cuDNN convolutions. No effect.
allow_tf32: bool = True


def is_available() -> bool:
    """False: minigrad does not use cuDNN."""
    return False


def version() -> int | None:
    """None: no cuDNN is loaded."""
    return None
