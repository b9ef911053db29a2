"""Random numbers from an explicitly seeded generator (numpy's PCG64).

The state round-trips through JSON: PCG64's 128-bit ``state`` and ``inc`` are stored
as decimal strings, because JSON numbers past 2**53 lose digits in most readers (and in
any writer that goes through a float), while a string survives every JSON tool.
"""

from __future__ import annotations

import numpy as np

from kernels.geometry import FLOAT_DTYPES


def make_rng(seed: int) -> np.random.Generator:
    """A PCG64 generator seeded with the non-negative int ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return np.random.Generator(np.random.PCG64(int(seed)))


def _check_rng(rng) -> None:
    if not isinstance(rng, np.random.Generator) or not isinstance(
        rng.bit_generator, np.random.PCG64
    ):
        raise TypeError(f"rng must be a generator from make_rng (numpy PCG64), got {rng!r}")


def rng_state(rng: np.random.Generator) -> dict:
    """The generator's full state as a JSON-serialisable dict of str and int."""
    _check_rng(rng)
    state = rng.bit_generator.state
    return {
        "bit_generator": "PCG64",
        "state": str(int(state["state"]["state"])),
        "inc": str(int(state["state"]["inc"])),
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }


def set_rng_state(rng: np.random.Generator, state: dict) -> None:
    """Restore a state from :func:`rng_state` (also after a JSON round trip)."""
    _check_rng(rng)
    keys = {"bit_generator", "state", "inc", "has_uint32", "uinteger"}
    if not isinstance(state, dict) or set(state) != keys or state["bit_generator"] != "PCG64":
        raise ValueError(
            f"state must be a dict from rng_state with keys {sorted(keys)}, got {state!r}"
        )
    rng.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": int(state["state"]), "inc": int(state["inc"])},
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }


def _dtype(dtype) -> np.dtype:
    resolved = np.dtype(dtype)
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {resolved}")
    return resolved


def normal(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Standard normal samples (mean 0, variance 1) of ``shape`` in ``dtype``."""
    _check_rng(rng)
    return rng.standard_normal(size=shape, dtype=_dtype(dtype))


def uniform(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Samples uniform on [0, 1) of ``shape`` in ``dtype``."""
    _check_rng(rng)
    return rng.random(size=shape, dtype=_dtype(dtype))
