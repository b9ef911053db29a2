"""GPU benchmark, one script, one call: ``python bench/gpu.py [--json PATH]``.

Times, on one NVIDIA GPU in one run, in this order (the JSON is rewritten after each):

1. One DCGAN training step (64x64 images, D step then G step, Adam), minigrad on
   ``cuda`` with the default GEMM (cuBLAS) and with the hand-written one, against
   PyTorch CUDA if present; target <= 2x PyTorch's time.
2. GEMM: the hand-written tiled Numba kernel against cuBLAS (CuPy) at square float32
   sizes 256..4096, in TFLOP/s (``2 n^3 / seconds``); target ratio >= 0.40 at 4096.
3. conv2d forward + both backward GEMMs (input and weight gradient) at the DCGAN
   discriminator's shapes, with each GEMM switch setting, and PyTorch CUDA if present.

TF32 is off on both sides (PyTorch's cuDNN would otherwise use it for convolutions) and
the JSON records it under ``precision``.

Prints a table and writes JSON. Without a GPU (or with CuPy missing, or under the
CUDA simulator) it exits at once with a message saying what is missing. The timing
functions take the backend and a synchronising clock as arguments, so the test suite
runs them at toy sizes under the simulator to keep every code path exercised.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

GEMM_SIZES = (256, 512, 1024, 2048, 4096)
#: Skinny products whose output is one or a few 128x128 tiles: conv weight gradients of
#: the DCGAN (O x C*16 x N*OH*OW at batch 64), which the GEMM splits along k.
SKINNY_GEMMS = ((64, 48, 65536), (128, 1024, 16384), (256, 2048, 4096))
#: DCGAN discriminator convolutions for 64x64 RGB images: (C_in, C_out, H=W), k4 s2 p1.
DCGAN_CONVS = ((3, 64, 64), (64, 128, 32), (128, 256, 16), (256, 512, 8))


def median_seconds(fn: Callable[[], Any], sync: Callable[[], None], repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` calls after one warm-up (compiles)."""
    fn()
    sync()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gemm_rows(
    backend: ModuleType,
    sizes: Sequence[int | tuple[int, int, int]],
    repeats: int,
    sync: Callable[[], None],
) -> list[dict]:
    """Hand-written GEMM vs the array module's matmul (cuBLAS on a GPU) per size: ``n``
    for a square product, or ``(m, n, k)`` (a skinny one runs split-K)."""
    from kernels.cuda import gemm

    rows = []
    rng = np.random.default_rng(0)
    for size in sizes:
        m, n, k = size if isinstance(size, tuple) else (size, size, size)
        a = backend.asarray(rng.standard_normal((m, k)), np.float32)
        b = backend.asarray(rng.standard_normal((k, n)), np.float32)
        reference = backend.xp.matmul(a, b)
        error = float(backend.xp.abs(gemm.gemm(a, b) - reference).max())
        numba_s = median_seconds(lambda a=a, b=b: gemm.gemm(a, b), sync, repeats)
        cublas_s = median_seconds(lambda a=a, b=b: backend.xp.matmul(a, b), sync, repeats)
        flop = 2.0 * m * n * k
        rows.append(
            {
                "m,n,k": f"{m},{n},{k}",
                "numba_ms": numba_s * 1e3,
                "cublas_ms": cublas_s * 1e3,
                "numba_tflops": flop / numba_s / 1e12,
                "cublas_tflops": flop / cublas_s / 1e12,
                "numba_over_cublas": cublas_s / numba_s,
                "max_abs_diff": error,
            }
        )
    return rows


