"""CPU kernels beside PyTorch CPU: conv2d / conv_transpose2d forward+backward, matmul.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_kernels.py

Convolutions are DCGAN's on 28x28 images at batch 64, float32, 4x4 kernels, stride 2,
padding 1: the discriminator's Conv2d layers 1->64 (28 px), 64->128 (14 px) and
128->256 (7 px), and the generator's ConvTranspose2d layers that mirror them. One
"forward+backward" is the forward and both gradients (input and weight), as a training
step needs. matmul is 1024^3 float32 through ``kernels.cpu.matmul`` beside raw numpy.

Both libraries get the same number of threads: 2, or ``BENCH_THREADS`` (numpy's BLAS is
limited through threadpoolctl when it is installed, else set ``OPENBLAS_NUM_THREADS`` to
match). On a busy machine a 2-thread BLAS waits on whichever of its threads was
descheduled, so ``BENCH_THREADS=1`` gives steadier (if different) ratios. Each case is
timed in alternating rounds (ours, then PyTorch) with a pause between them, because a
BLAS or OpenMP pool keeps spinning for a while after its last call and would slow
whichever library runs next. Reported times are medians over all rounds (minima too).
Writes bench/results/kernels.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

import numba
import numpy as np

from kernels import cpu

BATCH = 64
ROUNDS, REPEATS, WARMUP = 3, 7, 2
PAUSE_S = 0.3
THREADS = int(os.environ.get("BENCH_THREADS", "2"))

# name, kind, in_channels, out_channels, input side, kernel, stride, padding, output side
CONV_CASES = [
    ("D conv 1->64 28px", "conv", 1, 64, 28, 4, 2, 1, 14),
    ("D conv 64->128 14px", "conv", 64, 128, 14, 4, 2, 1, 7),
    ("D conv 128->256 7px", "conv", 128, 256, 7, 4, 2, 1, 3),
    ("G convT 256->128 3->7px", "convT", 256, 128, 3, 4, 2, 1, 7),
    ("G convT 128->64 7->14px", "convT", 128, 64, 7, 4, 2, 1, 14),
    ("G convT 64->1 14->28px", "convT", 64, 1, 14, 4, 2, 1, 28),
]


def samples_ms(fn, repeats: int = REPEATS) -> list[float]:
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def alternate(ours, theirs) -> tuple[list[float], list[float]]:
    """Times in ms of ``ours`` and ``theirs`` (None: nothing), run in alternating rounds."""
    mine, other = [], []
    for _ in range(ROUNDS):
        time.sleep(PAUSE_S)
        mine += samples_ms(ours)
        if theirs is not None:
            time.sleep(PAUSE_S)
            other += samples_ms(theirs)
    return mine, other


def row(case: str, mine: list[float], other: list[float], other_name: str) -> dict:
    """One result: medians (the headline) and minima (the least disturbed run) of both."""
    result = {
        "case": case,
        "minigrad_median_ms": statistics.median(mine),
        "minigrad_min_ms": min(mine),
    }
    if other:
        result[f"{other_name}_median_ms"] = statistics.median(other)
        result[f"{other_name}_min_ms"] = min(other)
        result[f"ratio_to_{other_name}"] = statistics.median(mine) / statistics.median(other)
        result[f"ratio_to_{other_name}_of_minima"] = min(mine) / min(other)
    return result


def conv_steps(kind, c_in, c_out, side, k, s, p, out_side):
    """Our forward+backward of one layer: the three kernels of the convolution triangle."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, c_in, side, side), dtype=np.float32)
    grad_y = rng.standard_normal((BATCH, c_out, out_side, out_side), dtype=np.float32)
    if kind == "conv":
        w = rng.standard_normal((c_out, c_in, k, k), dtype=np.float32)

        def step():
            cpu.conv2d_forward(x, w, s, p)
            cpu.conv2d_input_grad(grad_y, w, (side, side), s, p)
            cpu.conv2d_weight_grad(x, grad_y, (k, k), s, p)

    else:
        # conv_transpose2d weight (in, out, k, k) is a conv weight (O=in, C=out): its forward
        # is the conv's input gradient, its backward the conv's forward and weight gradient.
        w = rng.standard_normal((c_in, c_out, k, k), dtype=np.float32)

        def step():
            cpu.conv2d_input_grad(x, w, (out_side, out_side), s, p)
            cpu.conv2d_forward(grad_y, w, s, p)
            cpu.conv2d_weight_grad(grad_y, x, (k, k), s, p)

    return step, (x, w, grad_y)


