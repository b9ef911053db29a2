"""The lecture's second half: adversarial examples, attacks and defences, on minigrad.

* :mod:`adversarial.attacks` — FGSM, BIM / I-FGSM, PGD, Step-LL, C&W-L2, JSMA, the patch.
* :mod:`adversarial.blackbox` — substitute training by Jacobian augmentation, transfer.
* :mod:`adversarial.defences` — adversarial training (Goodfellow, Madry, Wong), mixup,
  input-gradient regularisation.
* :mod:`adversarial.report` / :mod:`adversarial.sanity` — robustness report and checklist.
* ``python -m adversarial train | attack | report`` — the command line.
"""
