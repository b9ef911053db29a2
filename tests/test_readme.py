"""The README's set-up and quick start stay true: what CI runs in a throwaway venv
(scripts/check_readme_setup.py) is checked here for shape, and the quick tour runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import check_readme_setup as readme  # noqa: E402

README_TEXT = (REPO / "README.md").read_text()


def test_debian_setup_refreshes_package_lists_before_installing():
    # A fresh Debian/Ubuntu container has no package lists: install fails without update.
    block = readme.marked_block(README_TEXT, "setup:debian")
    assert block.index("apt-get update") < block.index("apt-get install")
    assert "dataset-fashion-mnist" in block
    # Debian 12's Python refuses pip installs outside a virtual environment (PEP 668).
    assert "python3 -m venv .venv" in block and '. .venv/bin/activate' in block


def test_pip_only_setup_is_one_line():
    lines = [line for line in readme.marked_block(README_TEXT, "setup:pip").splitlines() if line]
    assert lines == ['pip install -e ".[test]"']


def test_every_extra_the_readme_names_exists_in_pyproject():
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    table_rows = [line for line in README_TEXT.splitlines() if line.startswith("| `")]
    named = {row.split("`")[1] for row in table_rows}
    assert set(extras) <= named, f"extras missing from the README table: {set(extras) - named}"


def test_quickstart_command_is_the_main_job_and_shortens(tmp_path):
    argv = readme.shortened_quickstart(README_TEXT, str(tmp_path / "run"))
    assert argv[:4] == ["python", "-m", "gan", "train"]
    assert "--data" in argv and argv[argv.index("--data") + 1] == "fashion-mnist"


def test_quick_tour_runs_as_written(tmp_path):
    tour = tmp_path / "tour.py"
    tour.write_text(readme.python_quick_tour(README_TEXT))
    done = subprocess.run(
        [sys.executable, str(tour)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr


def test_dry_run_lists_setup_then_tour_then_main_job(capsys):
    assert readme.main(["--dry-run"]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("$ ")]
    assert "apt-get update" in printed[1]
    assert printed[-1].split("&& ")[-1].startswith("python -m gan train --data fashion-mnist")


@pytest.mark.parametrize("marker", ["setup:nowhere"])
def test_missing_block_is_a_clear_error(marker):
    with pytest.raises(SystemExit, match=marker):
        readme.marked_block(README_TEXT, marker)
