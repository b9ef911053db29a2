"""Every command quoted in README.md and docs/*.md still parses: the docs cannot drift.

Each ``python -m gan ...``, ``python -m adversarial ...``, ``python -m gan.experiments...``,
``python examples/....py`` or ``python bench/....py`` line found in a fenced block or an
inline code span is run as a *dry run*: the program starts for real, and its argument
parser's ``parse_args`` stops it (exit 0) right after the arguments parse. An unknown flag, a
renamed subcommand, a choice that no longer exists or a moved script exits non-zero, and
the test names the file and the command. (The README's set-up and main job run for real in
``scripts/check_readme_setup.py``.)
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

# Programs whose commands the docs quote; pytest and pip are not ours to check.
OURS = re.compile(r"^(-m (gan|adversarial)(\.[\w.]+)?|(examples|bench|scripts)/[\w/]+\.py)$")
COMMAND = re.compile(
    r"(?:^|`|\$ |&& )\s*((?:[A-Z_]+=\S+\s+)*python3?\s+(?:-m\s+[\w.]+|[\w/.]+\.py)[^`\n#|]*)",
    flags=re.M,
)

# Runs the program with argparse's parsing replaced by "parse, then stop". A script that
# parses no arguments (so would run for real, writing its results) is only compiled.
DRY_RUN = """
import argparse, py_compile, runpy, sys
target, argv = sys.argv[1], sys.argv[2:]
if target.endswith(".py") and "argparse" not in open(target).read():
    if argv:
        sys.exit(f"{target} takes no arguments, but is quoted with {argv}")
    py_compile.compile(target, doraise=True)
    sys.exit(0)
parse = argparse.ArgumentParser.parse_known_args
def parse_then_stop(self, args=None, namespace=None):
    parse(self, args, namespace)
    raise SystemExit(0)
argparse.ArgumentParser.parse_known_args = parse_then_stop
sys.argv = [target, *argv]
if target.endswith(".py"):
    runpy.run_path(target, run_name="__main__")
else:
    runpy.run_module(target, run_name="__main__", alter_sys=True)
sys.exit(f"{target} finished without parsing its arguments")
"""


def quoted_commands() -> list[tuple[str, str]]:
    """(file, command) for each of our commands the docs quote, continuation lines joined."""
    found: dict[tuple[str, str], None] = {}
    for doc in DOC_FILES:
        text = doc.read_text().replace("\\\n", " ")
        for match in COMMAND.finditer(text):
            command = " ".join(match.group(1).split())
            words = shlex.split(command)
            while "=" in words[0]:  # environment assignments such as OPENBLAS_NUM_THREADS=1
                words.pop(0)
            program = " ".join(words[1:3]) if words[1] == "-m" else words[1]
            bare_name = words[1:] == ["-m", "gan"] or words[1:] == ["-m", "adversarial"]
            placeholder = any(mark in command for mark in ("<", "...", "…"))
            if OURS.match(program) and not bare_name and not placeholder:
                found[(doc.name, command)] = None
    return list(found)


COMMANDS = quoted_commands()


def test_the_docs_quote_our_commands():
    # The extraction itself must keep finding the README's main job and entry points.
    quoted = {command for _, command in COMMANDS}
    assert "python -m gan train --data fashion-mnist" in quoted
    assert any(command.startswith("python -m adversarial report") for command in quoted)
    assert len(COMMANDS) >= 15


@pytest.mark.parametrize(("doc", "command"), COMMANDS, ids=[f"{d}: {c}" for d, c in COMMANDS])
def test_quoted_command_parses(doc, command):
    words = shlex.split(command)
    while "=" in words[0]:
        words.pop(0)
    target = words[2] if words[1] == "-m" else words[1]
    argv = words[3:] if words[1] == "-m" else words[2:]
    done = subprocess.run(
        [sys.executable, "-c", DRY_RUN, target, *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{doc} quotes `{command}`, which fails:\n{done.stderr[-2000:]}"
