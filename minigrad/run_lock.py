"""One writer per run folder: a lock file holding the writer's process id.

``root/.lock`` is created with ``O_CREAT | O_EXCL`` (atomic: of two processes starting
at once exactly one succeeds) and holds ``<pid> <hostname>``. A second writer is refused
with :class:`~minigrad.run_errors.RunFolderBusy` naming that pid. A lock left behind by a
process that no longer exists (killed with ``kill -9``, a power cut) is *stale*: it is
removed and taken over. A lock written on another host cannot be checked and is treated
as live (run folders on shared network disks); the message says how to remove it.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from types import TracebackType

from minigrad.run_errors import RunFolderBusy

LOCK_NAME = ".lock"


class RunLock:
    """``with RunLock(root):`` holds ``root/.lock`` for the block (entering a lock already
    acquired with :meth:`acquire` keeps it, and the block's end releases it)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.path = Path(root) / LOCK_NAME
        self.held = False

    def acquire(self) -> None:
        if self.held:
            raise RuntimeError(f"{self.path} is already held by this process")
        for _ in range(3):  # a stale lock is removed once; the retry loop covers races
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = _owner(self.path)
                if owner is None or _alive(*owner):
                    raise RunFolderBusy(_busy_message(self.path, owner)) from None
                self.path.unlink(missing_ok=True)  # stale: its writer is gone
                continue
            with os.fdopen(descriptor, "w") as stream:
                stream.write(f"{os.getpid()} {socket.gethostname()}\n")
            self.held = True
            return
        raise RunFolderBusy(_busy_message(self.path, _owner(self.path)))

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> RunLock:
        if not self.held:
            self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _owner(path: Path) -> tuple[int, str] | None:
    """(pid, host) written in the lock; None while the writer has not finished writing it."""
    try:
        pid_text, host = path.read_text(encoding="utf-8").split()
        return int(pid_text), host
    except (OSError, ValueError):
        return None


def _alive(pid: int, host: str) -> bool:
    if host != socket.gethostname():
        return True  # cannot tell: assume it is running
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _busy_message(path: Path, owner: tuple[int, str] | None) -> str:
    who = "another process" if owner is None else f"process {owner[0]} on {owner[1]}"
    return (
        f"run folder {path.parent} is in use by {who} (lock file {path}); wait for it to "
        f"finish, choose another --out, or delete {path} if that process is gone"
    )
