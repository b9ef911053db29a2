"""One training step of the two networks people train here, minigrad beside PyTorch CPU.

    python bench/bench_steps.py [--rounds 5] [--repeats 5] [--only cnn|dcgan] [--layers]

- ``cnn``: the classic MNIST CNN (PyTorch's examples/mnist without dropout): conv 1->32
  3x3, ReLU, conv 32->64 3x3, ReLU, max-pool 2, fc 9216->128, ReLU, fc 10; cross-entropy,
  Adam(1e-3), batch 64, float32.
- ``dcgan``: one DCGAN learning round on 28 px, batch 64: G z 100 -> ConvT 256 (7x7) BN
  ReLU -> ConvT 128 (14 px) BN ReLU -> ConvT 1 (28 px) Tanh; D Conv 1->64 LeakyReLU ->
  Conv 64->128 BN LeakyReLU -> Linear 6272->1; a D step on a real and a fake batch, then
  a G step through D; BCE with logits, Adam(2e-4, betas (0.5, 0.999)).

Both libraries run the same architecture from the same initial weights on the same data,
in one process, in alternating rounds (ours, then PyTorch, with a pause between them so
that a BLAS or OpenMP pool left spinning by one does not slow the other). Each library
gets the threads it would choose by default (numpy's BLAS as minigrad sets it at import,
PyTorch's ``torch.get_num_threads()``), or ``BENCH_THREADS`` for both. ``--layers``
also times each conv layer of both nets, forward + both gradients, through the autograd
``Function`` (so with its layout copies), beside ``torch.autograd.grad``.
Reported: medians over all rounds; writes bench/results/steps.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

BATCH = 64
PAUSE_S = 0.3


def classic_cnn(layers: Any) -> Any:
    """The classic MNIST CNN built from ``layers``: ``minigrad.nn`` or ``torch.nn`` (same names)."""
    return layers.Sequential(
        layers.Conv2d(1, 32, 3),
        layers.ReLU(),
        layers.Conv2d(32, 64, 3),
        layers.ReLU(),
        layers.MaxPool2d(2),
        layers.Flatten(),
        layers.Linear(9216, 128),
        layers.ReLU(),
        layers.Linear(128, 10),
    )


def dcgan(layers: Any) -> tuple[Any, Any]:
    """The issue's 28 px DCGAN (G, D) built from ``minigrad.nn`` or ``torch.nn``."""
    g = layers.Sequential(
        layers.ConvTranspose2d(100, 256, 7, bias=False),
        layers.BatchNorm2d(256),
        layers.ReLU(),
        layers.ConvTranspose2d(256, 128, 4, stride=2, padding=1, bias=False),
        layers.BatchNorm2d(128),
        layers.ReLU(),
        layers.ConvTranspose2d(128, 1, 4, stride=2, padding=1),
        layers.Tanh(),
    )
    d = layers.Sequential(
        layers.Conv2d(1, 64, 4, stride=2, padding=1),
        layers.LeakyReLU(0.2),
        layers.Conv2d(64, 128, 4, stride=2, padding=1, bias=False),
        layers.BatchNorm2d(128),
        layers.LeakyReLU(0.2),
        layers.Flatten(),
        layers.Linear(128 * 7 * 7, 1),
    )
    return g, d


def copy_weights(ours: nn.Module, theirs, torch) -> None:
    with torch.no_grad():
        for param, value in zip(theirs.parameters(), ours.parameters(), strict=True):
            param.copy_(torch.from_numpy(value.numpy().copy()))


