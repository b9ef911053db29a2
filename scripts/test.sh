#!/usr/bin/env bash
# The project's test command: the main suite, then the CUDA kernels under Numba's simulator
# (a process of its own, because NUMBA_ENABLE_CUDASIM must be set before numba is imported).
# On a machine with a GPU and CuPy the main suite runs the CUDA tests (tests/test_cuda_*.py)
# on the GPU as well.
set -euo pipefail
# One BLAS thread per process: OpenBLAS threads that spin between GEMMs fight the Numba
# kernels and each other on a 2-core machine (the suite ran ~10x slower with the default).
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
cd "$(dirname "$0")/.."
python -m pytest -q -m "not slow" "$@"
NUMBA_ENABLE_CUDASIM=1 python -m pytest -q -m "not slow" \
  tests/test_cuda_*.py tests/test_kernels.py tests/test_kernels_pointwise.py \
  tests/test_kernels_fused.py tests/test_fused_layers.py
