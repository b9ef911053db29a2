"""The CPU backend's Numba loops on the sizes of the two training steps, one by one.

    python bench/bench_loops.py [--out bench/results/loops.json]

Each loop runs through its public entry in ``kernels.cpu`` (argument checks included)
on the tensors of the MNIST CNN (batch 64: conv 32->64 output 64x64x24x24, fc1 with
9216x128 weights) or of the 28 px DCGAN (BatchNorm over 64x128x7x7, the D conv 64->128
im2col). Medians of 30 calls after 3 warm-up calls, in ms. For comparing two versions of
the loops: run it on each (same machine, same load) and compare the JSON files.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from kernels import cpu
from kernels.cpu.wide_rows import WideRows

CALLS, WARMUP = 30, 3


def median_ms(fn) -> float:
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(CALLS):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def cases() -> dict:
    rng = np.random.default_rng(0)

    def normal(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    conv_out, conv_grad = normal(64, 64, 24, 24), normal(64, 64, 24, 24)
    bias = normal(64)
    relu_z = cpu.bias_activation(conv_out, bias, 1, "relu", 0.0)
    pool_grad = normal(64, 64, 12, 12)
    _, argmax = cpu.max_pool2d(conv_out, 2, 2, 0)
    adam_arrays = [normal(9216 * 128) for _ in range(2)] + [
        np.zeros(9216 * 128, np.float32) for _ in range(2)
    ]
    bn_x, bn_grad = normal(64, 128, 7, 7), normal(64, 128, 7, 7)
    gamma, beta = normal(128), normal(128)
    bn_z, _, _, bn_stats = cpu.batch_norm_forward(bn_x, gamma, beta, 1e-5, "leaky_relu", 0.2)
    wide = WideRows((5, 32, 26, 26), (3, 3), (0, 0), (24, 24), np.float32)
    wide_cols = normal(32 * 9, 5 * wide.plane)
    wide_dx = np.empty((5, 32, 26, 26), np.float32)
    d_in = normal(64, 64, 14, 14)
    cols = cpu.im2col(d_in, (4, 4), (2, 2), (1, 1))
    logits = normal(64, 6272)
    return {
        "bias + ReLU forward 64x64x24x24": lambda: cpu.bias_activation(
            conv_out, bias, 1, "relu", 0.0
        ),
        "bias + ReLU backward 64x64x24x24": lambda: cpu.bias_activation_backward(
            conv_grad, relu_z, 1, "relu", 0.0
        ),
        "max pool 2x2 forward 64x64x24x24": lambda: cpu.max_pool2d(conv_out, 2, 2, 0),
        "max pool 2x2 backward 64x64x12x12": lambda: cpu.max_pool2d_backward(
            pool_grad, argmax, (24, 24)
        ),
        "avg pool 2x2 forward 64x64x24x24": lambda: cpu.avg_pool2d(conv_out, 2, 2, 0),
        "Adam step 9216x128": lambda: cpu.adam_update(
            *adam_arrays, 3, 1e-3, 0.9, 0.999, 1e-8, 0.0
        ),
        "BatchNorm + LeakyReLU forward 64x128x7x7": lambda: cpu.batch_norm_forward(
            bn_x, gamma, beta, 1e-5, "leaky_relu", 0.2
        ),
        "BatchNorm + LeakyReLU backward 64x128x7x7": lambda: cpu.batch_norm_backward(
            bn_grad, bn_z, bn_x, bn_stats, gamma, "leaky_relu", 0.2
        ),
        "im2col D conv 64->128 (14 px, 4x4 s2 p1)": lambda: cpu.im2col(
            d_in, (4, 4), (2, 2), (1, 1)
        ),
        "col2im D conv 64->128 (14 px, 4x4 s2 p1)": lambda: cpu.col2im(
            cols, d_in.shape, (4, 4), (2, 2), (1, 1)
        ),
        "col2im CNN conv 32->64, 5 images (wide rows)": lambda: wide.add_back(
            wide_cols, wide_dx, 0, 5
        ),
        "sigmoid 64x6272": lambda: cpu.sigmoid(logits),
        "LeakyReLU 64x6272": lambda: cpu.leaky_relu(logits, 0.2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "loops.json"))
    args = parser.parse_args()
    rows = {}
    for name, fn in cases().items():
        rows[name] = median_ms(fn)
        print(f"{name:45s} {rows[name]:8.3f} ms", flush=True)
    result = {"load_average_at_end": os.getloadavg(), "median_ms": rows}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
