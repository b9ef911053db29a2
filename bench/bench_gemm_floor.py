"""How close im2col convolution can get to PyTorch: each conv layer's three GEMMs alone.

    python bench/bench_gemm_floor.py [--rounds 5]

Every conv layer of ``bench_steps.py`` (batch 64, float32) is, in ``kernels/cpu/conv.py``,
three matrix products over the im2col matrix: with ``K = C*kh*kw`` rows and ``P*N``
columns (output pixels times images),

    forward  (O, K) @ (K, P*N),   input grad  (K, O) @ (O, P*N),   weight grad  (O, P*N) @ (P*N, K)

(a transposed conv runs the same three with its forward and input gradient swapped;
layers on the chunked route run them a chunk of images at a time, as here; stride-1
layers' wide rows add ~8% more columns, not counted). This times those products through
numpy's BLAS on random matrices (the weight gradient in the orientation that
``gemm.product_with_transpose`` picks), beside PyTorch's whole layer, forward and both
gradients, in alternating rounds in one process. The ratio ``gemms / torch layer`` is a
floor for our layer: copies, im2col and col2im only add to it. A ratio near or above 1
means that PyTorch's convolution (oneDNN's direct kernels) computes the whole layer in
the time numpy's BLAS needs for the products alone.

The same per-product times, counted as often as a training step runs them (:data:`USES`),
give the conv GEMMs of a whole CNN step and DCGAN round, printed beside PyTorch's whole
step: what is left of PyTorch's step is all the time we have for everything else.
Reports the GEMMs' rate in GFLOP/s and writes bench/results/gemm_floor.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_steps, beside this file
from bench_steps import (  # noqa: E402
    BATCH,
    LAYERS,
    PAUSE_S,
    cnn_steps,
    dcgan_steps,
    layer_steps,
    timed,
)

from kernels.cpu import conv, conv_chunks  # noqa: E402
from kernels.cpu.gemm import product_with_transpose  # noqa: E402

PRODUCTS = ("forward", "input_grad", "weight_grad")

#: How often a training step runs each product of each layer: (forward, input grad,
#: weight grad). The DCGAN round runs D three times (reals, fakes, G's step), and needs
#: no input gradient where the input is data (D's first layer on reals, G's noise).
USES = {
    "cnn step": {
        "CNN conv 1->32 3x3 28px": (1, 0, 1),
        "CNN conv 32->64 3x3 26px": (1, 1, 1),
    },
    "dcgan step": {
        "DCGAN D conv 1->64 28px": (3, 1, 3),
        "DCGAN D conv 64->128 14px": (3, 3, 3),
        "DCGAN G convT 100->256 1->7px": (1, 0, 1),
        "DCGAN G convT 256->128 7->14px": (1, 1, 1),
        "DCGAN G convT 128->1 14->28px": (1, 1, 1),
    },
}


def conv_gemms(c_in: int, c_out: int, side: int, k: int, s: int, p: int, transposed: bool):
    """The layer's three products (forward, input grad, weight grad) as functions, and
    their GFLOP each."""
    if transposed:  # conv_transpose2d(x) is the input gradient of the conv from its output
        out_side = (side - 1) * s - 2 * p + k
        c_in, c_out, side = c_out, c_in, out_side
    out_side = (side + 2 * p - k) // s + 1
    rows, plane = c_in * k * k, out_side * out_side
    # The chunked route (conv.chunked) runs the products a few images at a time.
    per_chunk = BATCH
    if conv.chunked((out_side, out_side)):
        per_chunk = conv_chunks.images_per_chunk(BATCH, rows * plane * 4)
    rng = np.random.default_rng(0)
    weights = rng.standard_normal((c_out, rows), dtype=np.float32)
    # One buffer each for every chunk's im2col and laid-out grad_y, reused chunk after
    # chunk as the route reuses its own (so each chunk's operands are in cache, as there).
    columns = [min(per_chunk, BATCH - n0) * plane for n0 in range(0, BATCH, per_chunk)]
    col_buffer = rng.standard_normal(rows * columns[0], dtype=np.float32)
    grad_buffer = rng.standard_normal(c_out * columns[0], dtype=np.float32)
    chunks = [
        (col_buffer[: rows * n].reshape(rows, n), grad_buffer[: c_out * n].reshape(c_out, n))
        for n in columns
    ]

    def conv_forward():
        for cols, _ in chunks:
            weights @ cols

    def conv_input_grad():
        for _, grad in chunks:
            weights.T @ grad

    def weight_grad():
        for cols, grad in chunks:
            product_with_transpose(grad, cols)

    gflop = 2 * c_out * rows * BATCH * plane / 1e9
    if transposed:  # the layer's forward is the conv's input gradient, and back
        return (conv_input_grad, conv_forward, weight_grad), gflop
    return (conv_forward, conv_input_grad, weight_grad), gflop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import torch

    rows = []
    print(f"{'layer':<32} {'GFLOP':>6} {'gemms ms':>9} {'GFLOP/s':>8} {'torch ms':>9} {'ratio':>6}")
    for name, *shape in LAYERS:
        products, gflop = conv_gemms(*shape)
        _, theirs = layer_steps(torch, *shape)
        product_ms: list[list[float]] = [[], [], []]
        torch_ms: list[float] = []
        for _ in range(args.rounds):
            time.sleep(PAUSE_S)
            for times, product in zip(product_ms, products, strict=True):
                times += timed(product, args.repeats)
            time.sleep(PAUSE_S)
            torch_ms += timed(theirs, args.repeats)
        row = {
            "layer": name,
            "gflop_per_product": gflop,
            "product_median_ms": dict(
                zip(PRODUCTS, map(statistics.median, product_ms), strict=True)
            ),
            "torch_layer_median_ms": statistics.median(torch_ms),
        }
        row["gemms_ms"] = sum(row["product_median_ms"].values())
        row["gemm_gflops_per_s"] = 3 * gflop / row["gemms_ms"] * 1e3
        row["gemms_over_torch_layer"] = row["gemms_ms"] / row["torch_layer_median_ms"]
        rows.append(row)
        print(
            f"{name:<32} {3 * gflop:6.2f} {row['gemms_ms']:9.2f} {row['gemm_gflops_per_s']:8.0f} "
            f"{row['torch_layer_median_ms']:9.2f} {row['gemms_over_torch_layer']:6.2f}",
            flush=True,
        )
    by_layer = {row["layer"]: row["product_median_ms"] for row in rows}
    steps = {"cnn step": cnn_steps, "dcgan step": dcgan_steps}
    floors = []
    for case, uses in USES.items():
        floor_ms = sum(
            count * by_layer[layer][product]
            for layer, counts in uses.items()
            for count, product in zip(counts, PRODUCTS, strict=True)
        )
        _, theirs = steps[case](torch)
        torch_ms = statistics.median(timed(theirs, args.rounds * args.repeats))
        floors.append({"case": case, "gemms_ms": floor_ms, "torch_step_median_ms": torch_ms})
        print(
            f"{case}: its conv GEMMs {floor_ms:.1f} ms, PyTorch's whole step {torch_ms:.1f} ms "
            f"({floor_ms / torch_ms:.2f})"
        )
    result = {
        "load_average_at_end": os.getloadavg(),
        "torch_threads": torch.get_num_threads(),
        "method": f"{args.rounds} alternating rounds x {args.repeats} calls; medians",
        "layers": rows,
        "steps": floors,
    }
    out = Path(__file__).resolve().parent / "results" / "gemm_floor.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
