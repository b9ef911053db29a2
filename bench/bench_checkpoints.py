"""Checkpoint save/load time: our .npz, our .pt and PyTorch's torch.save/torch.load, in ms.

    PYTHONPATH=. python bench/bench_checkpoints.py

The state dict is the shape of a mid-sized CNN: 40 conv + BatchNorm layers, 240 tensors,
44 MB of float32 plus the int64 counters BatchNorm keeps. Each time is the median of 5
runs on a warm page cache; our saves fsync (atomic checkpoints), torch.save does not.
Writes bench/results/checkpoints.json.
"""

from __future__ import annotations

import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import minigrad as mg

REPEATS = 5


def state_dict(rng: np.random.Generator) -> dict[str, np.ndarray]:
    arrays = {}
    for layer in range(40):
        channels = 64 * (1 + layer // 10)
        arrays[f"layer{layer}.conv.weight"] = rng.standard_normal((channels, channels, 3, 3))
        for name in ("bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"):
            arrays[f"layer{layer}.{name}"] = rng.standard_normal(channels)
        arrays[f"layer{layer}.bn.num_batches_tracked"] = np.array(100, np.int64)
    return {k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in arrays.items()}


def median_ms(fn) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    arrays = state_dict(np.random.default_rng(0))
    ours = {k: mg.tensor(v, dtype=v.dtype) for k, v in arrays.items()}
    megabytes = sum(v.nbytes for v in arrays.values()) / 1e6
    results: dict = {"tensors": len(arrays), "megabytes": round(megabytes, 1), "ms": {}}
    with tempfile.TemporaryDirectory() as folder:
        npz, pt, torch_pt = (Path(folder) / name for name in ("a.npz", "b.pt", "c.pt"))
        timings = results["ms"]
        timings["minigrad.save .npz"] = median_ms(lambda: mg.save(ours, npz))
        timings["minigrad.load .npz"] = median_ms(lambda: mg.load(npz))
        timings["minigrad.save .pt"] = median_ms(lambda: mg.save(ours, pt))
        timings["minigrad.load .pt (ours)"] = median_ms(lambda: mg.load(pt))
        try:
            import torch
        except ImportError:
            torch = None
        if torch is not None:
            theirs = {k: torch.from_numpy(v) for k, v in arrays.items()}
            timings["torch.save"] = median_ms(lambda: torch.save(theirs, torch_pt))
            timings["torch.load weights_only"] = median_ms(
                lambda: torch.load(torch_pt, weights_only=True)
            )
            timings["minigrad.load .pt (torch's)"] = median_ms(lambda: mg.load(torch_pt))
            timings["torch.load .pt (ours)"] = median_ms(lambda: torch.load(pt, weights_only=True))
    results["ms"] = {name: round(ms, 1) for name, ms in results["ms"].items()}
    results["machine"] = f"{platform.machine()} {platform.processor()} {platform.python_version()}"
    out = Path(__file__).parent / "results" / "checkpoints.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
