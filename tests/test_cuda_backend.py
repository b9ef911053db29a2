"""The CUDA backend as a whole: it honours the kernel contract (kernels.REQUIRED), and Numba's
CUDA compiler accepts every one of its kernels.

How these tests pick their device: tests/cuda_cases.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cuda_cases import cuda_backend, cuda_backend_name

import kernels

cuda = cuda_backend()


def test_backend_honours_the_contract():
    assert cuda.name == cuda_backend_name()
    # Simulated, the device's arrays are numpy arrays; on a GPU, CuPy's.
    assert cuda.xp.__name__ == ("numpy" if cuda.name == "cuda-simulator" else "cupy")
    assert [n for n in kernels.REQUIRED if not hasattr(cuda, n)] == []
    x = cuda.asarray([[1, 2]], np.float32)
    assert isinstance(x, cuda.xp.ndarray)
    assert x.dtype == np.float32 and isinstance(cuda.to_numpy(x), np.ndarray)


def test_every_kernel_compiles_for_a_real_gpu():
    """The simulator runs kernels as Python; Numba's CUDA compiler must accept them too.

    On a GPU too: the other tests compile only what they launch, and only for that GPU."""
    script = Path(__file__).with_name("compile_cuda_ptx.py")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode == 3:
        pytest.skip(done.stdout.strip())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "compiled 52 kernels" in done.stdout


def test_array_interface_sync_is_off():
    """Importing the backend turned off numba's stream sync per array argument of a launch
    (kernels.cuda.runtime._array_interface_sync_off), where numba reads it at launch time."""
    import importlib

    from kernels.cuda.runtime import ARRAY_INTERFACE_SYNC_VARIABLE

    assert os.environ[ARRAY_INTERFACE_SYNC_VARIABLE] == "0"
    configs = []
    for name in ("numba.core.config", "numba.cuda.core.config"):
        try:
            configs.append(importlib.import_module(name))
        except ImportError:
            continue
    assert configs and all(config.CUDA_ARRAY_INTERFACE_SYNC == 0 for config in configs)


def test_simulated_shared_arrays_are_one_array_per_block_line():
    """Numba's simulator created a block's shared array with a look-up then an insert, so
    two threads could each make their own and lose each other's writes (garbage in GEMM
    tiles now and then). Many threads asking at once from one line must get one array."""
    if cuda_backend_name() != "cuda-simulator":
        pytest.skip("the simulator's shared memory only")
    import threading

    from numba.cuda.simulator.kernelapi import FakeCUDAShared

    def arrays_made_at_once(shared: FakeCUDAShared) -> list:
        start = threading.Barrier(32)
        arrays = []

        def thread_body():
            start.wait()
            arrays.append(shared.array((8, 8), np.float32))

        threads = [threading.Thread(target=thread_body) for _ in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return arrays

    # Unguarded, about one round in seven made two arrays here: 20 rounds catch it.
    for _ in range(20):
        shared = FakeCUDAShared(0)
        arrays = arrays_made_at_once(shared)
        assert len({id(array) for array in arrays}) == 1
    other_line = shared.array((8, 8), np.float32)
    assert other_line is not arrays[0]  # a second call site is a second array
