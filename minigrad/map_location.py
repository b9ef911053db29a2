"""``map_location``: where ``minigrad.load`` puts each tensor, in PyTorch's four spellings.

Every tensor in a checkpoint has the *location* it was saved from (PyTorch writes
``"cpu"`` or ``"cuda:0"`` per storage; our ``.npz`` files hold CPU tensors, ``"cpu"``).
``map_location`` says where it goes:

* ``None``: back where it was saved (``"cuda:0"`` is our ``"cuda"``);
* a device, ``"cpu"`` / ``"cuda"`` / ``"cuda:0"`` or a device object: everything there;
* a dict ``{saved location: device}``: the listed locations moved, the rest as ``None``;
* a callable ``fn(tensor, location) -> Tensor``: its result is used. PyTorch passes a
  storage; we pass the CPU tensor itself, so ``lambda storage, loc: storage`` (keep on
  the CPU) and ``lambda storage, loc: storage.cuda()`` work unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minigrad.devices import normalize_device
from minigrad.tensor import Tensor

_FORMS = (
    "map_location must be None, a device ('cpu', 'cuda', 'cuda:0' or a device object), "
    "a dict {saved location: device} or a callable (tensor, location) -> Tensor"
)


def _device_name(device: Any, what: str) -> str:
    """One of our device names, or an error naming ``what`` and the forms accepted."""
    # torch.device and our device objects print as their name ("cuda:0").
    if not isinstance(device, str) and not isinstance(getattr(device, "type", None), str):
        raise TypeError(f"{_FORMS}; got {what} {device!r} of type {type(device).__name__}")
    try:
        return normalize_device(str(device))
    except ValueError:
        raise ValueError(f"{_FORMS}; got {what} {str(device)!r}, which is no device") from None


def placer(map_location: Any) -> Callable[[Tensor, str], Tensor]:
    """A function ``(tensor on the CPU, saved location) -> tensor where it belongs``."""
    if map_location is None:
        return _place_by(lambda location: location)
    if isinstance(map_location, dict):
        targets = {
            str(saved): _device_name(device, f"map_location[{saved!r}]")
            for saved, device in map_location.items()
        }
        return _place_by(lambda location: targets.get(location, location))
    if callable(map_location) and not isinstance(map_location, type):
        return _place_with(map_location)
    device = _device_name(map_location, "map_location")
    return _place_by(lambda location: device)


def _place_by(target_of: Callable[[str], str]) -> Callable[[Tensor, str], Tensor]:
    def place(tensor: Tensor, location: str) -> Tensor:
        target = target_of(location)
        try:
            device = normalize_device(target)
        except ValueError:
            raise ValueError(
                f"a tensor was saved on {location!r}, a device minigrad does not have; "
                "pass map_location='cpu' (or a dict naming that location) to load it"
            ) from None
        if device == tensor.device:
            return tensor
        try:
            return tensor.to(device)
        except (ImportError, RuntimeError) as error:
            raise RuntimeError(
                f"a tensor saved on {location!r} needs device '{device}', which is not "
                f"available here ({error}); pass map_location='cpu' to load it on the CPU"
            ) from error

    return place


def _place_with(fn: Callable[[Tensor, str], Any]) -> Callable[[Tensor, str], Tensor]:
    def place(tensor: Tensor, location: str) -> Tensor:
        placed = fn(tensor, location)
        if placed is None:  # PyTorch: None means "the default place"
            return _place_by(lambda saved: saved)(tensor, location)
        if not isinstance(placed, Tensor) or placed.shape != tensor.shape:
            raise TypeError(
                f"map_location callable returned {type(placed).__name__} for a tensor of shape "
                f"{tensor.shape} saved on {location!r}; it must return a Tensor of that shape"
            )
        return placed.detach()

    return place
