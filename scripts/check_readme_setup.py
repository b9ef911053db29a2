"""Run the README's set-up and quick-start commands as written, in a throwaway clone.

The README marks its set-up blocks with ``<!-- setup:NAME -->`` and the main job with
``<!-- quickstart -->``. This script copies the committed tree (``git clone`` of HEAD) into
a temporary folder, runs one set-up block there line by line with ``bash -e`` (so a fresh
virtual environment is created and the project installed into it exactly as a user would),
then, inside that environment, runs the README's Python quick tour and a few steps of the
quick-start command. A README that drifts from what works makes this exit non-zero.

    python scripts/check_readme_setup.py                # the Debian block (needs root, apt)
    python scripts/check_readme_setup.py --block pip    # pip alone, in a fresh venv
    python scripts/check_readme_setup.py --dry-run      # print what would run

CI (``.ci/run``) runs the Debian block. The quick-start command is shortened with
``--steps``/``--out`` only: a 13-minute training run has no place in CI.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"


def marked_block(readme_text: str, marker: str) -> str:
    """The body of the fenced code block that follows ``<!-- marker -->`` in the README."""
    match = re.search(
        rf"<!-- {re.escape(marker)} -->\s*```[a-z]*\n(.*?)```", readme_text, flags=re.S
    )
    if match is None:
        raise SystemExit(f"README.md has no code block marked <!-- {marker} -->")
    return match.group(1)


def python_quick_tour(readme_text: str) -> str:
    """The first ```python block of the README: the quick tour."""
    match = re.search(r"```python\n(.*?)```", readme_text, flags=re.S)
    if match is None:
        raise SystemExit("README.md has no ```python quick tour")
    return match.group(1)


def shortened_quickstart(readme_text: str, run_dir: str) -> list[str]:
    """The quick-start command, cut to a few rounds and pointed at a throwaway folder."""
    line = marked_block(readme_text, "quickstart").split("#", 1)[0].strip()
    return shlex.split(line) + ["--steps", "3", "--out", run_dir, "--no-progress"]


def run(command: str, cwd: Path, dry_run: bool) -> None:
    print(f"$ {command}", flush=True)
    if not dry_run:
        subprocess.run(["bash", "-e", "-c", command], cwd=cwd, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--block", default="debian", help="which setup:NAME block (default debian)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    args = parser.parse_args(argv)

    readme_text = README.read_text()
    setup_lines = [line for line in marked_block(readme_text, f"setup:{args.block}").splitlines()
                   if line.strip() and not line.lstrip().startswith("#")]
    with tempfile.TemporaryDirectory(prefix="readme-check-") as scratch:
        clone = Path(scratch) / "minigrad"
        run(f"git clone -q {shlex.quote(str(REPO))} {shlex.quote(str(clone))}", Path(scratch),
            args.dry_run)
        activate = ". .venv/bin/activate && "
        in_venv = args.block == "pip"
        if in_venv:
            # "in the virtual environment of your choice": a fresh venv stands for it.
            run("python3 -m venv .venv", clone, args.dry_run)
        for line in setup_lines:
            # Each line runs in a shell of its own, as at a user's next prompt, inside the
            # venv once a line has made it (the user's shell stays activated).
            run((activate if in_venv else "") + line, clone, args.dry_run)
            in_venv = in_venv or "python3 -m venv .venv" in line
        # The tour runs from a folder of its own: a script beside the clone (a folder named
        # "minigrad") would import that folder as a namespace package instead.
        tour = Path(scratch) / "tour" / "tour.py"
        tour.parent.mkdir()
        tour.write_text(python_quick_tour(readme_text))
        run(f"{activate}python {shlex.quote(str(tour))}", clone, args.dry_run)
        quickstart = shortened_quickstart(readme_text, str(Path(scratch) / "run"))
        run(activate + shlex.join(quickstart), clone, args.dry_run)
    print("README set-up and quick start: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
