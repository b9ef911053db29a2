"""Explicit backward Functions vs the composed ops they replaced, forward + backward, in ms.

    OPENBLAS_NUM_THREADS=1 python bench/bench_fused_backward.py

Batch norm (training): ``F.batch_norm`` (one ``BatchNormalize`` node, the classic formula)
against the same normalisation written with mean, subtract, square, mean, add, sqrt and
divide (the code it replaced). Cross-entropy with class indices: ``F.cross_entropy`` (one
``SoftmaxCrossEntropy`` node) against log_softmax + gather + negate. Both are float32 on
the CPU, at sizes the project trains at. Writes bench/results/fused_backward.json.
"""

from __future__ import annotations

import json
import platform
import statistics
import timeit
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

REPEATS = 7


def median_ms(fn, number: int) -> float:
    fn()  # warm-up: Numba compiles, numpy allocates
    return statistics.median(timeit.repeat(fn, repeat=REPEATS, number=number)) / number * 1e3


def composed_batch_norm(x: mg.Tensor, axes: tuple[int, ...]) -> mg.Tensor:
    mean = x.mean(dim=axes, keepdim=True)
    centred = x - mean
    variance = (centred * centred).mean(dim=axes, keepdim=True)
    return centred / (variance + 1e-5).sqrt()


def composed_cross_entropy(logits: mg.Tensor, target: mg.Tensor) -> mg.Tensor:
    rows = np.arange(logits.shape[0])
    return (-F.log_softmax(logits, dim=1)[rows, target.numpy()]).mean()


def batch_norm_case(shape: tuple[int, ...], number: int) -> dict:
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    upstream = mg.tensor(rng.standard_normal(shape).astype(np.float32))
    axes = (0, *range(2, len(shape)))

    def fused():
        (F.batch_norm(x, None, None, training=True) * upstream).sum().backward()

    def composed():
        (composed_batch_norm(x, axes) * upstream).sum().backward()

    return {"fused_ms": median_ms(fused, number), "composed_ms": median_ms(composed, number)}


def cross_entropy_case(shape: tuple[int, int], number: int) -> dict:
    rng = np.random.default_rng(0)
    logits = mg.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    target = mg.tensor(rng.integers(0, shape[1], shape[0]))

    def fused():
        F.cross_entropy(logits, target).backward()

    def composed():
        composed_cross_entropy(logits, target).backward()

    return {"fused_ms": median_ms(fused, number), "composed_ms": median_ms(composed, number)}


def main() -> None:
    cases = {
        "batch_norm (64, 32, 14, 14)": batch_norm_case((64, 32, 14, 14), 20),
        "batch_norm (128, 128)": batch_norm_case((128, 128), 500),
        "cross_entropy (128, 10)": cross_entropy_case((128, 10), 1000),
        "cross_entropy (1024, 10)": cross_entropy_case((1024, 10), 300),
    }
    for name, case in cases.items():
        case["speedup"] = case["composed_ms"] / case["fused_ms"]
        print(f"{name:<30} fused {case['fused_ms']:8.3f} ms   composed "
              f"{case['composed_ms']:8.3f} ms   x{case['speedup']:.2f}")
    result = {"machine": platform.processor() or platform.machine(), "cases": cases}
    path = Path(__file__).parent / "results" / "fused_backward.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print("written to", path)


if __name__ == "__main__":
    main()
