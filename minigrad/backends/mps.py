"""``minigrad.backends.mps``: Apple's Metal backend, which minigrad does not have."""

from __future__ import annotations


def is_available() -> bool:
    """False: minigrad has no MPS device."""
    return False


def is_built() -> bool:
    """False: minigrad has no MPS backend."""
    return False
