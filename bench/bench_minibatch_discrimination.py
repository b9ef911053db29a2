"""Minibatch discrimination's pairwise term, forward + backward, in ms: the fused node
against the Tensor-op formula it replaced.

    OPENBLAS_NUM_THREADS=1 python bench/bench_minibatch_discrimination.py

``gan.pairwise_closeness.pairwise_l1_closeness`` (one node over kernels/cpu/pairwise.py)
against ``pairwise_l1_closeness_reference`` (broadcast difference, abs, sum, exp, sum:
(N, N, B, C) intermediates), float32 on the CPU, at the toy GANs' batch of 256 with the
layer's default 16 kernels of 8 values (and at smaller batches). The two are timed
alternately in one process. Writes bench/results/minibatch_discrimination.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import minigrad as mg  # noqa: E402
from gan.pairwise_closeness import (  # noqa: E402
    pairwise_l1_closeness,
    pairwise_l1_closeness_reference,
)

REPEATS = 9


def forward_backward_seconds(closeness, rows: mg.Tensor, upstream: mg.Tensor) -> float:
    started = time.perf_counter()
    (closeness(rows) * upstream).sum().backward()
    rows.grad = None
    return time.perf_counter() - started


def case(count: int, kernels: int = 16, width: int = 8) -> dict:
    rng = np.random.default_rng(0)
    values = (rng.standard_normal((count, kernels, width)) * 0.3).astype(np.float32)
    rows = mg.tensor(values, requires_grad=True)
    upstream = mg.tensor(rng.standard_normal((count, kernels)).astype(np.float32))
    timings: dict[str, list[float]] = {"fused": [], "reference": []}
    functions = {"fused": pairwise_l1_closeness, "reference": pairwise_l1_closeness_reference}
    for function in functions.values():
        forward_backward_seconds(function, rows, upstream)  # warm-up: compile, allocate
    for _ in range(REPEATS):  # alternating, so that both see the same machine load
        for name, function in functions.items():
            timings[name].append(forward_backward_seconds(function, rows, upstream))
    fused = statistics.median(timings["fused"]) * 1e3
    reference = statistics.median(timings["reference"]) * 1e3
    return {
        "shape": [count, kernels, width],
        "fused_ms": round(fused, 2),
        "reference_ms": round(reference, 2),
        "speed-up": round(reference / fused, 1),
    }


def main() -> None:
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "load_average": os.getloadavg()[0],
        "cases": [case(count) for count in (64, 128, 256)],
    }
    for row in results["cases"]:
        print(
            f"N, B, C = {tuple(row['shape'])}: fused {row['fused_ms']:.2f} ms, "
            f"Tensor ops {row['reference_ms']:.2f} ms ({row['speed-up']}x)"
        )
    out = Path(__file__).resolve().parent / "results" / "minibatch_discrimination.json"
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
