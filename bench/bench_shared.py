"""DCGAN rounds per second alone and beside one CPU-bound process, per BLAS thread setting.

    python bench/bench_shared.py [--seconds 20]

Runs the DCGAN learning round of ``bench_steps.py`` (minigrad only) in a fresh process
for each BLAS setting: the start-up choice (``kernels/cpu/threads.py``) and a fixed
``MINIGRAD_BLAS_THREADS`` of 1 and of the core count; first alone, then while a busy
loop (one Python process spinning) holds a core. Prints rounds/s of each and the
slow-down the neighbour caused; writes bench/results/shared.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_ROUNDS = """
import sys, time
sys.path.insert(0, {bench!r})
import torch
import kernels.cpu
from bench_steps import dcgan_steps
ours, _ = dcgan_steps(torch)
ours()
done, start = 0, time.perf_counter()
while time.perf_counter() - start < {seconds}:
    ours()
    done += 1
print(kernels.cpu.blas_threads, done / (time.perf_counter() - start))
"""


def rounds_per_second(setting: str | None, seconds: float) -> tuple[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env.pop("MINIGRAD_BLAS_THREADS", None)
    if setting is not None:
        env["MINIGRAD_BLAS_THREADS"] = setting
    code = _ROUNDS.format(bench=str(ROOT / "bench"), seconds=seconds)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    threads, rate = out.stdout.split()[-2:]
    return threads, float(rate)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    cores = str(len(os.sched_getaffinity(0)))
    settings = {"start-up choice": None, "1 thread": "1", f"{cores} threads": cores}
    rows = []
    for label, setting in settings.items():
        alone = rounds_per_second(setting, args.seconds)
        neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(1.0)
            shared = rounds_per_second(setting, args.seconds)
        finally:
            neighbour.kill()
            neighbour.wait()
        rows.append(
            {
                "setting": label,
                "threads_alone": alone[0],
                "rounds_per_s_alone": alone[1],
                "threads_shared": shared[0],
                "rounds_per_s_shared": shared[1],
                "slowdown": alone[1] / shared[1],
            }
        )
        print(rows[-1], flush=True)
    result = {"load_average_at_end": os.getloadavg(), "cores": cores, "rows": rows}
    out = ROOT / "bench" / "results" / "shared.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
