"""The CUDA backend's GEMM (kernels/cuda/gemm.py) against np.matmul, and its switch.

On a real GPU the matmul tests run both GEMMs that ``MINIGRAD_CUDA_GEMM`` chooses between:
the hand-written kernel ("numba") and CuPy's cuBLAS ("cublas"). The simulator has only the
kernel. How these tests pick their device: tests/cuda_cases.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from cuda_cases import DTYPES, assert_close, cuda_backend, random_array

cuda = cuda_backend()
# Importable only once cuda_backend() has found a device (else it skipped this module).
from kernels.cuda import gemm as gemm_module  # noqa: E402
from kernels.cuda.runtime import sizes  # noqa: E402

SIMULATED = cuda.name == "cuda-simulator"
GEMMS = ["numba"] if SIMULATED else ["numba", "cublas"]


@pytest.fixture(params=GEMMS)
def gemm_choice(request, monkeypatch):
    """Runs the test once per GEMM this device has, with :data:`GEMM` set to it."""
    monkeypatch.setattr(gemm_module, "GEMM", request.param)
    return request.param


GEMM_SHAPES = [
    ((1, 1), (1, 1)),
    ((17, 9), (9, 33)),
    ((3, 17, 9), (9, 33)),  # batch 3 against one shared matrix
    ((2, 1, 5, 4), (3, 4, 6)),  # broadcast batch dims
    ((7,), (7, 5)),  # 1-D promotion, as np.matmul
    ((4, 7), (7,)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a_shape,b_shape", GEMM_SHAPES)
def test_gemm_matches_numpy(a_shape, b_shape, dtype, gemm_choice):
    a, b = random_array(a_shape, dtype, 1), random_array(b_shape, dtype, 2)
    c = cuda.matmul(cuda.asarray(a), cuda.asarray(b))
    assert c.dtype == dtype and c.shape == np.matmul(a, b).shape
    assert_close(cuda.to_numpy(c), np.matmul(a, b), dtype)


@pytest.mark.parametrize(
    "block,reg,tile_k", [(8, 2, 8), (4, 2, 4)], ids=["8x8-threads-2x2-regs", "4x4-threads-k4"]
)
def test_gemm_other_block_shapes(block, reg, tile_k):
    launch = dataclasses.replace(sizes, gemm_block=block, gemm_reg=reg, gemm_tile_k=tile_k)
    a, b = random_array((17, 20), np.float32, 3), random_array((20, 33), np.float32, 4)
    c = gemm_module.gemm(cuda.asarray(a), cuda.asarray(b), launch)
    assert_close(cuda.to_numpy(c), a @ b, np.float32)
    with pytest.raises(ValueError, match="gemm_block % gemm_reg"):
        gemm_module.gemm(cuda.asarray(a), cuda.asarray(b), dataclasses.replace(launch, gemm_reg=3))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_split_k_for_skinny_products(dtype):
    """An output of one tile and a long k (a conv weight gradient's shape): k is split over
    blocks whose partial tiles the last block to finish adds up; batch 2, so the tickets
    of two tiles are kept apart, and a ragged last split (k = 45 as 24 + 21)."""
    launch = dataclasses.replace(
        sizes, gemm_block=4, gemm_reg=2, gemm_tile_k=4, gemm_min_blocks=3, gemm_min_split_depth=4
    )
    a, b = random_array((2, 5, 45), dtype, 5), random_array((45, 6), dtype, 6)
    assert gemm_module._splits(2, 45, launch) == 2
    c = gemm_module.gemm(cuda.asarray(a), cuda.asarray(b), launch)
    assert_close(cuda.to_numpy(c), a @ b, dtype)
    again = gemm_module.gemm(cuda.asarray(a), cuda.asarray(b), launch)
    np.testing.assert_array_equal(cuda.to_numpy(again), cuda.to_numpy(c))  # a fixed order


def test_gemm_empty_and_zero_depth(gemm_choice):
    empty = cuda.matmul(cuda.asarray(np.ones((0, 3))), cuda.asarray(np.ones((3, 4))))
    assert empty.shape == (0, 4)
    zero_depth = cuda.matmul(cuda.asarray(np.ones((2, 0))), cuda.asarray(np.ones((0, 4))))
    np.testing.assert_array_equal(cuda.to_numpy(zero_depth), np.zeros((2, 4)))


def test_gemm_rejects_bad_input(monkeypatch):
    # These are the hand-written kernel's checks; cuBLAS's matmul (CuPy's) has its own.
    monkeypatch.setattr(gemm_module, "GEMM", "numba")
    with pytest.raises(ValueError, match="last dimension"):
        cuda.matmul(cuda.asarray(np.ones((2, 3))), cuda.asarray(np.ones((4, 5))))
    ints = cuda.asarray(np.ones((2, 2), np.int64))
    with pytest.raises(TypeError, match="float32 or float64"):
        cuda.matmul(ints, ints)
    with pytest.raises(TypeError, match=f"{cuda.xp.__name__} array"):
        cuda.matmul([[1.0]], cuda.asarray(np.ones((1, 1))))


def test_gemm_switch(monkeypatch):
    monkeypatch.setenv("MINIGRAD_CUDA_GEMM", "fast")
    with pytest.raises(ValueError, match="MINIGRAD_CUDA_GEMM must be one of"):
        gemm_module._gemm_from_environment()
    one = cuda.asarray(np.ones((1, 1)))
    if SIMULATED:
        # The simulator always runs the hand-written kernel: cuBLAS needs a real GPU.
        assert gemm_module.GEMM == "numba"
        monkeypatch.setattr(gemm_module, "GEMM", "cublas")
        with pytest.raises(ValueError, match="'numba' when simulated"):
            cuda.matmul(one, one)
        monkeypatch.setenv("MINIGRAD_CUDA_GEMM", "cublas")
        with pytest.raises(ValueError, match="needs a real GPU"):
            gemm_module._gemm_from_environment()
    else:
        # A GPU defaults to cuBLAS, and either choice may be set.
        monkeypatch.delenv("MINIGRAD_CUDA_GEMM")
        assert gemm_module._gemm_from_environment() == "cublas"
        monkeypatch.setenv("MINIGRAD_CUDA_GEMM", "numba")
        assert gemm_module._gemm_from_environment() == "numba"
        monkeypatch.setattr(gemm_module, "GEMM", "fast")
        with pytest.raises(ValueError, match="must be one of"):
            cuda.matmul(one, one)
