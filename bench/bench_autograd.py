"""Per-op autograd overhead on tiny tensors, in µs per op, beside PyTorch CPU.

    python bench/bench_autograd.py

Each case builds a small graph on 8-element float32 tensors (forward only, and forward +
backward) so the time is the bookkeeping, not the arithmetic. Writes
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

REPEATS, NUMBER = 7, 2000


def median_us(fn) -> float:
    times = timeit.repeat(fn, repeat=REPEATS, number=NUMBER)
    return statistics.median(times) / NUMBER * 1e6


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
    ours = {name: median_us(fn) for name, fn in minigrad_cases().items()}
    try:
        import torch

        torch.set_num_threads(2)
        theirs = {name: median_us(fn) for name, fn in torch_cases(torch).items()}
    except ImportError:
        theirs = {}
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
