"""Experiment scripts behind the "Adversarial" section of ``docs/results.md``.

Each is ``python -m adversarial.experiments.<name>``, sized for a 2-core CPU (minutes),
resumable (training runs live in ``--runs``, default ``runs/adversarial/``), and writes
JSON + PNG into ``--results`` (``run_all.sh`` passes ``docs/results/adversarial/``).
The defences and the patch sizes are sweeps of independent runs (``minigrad.sweeps``:
``--workers N`` or ``--scheduler tcp://HOST:PORT``, docs/sweeps.md).
"""
