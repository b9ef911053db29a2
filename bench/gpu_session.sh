#!/usr/bin/env bash
# One call on a lent GPU machine (the `device` tool's `run`), prepared here so that its few
# minutes go to measuring, not to setting up. The machine has no package registry, but its
# image already holds CuPy (cupy-cuda13x), numba-cuda, numpy, pytest, hypothesis and PyTorch
# CUDA (see ../.library/device/KINDS.md): minigrad runs from the checkout via PYTHONPATH.
#
#   run: bash bench/gpu_session.sh        (timeout_s 540; it ends by itself within 8 minutes:
#        at most 65 s of set-up checks, 230 + 10 s of benchmark, 160 + 10 s of tests)
#
# 1. what the machine is, and CUDA_HOME (numba compiles nothing without libNVVM);
# 2. bench/gpu.py FIRST (the numbers docs/performance.md owes; it rewrites gpu.json after
#    each table, so a timeout still leaves what was measured);
# 3. the CUDA kernel tests and the op+gradient suite on the GPU, stopped with SIGINT at
#    their time limit so that pytest still prints its summary of what passed and failed.
# Each step's log goes to $OUT; a failing step does not stop the next, and the last lines
# printed are the summary the reply carries back.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/gpu-session}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PY="${PYTHON:-python3}"
BENCH_SECONDS="${BENCH_SECONDS:-230}"
TEST_SECONDS="${TEST_SECONDS:-160}"

# numba-cuda looks for libNVVM and libdevice under CUDA_HOME (or through the nvidia wheels'
# own paths); pick the first toolkit that has both when CUDA_HOME is unset.
find_cuda_home() {
  local site candidate
  site=$("$PY" -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null)
  for candidate in /usr/local/cuda /usr/local/cuda-* /opt/cuda \
    $(for s in $site; do echo "$s"/nvidia/cu1[0-9] "$s"/nvidia/cuda_nvcc "$s"/nvidia/nvcc; done); do
    if compgen -G "$candidate/nvvm/lib64/libnvvm.so*" > /dev/null &&
      compgen -G "$candidate/nvvm/libdevice/libdevice*.bc" > /dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
if [ -z "${CUDA_HOME:-}" ]; then
  CUDA_HOME=$(find_cuda_home) && export CUDA_HOME
fi

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  echo "CUDA_HOME=${CUDA_HOME:-<unset: numba-cuda searches its own paths>}"
  command -v nvcc > /dev/null && nvcc --version | tail -n 2
  timeout -k 5 60 "$PY" - << 'EOF'
import importlib.metadata as md
import platform

print("python", platform.python_version())
for name in ("numpy", "cupy-cuda13x", "cupy-cuda12x", "numba", "numba-cuda", "torch"):
    try:
        print(name, md.version(name))
    except md.PackageNotFoundError:
        pass
import kernels.cuda as backend  # noqa: E402  (sets the array-interface sync off)

try:
    from numba.cuda.cudadrv import nvvm

    print("backend", backend.name, "| NVVM", nvvm.NVVM().get_version())
except Exception as err:  # the kernel below says whether compiling works at all
    print("backend", backend.name, "| NVVM version unknown:", err)
x = backend.asarray([1.0, -2.0], "float32")
print("first kernel (relu):", backend.to_numpy(backend.relu(x)))
EOF
} > "$OUT/machine.txt" 2>&1

# A command started in the background by a non-interactive shell (as a remote runner may
# start this script) inherits SIGINT *ignored*, and Python then installs no
# KeyboardInterrupt handler: restore it, so that `timeout -s INT` stops the script cleanly.
# (an array, not a function: `timeout` runs a program)
# (an array, not a function: `timeout` runs a program). It also leaves with os._exit once
# the program is done, so that no thread left waiting by the interrupt holds the exit.
INTERRUPTIBLE=("$PY" -c 'import os, runpy, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.argv = sys.argv[1:]
code = 0
try:
    if sys.argv[0] == "-m":
        sys.argv = sys.argv[1:]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as done:
    if done.code is not None and not isinstance(done.code, int):
        print(done.code, file=sys.stderr)
    code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
except BaseException:
    import traceback

    traceback.print_exc()
    code = 1
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)')

timeout -s INT -k 10 "$BENCH_SECONDS" "${INTERRUPTIBLE[@]}" bench/gpu.py --json "$OUT/gpu.json" \
  > "$OUT/bench.txt" 2>&1
bench_rc=$?

timeout -s INT -k 10 "$TEST_SECONDS" "${INTERRUPTIBLE[@]}" -m pytest -q -p no:cacheprovider -rfE \
  tests/test_cuda_*.py tests/test_kernels.py tests/test_kernels_pointwise.py \
  > "$OUT/tests.txt" 2>&1
tests_rc=$?

cat "$OUT/machine.txt"
echo "== bench (rc $bench_rc; 124 = stopped at ${BENCH_SECONDS}s)"
tail -n 45 "$OUT/bench.txt"
echo "== tests (rc $tests_rc; 2 or 124 = stopped at ${TEST_SECONDS}s)"
tail -n 30 "$OUT/tests.txt"
