"""Where the CUDA backend runs, which array module it uses, and how big its launches are.

The backend has two lives. On a real GPU its arrays are CuPy arrays and the Numba
kernels read them through the CUDA array interface. Under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1`` set before numba is imported) the arrays are numpy arrays
and the very same kernels and launch code run on the CPU, one OS thread per CUDA
thread, which is how CI tests the grid/block arithmetic, shared-memory tiles and
bounds checks without a GPU. The simulator is slow, so its launch sizes are small.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from types import ModuleType

import numba
import numpy as np

SIMULATED: bool = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"

#: numba's switch for synchronising the stream a CUDA array interface names, once per array
#: argument of every launch (``NUMBA_CUDA_ARRAY_INTERFACE_SYNC``, default on).
ARRAY_INTERFACE_SYNC_VARIABLE = "NUMBA_CUDA_ARRAY_INTERFACE_SYNC"


def _array_interface_sync_off() -> None:
    """Stop numba from waiting for the GPU at every launch on CuPy arrays.

    CuPy's ``__cuda_array_interface__`` names CuPy's current stream, and numba (both the
    numba-cuda package, whose config is ``numba.cuda.core.config``, and the older
    ``numba.cuda`` inside numba, ``numba.core.config``) calls ``stream.synchronize()`` on
    it for each array argument when ``config.CUDA_ARRAY_INTERFACE_SYNC`` is true, read
    at launch time. This backend launches every kernel on the legacy default stream and
    never changes CuPy's current stream, so the two are already ordered and the
    synchronisation only makes the host wait. The environment variable is set too, so
    that a ``reload_config()`` keeps the setting; an explicit user setting is honoured.
    """
    os.environ.setdefault(ARRAY_INTERFACE_SYNC_VARIABLE, "0")
    value = int(os.environ[ARRAY_INTERFACE_SYNC_VARIABLE])
    for config_module in ("numba.core.config", "numba.cuda.core.config"):
        try:
            config = importlib.import_module(config_module)
        except ImportError:
            continue
        config.CUDA_ARRAY_INTERFACE_SYNC = value


_array_interface_sync_off()
# CuPy ships one wheel per CUDA major version; the driver decides which one works.
INSTALL_HINT = "pip install minigrad[cuda] (CUDA 12 drivers) or minigrad[cuda13] (CUDA 13)"


def _load_array_module() -> ModuleType:
    """numpy under the simulator; CuPy on a real GPU, with a clear error for what is missing."""
    if SIMULATED:
        return np
    try:
        import cupy
    except ImportError as err:
        raise RuntimeError(
            f"the 'cuda' device needs CuPy, which is not installed: {INSTALL_HINT} "
            "(or set NUMBA_ENABLE_CUDASIM=1 and use device 'cuda-simulator')"
        ) from err
    try:
        gpu_count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as err:
        raise RuntimeError(
            f"the 'cuda' device needs an NVIDIA GPU and driver, and CUDA reported: {err}"
        ) from err
    if gpu_count == 0:
        raise RuntimeError("the 'cuda' device needs an NVIDIA GPU, and none is visible")
    from numba import cuda

    if not cuda.is_available():
        raise RuntimeError(
            f"CuPy sees a GPU but numba.cuda cannot use it: {INSTALL_HINT} installs numba-cuda"
        )
    return cupy


xp: ModuleType = _load_array_module()


def _share_simulated_shared_arrays_safely() -> None:
    """Make the simulator's ``cuda.shared.array`` give every thread of a block one array.

    Numba's simulator (numba 0.68, ``FakeCUDAShared.array``) keys a block's shared arrays
    by the calling source line and creates one on the first call with a look-up followed
    by an insert. Two threads of a block can both miss the look-up, each create its own
    array, and from then on write to different memory: a kernel then reads uninitialised
    values (1e24 in a GEMM tile) once in a few hundred launches, more often on a busy
    machine. The same rule, keyed the same way, with the look-up and the insert under one
    lock, removes the race; dynamic shared memory (shape 0) keeps numba's own path.
    """
    import threading

    from numba.core import types
    from numba.cuda.simulator import kernelapi
    from numba.np import numpy_support

    numba_array = kernelapi.FakeCUDAShared.array
    lock = threading.Lock()

    def array(self, shape, dtype):
        if shape == 0:
            return numba_array(self, shape, dtype)
        caller = sys._getframe(1)
        key = (caller.f_code.co_filename, caller.f_lineno)
        if isinstance(dtype, types.Type):
            dtype = numpy_support.as_dtype(dtype)
        with lock:
            allocation = self._allocations.get(key)
            if allocation is None:
                allocation = self._allocations[key] = np.empty(shape, dtype)
        return allocation

    kernelapi.FakeCUDAShared.array = array


if SIMULATED:
    # The simulator's block manager busy-polls its threads for syncthreads() while it
    # holds the GIL; at Python's default 5 ms switch interval every barrier costs
    # milliseconds. A 50 us interval makes simulated kernels 3-5x faster (measured).
    sys.setswitchinterval(5e-5)
    _share_simulated_shared_arrays_safely()


@dataclass(frozen=True)
class LaunchSizes:
    """Threads per block and grid caps. Every kernel loops grid-stride past its grid, so
    these change speed only, never results (the tests run more than one setting)."""

    threads_1d: int  # threads per block of elementwise and gather kernels
    max_blocks_1d: int  # grid cap for those kernels
    gemm_block: int  # GEMM block is gemm_block x gemm_block threads
    gemm_reg: int  # each GEMM thread computes gemm_reg x gemm_reg outputs (register blocking)
    gemm_tile_k: int  # depth of the GEMM's shared-memory tiles
    gemm_min_blocks: int  # split k when the output has fewer tiles (about the SM count)
    gemm_max_split: int  # at most this many k-splits
    gemm_min_split_depth: int  # each split at least this deep in k
    reduce_threads: int  # most threads per block of the tree reductions; a power of two
    reduce_min_threads: int  # fewest (short rows get fewer threads); a power of two
    reduce_items: int  # elements each reduction thread sums before the tree
    reduce_max_blocks: int  # cap on blocks splitting one reduced row


#: The simulator runs one OS thread per CUDA thread: a few small blocks keep it quick.
#: A 4x4-thread GEMM block with 4x4 register tiles still covers a 16x16 output tile, and
#: runs 2-3x faster simulated than 8x8 threads with 2x2 tiles (the tests run both).
SIMULATOR_SIZES = LaunchSizes(
    threads_1d=32,
    max_blocks_1d=4,
    gemm_block=4,
    gemm_reg=4,
    gemm_tile_k=8,
    gemm_min_blocks=4,
    gemm_max_split=4,
    gemm_min_split_depth=8,
    reduce_threads=16,
    reduce_min_threads=2,
    reduce_items=1,
    reduce_max_blocks=2,
)

#: A 16x16 block of threads each holding an 8x8 register tile covers a 128x128 output
#: tile, the classic single-precision GEMM shape (float64: 4x4 per thread, 64x64 tiles);
#: 256 threads per block elsewhere.
GPU_SIZES = LaunchSizes(
    threads_1d=256,
    max_blocks_1d=8192,
    gemm_block=16,
    gemm_reg=8,
    gemm_tile_k=8,
    gemm_min_blocks=132,  # an H100/H200's SM count
    gemm_max_split=64,
    gemm_min_split_depth=256,
    reduce_threads=256,
    reduce_min_threads=32,
    reduce_items=16,
    reduce_max_blocks=1024,
)

sizes: LaunchSizes = SIMULATOR_SIZES if SIMULATED else GPU_SIZES


@dataclass
class TransferCounter:
    """Copies between host and device made by this backend, counted where they happen:
    :func:`kernels.cuda.asarray` of host data, :func:`kernels.cuda.to_numpy`, and the
    deferred index check of max-pool backward. A training step should make none (the tests
    assert it around one DCGAN step); ``bench/count_launches.py`` prints them."""

    host_to_device: int = 0
    device_to_host: int = 0

    def reset(self) -> None:
        self.host_to_device = 0
        self.device_to_host = 0


transfers = TransferCounter()


def grid_1d(count: int) -> int:
    """Blocks for ``count`` independent items at ``sizes.threads_1d`` per block, capped."""
    needed = -(-count // sizes.threads_1d)
    return max(1, min(needed, sizes.max_blocks_1d))


def contiguous(array):
    """A C-contiguous array a kernel may take. The simulator copies every array argument
    back after a launch, inputs included, so there a read-only view is copied first."""
    array = xp.ascontiguousarray(array)
    if SIMULATED and not array.flags.writeable:
        array = array.copy()
    return array


def numba_type(dtype: np.dtype) -> numba.types.Type:
    """The Numba scalar type for a numpy dtype (shared and local arrays need it spelled out)."""
    return numba.from_dtype(np.dtype(dtype))


def on_device(array: object, argument: str):
    """``array`` as an array of this backend, or a clear error naming ``argument``.

    Under the simulator a numpy scalar becomes a 0-d array: numpy turns 0-d results into
    scalars (``np.sum(a)`` is an ``np.float32``), which CuPy never does.
    """
    if SIMULATED and isinstance(array, np.generic):
        return np.asarray(array)
    if not isinstance(array, xp.ndarray):
        raise TypeError(
            f"{argument} must be a {xp.__name__}.ndarray on this device, got {type(array).__name__}"
        )
    return array
