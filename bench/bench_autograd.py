"""Per-op autograd overhead on tiny tensors, in µs per op, beside PyTorch CPU.

    python bench/bench_autograd.py

Each case builds a small graph on 8-element float32 tensors (forward only, and forward +
backward) so the time is the bookkeeping, not the arithmetic. The two libraries are
timed in alternation, case by case; medians of 15 x 2000 calls. Writes
bench/results/autograd.json.
"""

from __future__ import annotations

import json
import platform
import statistics
import timeit
from pathlib import Path

import numpy as np

import minigrad as mg

REPEATS, NUMBER = 15, 2000


def median_us(fn, other=None) -> tuple[float, float]:
    """Medians in µs of ``fn`` (and of ``other``, timed in alternation with it: on a
    machine whose speed drifts, both then see the same drift)."""
    mine, theirs = [], []
    for _ in range(REPEATS):
        mine.append(timeit.timeit(fn, number=NUMBER))
        if other is not None:
            theirs.append(timeit.timeit(other, number=NUMBER))
    scale = 1e6 / NUMBER
    return (
        statistics.median(mine) * scale,
        statistics.median(theirs) * scale if theirs else float("nan"),
    )


def minigrad_cases() -> dict:
    a = mg.tensor(np.ones(8, dtype=np.float32), requires_grad=True)
    b = mg.tensor(np.full(8, 2.0, dtype=np.float32), requires_grad=True)

    def chain_backward():
        ((a * b + a).tanh().sum()).backward()

    return {
        "mul (forward, graph recorded)": lambda: a * b,
        "mul (forward, no_grad)": lambda: _no_grad(lambda: a * b),
        "tanh (forward)": lambda: a.tanh(),
        "sum (forward)": lambda: a.sum(),
        "4-op chain forward+backward (per op)": chain_backward,
    }


def _no_grad(fn):
    with mg.no_grad():
        return fn()


def torch_cases(torch) -> dict:
    a = torch.ones(8, requires_grad=True)
    b = torch.full((8,), 2.0, requires_grad=True)

    def chain_backward():
        ((a * b + a).tanh().sum()).backward()

    def no_grad_mul():
        with torch.no_grad():
            return a * b

    return {
        "mul (forward, graph recorded)": lambda: a * b,
        "mul (forward, no_grad)": no_grad_mul,
        "tanh (forward)": lambda: a.tanh(),
        "sum (forward)": lambda: a.sum(),
        "4-op chain forward+backward (per op)": chain_backward,
    }


def main() -> None:
    ops_in_chain = 4
    results = {
        "machine": f"{platform.processor() or platform.machine()}, "
        f"{__import__('os').cpu_count()} cores",
        "cases": {},
    }
    try:
        import torch

        torch.set_num_threads(2)
        their_cases = torch_cases(torch)
    except ImportError:
        their_cases = {}
    ours, theirs = {}, {}
    for name, fn in minigrad_cases().items():
        ours[name], theirs[name] = median_us(fn, their_cases.get(name))
    print(f"{'case':42s} {'minigrad µs':>12s} {'torch µs':>10s} {'ratio':>6s}")
    for name, value in ours.items():
        scale = ops_in_chain if "per op" in name else 1
        mine, other = value / scale, theirs.get(name, float("nan")) / scale
        results["cases"][name] = {"minigrad_us": mine, "torch_us": other}
        print(f"{name:42s} {mine:12.2f} {other:10.2f} {mine / other:6.2f}")
    out = Path(__file__).parent / "results" / "autograd.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
