"""What every ``python -m gan`` / ``python -m adversarial`` command does with a mistake.

* :class:`ArgumentParser` prints an argument error as *one* line (``prog: error: ...
  (see --help)``) instead of the usage block, and exits with status 2.
* :func:`run_command` runs a command's body and turns the failures a user can act on into
  one line on stderr: mistakes (:class:`~minigrad.run_errors.RunError`, a bad value
  ``ValueError``, a missing or misplaced file) exit 2; a diverged run, a full disk and
  too little memory exit 1. Anything else is a bug and keeps its traceback.
* :func:`given_options` tells which options the user typed, so ``--resume`` compares
  only those with the run's own (a default is not a request to change anything).
* :func:`deprecated_alias` keeps an old option spelling working with a one-line note.
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from minigrad.data import DownloadError
from minigrad.run_errors import Diverged, RunError

# A value or path the user gave is wrong: exit 2, one line.
USER_MISTAKES: tuple[type[BaseException], ...] = (
    RunError,
    ValueError,
    FileNotFoundError,
    FileExistsError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
)
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are one line (subparsers inherit it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        # argparse drops a "--" value (``--steps=--``) and hands the option an empty list.
        if action.nargs is None and action.option_strings and arg_strings == ["--"]:
            self.error(f"argument {'/'.join(action.option_strings)}: expected a value, got '--'")
        return super()._get_values(action, arg_strings)


def run_command(prog: str, body: Callable[[], int | None]) -> int:
    """``body()``'s status, or a one-line message on stderr and ``SystemExit(1 or 2)``."""
    try:
        return body() or 0
    except Diverged as error:
        _exit(1, f"{prog}: stopped: {error}")
    except OSError as error:
        if error.errno in _DISK_FULL:
            where = f" writing {error.filename}" if error.filename else ""
            _exit(
                1,
                f"{prog}: error: {error.strerror or 'disk full'}{where}; files written before "
                "are intact: free some space and rerun with --resume",
            )
        if isinstance(error, (*USER_MISTAKES, DownloadError)):
            _exit(2, f"{prog}: error: {_one_line(error)}")
        raise
    except USER_MISTAKES as error:
        _exit(2, f"{prog}: error: {_one_line(error)}")
    except MemoryError:
        _exit(1, f"{prog}: error: not enough memory; ask for less (smaller --n or --batch-size)")
    except KeyboardInterrupt:
        _exit(130, f"{prog}: interrupted; what was checkpointed is kept (resume with --resume)")


def given_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The ``dest`` names of the options that appear in ``argv`` (``--x v`` or ``--x=v``).

    ``parser`` must be built with ``allow_abbrev=False`` so that every option in ``argv``
    is spelled in full.
    """
    by_flag = {
        flag: action.dest
        for action in parser._actions  # argparse has no public view of its actions
        for flag in action.option_strings
    }
    given = set()
    for token in argv:
        if token == "--":
            break
        flag = token.split("=", 1)[0]
        if flag in by_flag:
            given.add(by_flag[flag])
    return given


def deprecated_alias(new: str, old: str) -> type[argparse.Action]:
    """An action for the hidden old spelling ``old`` of option ``new``: stores the value
    in the same ``dest`` and prints a one-line deprecation note on stderr."""

    class _Alias(argparse._StoreAction):
        def __call__(
            self,
            parser: argparse.ArgumentParser,
            namespace: argparse.Namespace,
            values: Any,
            option_string: str | None = None,
        ) -> None:
            print(f"note: {old} is deprecated; use {new}", file=sys.stderr)
            super().__call__(parser, namespace, values, option_string)

    return _Alias


def _one_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror and error.filename:
        text = f"{error.strerror}: {error.filename}"  # not "[Errno 2] ..."
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())


def _exit(code: int, message: str) -> NoReturn:
    print(message, file=sys.stderr, flush=True)
    raise SystemExit(code)
