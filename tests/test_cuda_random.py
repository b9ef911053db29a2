"""The CUDA backend's Philox4x32-10 generator (kernels/cuda/philox.py): the published test
vectors, seeding and state round trips, and the sampled distributions.

How these tests pick their device: tests/cuda_cases.py.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from cuda_cases import DTYPES, cuda_backend
from numba import cuda as numba_cuda

cuda = cuda_backend()
# Importable only once cuda_backend() has found a device (else it skipped this module).
from kernels.cuda.philox import philox4x32  # noqa: E402


@numba_cuda.jit
def _philox_words(inputs, words):
    """Thread t hashes test vector t: ``inputs[t] = (c0, c1, c2, c3, k0, k1)``, all uint64.

    philox4x32 is a device function, callable only from a kernel on a real GPU."""
    t = numba_cuda.grid(1)
    if t < inputs.shape[0]:
        w0, w1, w2, w3 = philox4x32(
            inputs[t, 0], inputs[t, 1], inputs[t, 2], inputs[t, 3], inputs[t, 4], inputs[t, 5]
        )
        words[t, 0] = w0
        words[t, 1] = w1
        words[t, 2] = w2
        words[t, 3] = w3


def test_philox_known_answers():
    """Random123's published Philox4x32-10 test vectors."""
    full = 0xFFFFFFFF
    cases = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((full,) * 4, (full, full), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        ),
    ]
    inputs = cuda.asarray(np.array([counter + key for counter, key, _ in cases], np.uint64))
    words = cuda.asarray(np.zeros((len(cases), 4), np.uint64))
    _philox_words[1, len(cases)](inputs, words)
    for row, (_, _, expected) in zip(cuda.to_numpy(words), cases, strict=True):
        assert tuple(int(w) for w in row) == expected


@pytest.mark.parametrize("dtype", DTYPES)
def test_rng_is_seeded_repeatable_and_restorable(dtype):
    rng = cuda.make_rng(1234)
    first = cuda.normal(rng, (3, 7), dtype)
    state = json.loads(json.dumps(cuda.rng_state(rng)))
    second = cuda.uniform(rng, (5,), dtype)
    assert first.dtype == dtype and second.dtype == dtype
    first, second = cuda.to_numpy(first), cuda.to_numpy(second)
    again = cuda.normal(cuda.make_rng(1234), (3, 7), dtype)
    np.testing.assert_array_equal(cuda.to_numpy(again), first)
    other_seed = cuda.normal(cuda.make_rng(1235), (3, 7), dtype)
    assert not np.array_equal(cuda.to_numpy(other_seed), first)
    cuda.set_rng_state(rng, state)
    np.testing.assert_array_equal(cuda.to_numpy(cuda.uniform(rng, (5,), dtype)), second)
    with pytest.raises(ValueError, match="algorithm"):
        cuda.set_rng_state(rng, {"seed": 1})


@pytest.mark.parametrize("dtype", DTYPES)
def test_rng_distributions(dtype):
    rng = cuda.make_rng(7)
    # 4001 is odd: the last counter's second value is unused.
    z = cuda.to_numpy(cuda.normal(rng, (4001,), dtype))
    u = cuda.to_numpy(cuda.uniform(rng, (4001,), dtype))
    # Fixed seed, so these are exact checks of one sample, with 5-sigma-wide bounds.
    assert abs(z.mean()) < 5 / math.sqrt(4001) and abs(z.std() - 1) < 0.06
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 5 * 0.29 / math.sqrt(4001)
    assert np.isfinite(z).all() and len(np.unique(u)) > 3990


# Which draws are the same on every device that runs this backend (the simulator runs it on
# the CPU, a GPU on the device): uniform() is integer arithmetic and one exact scaling, so it
# is bit-identical everywhere and equals the host reference below exactly. normal() goes
# through log, sqrt, cos and sin, which are libdevice's on a GPU and the host libm's when
# simulated: equal to within a few ulps, not bit for bit. The "cpu" device is another
# generator altogether (numpy's PCG64): its streams share nothing with these.


def _philox_host(counters: np.ndarray, key: int) -> list[np.ndarray]:
    """Philox4x32-10 of counters (c, 0) in numpy uint64: the published algorithm, written
    independently of kernels/cuda/philox.py."""
    mask = np.uint64(0xFFFFFFFF)
    c0, c1 = counters & mask, counters >> np.uint64(32)
    c2 = c3 = np.zeros_like(counters)
    k0, k1 = np.uint64(key & 0xFFFFFFFF), np.uint64(key >> 32)
    for _ in range(10):
        p0, p1 = np.uint64(0xD2511F53) * c0, np.uint64(0xCD9E8D57) * c2
        c0, c1, c2, c3 = (
            (p1 >> np.uint64(32)) ^ c1 ^ k0,
            p1 & mask,
            (p0 >> np.uint64(32)) ^ c3 ^ k1,
            p0 & mask,
        )
        k0, k1 = (k0 + np.uint64(0x9E3779B9)) & mask, (k1 + np.uint64(0xBB67AE85)) & mask
    return [c0, c1, c2, c3]


def _unit_53(high, low):
    return ((high >> np.uint64(5)).astype(np.float64) * 2.0**26 + (low >> np.uint64(6))) * 2.0**-53


def _host_draws(seed: int, count: int, dtype, normal: bool) -> np.ndarray:
    w0, w1, w2, w3 = _philox_host(np.arange((count + 1) // 2, dtype=np.uint64), seed)
    if normal:
        radius = np.sqrt(-2.0 * np.log(1.0 - _unit_53(w0, w1)))
        angle = 2.0 * np.pi * _unit_53(w2, w3)
        pairs = (radius * np.cos(angle), radius * np.sin(angle))
    elif dtype == np.float32:
        pairs = ((w0 >> np.uint64(8)) * 2.0**-24, (w2 >> np.uint64(8)) * 2.0**-24)
    else:
        pairs = (_unit_53(w0, w1), _unit_53(w2, w3))
    return np.stack(pairs, axis=1).reshape(-1)[:count].astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_uniform_is_bit_identical_to_the_host_reference(dtype):
    seed = 0x1234_5678_9ABC
    drawn = cuda.to_numpy(cuda.uniform(cuda.make_rng(seed), (3, 67), dtype)).reshape(-1)
    np.testing.assert_array_equal(drawn, _host_draws(seed, 3 * 67, dtype, normal=False))


@pytest.mark.parametrize("dtype", DTYPES)
def test_normal_matches_the_host_reference_to_a_few_ulps(dtype):
    seed = 99
    drawn = cuda.to_numpy(cuda.normal(cuda.make_rng(seed), (201,), dtype))
    # A few float64 ulps of the values' scale (libm against libdevice, through 4 functions;
    # relative error alone would fail a cos() near zero); float32 rounds that float64
    # value, so it may land one float32 ulp away.
    tolerance = 1e-14 if dtype == np.float64 else 2.0**-22
    expected = _host_draws(seed, 201, dtype, normal=True)
    np.testing.assert_allclose(drawn, expected, rtol=tolerance, atol=tolerance)
    assert not np.array_equal(drawn[1:], expected[:-1])  # the comparison can fail
