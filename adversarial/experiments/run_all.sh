#!/bin/sh
# Every measurement of docs/results.md's "Adversarial" section, one after another (the
# machine's 2 cores are shared: never two at once). Logs go to runs/adversarial/*.log.
# Elsewhere, the sweeps take --workers N or --scheduler tcp://HOST:PORT (docs/sweeps.md).
# Single-threaded BLAS: on 2 busy cores OpenBLAS's spinning threads cost far more than
# they give (the attack tests took 11 minutes with them, 80 s without).
set -e
export OPENBLAS_NUM_THREADS=1
mkdir -p runs/adversarial docs/results/adversarial
run() { name=$1; shift; nice -n 10 python "$@" > "runs/adversarial/$name.log" 2>&1; }
out=docs/results/adversarial
run defences -m adversarial.experiments.defences --results $out
run defences-last -m adversarial.experiments.defences --selection last --results $out
run blackbox -m adversarial.experiments.blackbox_transfer --results $out
run patch -m adversarial.experiments.patch_sizes --results $out
run report-undefended -m adversarial report --checkpoint runs/adversarial/undefended \
    --surrogate runs/adversarial/mixup --out docs/results/adversarial/report-undefended
run report-pgd -m adversarial report --checkpoint runs/adversarial/pgd \
    --surrogate runs/adversarial/undefended --out docs/results/adversarial/report-pgd
