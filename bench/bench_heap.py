"""Training steps with and without keeping freed arrays in the heap (``kernels/cpu/heap.py``).

    python bench/bench_heap.py [--processes 4] [--steps 20]

Runs the CNN step and the DCGAN round of ``bench_steps.py`` in fresh processes, one
library per process, alternating: minigrad with ``MINIGRAD_KEEP_HEAP=0`` (malloc as
glibc sets it), minigrad as it starts by default (thresholds fixed at import), and
PyTorch (with glibc's malloc as it sets it), ``--processes`` times each. Every process
imports both libraries and builds both twins, so the peak RSS of the three differ only
by what their steps allocate. Reports per setting the median step time over all
processes (the first 5 steps of each dropped as warm-up), the page faults per step and
the peak RSS; writes bench/results/heap.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_STEPS = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
import torch
from bench_steps import cnn_steps, dcgan_steps
ours, theirs = {net}_steps(torch)
train_step = {which}
def status_mb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field)) / 1024
rss_before = status_mb("VmRSS")
times = []
faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for step in range({steps}):
    if step == 5:
        faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # restart the peak-RSS mark: the warm-up's compiling is not counted
    start = time.perf_counter()
    train_step()
    times.append((time.perf_counter() - start) * 1e3)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"ms": times[5:], "faults_per_step": (usage.ru_minflt - faults0) / ({steps} - 5),
                  "peak_rss_mb": status_mb("VmHWM"), "rss_before_mb": rss_before}}))
"""


SETTINGS = {
    "minigrad, glibc default": ("ours", False),
    "minigrad, kept heap": ("ours", True),
    "torch, glibc default": ("theirs", False),
}


def run(net: str, which: str, keep_heap: bool, steps: int) -> dict:
    env = dict(os.environ)
    env.pop("MINIGRAD_KEEP_HEAP", None)
    if not keep_heap:
        env["MINIGRAD_KEEP_HEAP"] = "0"
    code = _STEPS.format(bench=str(ROOT / "bench"), net=net, which=which, steps=steps)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    if args.steps <= 5:
        parser.error(f"--steps must be more than the 5 warm-up steps, got {args.steps}")
    rows = []
    for net in ("cnn", "dcgan"):
        runs: dict[str, list[dict]] = {label: [] for label in SETTINGS}
        for _ in range(args.processes):
            for label, (which, keep) in SETTINGS.items():
                runs[label].append(run(net, which, keep, args.steps))
        for label, results in runs.items():
            rows.append(
                {
                    "net": net,
                    "setting": label,
                    "median_ms": statistics.median(ms for r in results for ms in r["ms"]),
                    "faults_per_step": statistics.median(r["faults_per_step"] for r in results),
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
                    "peak_over_start_mb": max(
                        r["peak_rss_mb"] - r["rss_before_mb"] for r in results
                    ),
                }
            )
            print(rows[-1], flush=True)
    result = {"load_average_at_end": os.getloadavg(), "processes": args.processes, "rows": rows}
    out = ROOT / "bench" / "results" / "heap.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
