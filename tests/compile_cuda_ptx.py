"""Compile every kernel of kernels.cuda to PTX for a real GPU, with no GPU present.

The simulator runs the kernels as Python, so it cannot catch what only Numba's CUDA
compiler rejects (typing, unsupported builtins). NVVM, the compiler library, needs no
GPU: this script stands in for the two things that do (CuPy's device count and the
current device's compute capability) and compiles each kernel for every dtype it is
launched with. Run by tests/test_cuda_backend.py in a process of its own, without
NUMBA_ENABLE_CUDASIM. Exit status 0: all compiled; 3: NVVM is not installed here.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
from numba import cuda
from numba import types as nt

COMPUTE_CAPABILITY = (9, 0)  # H100; PTX for older cards differs only in the target line


def _stand_in_for_the_gpu() -> None:
    try:
        from numba.cuda.cudadrv import nvvm

        nvvm.NVVM()
    except Exception as err:  # numba raises several types for a missing library
        print(f"NVVM unavailable: {err}")
        sys.exit(3)
    fake_cupy = types.ModuleType("cupy")
    fake_cupy.ndarray = np.ndarray
    fake_cupy.cuda = types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=lambda: 1, CUDARuntimeError=RuntimeError)
    )
    sys.modules["cupy"] = fake_cupy
    cuda.is_available = lambda: True
    import numba.cuda.dispatcher

    # Device functions are compiled for "the current device"; name one.
    numba.cuda.dispatcher.get_current_device = lambda: types.SimpleNamespace(
        compute_capability=COMPUTE_CAPABILITY
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _array(dtype, ndim: int):
    return nt.Array(dtype, ndim, "C")


def kernel_jobs() -> list[tuple]:
    """(kernel, argument types) for every kernel and every dtype it is launched with."""
    _stand_in_for_the_gpu()
    from kernels.cuda import activations, adam, batch_norm, conv, gemm, philox, pool, reduce
    from kernels.cuda.runtime import GPU_SIZES as S

    i64, f64 = nt.int64, nt.float64
    jobs = []
    for dt in (nt.float32, nt.float64):
        a1, a3, a4 = _array(dt, 1), _array(dt, 3), _array(dt, 4)
        reg = S.gemm_reg if dt == nt.float32 else S.gemm_reg // 2  # as gemm.gemm picks
        tiles = gemm._gemm_kernel(np.dtype(str(dt)), S.gemm_block, reg, S.gemm_tile_k)
        jobs += [
            (tiles, (a3, a3, a3, a4, _array(nt.int32, 3), i64, i64)),
            (conv._im2col_kernel, (a4, a3, *[i64] * 7)),
            (conv._col2im_kernel, (a3, a4, *[i64] * 8, dt)),
            (pool._max_pool_kernel, (a4, a4, _array(i64, 4), *[i64] * 6)),
            (pool._max_pool_backward_kernel, (a4, _array(i64, 4), a4, _array(i64, 1))),
            (pool._avg_pool_kernel, (a4, a4, *[i64] * 6, dt)),
            (pool._avg_pool_backward_kernel, (a4, a4, *[i64] * 6, dt)),
            (activations._relu_kernel, (a1, a1)),
            (activations._sigmoid_kernel, (a1, a1)),
            (activations._tanh_kernel, (a1, a1)),
            (activations._relu_backward_kernel, (a1, a1, a1)),
            (activations._leaky_relu_kernel, (a1, dt, a1)),
            (activations._leaky_relu_backward_kernel, (a1, a1, dt, a1)),
            (adam._adam_kernel, (a1, a1, a1, a1, *[f64] * 6)),
            (adam._adam_many_kernel, (*[nt.UniTuple(a1, 3)] * 4, *[f64] * 6)),
            (
                batch_norm._forward_kernel(S.reduce_threads),
                (a3, a1, a1, f64, i64, f64, a3, _array(dt, 2), _array(f64, 2)),
            ),
            (
                batch_norm._backward_kernel(S.reduce_threads),
                (a3, a3, a3, _array(f64, 2), a1, i64, f64, a3, _array(dt, 2)),
            ),
            (activations._bias_activation_kernel, (a3, a1, i64, dt, a3)),
            (
                activations._bias_activation_backward_kernel(S.reduce_threads),
                (a3, a3, i64, dt, a3, a1),
            ),
            (philox._philox_fill, (a1, nt.uint64, nt.uint64, nt.uint64, nt.boolean, nt.boolean)),
        ]
    for dt in (nt.float32, nt.float64, nt.int32, nt.int64):
        rows = _array(dt, 2)
        for is_sum in (True, False):
            fold = reduce._fold_kernel(np.dtype(str(dt)), S.reduce_threads, is_sum)
            jobs.append((fold, (rows, _array(dt, 1), rows, _array(nt.int32, 1), dt)))
        argmax = reduce._argmax_kernel(np.dtype(str(dt)), S.reduce_threads)
        jobs.append((argmax, (rows, _array(i64, 1), dt)))
    return jobs


def main() -> None:
    jobs = kernel_jobs()
    for kernel, signature in jobs:
        cuda.compile_ptx(kernel.py_func, signature, cc=COMPUTE_CAPABILITY)
    print(f"compiled {len(jobs)} kernels to PTX for compute capability {COMPUTE_CAPABILITY}")


if __name__ == "__main__":
    main()
