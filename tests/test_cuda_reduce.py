"""The CUDA backend's tree reductions (kernels/cuda/reduce.py): sum, max and argmax along
axes, against numpy's, NaN and integer dtypes included.

How these tests pick their device: tests/cuda_cases.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from cuda_cases import DTYPES, assert_close, cuda_backend, random_array

cuda = cuda_backend()
# Importable only once cuda_backend() has found a device (else it skipped this module).
from kernels.cuda import reduce  # noqa: E402
from kernels.cuda.runtime import sizes  # noqa: E402

REDUCE_AXES = [None, 0, 1, -1, (0, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", REDUCE_AXES, ids=str)
def test_sum_and_max(axis, dtype):
    x = random_array((3, 17, 6), dtype, 17)
    x_dev = cuda.asarray(x)
    for keepdims in (False, True):
        total = cuda.sum(x_dev, axis, keepdims)
        assert_close(cuda.to_numpy(total), x.sum(axis=axis, keepdims=keepdims), dtype)
        biggest = cuda.max(x_dev, axis, keepdims)
        np.testing.assert_array_equal(cuda.to_numpy(biggest), x.max(axis=axis, keepdims=keepdims))
        assert total.dtype == dtype and biggest.dtype == dtype


def test_reductions_over_long_rows_split_over_blocks():
    # Four blocks per row, the last to finish folding the (R, 4) partial results; 5 rows
    # on 2 row blocks, so a block reuses its row counters. At most 4 threads per block,
    # and at least 2 (the simulator's own floor), on every device.
    launch = dataclasses.replace(
        sizes,
        reduce_threads=4,
        reduce_min_threads=2,
        reduce_max_blocks=4,
        reduce_items=2,
        max_blocks_1d=2,
    )
    x = random_array((5, 33), np.float64, 18)
    x[3, 30] = np.nan  # in the last block's share of row 3
    x_dev = cuda.asarray(x)
    np.testing.assert_array_equal(
        cuda.to_numpy(reduce.array_max(x_dev, 1, launch=launch)), x.max(1)
    )
    x[3, 30] = 0.0
    x_dev = cuda.asarray(x)
    assert_close(cuda.to_numpy(reduce.array_sum(x_dev, 1, launch=launch)), x.sum(1), np.float64)
    biggest = reduce.array_max(x_dev, None, launch=launch)
    np.testing.assert_array_equal(cuda.to_numpy(biggest), x.max())
    np.testing.assert_array_equal(
        cuda.to_numpy(reduce.argmax(x_dev, 1, launch=launch)), x.argmax(1)
    )


def test_reduction_dtypes_and_nan():
    ints = np.arange(-10, 23, dtype=np.int32).reshape(3, 11)
    ints_dev = cuda.asarray(ints)
    assert cuda.sum(ints_dev, 1).dtype == np.int64
    np.testing.assert_array_equal(cuda.to_numpy(cuda.sum(ints_dev, 1)), ints.sum(1))
    np.testing.assert_array_equal(cuda.to_numpy(cuda.max(ints_dev, 0)), ints.max(0))
    assert cuda.to_numpy(cuda.sum(cuda.asarray(np.array([True, True, False])))) == 2
    x = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 2.0, 1.0, -np.inf]])
    x_dev = cuda.asarray(x)
    row_max = cuda.to_numpy(cuda.max(x_dev, 1))
    assert np.isnan(row_max[0]) and row_max[1] == 2.0
    # The first NaN; the first of a tie.
    np.testing.assert_array_equal(cuda.to_numpy(cuda.argmax(x_dev, 1)), [1, 0])
    assert cuda.to_numpy(cuda.sum(cuda.asarray(np.ones((0, 3))), 0)).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="empty"):
        cuda.max(cuda.asarray(np.ones((0, 3))), 0)
    with pytest.raises(ValueError, match="out of range"):
        cuda.sum(cuda.asarray(np.ones((2, 3))), 2)
    with pytest.raises(ValueError, match="None or an int"):
        cuda.argmax(cuda.asarray(np.ones((2, 3))), (0, 1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_argmax(dtype):
    x = random_array((3, 17, 5), dtype, 19)
    x[1, 3, 2] = x[1, 9, 2] = 50  # a tie: the first index wins
    x_dev = cuda.asarray(x)
    for axis in (None, 0, 1, 2):
        result = cuda.argmax(x_dev, axis)
        np.testing.assert_array_equal(cuda.to_numpy(result), np.argmax(x, axis=axis))
        assert result.dtype == np.int64
