"""A seeded, repeatable, counter-based generator: Philox4x32-10 (Salmon et al., SC'11).

Philox maps a 128-bit counter and a 64-bit key to 128 random bits through ten rounds of

    (c0, c1, c2, c3) -> (hi(M1*c2) ^ c1 ^ k0,  lo(M1*c2),  hi(M0*c0) ^ c3 ^ k1,  lo(M0*c0))

with the key bumped by the Weyl constants between rounds. Being a pure function of
(counter, key) it needs no per-thread state: thread ``p`` of a launch hashes counter
``offset + p``, so the numbers do not depend on the grid, the block size or the device,
and the whole generator state is two integers (the seed is the key), which round-trips
through JSON. Each counter gives two outputs:

    uniform:  u = top 24 (float32) or 53 (float64) bits / 2^bits, in [0, 1)
    normal:   Box-Muller, z0 = r cos(2 pi u2), z1 = r sin(2 pi u2),  r = sqrt(-2 ln(1 - u1))
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from kernels.cuda.runtime import grid_1d, sizes, xp
from kernels.geometry import FLOAT_DTYPES

ALGORITHM = "philox4x32-10"

# Typed constants: numba would turn uint64-with-int64 arithmetic into float64.
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_SHIFT5 = np.uint64(5)
_SHIFT6 = np.uint64(6)
_SHIFT8 = np.uint64(8)
_TWO_POW_26 = 67108864.0
_TWO_POW_MINUS_24 = 1.0 / 16777216.0
_TWO_POW_MINUS_53 = 1.0 / 9007199254740992.0


@cuda.jit(device=True)
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Ten Philox rounds; 32-bit words carried in uint64 so that ``hi(a*b) = (a*b) >> 32``."""
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (
            (p1 >> _SHIFT32) ^ c1 ^ k0,
            p1 & _MASK32,
            (p0 >> _SHIFT32) ^ c3 ^ k1,
            p0 & _MASK32,
        )
        k0 = (k0 + _W0) & _MASK32
        k1 = (k1 + _W1) & _MASK32
    return c0, c1, c2, c3


@cuda.jit(device=True)
def _unit_53(high, low):
    """A float64 in [0, 1) from the top 27 and 26 bits of two words."""
    return ((high >> _SHIFT5) * _TWO_POW_26 + (low >> _SHIFT6)) * _TWO_POW_MINUS_53


@cuda.jit
def _philox_fill(out, key0, key1, counter, normal, bits24):
    pairs = (out.size + 1) // 2
    for p in range(cuda.grid(1), pairs, cuda.gridsize(1)):
        c = counter + np.uint64(p)
        zero = np.uint64(0)
        w0, w1, w2, w3 = philox4x32(c & _MASK32, c >> _SHIFT32, zero, zero, key0, key1)
        if normal:
            radius = math.sqrt(-2.0 * math.log(1.0 - _unit_53(w0, w1)))
            angle = 2.0 * math.pi * _unit_53(w2, w3)
            first = radius * math.cos(angle)
            second = radius * math.sin(angle)
        elif bits24:
            first = (w0 >> _SHIFT8) * _TWO_POW_MINUS_24
            second = (w2 >> _SHIFT8) * _TWO_POW_MINUS_24
        else:
            first = _unit_53(w0, w1)
            second = _unit_53(w2, w3)
        out[2 * p] = first
        if 2 * p + 1 < out.size:
            out[2 * p + 1] = second


class PhiloxGenerator:
    """The generator's whole state: its 64-bit ``seed`` (the key) and the next ``counter``."""

    def __init__(self, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.seed = int(seed) % 2**64
        self.counter = 0

    def fill(self, shape: tuple[int, ...], dtype, normal: bool):
        """A new array of ``shape`` drawn from the stream; advances the counter past it."""
        dtype = np.dtype(dtype)
        if dtype not in FLOAT_DTYPES:
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        shape = tuple(int(size) for size in shape)
        if any(size < 0 for size in shape):
            raise ValueError(f"shape must have non-negative sizes, got {shape}")
        out = xp.empty(shape, dtype=dtype)
        pairs = (out.size + 1) // 2
        if pairs:
            _philox_fill[grid_1d(pairs), sizes.threads_1d](
                out.reshape(-1),
                np.uint64(self.seed & 0xFFFFFFFF),
                np.uint64(self.seed >> 32),
                np.uint64(self.counter),
                normal,
                dtype == np.float32,
            )
        self.counter = (self.counter + pairs) % 2**64
        return out


def make_rng(seed: int) -> PhiloxGenerator:
    """A generator seeded with ``seed``; equal seeds give equal streams on every device."""
    return PhiloxGenerator(seed)


def _check_rng(rng: object) -> None:
    if not isinstance(rng, PhiloxGenerator):
        raise TypeError(f"rng must be a generator from make_rng (Philox), got {rng!r}")


def rng_state(rng: PhiloxGenerator) -> dict:
    """``{"algorithm", "seed", "counter"}``: plain ints and a string, JSON-serialisable."""
    _check_rng(rng)
    return {"algorithm": ALGORITHM, "seed": rng.seed, "counter": rng.counter}


def set_rng_state(rng: PhiloxGenerator, state: dict) -> None:
    """Restore a state returned by :func:`rng_state` (possibly after a JSON round trip)."""
    _check_rng(rng)
    if not isinstance(state, dict) or state.get("algorithm") != ALGORITHM:
        raise ValueError(
            f"state must be a dict from rng_state with algorithm {ALGORITHM!r}, got {state!r}"
        )
    for key in ("seed", "counter"):
        value = state.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
            raise ValueError(f"state[{key!r}] must be an int in [0, 2**64), got {value!r}")
    rng.seed = state["seed"]
    rng.counter = state["counter"]


def normal(rng: PhiloxGenerator, shape: tuple[int, ...], dtype):
    """Standard normal samples (Box-Muller over Philox words)."""
    _check_rng(rng)
    return rng.fill(shape, dtype, normal=True)


def uniform(rng: PhiloxGenerator, shape: tuple[int, ...], dtype):
    """Samples in [0, 1)."""
    _check_rng(rng)
    return rng.fill(shape, dtype, normal=False)
