"""The robustness report: reproducible, sane on an honest model, and loud on a model
whose gradients are masked."""

from __future__ import annotations

import copy
import json

import numpy as np
from adversarial_helpers import held_out_images, trained_cnn

import minigrad as mg
from adversarial.report import ReportOptions, render_markdown, robustness_report, write_report
from adversarial.sanity import headline, run_checks

TINY = ReportOptions(
    eps_grid=(0.0, 0.05, 0.1, 0.2),
    l2_grid=(0.0, 1.0, 2.0),
    pgd_steps=10,
    converge_steps=20,
    converge_restarts=2,
    num_examples=60,
    l2_examples=16,
    jsma_examples=3,
    batch_size=60,
)


def test_same_seed_same_report_and_the_checks_pass_on_an_honest_model(tmp_path) -> None:
    model = trained_cnn()
    x, y = held_out_images(100)
    first = robustness_report(model, x, y, TINY)
    mg.manual_seed(123)  # whatever ran before, the report seeds itself
    second = robustness_report(model, x, y, TINY)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert [c["passed"] for c in first["checks"]] == [True, None, True, True, True, True]
    assert first["headline"].startswith("All 5 sanity checks that ran passed")
    pgd = first["linf"]["attacks"]["PGD"]
    assert pgd["accuracy"][0] == first["clean_accuracy"]
    assert pgd["accuracy"][2] < 0.2  # eps = 0.1
    assert abs(pgd["mean_linf"][2] - 0.1) < 1e-3
    paths = write_report(first, tmp_path)
    assert all(path.stat().st_size > 0 for path in paths.values())
    assert json.loads(paths["json"].read_text()) == json.loads(json.dumps(first))
    assert paths["md"].read_text().startswith("**All 5 sanity checks")


class MaskedGradients:
    """A model that quantises its input before the real network and lets no gradient
    through: gradient-based attacks see ∇x = 0 (Athalye et al.'s "shattered gradients")."""

    def __init__(self, model) -> None:
        self.model = model

    def __call__(self, x: mg.Tensor) -> mg.Tensor:
        quantised = mg.tensor(np.round(x.detach().numpy() * 4) / 4)
        with mg.no_grad():
            logits = self.model(quantised)
        return logits + (x * 0).sum(dim=(1, 2, 3), keepdim=False).reshape(-1, 1)


def test_masked_gradients_fail_the_checklist_and_say_so_at_the_top() -> None:
    model = MaskedGradients(trained_cnn())
    x, y = held_out_images(100)
    report = robustness_report(model, x, y, TINY)
    failed = {c["check"] for c in report["checks"] if c["passed"] is False}
    assert "unbounded attack reaches ~100%" in failed
    assert "random noise of the same norm much weaker" in failed
    assert render_markdown(report).startswith("**WARNING:")


def test_each_check_fails_on_the_symptom_it_looks_for() -> None:
    model = trained_cnn()
    x, y = held_out_images(100)
    good = robustness_report(model, x, y, TINY, surrogate=trained_cnn())
    assert all(c["passed"] for c in good["checks"]), good["checks"]

    def failed_after(edit) -> set[str]:
        broken = copy.deepcopy(good)
        edit(broken)
        return {c["check"] for c in run_checks(broken) if c["passed"] is False}

    attacks = lambda r: r["linf"]["attacks"]  # noqa: E731
    assert failed_after(
        lambda r: attacks(r)["PGD"]["accuracy"].__setitem__(
            2, attacks(r)["FGSM"]["accuracy"][2] + 0.1
        )
    ) >= {"iterative >= single-step"}
    assert "white-box >= transfer" in failed_after(
        lambda r: attacks(r)["transfer PGD"]["accuracy"].__setitem__(2, 0.0)
    )
    assert "success non-decreasing in eps" in failed_after(
        lambda r: attacks(r)["FGSM"]["accuracy"].__setitem__(3, 0.9)
    )
    assert failed_after(lambda r: r["unbounded"].__setitem__("accuracy", 0.2)) == {
        "unbounded attack reaches ~100%"
    }
    assert failed_after(lambda r: r["convergence"].__setitem__("stronger_accuracy", -1.0)) == {
        "more steps/restarts change little"
    }
    assert "random noise of the same norm much weaker" in failed_after(
        lambda r: attacks(r)["random noise"].__setitem__(
            "accuracy", list(attacks(r)["PGD"]["accuracy"])
        )
    )
    assert headline([{"check": "x", "passed": False, "detail": ""}]).startswith("WARNING: 1 of 1")
