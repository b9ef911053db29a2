"""The robustness report: ``python -m adversarial report --checkpoint ...``.

Accuracy under every attack over an ε grid (L∞ and L2), clean accuracy, the mean size of
each attack's perturbations, C&W's minimal distances, JSMA's pixel counts, and the sanity
checklist of :mod:`adversarial.sanity` — written as ``report.json``, ``report.md`` (whose
first line says whether every check passed) and ``report.png``. Everything is seeded: the
same model, data and options give the same report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import minigrad as mg
from adversarial.attacks.carlini_wagner import carlini_wagner_l2
from adversarial.attacks.fgsm import clip_to_box, fgsm
from adversarial.attacks.jsma import jsma
from adversarial.attacks.objective import Model
from adversarial.attacks.pgd import bim, pgd
from adversarial.attacks.step_ll import iterative_ll, step_ll
from adversarial.sanity import headline, run_checks
from minigrad.images import save_line_plots
from minigrad.runs import write_text_atomically

Attack = Callable[[Model, mg.Tensor, mg.Tensor, float], mg.Tensor]
BOX = {"clip_min": 0.0, "clip_max": 1.0}


@dataclass
class ReportOptions:
    eps_grid: tuple[float, ...] = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
    l2_grid: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
    pgd_steps: int = 40
    reference_eps: float = 0.1  # where convergence is checked
    converge_steps: int = 100
    converge_restarts: int = 5
    num_examples: int = 1000
    l2_examples: int = 200  # C&W is the slow one: the L2 section uses the first n
    jsma_examples: int = 50
    batch_size: int = 500
    seed: int = 0


def _pgd_step(eps: float, steps: int) -> float:
    """α = 2.5 ε / steps (Madry et al.): the walk can cross the ball and come back."""
    return 2.5 * eps / steps


def linf_attacks(options: ReportOptions) -> dict[str, Attack]:
    """The ε-bounded L∞ attacks, each called with the true labels."""
    steps = options.pgd_steps
    return {
        "FGSM": lambda m, x, y, e: fgsm(m, x, y, eps=e, **BOX),
        "I-FGSM (BIM)": lambda m, x, y, e: bim(m, x, y, eps=e, **BOX),
        "PGD": lambda m, x, y, e: pgd(
            m, x, y, eps=e, step_size=_pgd_step(e, steps), steps=steps, **BOX
        ),
        "Step-LL": lambda m, x, y, e: step_ll(m, x, eps=e, **BOX),
        "Iter-LL": lambda m, x, y, e: iterative_ll(m, x, eps=e, **BOX),
        "random noise": lambda m, x, y, e: random_sign_noise(x, e),
    }


def l2_attacks(options: ReportOptions) -> dict[str, Attack]:
    steps = options.pgd_steps
    return {
        "FGM-L2": lambda m, x, y, e: fgsm(m, x, y, eps=e, norm=2, **BOX),
        "PGD-L2": lambda m, x, y, e: pgd(
            m, x, y, eps=e, step_size=_pgd_step(e, steps), steps=steps, norm=2, **BOX
        ),
    }


def random_sign_noise(x: mg.Tensor, eps: float) -> mg.Tensor:
    """x + ε · s, s uniform in {−1, +1}ⁿ (a corner of the L∞ ball, the same norm an
    attack uses), clipped to the box: the baseline every attack must beat by far."""
    signs = (mg.rand_like(x) > 0.5).to(x.dtype) * 2 - 1
    return clip_to_box(x + signs * eps, 0.0, 1.0)


def _batched(attack: Attack, model: Model, x, y, eps: float, batch: int) -> mg.Tensor:
    parts = [
        attack(model, x[i : i + batch], y[i : i + batch], eps) for i in range(0, len(x), batch)
    ]
    return mg.cat(parts, 0)


def _correct(model: Model, x: mg.Tensor, y: mg.Tensor, batch: int) -> np.ndarray:
    with mg.no_grad():
        predictions = [
            model(x[i : i + batch]).argmax(dim=1).numpy() for i in range(0, len(x), batch)
        ]
    return np.concatenate(predictions) == y.numpy()


def _curves(model, x, y, attacks, grid, batch) -> dict:
    """Accuracy and mean L∞ / L2 perturbation of each attack at each ε."""
    curves = {}
    for name, attack in attacks.items():
        curve = {"accuracy": [], "mean_linf": [], "mean_l2": []}
        for eps in grid:
            x_adv = _batched(attack, model, x, y, eps, batch)
            delta = (x_adv - x).reshape(len(x), -1)
            curve["accuracy"].append(float(_correct(model, x_adv, y, batch).mean()))
            curve["mean_linf"].append(float(delta.abs().amax(dim=1).mean().item()))
            curve["mean_l2"].append(float(delta.norm(dim=1).mean().item()))
        curves[name] = curve
    return curves


def robustness_report(
    model: Model,
    x: mg.Tensor,
    y: mg.Tensor,
    options: ReportOptions | None = None,
    surrogate: Model | None = None,
) -> dict:
    """Measure ``model`` on the first ``num_examples`` of (x, y); see the module docs.

    ``surrogate`` (optional): an independently trained model whose FGSM / PGD examples
    are transferred, for the white-box >= transfer check.
    """
    options = options or ReportOptions()
    mg.manual_seed(options.seed)
    x, y = x[: options.num_examples].detach(), y[: options.num_examples]
    batch = options.batch_size
    attacks = linf_attacks(options)
    if surrogate is not None:
        steps = options.pgd_steps
        attacks["transfer FGSM"] = lambda m, xb, yb, e: fgsm(surrogate, xb, yb, eps=e, **BOX)
        attacks["transfer PGD"] = lambda m, xb, yb, e: pgd(
            surrogate, xb, yb, eps=e, step_size=_pgd_step(e, steps), steps=steps, **BOX
        )
    report = {
        "examples": len(x),
        "clean_accuracy": float(_correct(model, x, y, batch).mean()),
        "linf": {"eps": list(options.eps_grid)},
        "options": asdict(options),
    }
    report["linf"]["attacks"] = _curves(model, x, y, attacks, options.eps_grid, batch)
    report["l2"] = _l2_section(model, x, y, options)
    report["jsma"] = _jsma_section(model, x, y, options)
    report["unbounded"] = _unbounded(model, x, y, options)
    report["convergence"] = _convergence(model, x, y, options)
    report["checks"] = run_checks(report)
    report["headline"] = headline(report["checks"])
    return report


def _l2_section(model: Model, x: mg.Tensor, y: mg.Tensor, options: ReportOptions) -> dict:
    """FGM-L2 / PGD-L2 over the L2 grid, and C&W: robust at radius r when C&W failed or
    needed more than r."""
    n = options.l2_examples
    xs, ys = x[:n], y[:n]
    section = {"eps": list(options.l2_grid), "examples": len(xs)}
    section["attacks"] = _curves(
        model, xs, ys, l2_attacks(options), options.l2_grid, options.batch_size
    )
    x_cw = carlini_wagner_l2(model, xs, ys, **BOX)
    distances = (x_cw - xs).reshape(len(xs), -1).norm(dim=1).numpy()
    fooled = ~_correct(model, x_cw, ys, options.batch_size)
    correct = _correct(model, xs, ys, options.batch_size)
    section["attacks"]["C&W-L2"] = {
        "accuracy": [
            float(np.mean(correct & ~(fooled & (distances <= r)))) for r in options.l2_grid
        ],
    }
    section["cw_success_rate"] = float(np.mean(fooled[correct])) if correct.any() else 0.0
    # Over the images the model got right and C&W flipped: an image misclassified to begin
    # with is "fooled" at distance ~0 and would drag the median down.
    flipped = correct & fooled
    section["cw_median_l2"] = float(np.median(distances[flipped])) if flipped.any() else math.inf
    return section


def _jsma_section(model: Model, x: mg.Tensor, y: mg.Tensor, options: ReportOptions) -> dict:
    """JSMA toward random other classes: success rate and pixels changed (L0)."""
    n = options.jsma_examples
    xs = x[:n]
    targets = (y[:n].numpy() + mg.randint(1, 10, (n,)).numpy()) % 10
    x_adv = jsma(model, xs, mg.tensor(targets), **BOX)
    with mg.no_grad():
        reached = model(x_adv).argmax(dim=1).numpy() == targets
    changed = ((x_adv - xs).reshape(n, -1).abs() > 1e-6).to(mg.float32).sum(dim=1).numpy()
    return {
        "examples": n,
        "success_rate": float(reached.mean()),
        "mean_pixels_changed": float(changed.mean()),
        "mean_fraction_changed": float(changed.mean() / xs[0].numel()),
    }


def _unbounded(model: Model, x: mg.Tensor, y: mg.Tensor, options: ReportOptions) -> dict:
    """PGD with ε = 1: the whole [0, 1] box, so any image is reachable."""
    eps, steps = 1.0, 100
    attack = lambda m, xb, yb, e: pgd(m, xb, yb, eps=e, step_size=0.05, steps=steps, **BOX)  # noqa: E731
    x_adv = _batched(attack, model, x, y, eps, options.batch_size)
    return {
        "eps": eps,
        "steps": steps,
        "accuracy": float(_correct(model, x_adv, y, options.batch_size).mean()),
    }


def _convergence(model: Model, x: mg.Tensor, y: mg.Tensor, options: ReportOptions) -> dict:
    """PGD as reported vs a much stronger PGD (more steps, random restarts) at one ε."""
    eps, steps = options.reference_eps, options.converge_steps
    restarts = options.converge_restarts
    stronger = lambda m, xb, yb, e: pgd(  # noqa: E731
        m, xb, yb, eps=e, step_size=_pgd_step(e, steps), steps=steps, restarts=restarts, **BOX
    )
    reported = linf_attacks(options)["PGD"]
    batch = options.batch_size
    return {
        "eps": eps,
        "steps": options.pgd_steps,
        "pgd_accuracy": float(
            _correct(model, _batched(reported, model, x, y, eps, batch), y, batch).mean()
        ),
        "stronger_steps": steps,
        "stronger_restarts": restarts,
        "stronger_accuracy": float(
            _correct(model, _batched(stronger, model, x, y, eps, batch), y, batch).mean()
        ),
    }


def render_markdown(report: dict) -> str:
    """The report as Markdown; the first line is the sanity checklist's verdict."""
    lines = [f"**{report['headline']}**", "", "# Robustness report", ""]
    lines.append(
        f"Clean accuracy: {report['clean_accuracy']:.4f} on {report['examples']} examples."
    )
    lines += ["", "## Sanity checklist", ""]
    for check in report["checks"]:
        mark = {True: "PASS", False: "FAIL", None: "SKIP"}[check["passed"]]
        lines.append(f"- {mark} — {check['check']}: {check['detail']}")
    for key, title in (("linf", "L∞ attacks (accuracy)"), ("l2", "L2 attacks (accuracy)")):
        section = report[key]
        lines += [
            "",
            f"## {title}",
            "",
            "| attack | " + " | ".join(f"ε={e:g}" for e in section["eps"]) + " |",
        ]
        lines.append("|---" * (len(section["eps"]) + 1) + "|")
        for name, curve in section["attacks"].items():
            cells = " | ".join(f"{a:.3f}" for a in curve["accuracy"])
            lines.append(f"| {name} | {cells} |")
    lines += ["", "## Mean perturbation size (L∞ attacks, L2 norm)", ""]
    for name, curve in report["linf"]["attacks"].items():
        lines.append(f"- {name}: " + ", ".join(f"{v:.3f}" for v in curve["mean_l2"]))
    l2, js = report["l2"], report["jsma"]
    lines += [
        "",
        f"C&W-L2 on {l2['examples']} examples: success {l2['cw_success_rate']:.3f} of the "
        f"correctly classified, median L2 {l2['cw_median_l2']:.3f}.",
        f"JSMA on {js['examples']} examples: target reached {js['success_rate']:.3f}, "
        f"{js['mean_pixels_changed']:.1f} pixels changed on average "
        f"({100 * js['mean_fraction_changed']:.1f}%).",
        "",
    ]
    return "\n".join(lines)


def write_report(report: dict, folder: str | Path) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and ``report.png`` into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / f"report.{kind}" for kind in ("json", "md", "png")}
    write_text_atomically(paths["json"], json.dumps(report, indent=2) + "\n")
    write_text_atomically(paths["md"], render_markdown(report))
    linf, l2 = report["linf"], report["l2"]
    # Two panels with different x axes (ε in L∞ and in L2) are two plots, stacked by name.
    save_line_plots(
        paths["png"],
        {"accuracy under L∞ attacks": {n: c["accuracy"] for n, c in linf["attacks"].items()}},
        x=linf["eps"],
        xlabel="L∞ eps",
    )
    save_line_plots(
        folder / "report_l2.png",
        {"accuracy under L2 attacks": {n: c["accuracy"] for n, c in l2["attacks"].items()}},
        x=l2["eps"],
        xlabel="L2 eps",
    )
    paths["png_l2"] = folder / "report_l2.png"
    return paths
