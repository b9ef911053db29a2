"""Experiment scripts behind the "Adversarial" section of ``docs/results.md``.

Each is ``python -m adversarial.experiments.<name>``, sized for a 2-core CPU (minutes),
resumable (training runs live in ``runs/adversarial/``), and writes JSON + PNG into
``docs/results/adversarial/``.
"""
