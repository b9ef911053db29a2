"""``nn.parallel``: PyTorch's data-parallel spellings, for scripts that use them.

minigrad runs a model on one device, and data parallelism over one device is the model
itself: ``data_parallel(module, inputs)`` is ``module(*inputs)`` and ``DataParallel(m)``
is a wrapper whose forward calls ``m``. The wrapper keeps PyTorch's ``module.`` prefix in
``state_dict()`` keys, so checkpoints move between the two libraries unchanged. Asking
for more than one device raises, rather than quietly using one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minigrad.nn.module import Module


def _check_one_device(device_ids: Sequence[Any] | None, name: str) -> None:
    if device_ids is not None and len(list(device_ids)) > 1:
        raise ValueError(
            f"{name}: minigrad runs a model on one device, got device_ids={list(device_ids)!r}; "
            "pass None or a single device"
        )


def data_parallel(
    module: Module,
    inputs: Any,
    device_ids: Sequence[Any] | None = None,
    output_device: Any = None,
    dim: int = 0,
    module_kwargs: dict[str, Any] | None = None,
) -> Any:
    """``module(*inputs, **module_kwargs)``: the whole batch on the module's one device.

    ``output_device`` and ``dim`` only say where PyTorch gathers the pieces of a batch
    split over several devices; with one device there is nothing to split or gather.
    """
    _check_one_device(device_ids, "data_parallel")
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*inputs, **(module_kwargs or {}))


class DataParallel(Module):
    """Wraps ``module`` (as ``self.module``); forward calls it on the whole batch."""

    def __init__(
        self,
        module: Module,
        device_ids: Sequence[Any] | None = None,
        output_device: Any = None,
        dim: int = 0,
    ) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel wraps a Module, got {type(module).__name__}")
        _check_one_device(device_ids, "DataParallel")
        self.module = module
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)
