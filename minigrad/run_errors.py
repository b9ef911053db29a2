"""What can go wrong with a run, as exception types a command line can tell apart.

* :class:`RunError` and its kinds are mistakes the user can fix (a folder already in use,
  options that differ from the run being resumed, an unreadable checkpoint). A command
  line prints their message as one line and exits with status 2.
* :class:`Diverged` is a run that produced a non-finite number: the run stops, its last
  good checkpoint is kept, and a command line prints one line and exits with status 1.

Each kind also derives from the built-in exception it refines (``FileExistsError``,
``ValueError``, ...), so code written against the built-ins keeps working.
"""

from __future__ import annotations


class RunError(Exception):
    """A problem with a run folder or checkpoint that the user can fix; one line."""


class RunFolderBusy(RunError):
    """Another live process holds the run folder's lock."""


class RunFolderOccupied(RunError, FileExistsError):
    """The folder already holds a run (or something else) and ``--resume`` was not given."""


class NothingToResume(RunError, FileNotFoundError):
    """``--resume`` was given but the folder holds no run."""


class OptionsChanged(RunError, ValueError):
    """``--resume`` with options that differ from the run's own."""


class CheckpointError(RunError, ValueError):
    """A checkpoint file that cannot be read, or that belongs to another kind of run."""


class Diverged(RuntimeError):
    """A loss, gradient or weight became NaN or infinite; the message says which and when."""
