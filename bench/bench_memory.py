"""Where a training process's memory goes: each library alone in its own process.

    python bench/bench_memory.py [--processes 3] [--steps 10]

For the CNN step and the DCGAN round of ``bench_steps.py``, fresh processes that import
one library only (minigrad, or PyTorch) record their resident set size (RSS) at each phase:

- ``imported``: after importing the library;
- ``built``: after building the network and its Adam optimiser;
- ``warmed_up``: after 3 steps on a batch of 2, which load the code the steps run
  (minigrad: its Numba kernels, from the on-disk cache; PyTorch: its kernels and oneDNN
  primitives, though oneDNN makes new ones for batch 64, which then count as data) but
  hold almost no data;
- ``peak_batch_64``: the peak RSS over ``--steps`` steps on a batch of 64, the peak mark
  restarted just before them.

``peak_batch_64 - warmed_up`` is then the memory a batch-64 step needs for its data
(activations, gradients, Adam's moments, im2col buffers, ...); ``warmed_up`` is the fixed
cost of the library and its code. ``bench_heap.py`` compares peaks in processes that load
both libraries; this splits the difference. The PyTorch processes import ``bench_steps``
(and so minigrad's Python modules and numpy, not Numba) for the shared network builders
and learning round.
Medians over ``--processes`` processes per library, alternating; writes
bench/results/memory.json.
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
_PHASES = ("imported", "built", "warmed_up", "peak_batch_64")
_PROCESS = """
import json, sys
sys.path.insert(0, {bench!r})

def status_mb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field)) / 1024

marks = {{}}
if {lib!r} == "minigrad":
    import minigrad as lib
    from minigrad import nn
    from minigrad.nn import functional as F
    bce, cross_entropy = F.binary_cross_entropy_with_logits, F.cross_entropy
else:
    import torch as lib
    from torch import nn
    bce = lib.nn.functional.binary_cross_entropy_with_logits
    cross_entropy = lib.nn.functional.cross_entropy
import numpy as np
marks["imported"] = status_mb("VmRSS")
from bench_steps import classic_cnn, dcgan, dcgan_round

rng = np.random.default_rng(0)
as_tensor = lib.tensor
if {net!r} == "cnn":
    model = classic_cnn(nn)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    def step(batch):
        x = as_tensor(rng.standard_normal((batch, 1, 28, 28), dtype=np.float32))
        y = as_tensor(rng.integers(0, 10, batch))
        loss = cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
else:
    g, d = dcgan(nn)
    opt_g = lib.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = lib.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    def step(batch):
        reals = as_tensor(np.tanh(rng.standard_normal((batch, 1, 28, 28), dtype=np.float32)))
        noise = as_tensor(rng.standard_normal((batch, 100, 1, 1), dtype=np.float32))
        ones = as_tensor(np.ones((batch, 1), np.float32))
        zeros = as_tensor(np.zeros((batch, 1), np.float32))
        dcgan_round(g, d, opt_g, opt_d, bce, reals, noise, ones, zeros)
marks["built"] = status_mb("VmRSS")
for _ in range(3):
    step(2)
marks["warmed_up"] = status_mb("VmRSS")
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # restart the peak mark
for _ in range({steps}):
    step(64)
marks["peak_batch_64"] = status_mb("VmHWM")
print(json.dumps(marks))
"""


def run(net: str, lib: str, steps: int) -> dict[str, float]:
    code = _PROCESS.format(bench=str(ROOT / "bench"), net=net, lib=lib, steps=steps)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    rows = []
    for net in ("cnn", "dcgan"):
        runs: dict[str, list[dict[str, float]]] = {"minigrad": [], "torch": []}
        for _ in range(args.processes):
            for lib in runs:
                runs[lib].append(run(net, lib, args.steps))
        for lib, marks in runs.items():
            row: dict = {"net": net, "library": lib}
            row.update({phase: statistics.median(m[phase] for m in marks) for phase in _PHASES})
            row["batch_64_data"] = statistics.median(
                m["peak_batch_64"] - m["warmed_up"] for m in marks
            )
            rows.append(row)
            print(", ".join(f"{k} {v:.0f}" if isinstance(v, float) else v for k, v in row.items()))
    result = {
        "load_average_at_end": os.getloadavg(),
        "processes": args.processes,
        "unit": "MB",
        "rows": rows,
    }
    out = ROOT / "bench" / "results" / "memory.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
