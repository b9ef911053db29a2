#!/usr/bin/env bash
# One call on a lent GPU machine (the `device` tool's `run`), prepared here so that its few
# minutes go to measuring, not to setting up. The machine has no package registry, but its
# image already holds CuPy (cupy-cuda13x), numba-cuda, numpy, pytest, hypothesis and PyTorch
# CUDA (see ../.library/device/KINDS.md): minigrad runs from the checkout via PYTHONPATH.
#
#   run: bash bench/gpu_session.sh        (timeout_s ~540; results come back under $OUT)
#
# 1. what the machine is; 2. the CUDA kernel tests and the op+gradient suite on the real
# GPU (never run on one before this script); 3. bench/gpu.py, the numbers
# docs/performance.md owes. Each step's log goes to $OUT; a failing step does not stop the
# next, and the last lines printed are the summary the reply carries back.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/gpu-session}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-python3}"

{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  "$PY" -c "import cupy, numba, numpy, torch; print('cupy', cupy.__version__, \
'numba', numba.__version__, 'numpy', numpy.__version__, 'torch', torch.__version__, \
'cuda', torch.cuda.is_available())"
} > "$OUT/machine.txt" 2>&1

timeout 240 "$PY" -m pytest -q -p no:cacheprovider tests/test_cuda_*.py tests/test_kernels.py \
  tests/test_kernels_pointwise.py > "$OUT/tests.txt" 2>&1
tests_rc=$?

timeout 240 "$PY" bench/gpu.py --json "$OUT/gpu.json" > "$OUT/bench.txt" 2>&1
bench_rc=$?

cat "$OUT/machine.txt"
echo "== tests (rc $tests_rc)"
tail -n 25 "$OUT/tests.txt"
echo "== bench (rc $bench_rc)"
tail -n 40 "$OUT/bench.txt"
