"""Keep freed arrays in the process's heap, so that the next training step reuses them.

A training step allocates the same large arrays every time (activations, gradients,
im2col buffers: megabytes each) and frees them by the end. glibc's malloc serves a
block above its "mmap threshold" (128 KB at start, raised as such blocks are freed) with
a fresh ``mmap`` and gives it back with ``munmap`` on free, and it returns the top of the
heap to the system once more than the "trim threshold" of it is free. Either way the
next step's arrays are new pages, and the first write to each page is a page fault
that the kernel answers with a zeroed page. On this project's 2-core machine that cost
was most of the run-to-run spread: the MNIST CNN's max-pool backward took 3 or 12 ms
depending on which step it was, 1 ms once its memory was reused, and the whole CNN step
took 0.6 page faults instead of ~3,500 and 48-72 ms instead of 67-108 ms (medians of
alternating processes, bench/bench_heap.py; docs/performance.md).

So at import the CPU backend fixes both thresholds with ``mallopt``: blocks up to
:data:`MMAP_THRESHOLD` (the largest glibc accepts on 64-bit systems) come from the heap,
and up to :data:`TRIM_THRESHOLD` of free heap is kept for reuse. The price is that
memory freed after a step stays with the process (its peak RSS does not change).
Nothing is changed when the C library is not glibc, when the user already tunes malloc
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``GLIBC_TUNABLES``), or when
``MINIGRAD_KEEP_HEAP=0``.
"""

from __future__ import annotations

import ctypes
import os
import platform

#: The variable that turns the tuning off (``0``).
ENV_VAR = "MINIGRAD_KEEP_HEAP"
_USER_MALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")
# mallopt's parameter numbers, from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Blocks up to this size come from the heap: glibc refuses more than half its 64 MB heap.
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of the heap kept for reuse before any is returned.
TRIM_THRESHOLD = 256 << 20


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds for reuse; return whether they were set."""
    if os.environ.get(ENV_VAR) == "0" or any(name in os.environ for name in _USER_MALLOC_VARS):
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    # mallopt returns 1 on success; the mmap threshold goes first because setting either
    # one turns off glibc's own adjustment of both.
    return bool(
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
