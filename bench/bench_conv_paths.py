"""Each conv layer of bench_steps.py through both CPU routes, beside PyTorch, in one process.

    PYTHONPATH=. python bench/bench_conv_paths.py [--rounds 3] [--chunk-mb 1 2 4]

For every layer (forward + both gradients through autograd, batch 64, float32), rounds
alternate: minigrad with the batch-last reference route (``CHUNKED_MIN_PLANE`` set out of
reach), minigrad with the chunked plane route at each ``CHUNK_BYTES`` asked for, and
PyTorch, with a pause between them. Medians and ratios to PyTorch in the same run go to
bench/results/conv_paths.json. This is what ``kernels/cpu/conv.py``'s plane threshold
and ``conv_chunks.py``'s chunk size were chosen from.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_steps, beside this file
from bench_steps import LAYERS, PAUSE_S, layer_steps, timed  # noqa: E402

from kernels.cpu import conv, conv_chunks  # noqa: E402


def route(min_plane: int, chunk_bytes: int):
    def set_route():
        conv.CHUNKED_MIN_PLANE = min_plane
        conv_chunks.CHUNK_BYTES = chunk_bytes

    return set_route


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--chunk-mb", type=float, nargs="+", default=[2.0])
    parser.add_argument("--only", help="time only the layers whose name contains this")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "conv_paths.json"))
    args = parser.parse_args()
    import torch

    default_plane, default_chunk = conv.CHUNKED_MIN_PLANE, conv_chunks.CHUNK_BYTES
    routes = {"batch-last": route(1 << 62, default_chunk)}
    for mb in args.chunk_mb:
        routes[f"chunked {mb:g} MB"] = route(1, int(mb * (1 << 20)))
    rows = []
    load_before = os.getloadavg()
    for name, *shape in LAYERS:
        if args.only and args.only not in name:
            continue
        ours, theirs = layer_steps(torch, *shape)
        times: dict[str, list[float]] = {key: [] for key in [*routes, "torch"]}
        for _ in range(args.rounds):
            for key, set_route in routes.items():
                set_route()
                time.sleep(PAUSE_S)
                times[key] += timed(ours, args.repeats)
            time.sleep(PAUSE_S)
            times["torch"] += timed(theirs, args.repeats)
        medians = {key: statistics.median(values) for key, values in times.items()}
        row = {"layer": name, "median_ms": medians}
        ratios = {key: value / medians["torch"] for key, value in medians.items()}
        row["ratio_to_torch"] = {key: ratio for key, ratio in ratios.items() if key != "torch"}
        rows.append(row)
        cells = "  ".join(f"{key} {medians[key]:7.2f} ({ratios[key]:.2f})" for key in medians)
        print(f"{name:<32} {cells}", flush=True)
    route(default_plane, default_chunk)()
    result = {
        "method": f"{args.rounds} alternating rounds x {args.repeats} calls; medians (ms)",
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "rows": rows,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
