"""Every walkthrough in docs/walkthroughs/ runs as a plain script and converts to a notebook."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parent.parent
WALKTHROUGHS = sorted((ROOT / "docs" / "walkthroughs").glob("[0-9][0-9]-*.py"))


def _fashion_mnist_installed() -> bool:
    try:
        mg.data.fashion_mnist("test", download=False, progress=False)
    except (OSError, ValueError):
        return False
    return True


def test_the_issue_s_seven_walkthroughs_are_there():
    assert len(WALKTHROUGHS) >= 7


@pytest.mark.parametrize("path", WALKTHROUGHS, ids=lambda p: p.stem)
def test_walkthrough_runs_as_a_script(path, tmp_path):
    source = path.read_text()
    if "minigrad.viz" in source:
        pytest.importorskip("graphviz")
    if "fashion_mnist" in source and not _fashion_mnist_installed():
        pytest.skip("Fashion-MNIST is not installed")
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        MINIGRAD_WALKTHROUGHS=str(tmp_path),
        MINIGRAD_WALKTHROUGH_QUICK="1",
        OPENBLAS_NUM_THREADS="1",
        MPLBACKEND="Agg",
    )
    result = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written, "a walkthrough writes its pictures into the run folder"
    assert not (ROOT / "docs" / "walkthroughs" / "runs").exists()


@pytest.mark.parametrize("path", WALKTHROUGHS, ids=lambda p: p.stem)
def test_walkthrough_converts_to_a_notebook_with_prose_and_code(path):
    jupytext = pytest.importorskip("jupytext")
    notebook = jupytext.read(path)
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds.count("markdown") >= 2 and kinds.count("code") >= 2
    assert kinds[0] == "markdown"  # the title and the lecture's quote come first
    text = jupytext.writes(notebook, fmt="ipynb")
    assert '"cell_type": "markdown"' in text