def torch_conv_step(torch, kind, arrays, s, p, side, out_side):
    x, w, grad_y = (torch.from_numpy(a) for a in arrays)
    x.requires_grad_(True)
    w.requires_grad_(True)
    functional = torch.nn.functional
    output_padding = 0
    if kind == "convT":
        output_padding = out_side - ((side - 1) * s - 2 * p + w.shape[2])

    def step():
        if kind == "conv":
            y = functional.conv2d(x, w, stride=s, padding=p)
        else:
            y = functional.conv_transpose2d(
                x, w, stride=s, padding=p, output_padding=output_padding
            )
        torch.autograd.grad(y, (x, w), grad_y)

    return step


def openblas_settings() -> dict:
    """The OpenBLAS variables that change numpy's GEMM speed, and the kernel it runs."""
    settings = {name: os.environ.get(name) for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        settings["blas"] = "unknown (pip install threadpoolctl to record it)"
    else:
        pools = threadpool_info()
        settings["blas"] = [
            f"{pool['internal_api']} {pool.get('architecture')} x{pool['num_threads']}"
            for pool in pools
        ]
    return settings


def main() -> None:
    try:
        import torch

        torch.set_num_threads(THREADS)
    except ImportError:
        torch = None
        print("PyTorch is not installed: timing minigrad's kernels alone")
    settings = openblas_settings()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("threadpoolctl is not installed: numpy's BLAS uses its default thread count")
    else:
        threadpool_limits(THREADS, user_api="blas")
        settings = openblas_settings()
    print(f"BLAS: {settings['blas']}")
    if settings["OPENBLAS_CORETYPE"] or settings["OPENBLAS_L2_SIZE"]:
        print("note: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set; they can slow numpy's BLAS")

    rows = []
    for name, kind, c_in, c_out, side, k, s, p, out_side in CONV_CASES:
        ours, arrays = conv_steps(kind, c_in, c_out, side, k, s, p, out_side)
        theirs = torch and torch_conv_step(torch, kind, arrays, s, p, side, out_side)
        rows.append(row(f"{name} fwd+bwd", *alternate(ours, theirs), "torch"))

    a, b = (np.random.default_rng(1).standard_normal((1024, 1024), dtype=np.float32) for _ in "ab")
    matmul = row("matmul 1024^3 f32", *alternate(lambda: cpu.matmul(a, b), lambda: a @ b), "numpy")
    matmul["gflops"] = 2 * 1024**3 / matmul["minigrad_median_ms"] / 1e6
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        matmul["torch_median_ms"] = statistics.median(alternate(lambda: torch.mm(ta, tb), None)[0])

    print(
        f"\n{'case':<38} {'minigrad ms':>11} {'torch ms':>9} {'ratio':>6} {'ratio of minima':>16}"
    )
    for entry in rows:
        print(
            f"{entry['case']:<38} {entry['minigrad_median_ms']:11.2f} "
            f"{entry.get('torch_median_ms', float('nan')):9.2f} "
            f"{entry.get('ratio_to_torch', float('nan')):6.2f} "
            f"{entry.get('ratio_to_torch_of_minima', float('nan')):16.2f}"
        )
    print(
        f"matmul 1024^3 f32: {matmul['minigrad_median_ms']:.2f} ms "
        f"({matmul['gflops']:.0f} GFLOP/s), raw numpy {matmul['numpy_median_ms']:.2f} ms, torch.mm "
        f"{matmul.get('torch_median_ms', float('nan')):.2f} ms: "
        f"{100 / matmul['ratio_to_numpy']:.0f}% of raw numpy's throughput"
    )
    rows.append(matmul)

    result = {
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "numba": numba.__version__,
            "torch": torch.__version__ if torch else None,
            "threads": THREADS,
            **settings,
        },
        "method": f"{ROUNDS} alternating rounds x {REPEATS} calls, batch {BATCH}; "
        "ratio = minigrad median / other median",
        "rows": rows,
    }
    out = Path(__file__).resolve().parent / "results" / "kernels.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
