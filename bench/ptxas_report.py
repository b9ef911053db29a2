"""Registers, spills and shared memory per CUDA kernel for sm_90, from ptxas, with no GPU:
``python bench/ptxas_report.py [--only NAME] [--json PATH]``.

Each kernel of kernels.cuda is compiled to PTX by Numba (tests/compile_cuda_ptx.py names
them all, with every dtype they are launched with) and the PTX is assembled by
``ptxas -v -arch=sm_90``, whose report is parsed: registers per thread (at most 255;
65536 per SM, so 128 per thread lets two 256-thread blocks share an SM), spill
stores/loads (bytes moved to local memory when registers run out) and static shared
memory per block. ptxas comes with a CUDA toolkit, or with the ``nvidia-cuda-nvcc-cu12``
wheel (``pip install nvidia-cuda-nvcc-cu12``; it lands under site-packages/nvidia/).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import site
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCH = "sm_90"
_USAGE = re.compile(r"Used (\d+) registers")
_SPILLS = re.compile(r"(\d+) bytes spill stores, (\d+) bytes spill loads")
_SMEM = re.compile(r"(\d+) bytes smem")
_STACK = re.compile(r"(\d+) bytes stack frame")


def find_ptxas() -> str:
    """ptxas on the PATH, else the one the nvidia-cuda-nvcc wheel installs."""
    found = shutil.which("ptxas")
    if found:
        return found
    for folder in site.getsitepackages():
        for candidate in Path(folder).glob("nvidia/*/bin/ptxas"):
            return str(candidate)
    raise SystemExit(
        "ptxas not found: install a CUDA toolkit or `pip install nvidia-cuda-nvcc-cu12`"
    )


def _compile_script():
    path = ROOT / "tests" / "compile_cuda_ptx.py"
    spec = importlib.util.spec_from_file_location("compile_cuda_ptx", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse(report: str) -> dict:
    """ptxas -v's lines for one kernel -> registers, spill bytes, shared and stack bytes."""

    def number(pattern: re.Pattern, default: int = 0) -> int:
        match = pattern.search(report)
        return int(match.group(1)) if match else default

    spills = _SPILLS.search(report)
    return {
        "registers": number(_USAGE),
        "spill_stores": int(spills.group(1)) if spills else 0,
        "spill_loads": int(spills.group(2)) if spills else 0,
        "shared_bytes": number(_SMEM),
        "stack_bytes": number(_STACK),
    }


def _label(kernel, signature) -> str:
    """Kernel name and its first argument's dtype; a fold says whether it sums or maxes."""
    first = signature[0]
    first = first.dtype if hasattr(first, "dtype") else first  # a tuple of arrays
    name = kernel.py_func.__name__
    free = kernel.py_func.__code__.co_freevars
    cells = dict(zip(free, kernel.py_func.__closure__ or (), strict=False))
    if "combine" in cells:
        name += "/" + cells["combine"].cell_contents.py_func.__name__.strip("_")
    return f"{name}[{getattr(first, 'dtype', first)}]"


def report(only: str | None = None) -> list[dict]:
    compile_script = _compile_script()
    from numba import cuda

    ptxas = find_ptxas()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for kernel, signature in compile_script.kernel_jobs():
            label = _label(kernel, signature)
            if only and only not in label:
                continue
            ptx, _ = cuda.compile_ptx(
                kernel.py_func, signature, cc=compile_script.COMPUTE_CAPABILITY
            )
            source = Path(folder) / "kernel.ptx"
            source.write_text(ptx)
            done = subprocess.run(
                [ptxas, "-v", f"-arch={ARCH}", str(source), "-o", str(Path(folder) / "k.cubin")],
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append({"kernel": label, **parse(done.stderr)})
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=None, help="only kernels whose name contains this")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = report(args.only)
    print(f"{'kernel':<44} {'regs':>5} {'spill st/ld':>12} {'smem':>6} {'stack':>6}  ({ARCH})")
    for row in rows:
        spills = f"{row['spill_stores']}/{row['spill_loads']}"
        print(
            f"{row['kernel']:<44} {row['registers']:>5} {spills:>12} "
            f"{row['shared_bytes']:>6} {row['stack_bytes']:>6}"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
