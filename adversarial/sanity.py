"""The sanity checklist of a robustness report, after Carlini et al. (2019), "On Evaluating
Adversarial Robustness": symptoms that an evaluation, not the model, is broken.

Each check reads the measurements in a report dict and returns a pass/fail line. A failed
check does not prove the numbers wrong, but it means they may overstate robustness —
most often through gradient masking, too few attack steps, or a bug in the attack.
"""

from __future__ import annotations

from typing import Any

TOLERANCE = 0.01  # one point of accuracy: sampling noise on ~1,000 examples


def tolerance(examples: int) -> float:
    """Slack for comparing two accuracies measured on ``examples`` examples: one point,
    or one and a half examples' worth on small evaluations (where one example flipping
    between two random starts moves accuracy by more than a point)."""
    return max(TOLERANCE, 1.5 / max(examples, 1))


def _check(name: str, passed: bool | None, detail: str) -> dict[str, Any]:
    return {"check": name, "passed": passed, "detail": detail}


def iterative_beats_single_step(report: dict) -> dict[str, Any]:
    """PGD's accuracy <= FGSM's at every ε (an iterative attack contains the one-step one)."""
    linf = report["linf"]
    fgsm, pgd = linf["attacks"]["FGSM"]["accuracy"], linf["attacks"]["PGD"]["accuracy"]
    slack = tolerance(report["examples"])
    bad = [eps for eps, a, b in zip(linf["eps"], fgsm, pgd, strict=True) if b > a + slack]
    detail = (
        "PGD accuracy <= FGSM accuracy at every eps"
        if not bad
        else (f"PGD is weaker than FGSM at eps {bad}: PGD is not converging (step size, steps)")
    )
    return _check("iterative >= single-step", not bad, detail)


def whitebox_beats_transfer(report: dict) -> dict[str, Any]:
    """White-box PGD accuracy <= accuracy under transfer from a surrogate, at every ε."""
    attacks = report["linf"]["attacks"]
    if "transfer PGD" not in attacks:
        return _check("white-box >= transfer", None, "skipped: no surrogate model was given")
    pgd, transfer = attacks["PGD"]["accuracy"], attacks["transfer PGD"]["accuracy"]
    slack = tolerance(report["examples"])
    bad = [
        eps for eps, a, b in zip(report["linf"]["eps"], pgd, transfer, strict=True) if a > b + slack
    ]
    detail = (
        "white-box PGD at least as strong as transfer at every eps"
        if not bad
        else (
            f"transferred examples beat white-box PGD at eps {bad}: the model's own gradients "
            "are uninformative (gradient masking)"
        )
    )
    return _check("white-box >= transfer", not bad, detail)


def monotone_in_eps(report: dict) -> dict[str, Any]:
    """Accuracy never rises with ε, for every attack (a larger ball contains the smaller)."""
    bad = []
    for norm in ("linf", "l2"):
        section = report.get(norm)
        if section is None:
            continue
        slack = tolerance(section.get("examples", report["examples"]))
        for name, curve in section["attacks"].items():
            values = curve["accuracy"]
            rises = [
                section["eps"][i + 1]
                for i in range(len(values) - 1)
                if values[i + 1] > values[i] + slack
            ]
            if rises:
                bad.append(f"{name} ({norm}) rises at eps {rises}")
    detail = "accuracy non-increasing in eps for every attack" if not bad else "; ".join(bad)
    return _check("success non-decreasing in eps", not bad, detail)


def unbounded_attack_succeeds(report: dict) -> dict[str, Any]:
    """With ε covering the whole input box, PGD must reach (almost) 0% accuracy."""
    accuracy = report["unbounded"]["accuracy"]
    passed = accuracy <= TOLERANCE
    detail = f"PGD with eps={report['unbounded']['eps']} leaves accuracy {accuracy:.3f}" + (
        "" if passed else ": an unbounded attack must always succeed — the attack is broken"
    )
    return _check("unbounded attack reaches ~100%", passed, detail)


def attack_converged(report: dict) -> dict[str, Any]:
    """More steps and random restarts move PGD accuracy by at most 2 points."""
    conv = report["convergence"]
    gap = conv["pgd_accuracy"] - conv["stronger_accuracy"]
    passed = gap <= 2 * tolerance(report["examples"])
    detail = (
        f"eps={conv['eps']}: PGD-{conv['steps']} {conv['pgd_accuracy']:.3f} vs "
        f"PGD-{conv['stronger_steps']} x {conv['stronger_restarts']} restarts "
        f"{conv['stronger_accuracy']:.3f}"
    ) + ("" if passed else ": the reported PGD numbers are not converged")
    return _check("more steps/restarts change little", passed, detail)


def noise_is_weaker(report: dict) -> dict[str, Any]:
    """Random ±ε noise must cost at most half of what PGD costs, at every ε > 0."""
    linf = report["linf"]
    clean = report["clean_accuracy"]
    noise = linf["attacks"]["random noise"]["accuracy"]
    pgd = linf["attacks"]["PGD"]["accuracy"]
    bad = [
        eps
        for eps, n, p in zip(linf["eps"], noise, pgd, strict=True)
        if eps > 0 and clean - n > max(0.5 * (clean - p), tolerance(report["examples"]))
    ]
    detail = (
        "random noise of the same L∞ norm is much weaker than PGD"
        if not bad
        else (
            f"random noise is nearly as strong as PGD at eps {bad}: the attack is no better "
            "than chance"
        )
    )
    return _check("random noise of the same norm much weaker", not bad, detail)


CHECKS = (
    iterative_beats_single_step,
    whitebox_beats_transfer,
    monotone_in_eps,
    unbounded_attack_succeeds,
    attack_converged,
    noise_is_weaker,
)


def run_checks(report: dict) -> list[dict[str, Any]]:
    """Every check's result: passed True / False, or None when it could not run."""
    return [check(report) for check in CHECKS]


def headline(checks: list[dict[str, Any]]) -> str:
    """The first line of a report: all passed, or which checks failed."""
    failed = [c["check"] for c in checks if c["passed"] is False]
    skipped = [c["check"] for c in checks if c["passed"] is None]
    if failed:
        return (
            f"WARNING: {len(failed)} of {len(checks)} sanity checks FAILED ({', '.join(failed)}): "
            "these numbers may overstate robustness."
        )
    text = f"All {len(checks) - len(skipped)} sanity checks that ran passed."
    return text + (f" Skipped: {', '.join(skipped)}." if skipped else "")
