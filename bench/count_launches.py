"""Kernel launches and host<->device copies in one DCGAN training step, counted on the
CUDA simulator: ``python bench/count_launches.py [--json PATH]``.

The model is the lecture's 28 px DCGAN (gan.models.dcgan: BatchNorm in both nets) trained
with Adam, one step = a discriminator step on real and generated images, then a generator
step, as bench/gpu.py times it. Launches are counted per kernel by wrapping the
simulator's kernel call; the counts do not depend on the sizes (``width``, ``batch``
only make the simulated step slower), so the simulator gives the GPU's count. Only
the Numba kernels are counted: CuPy's own elementwise kernels (arithmetic, copies of
non-contiguous views) are not visible here. The second step is counted, after a
warm-up step has created Adam's state.

Launches cost a few microseconds each on a GPU whatever they do, so at the DCGAN's sizes
their number, not their arithmetic, bounds the step time (docs/performance.md, GPU).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
from pathlib import Path

os.environ["NUMBA_ENABLE_CUDASIM"] = "1"  # before numba is imported, by anything
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from numba.cuda.simulator import kernel as simulated  # noqa: E402

DEVICE = "cuda-simulator"


class LaunchCounter:
    """Counts simulated kernel launches by kernel name while installed."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self._call = simulated.FakeCUDAKernel.__call__

    def __enter__(self) -> LaunchCounter:
        counts, call = self.counts, self._call

        def counting_call(kernel, *args):
            if not kernel._device:  # device functions are calls inside a kernel
                counts[kernel.fn.__name__] += 1
            return call(kernel, *args)

        simulated.FakeCUDAKernel.__call__ = counting_call
        return self

    def __exit__(self, *exc_info) -> None:
        simulated.FakeCUDAKernel.__call__ = self._call


def dcgan_step(batch: int = 2, width: int = 2, z_dim: int = 4):
    """One 28 px DCGAN training step (D then G, Adam, BCE on logits) as a closure."""
    import minigrad as mg
    from gan.models.dcgan import DCGANDiscriminator, DCGANGenerator
    from minigrad import optim
    from minigrad.nn import functional as F

    mg.manual_seed(0)
    G = DCGANGenerator(z_dim=z_dim, image_size=28, width=width).to(DEVICE)
    D = DCGANDiscriminator(image_size=28, width=width).to(DEVICE)
    opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = mg.rand(batch, 1, 28, 28, device=DEVICE) * 2 - 1
    ones = mg.ones(batch, 1, device=DEVICE)
    zeros = mg.zeros(batch, 1, device=DEVICE)
    bce = F.binary_cross_entropy_with_logits

    def step():
        fake = G(mg.randn(batch, z_dim, device=DEVICE))
        d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = bce(D(fake), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()

    return step


def count_step() -> dict:
    """Launches per kernel and host<->device copies in the second training step."""
    from kernels.cuda.runtime import transfers

    step = dcgan_step()
    step()  # warm-up: Adam's state
    transfers.reset()
    with LaunchCounter() as launches:
        step()
    return {
        "launches": dict(launches.counts.most_common()),
        "total_launches": sum(launches.counts.values()),
        "host_to_device": transfers.host_to_device,
        "device_to_host": transfers.device_to_host,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = count_step()
    for name, count in result["launches"].items():
        print(f"{count:5d}  {name}")
    print(f"{result['total_launches']:5d}  launches in one 28 px DCGAN step (D then G, Adam)")
    print(f"copies: {result['host_to_device']} host->device, {result['device_to_host']} back")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
