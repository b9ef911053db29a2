"""Worker processes for ``DataLoader(num_workers > 0)``: read and collate batches in parallel.

The main process decides every batch's indices (its own generator shuffles, exactly as
with ``num_workers=0``) and sends ``(epoch, batch number, indices)`` to the workers in
turn; a worker reads the examples, collates them with the same ``BatchFetcher`` the
single-process loader uses, and sends the batch back; the main process hands batches out
in batch-number order. So the batches are the ones ``num_workers=0`` gives, for any
dataset whose ``__getitem__`` draws no random numbers.

Each worker seeds minigrad's generator, Python's ``random`` and numpy's legacy global
generator with its own seed (``get_worker_info().seed``), so random augmentations differ
between workers instead of repeating in each forked copy.
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# How long the main process waits on the result queue before checking that every worker
# is still alive (a worker killed by a signal never sends an error).
_POLL_SECONDS = 0.5
_SHUTDOWN_SECONDS = 5.0


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker process."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """This worker's id, count, seed and dataset copy; None in the main process."""
    return _worker_info


@dataclass(frozen=True)
class _WorkerFailure:
    """An exception raised in a worker, sent back as its type and formatted traceback."""

    worker_id: int
    error_type: type
    text: str

    def reraise(self) -> None:
        message = (
            f"Caught {self.error_type.__name__} in DataLoader worker process "
            f"{self.worker_id}.\nOriginal {self.text}"
        )
        try:
            error = self.error_type(message)
        except Exception:  # an exception class whose constructor takes other arguments
            error = RuntimeError(message)
        raise error


def _seed_worker(seed: int) -> None:
    from minigrad import random as minigrad_random

    minigrad_random.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


def _worker_loop(
    fetch: Any,
    index_queue: Any,
    result_queue: Any,
    worker_id: int,
    num_workers: int,
    seed: int,
    worker_init_fn: Callable[[int], None] | None,
) -> None:
    global _worker_info
    _seed_worker(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, fetch.dataset)
    init_failure = None
    if worker_init_fn is not None:
        try:
            worker_init_fn(worker_id)
        except Exception as error:
            init_failure = _WorkerFailure(worker_id, type(error), traceback.format_exc())
    while True:
        task = index_queue.get()
        if task is None:
            return
        epoch, number, indices = task
        if init_failure is not None:
            result_queue.put((epoch, number, init_failure))
            continue
        try:
            batch = fetch(indices)
        except Exception as error:
            batch = _WorkerFailure(worker_id, type(error), traceback.format_exc())
        result_queue.put((epoch, number, batch))


class WorkerPool:
    """``num_workers`` processes fetching batches; one pool may serve many epochs.

    ``fetch`` maps an index array to a batch and has a ``dataset`` attribute (a
    ``BatchFetcher``); it is inherited by forked workers and pickled for spawned ones.
    """

    def __init__(
        self,
        fetch: Any,
        num_workers: int,
        seeds: Sequence[int],
        worker_init_fn: Callable[[int], None] | None,
        context: Any,
        timeout: float,
        prefetch_factor: int,
    ) -> None:
        if context is None or isinstance(context, str):
            context = multiprocessing.get_context(context)
        self.timeout = timeout
        self.in_flight_limit = prefetch_factor * num_workers
        self.result_queue = context.Queue()
        self.index_queues = [context.Queue() for _ in range(num_workers)]
        self.workers = []
        self.epoch = 0
        for worker_id in range(num_workers):
            process = context.Process(
                target=_worker_loop,
                args=(
                    fetch,
                    self.index_queues[worker_id],
                    self.result_queue,
                    worker_id,
                    num_workers,
                    int(seeds[worker_id]),
                    worker_init_fn,
                ),
                daemon=True,
            )
            process.start()
            self.workers.append(process)

    def batches(self, index_lists: Sequence[np.ndarray]) -> Iterator[Any]:
        """The collated batches for ``index_lists``, in order."""
        self.epoch += 1
        epoch, sent, ready = self.epoch, 0, {}
        for number in range(len(index_lists)):
            while sent < len(index_lists) and sent < number + self.in_flight_limit:
                worker = sent % len(self.workers)
                self.index_queues[worker].put((epoch, sent, index_lists[sent]))
                sent += 1
            while number not in ready:
                result_epoch, result_number, batch = self._receive()
                if result_epoch == epoch:  # older epochs' leftovers (an early break) are dropped
                    ready[result_number] = batch
            batch = ready.pop(number)
            if isinstance(batch, _WorkerFailure):
                batch.reraise()
            yield batch

    def _receive(self) -> tuple[int, int, Any]:
        started = time.monotonic()
        while True:
            try:
                return self.result_queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                pass
            for worker_id, process in enumerate(self.workers):
                if not process.is_alive():
                    raise RuntimeError(
                        f"DataLoader worker {worker_id} (pid {process.pid}) exited "
                        f"unexpectedly with exit code {process.exitcode}"
                    )
            if self.timeout > 0 and time.monotonic() - started > self.timeout:
                raise RuntimeError(
                    f"DataLoader timed out after {self.timeout} seconds waiting for a batch"
                )

    def shutdown(self, wait: bool = True) -> None:
        """Ask every worker to stop, drain what they still send, and reap them.

        ``wait=False`` terminates them at once (after an error, nothing they hold matters).
        """
        for index_queue in self.index_queues:
            index_queue.put(None)
        deadline = time.monotonic() + (_SHUTDOWN_SECONDS if wait else 0.0)
        # A worker cannot exit while batches it queued are unread, so keep reading.
        while any(p.is_alive() for p in self.workers) and time.monotonic() < deadline:
            try:
                self.result_queue.get(timeout=0.05)
            except queue.Empty:
                pass
        for process in self.workers:
            if process.is_alive():
                process.terminate()
            process.join()
        for q in [*self.index_queues, self.result_queue]:
            q.cancel_join_thread()
            q.close()
        self.workers = []
