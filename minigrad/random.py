"""Seeded random numbers: one generator per device, reset together by ``manual_seed``.

The generator state is plain JSON-able data, so a checkpoint can store it and a resumed
run draws exactly the numbers the uninterrupted run would have drawn.
"""

from __future__ import annotations

from typing import Any

from minigrad.devices import get_backend, normalize_device

_DEFAULT_SEED = 0
_seed = _DEFAULT_SEED
_generators: dict[str, Any] = {}


def _generator(device: str) -> Any:
    if device not in _generators:
        _generators[device] = get_backend(device).make_rng(_seed)
    return _generators[device]


def manual_seed(seed: int) -> DefaultGenerator:
    """Seed every device's generator (like ``torch.manual_seed``); returns the generator."""
    global _seed
    _seed = _checked_seed(seed)
    _generators.clear()
    return default_generator


def seed_device(device: str, seed: int) -> None:
    """Seed only ``device``'s generator (``minigrad.cuda.manual_seed``)."""
    _generators[device] = get_backend(device).make_rng(_checked_seed(seed))


def _checked_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return seed


def initial_seed() -> int:
    return _seed


def get_rng_state() -> dict[str, Any]:
    """JSON-serialisable state of every generator created so far, plus the seed."""
    return {
        "seed": _seed,
        "devices": {
            device: get_backend(device).rng_state(rng) for device, rng in _generators.items()
        },
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`get_rng_state` returned."""
    global _seed
    if not isinstance(state, dict) or "seed" not in state or "devices" not in state:
        raise ValueError("state must be a dict from minigrad.get_rng_state()")
    _seed = int(state["seed"])
    _generators.clear()
    for device, device_state in state["devices"].items():
        device = normalize_device(device)
        get_backend(device).set_rng_state(_generator(device), device_state)


def normal_array(shape: tuple[int, ...], dtype: Any, device: str) -> Any:
    """Standard normal samples as a raw array on ``device``."""
    return get_backend(device).normal(_generator(device), tuple(shape), dtype)


def uniform_array(shape: tuple[int, ...], dtype: Any, device: str) -> Any:
    """Samples from U[0, 1) as a raw array on ``device``."""
    return get_backend(device).uniform(_generator(device), tuple(shape), dtype)


class DefaultGenerator:
    """The generators of every device, behind ``torch.Generator``'s method names.

    ``manual_seed`` returns it, as PyTorch returns its default generator. Its state is
    :func:`get_rng_state`'s dict, not a byte tensor.
    """

    def manual_seed(self, seed: int) -> DefaultGenerator:
        return manual_seed(seed)

    def initial_seed(self) -> int:
        return initial_seed()

    def get_state(self) -> dict[str, Any]:
        return get_rng_state()

    def set_state(self, state: dict[str, Any]) -> DefaultGenerator:
        set_rng_state(state)
        return self

    def __repr__(self) -> str:
        return f"<minigrad default generator, seed {_seed}>"


default_generator = DefaultGenerator()
