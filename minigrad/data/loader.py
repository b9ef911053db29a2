"""``DataLoader``: a dataset cut into (optionally shuffled) mini-batches of Tensors."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from minigrad.data.dataset import Dataset, TensorDataset
from minigrad.data.sampler import global_seed, numpy_generator
from minigrad.data.workers import WorkerPool


def collate(samples: Sequence[Any]) -> Any:
    """Stack a list of examples into one batch, keeping the examples' structure.

    Tuples and lists are collated position by position, dicts key by key; Tensors are
    stacked along a new first dimension with ``minigrad.stack`` (so a graph through them is
    kept); numpy arrays and Python or numpy numbers become one Tensor of their numpy dtype.
    """
    from minigrad.tensor import Tensor

    first = samples[0]
    if isinstance(first, tuple | list):
        widths = {len(sample) for sample in samples}
        if len(widths) != 1:
            raise ValueError(f"collate: examples have different lengths {sorted(widths)}")
        return tuple(collate([sample[i] for sample in samples]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: collate([sample[key] for sample in samples]) for key in first}
    if isinstance(first, Tensor):
        import minigrad

        return minigrad.stack(list(samples), 0)
    if isinstance(first, np.ndarray | np.generic | int | float | bool):
        stacked = np.stack([np.asarray(sample) for sample in samples])
        return Tensor(stacked, dtype=stacked.dtype)
    raise TypeError(
        f"collate: cannot batch examples of type {type(first).__name__}; a dataset item must "
        "be a Tensor, numpy array, number, or a tuple/list/dict of those"
    )


class BatchFetcher:
    """Indices -> one batch: the same code in the main process and in every worker.

    A ``TensorDataset`` with the default collation is batched by indexing each whole
    tensor with the index array (one gather per tensor); anything else is read example by
    example and joined by ``collate_fn``.
    """

    def __init__(self, dataset: Dataset, collate_fn: Callable[[list[Any]], Any] | None) -> None:
        self.dataset = dataset
        self.collate_fn = collate if collate_fn is None else collate_fn
        self.gather_whole = collate_fn is None and isinstance(dataset, TensorDataset)

    def __call__(self, indices: np.ndarray) -> Any:
        if self.gather_whole:
            return tuple(tensor[indices] for tensor in self.dataset.tensors)
        return self.collate_fn([self.dataset[int(i)] for i in indices])


def _count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        expected = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` examples (PyTorch's arguments).

    * ``shuffle=True`` draws a fresh permutation each epoch from the loader's own numpy
      ``Generator``: ``generator`` when given (a ``numpy.random.Generator``, shared with
      the caller as PyTorch shares a ``torch.Generator``), else one seeded with ``seed``
      (the same seed gives the same batches, run after run). With neither, the seed comes
      from minigrad's global generator, so ``minigrad.manual_seed(s)`` before building the
      loader makes its shuffles repeat too (as in PyTorch).
    * ``drop_last=True`` drops the final batch when it is smaller than ``batch_size``.
    * ``sampler`` (indices, e.g. ``SubsetRandomSampler``) replaces ``shuffle``;
      ``batch_sampler`` (lists of indices) replaces ``batch_size``, ``shuffle``,
      ``sampler`` and ``drop_last``. The order then is the sampler's, and
      ``state_dict()`` resumes the position in the epoch but not the sampler's own
      random state.
    * ``collate_fn(list of examples) -> batch``; the default, :func:`collate`, stacks
      Tensors / arrays / numbers and keeps tuples, lists and dicts. A ``TensorDataset``
      with the default collation is batched by one gather per tensor, and its batch is a
      tuple of Tensors.
    * ``num_workers > 0`` reads and collates batches in that many worker processes
      (``multiprocessing``, the platform's default start method unless
      ``multiprocessing_context`` names one), ``prefetch_factor`` batches ahead per worker
      (default 2). The batches and their order are those of ``num_workers=0`` for any
      dataset whose items draw no random numbers: the main process still decides every
      batch's indices. Workers see ``get_worker_info()`` and run ``worker_init_fn(id)``
      first; each has its own seed for minigrad's, Python's and numpy's global
      generators. An exception in a worker is raised again here with the worker's
      traceback; a worker that dies raises ``RuntimeError``; ``timeout > 0`` seconds
      without a batch raises ``RuntimeError`` (``timeout`` and ``worker_init_fn`` warn
      that they do nothing when ``num_workers=0``). ``persistent_workers=True`` keeps the
      workers between epochs (they are seeded once, when they start). With spawned
      workers the dataset and ``collate_fn`` must be picklable.
    * ``pin_memory=True`` warns and changes nothing, as PyTorch does on a CPU-only build:
      minigrad does not page-lock host memory, so batches are ordinary numpy-backed
      Tensors and copies to a GPU are plain synchronous copies.
    * ``len(loader)`` is the number of batches per epoch.
    * ``state_dict()`` / ``load_state_dict()`` capture the generator and the position
      inside the current epoch, so a resumed training run sees exactly the batches the
      interrupted one would have seen next.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool | None = False,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: np.random.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        seed: int | None = None,
    ) -> None:
        _count(batch_size, "batch_size", 1)
        if batch_sampler is not None and (
            batch_size != 1 or shuffle or sampler is not None or drop_last
        ):
            raise ValueError(
                "batch_sampler is mutually exclusive with batch_size, shuffle, sampler and "
                "drop_last (as in PyTorch)"
            )
        if sampler is not None and shuffle:
            raise ValueError("sampler is mutually exclusive with shuffle (as in PyTorch)")
        for name, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
            if value is not None and not (hasattr(value, "__iter__") and hasattr(value, "__len__")):
                raise TypeError(f"{name} must define __iter__ and __len__, got {value!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"dataset must define __len__ and __getitem__, got {type(dataset).__name__}"
            )
        self.num_workers = _count(num_workers, "num_workers", 0)
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn must be callable, got {collate_fn!r}")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"worker_init_fn must be callable, got {worker_init_fn!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
            raise ValueError(f"timeout must be a number of seconds >= 0, got {timeout!r}")
        if self.num_workers == 0 and (
            prefetch_factor is not None or persistent_workers or multiprocessing_context
        ):
            raise ValueError(
                "prefetch_factor, persistent_workers and multiprocessing_context only apply "
                "to worker processes: they need num_workers > 0 (as in PyTorch)"
            )
        if self.num_workers == 0 and (timeout > 0 or worker_init_fn is not None):
            warnings.warn(
                "timeout and worker_init_fn have no effect with num_workers=0: there are no "
                "worker processes to wait for or to initialise (PyTorch ignores them too)",
                UserWarning,
                stacklevel=2,
            )
        if generator is not None and seed is not None:
            raise ValueError("give the loader a generator or a seed, not both")
        if generator is not None:
            generator = numpy_generator(generator)
        if pin_memory:
            warnings.warn(
                "pin_memory=True has no effect: minigrad does not pin host memory (as "
                "PyTorch on a CPU-only build); batches are ordinary tensors",
                UserWarning,
                stacklevel=2,
            )
        self.dataset = dataset
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.batch_size = None if batch_sampler is not None else batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.pin_memory = bool(pin_memory)
        self.timeout = float(timeout)
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = 2 if prefetch_factor is None else _count(
            prefetch_factor, "prefetch_factor", 1
        )
        self.persistent_workers = bool(persistent_workers)
        self.collate_fn = collate_fn
        self._fetch = BatchFetcher(dataset, collate_fn)
        self._pool: WorkerPool | None = None
        if generator is None:
            generator = np.random.default_rng(global_seed() if seed is None else seed)
        self.generator = generator
        # Generator state at the start of the running epoch (None between epochs) and the
        # batches of it already handed out: what state_dict() needs to resume mid-epoch.
        self._epoch_start_state: dict[str, Any] | None = None
        self._batches_done = 0
        self._resume_at = 0

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        count = len(self.dataset if self.sampler is None else self.sampler)
        if self.drop_last:
            return count // self.batch_size
        return math.ceil(count / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        self._epoch_start_state = self.generator.bit_generator.state
        start, self._resume_at = self._resume_at, 0
        index_lists = self._index_lists()[start:]
        if self.num_workers == 0:
            batches = map(self._fetch, index_lists)
        else:
            batches = self._from_workers(index_lists)
        for number, batch in enumerate(batches, start):
            self._batches_done = number + 1
            yield batch
        self._epoch_start_state = None
        self._batches_done = 0

    def _index_lists(self) -> list[np.ndarray]:
        """This epoch's batches as index arrays (the shuffle draws here, in the main process)."""
        if self.batch_sampler is not None:
            return [np.asarray(list(batch), dtype=np.int64) for batch in self.batch_sampler]
        if self.sampler is not None:
            order = np.asarray(list(self.sampler), dtype=np.int64)
        elif self.shuffle:
            order = self.generator.permutation(len(self.dataset))
        else:
            order = np.arange(len(self.dataset))
        size = self.batch_size
        return [order[batch * size : (batch + 1) * size] for batch in range(len(self))]

    def _from_workers(self, index_lists: list[np.ndarray]) -> Iterator[Any]:
        if self._pool is None:
            self._pool = WorkerPool(
                self._fetch,
                self.num_workers,
                self._worker_seeds(),
                self.worker_init_fn,
                self.multiprocessing_context,
                self.timeout,
                self.prefetch_factor,
            )
        try:
            yield from self._pool.batches(index_lists)
        except Exception:
            # A failed, dead or timed-out worker leaves the pool in an unknown state.
            self._pool.shutdown(wait=False)
            self._pool = None
            raise
        finally:
            if self._pool is not None and not self.persistent_workers:
                self._pool.shutdown()
                self._pool = None

    def _worker_seeds(self) -> list[int]:
        """Per-worker seeds derived from this epoch's generator state, drawing nothing.

        Drawing them from the generator would change the shuffles, and the batches must
        be those of ``num_workers=0``.
        """
        words = [ord(c) for c in repr(self._epoch_start_state)]
        sequence = np.random.SeedSequence(words)
        return [int(s) for s in sequence.generate_state(self.num_workers, np.uint64) >> 1]

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False)

    def state_dict(self) -> dict[str, Any]:
        """Where the loader stands: generator state at the epoch's start and batches done.

        Between epochs the state is the generator's current one and ``batches_done`` is 0,
        or, after ``load_state_dict`` and before the next ``iter``, the position still
        waiting to be resumed (so saving right after a resume keeps that place). The dict
        holds only ints and strings, so ``minigrad.save`` can store it.
        """
        if self._epoch_start_state is None:
            return {
                "generator": self.generator.bit_generator.state,
                "batches_done": self._resume_at,
            }
        return {"generator": self._epoch_start_state, "batches_done": self._batches_done}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from ``state_dict()``: the next ``iter(loader)`` continues that epoch."""
        batches_done = state["batches_done"]
        if not 0 <= batches_done <= len(self):
            raise ValueError(
                f"state_dict batches_done={batches_done} is outside 0..{len(self)} for this "
                "loader; was it saved from a loader over a different dataset or batch size?"
            )
        self.generator.bit_generator.state = state["generator"]
        self._epoch_start_state = None
        self._batches_done = 0
        self._resume_at = batches_done

    def __repr__(self) -> str:
        return (
            f"DataLoader({len(self.dataset)} examples, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, "
            f"num_workers={self.num_workers}, {len(self)} batches)"
        )