def conv_rows(
    backend: ModuleType,
    shapes: Sequence[tuple[int, int, int]],
    batch: int,
    repeats: int,
    sync: Callable[[], None],
    gemm_choices: Sequence[str],
    torch_device: Any = None,
) -> list[dict]:
    """conv2d forward + input grad + weight grad (k4 s2 p1) per shape and GEMM setting."""
    from kernels.cuda import gemm

    rows = []
    rng = np.random.default_rng(1)
    saved_choice = gemm.GEMM
    for c_in, c_out, size in shapes:
        x = backend.asarray(rng.standard_normal((batch, c_in, size, size)), np.float32)
        w = backend.asarray(rng.standard_normal((c_out, c_in, 4, 4)) * 0.05, np.float32)
        g = backend.asarray(rng.standard_normal((batch, c_out, size // 2, size // 2)), np.float32)

        def step(x=x, w=w, g=g, size=size):
            backend.conv2d_forward(x, w, 2, 1)
            backend.conv2d_input_grad(g, w, (size, size), 2, 1)
            backend.conv2d_weight_grad(x, g, (4, 4), 2, 1)

        row: dict[str, Any] = {"batch": batch, "c_in": c_in, "c_out": c_out, "hw": size}
        try:
            for choice in gemm_choices:
                gemm.GEMM = choice
                row[f"{choice}_ms"] = median_seconds(step, sync, repeats) * 1e3
        finally:
            gemm.GEMM = saved_choice
        if torch_device is not None:
            row["torch_ms"] = _torch_conv_ms(x, w, g, backend, torch_device, repeats)
        rows.append(row)
    return rows


def _torch_conv_ms(x, w, g, backend, device, repeats: int) -> float:
    import torch

    tx = torch.tensor(backend.to_numpy(x), device=device, requires_grad=True)
    tw = torch.tensor(backend.to_numpy(w), device=device, requires_grad=True)
    tg = torch.tensor(backend.to_numpy(g), device=device)

    def step():
        torch.nn.functional.conv2d(tx, tw, stride=2, padding=1).backward(tg)

    return median_seconds(step, torch.cuda.synchronize, repeats) * 1e3


def dcgan(nn: ModuleType, image_size: int, width: int, latent: int, channels: int = 3):
    """(G, D) of Radford et al. built from ``nn`` (minigrad.nn or torch.nn: same names).

    G: z (N, latent, 1, 1) -> 4x4 -> ... -> image_size, stride-2 transposed convs, BN,
    ReLU, tanh. D mirrors it with stride-2 convs, BN and LeakyReLU(0.2) to one logit.
    """
    doublings = int(np.log2(image_size // 4))
    if image_size != 4 * 2**doublings or doublings < 1:
        raise ValueError(f"image_size must be 4 * 2^k with k >= 1, got {image_size}")
    top = width * 2 ** (doublings - 1)
    g_layers = [
        nn.ConvTranspose2d(latent, top, 4, 1, 0, bias=False),
        nn.BatchNorm2d(top),
        nn.ReLU(),
    ]
    d_layers = [nn.Conv2d(channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
    g_channels, d_channels = top, width
    for _ in range(doublings - 1):
        g_layers.append(nn.ConvTranspose2d(g_channels, g_channels // 2, 4, 2, 1, bias=False))
        g_layers += [nn.BatchNorm2d(g_channels // 2), nn.ReLU()]
        d_layers.append(nn.Conv2d(d_channels, 2 * d_channels, 4, 2, 1, bias=False))
        d_layers += [nn.BatchNorm2d(2 * d_channels), nn.LeakyReLU(0.2)]
        g_channels, d_channels = g_channels // 2, 2 * d_channels
    g_layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
    d_layers += [nn.Conv2d(top, 1, 4, 1, 0, bias=False), nn.Flatten()]
    return nn.Sequential(*g_layers), nn.Sequential(*d_layers)


def _gan_step(optim: ModuleType, bce, randn, G, D, batch: int, image_size: int, latent: int):
    """One DCGAN training step (D on real and fake images, then G), as a closure.

    ``optim``, ``bce`` (binary cross-entropy on logits) and ``randn(*shape)`` come from
    the framework being timed; the code is the same for minigrad and PyTorch.
    """
    opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = randn(batch, 3, image_size, image_size)
    ones = randn(batch, 1) * 0 + 1
    zeros = ones * 0

    def step():
        fake = G(randn(batch, latent, 1, 1))
        d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = bce(D(fake), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()

    return step


def minigrad_step_ms(
    device: str,
    batch: int,
    image_size: int,
    width: int,
    latent: int,
    repeats: int,
    sync: Callable[[], None],
) -> float:
    """Median milliseconds of one minigrad DCGAN training step on ``device``."""
    import minigrad as mg
    from minigrad import nn, optim
    from minigrad.nn import functional as F

    mg.manual_seed(0)
    G, D = dcgan(nn, image_size, width, latent)
    G.to(device)
    D.to(device)

    def randn(*shape):
        return mg.randn(*shape, device=device)

    step = _gan_step(
        optim, F.binary_cross_entropy_with_logits, randn, G, D, batch, image_size, latent
    )
    return median_seconds(step, sync, repeats) * 1e3


def torch_step_ms(
    device: Any, batch: int, image_size: int, width: int, latent: int, repeats: int
) -> float:
    """Median milliseconds of the same step in PyTorch on ``device``."""
    import torch

    torch.manual_seed(0)
    G, D = dcgan(torch.nn, image_size, width, latent)
    G.to(device)
    D.to(device)

    def randn(*shape):
        return torch.randn(*shape, device=device)

    bce = torch.nn.functional.binary_cross_entropy_with_logits
    step = _gan_step(torch.optim, bce, randn, G, D, batch, image_size, latent)
    return median_seconds(step, torch.cuda.synchronize, repeats) * 1e3


def format_table(rows: Sequence[dict], title: str) -> str:
    """Rows of one kind as an aligned text table (floats to 3 significant digits)."""
    if not rows:
        return f"{title}: (no rows)"
    columns = list(rows[0])

    def cell(value: Any) -> str:
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [title, "  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _cuda_backend() -> ModuleType:
    """The real-GPU backend, or exit with a message naming what is missing."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        raise SystemExit("bench/gpu.py times a real GPU: unset NUMBA_ENABLE_CUDASIM and rerun")
    try:
        import kernels.cuda as backend
    except RuntimeError as err:
        raise SystemExit(f"bench/gpu.py needs a CUDA GPU and CuPy: {err}") from None
    return backend


def _torch_cuda_device() -> Any:
    """``torch.device("cuda")`` when PyTorch with CUDA is installed, else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch.device("cuda") if torch.cuda.is_available() else None


def _torch_version(torch_device: Any) -> str | None:
    if torch_device is None:
        return None
    import torch

    return torch.__version__


def _tf32_off(torch_device: Any) -> dict[str, Any]:
    """Strict float32 on both sides, and what was set, for the JSON.

    PyTorch lets cuDNN convolutions use TF32 by default (10-bit mantissa products); CuPy's
    matmul is strict float32 unless ``CUPY_TF32=1``. Like for like means TF32 off."""
    settings: dict[str, Any] = {"cupy_tf32": os.environ.get("CUPY_TF32", "0")}
    if torch_device is not None:
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        settings["torch_matmul_allow_tf32"] = torch.backends.cuda.matmul.allow_tf32
        settings["torch_cudnn_allow_tf32"] = torch.backends.cudnn.allow_tf32
    return settings


def _write(path: Path, results: dict) -> None:
    """Rewrite the JSON with everything measured so far (a timeout keeps the rest)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=Path("bench/results/gpu.json"))
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64, help="DCGAN batch size")
    args = parser.parse_args(argv)
    backend = _cuda_backend()
    import cupy
    import numba

    from kernels.cuda import gemm

    def sync():
        cupy.cuda.Device().synchronize()

    torch_device = _torch_cuda_device()
    properties = cupy.cuda.runtime.getDeviceProperties(0)
    results: dict[str, Any] = {
        "device": properties["name"].decode(),
        "multiprocessors": properties["multiProcessorCount"],
        "cupy": cupy.__version__,
        "numba": numba.__version__,
        "torch": _torch_version(torch_device),
        "python": platform.python_version(),
        "default_gemm": gemm.GEMM,
        "array_interface_sync": os.environ.get("NUMBA_CUDA_ARRAY_INTERFACE_SYNC"),
        "precision": _tf32_off(torch_device),
    }
    # The headline first: one DCGAN step, with the default GEMM and the hand-written one.
    step = {"batch": args.batch, "image_size": 64, "width": 64, "latent": 100}
    timing: dict[str, Any] = dict(step)
    default_gemm = gemm.GEMM
    try:
        for choice in dict.fromkeys((default_gemm, "numba")):
            gemm.GEMM = choice
            ms = minigrad_step_ms("cuda", **step, repeats=args.repeats, sync=sync)
            timing[f"minigrad_{choice}_ms"] = ms
    finally:
        gemm.GEMM = default_gemm
    if torch_device is not None:
        timing["torch_ms"] = torch_step_ms(torch_device, **step, repeats=args.repeats)
        timing["minigrad_default_over_torch"] = (
            timing[f"minigrad_{default_gemm}_ms"] / timing["torch_ms"]
        )
    results["train_step"] = timing
    print(format_table([timing], f"DCGAN 64x64 training step (D then G, Adam), {args.batch}"))
    _write(args.json, results)
    results["gemm"] = gemm_rows(backend, GEMM_SIZES + SKINNY_GEMMS, args.repeats, sync)
    print(format_table(results["gemm"], f"GEMM float32 on {results['device']}"))
    _write(args.json, results)
    results["conv"] = conv_rows(
        backend, DCGAN_CONVS, args.batch, args.repeats, sync, ("numba", "cublas"), torch_device
    )
    print(format_table(results["conv"], "conv2d k4 s2 p1: forward + input grad + weight grad"))
    _write(args.json, results)
    print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