def cnn_steps(torch):
    rng = np.random.default_rng(0)
    images = rng.standard_normal((BATCH, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, BATCH)
    model = classic_cnn(nn)
    twin = classic_cnn(torch.nn)
    copy_weights(model, twin, torch)
    opt = mg.optim.Adam(model.parameters(), lr=1e-3)
    topt = torch.optim.Adam(twin.parameters(), lr=1e-3)
    x, y = mg.tensor(images), mg.tensor(labels)
    tx, ty = torch.from_numpy(images), torch.from_numpy(labels)

    def ours():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def theirs():
        loss = torch.nn.functional.cross_entropy(twin(tx), ty)
        topt.zero_grad()
        loss.backward()
        topt.step()

    return ours, theirs


def dcgan_round(g, d, opt_g, opt_d, bce, reals, noise, ones, zeros) -> None:
    """One learning round with either library's objects: a D step on a real and a fake
    batch, then a G step through D."""
    fake = g(noise)
    loss_d = bce(d(reals), ones) + bce(d(fake.detach()), zeros)
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = bce(d(fake), ones)
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()


def dcgan_steps(torch):
    rng = np.random.default_rng(0)
    reals = np.tanh(rng.standard_normal((BATCH, 1, 28, 28), dtype=np.float32))
    noise = rng.standard_normal((BATCH, 100, 1, 1), dtype=np.float32)
    ones, zeros = np.ones((BATCH, 1), np.float32), np.zeros((BATCH, 1), np.float32)
    g, d = dcgan(nn)
    tg, td = dcgan(torch.nn)
    copy_weights(g, tg, torch)
    copy_weights(d, td, torch)
    adam = dict(lr=2e-4, betas=(0.5, 0.999))
    opt_g, opt_d = mg.optim.Adam(g.parameters(), **adam), mg.optim.Adam(d.parameters(), **adam)
    topt_g = torch.optim.Adam(tg.parameters(), **adam)
    topt_d = torch.optim.Adam(td.parameters(), **adam)

    ours_args = (g, d, opt_g, opt_d, F.binary_cross_entropy_with_logits) + tuple(
        mg.tensor(a) for a in (reals, noise, ones, zeros)
    )
    theirs_args = (tg, td, topt_g, topt_d, torch.nn.functional.binary_cross_entropy_with_logits)
    theirs_args += tuple(torch.from_numpy(a) for a in (reals, noise, ones, zeros))
    return (lambda: dcgan_round(*ours_args)), (lambda: dcgan_round(*theirs_args))


# name, in, out, input side, kernel, stride, padding, transposed
LAYERS = [
    ("CNN conv 1->32 3x3 28px", 1, 32, 28, 3, 1, 0, False),
    ("CNN conv 32->64 3x3 26px", 32, 64, 26, 3, 1, 0, False),
    ("DCGAN D conv 1->64 28px", 1, 64, 28, 4, 2, 1, False),
    ("DCGAN D conv 64->128 14px", 64, 128, 14, 4, 2, 1, False),
    ("DCGAN G convT 100->256 1->7px", 100, 256, 1, 7, 1, 0, True),
    ("DCGAN G convT 256->128 7->14px", 256, 128, 7, 4, 2, 1, True),
    ("DCGAN G convT 128->1 14->28px", 128, 1, 14, 4, 2, 1, True),
]


def layer_steps(torch, c_in, c_out, side, k, s, p, transposed):
    """Forward + both gradients of one layer (no bias) through each library's autograd."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, c_in, side, side), dtype=np.float32)
    shape = (c_in, c_out, k, k) if transposed else (c_out, c_in, k, k)
    w = rng.standard_normal(shape, dtype=np.float32) * 0.05
    ours_fn = F.conv_transpose2d if transposed else F.conv2d
    theirs_fn = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
    mx, mw = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    tx, tw = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(w).requires_grad_(True)
    out_shape = theirs_fn(tx, tw, stride=s, padding=p).shape
    grad = rng.standard_normal(tuple(out_shape), dtype=np.float32)
    mgrad, tgrad = mg.tensor(grad), torch.from_numpy(grad)

    def ours():
        mx.grad = mw.grad = None
        ours_fn(mx, mw, stride=s, padding=p).backward(mgrad)

    def theirs():
        torch.autograd.grad(theirs_fn(tx, tw, stride=s, padding=p), (tx, tw), tgrad)

    return ours, theirs


def timed(fn, repeats: int) -> list[float]:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def alternate(ours, theirs, rounds: int, repeats: int) -> dict:
    mine, other = [], []
    for _ in range(rounds):
        time.sleep(PAUSE_S)
        mine += timed(ours, repeats)
        time.sleep(PAUSE_S)
        other += timed(theirs, repeats)
    ratios = [a / b for a, b in zip(mine, other, strict=True)]
    return {
        "minigrad_median_ms": statistics.median(mine),
        "torch_median_ms": statistics.median(other),
        "ratio": statistics.median(mine) / statistics.median(other),
        "ratio_pairwise_median": statistics.median(ratios),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", choices=("cnn", "dcgan"))
    parser.add_argument("--layers", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "steps.json"))
    args = parser.parse_args()
    import torch

    if "BENCH_THREADS" in os.environ:
        threads = int(os.environ["BENCH_THREADS"])
        torch.set_num_threads(threads)
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads, user_api="blas")
    mg.manual_seed(0)
    torch.manual_seed(0)
    cases = {"cnn": cnn_steps, "dcgan": dcgan_steps}
    rows = []
    for name, make in cases.items():
        if args.only and name != args.only:
            continue
        rows.append({"case": f"{name} step", **alternate(*make(torch), args.rounds, args.repeats)})
    if args.layers:
        for name, *shape in LAYERS:
            ours, theirs = layer_steps(torch, *shape)
            rows.append({"case": f"{name} fwd+bwd", **alternate(ours, theirs, args.rounds, 5)})
    print(f"{'case':<44} {'minigrad ms':>11} {'torch ms':>9} {'ratio':>6} {'pairwise':>8}")
    for r in rows:
        print(
            f"{r['case']:<44} {r['minigrad_median_ms']:11.2f} {r['torch_median_ms']:9.2f} "
            f"{r['ratio']:6.2f} {r['ratio_pairwise_median']:8.2f}"
        )
    from threadpoolctl import threadpool_info

    result = {
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "numpy": np.__version__,
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "blas": [f"{p['internal_api']} x{p['num_threads']}" for p in threadpool_info()],
            "load_average_before": os.getloadavg(),
        },
        "method": f"{args.rounds} alternating rounds x {args.repeats} steps; medians",
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
