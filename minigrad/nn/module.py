"""Module: the base class of layers and models, with PyTorch's registration rules.

Assigning a ``Parameter`` or a ``Module`` to an attribute registers it; tensors that are
state but not learnable (BatchNorm's running statistics) are registered with
``register_buffer``. Everything else (``parameters()``, ``state_dict()``, ``to()``, ...)
walks those three registries, so a model is just a tree of modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from minigrad.autograd import no_grad
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` did not match: keys the module expected and keys it did not."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _add_indent(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first, for nested reprs."""
    lines = text.split("\n")
    return "\n".join([lines[0]] + [" " * spaces + line for line in lines[1:]])


class Module:
    """Base class of all layers: subclass it, assign sub-layers in ``__init__``, write forward."""

    training: bool

    def __init__(self) -> None:
        # object.__setattr__ because our own __setattr__ reads these registries.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{type(self).__name__} must define forward(...) to be called")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ----------------------------------------------------------------- registration
    def _registries(self) -> tuple[dict, dict, dict]:
        try:
            return (
                self.__dict__["_parameters"],
                self.__dict__["_buffers"],
                self.__dict__["_modules"],
            )
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__}.__init__ must call super().__init__() "
                "before assigning attributes"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        params, buffers, modules = self._registries()
        if isinstance(value, Parameter):
            self._discard(name)
            params[name] = value
        elif isinstance(value, Module):
            self._discard(name)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to parameter {name!r}: "
                    "expected a Parameter or None"
                )
            params[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} to buffer {name!r}: "
                    "expected a Tensor or None"
                )
            buffers[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to submodule {name!r}: "
                    "expected a Module or None"
                )
            modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails, i.e. for registered names.
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if not self._discard(name):
            object.__delattr__(self, name)

    def _discard(self, name: str) -> bool:
        """Remove ``name`` from every registry and the instance dict; True if it was registered."""
        found = False
        for entries in self._registries():
            if name in entries:
                del entries[name]
                found = True
        self.__dict__["_non_persistent_buffers"].discard(name)
        self.__dict__.pop(name, None)
        return found

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register non-learnable state; persistent buffers are saved in ``state_dict``."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"buffer {name!r} must be a Tensor or None, got {type(tensor).__name__}"
            )
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"buffer name must be a non-empty string without '.', got {name!r}")
        self._discard(name)
        self._registries()[1][name] = tensor
        if not persistent:
            self.__dict__["_non_persistent_buffers"].add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or a None placeholder, e.g. a disabled bias) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"parameter {name!r} must be a Parameter or None, got {type(param).__name__}"
            )
        self._discard(name)
        self._registries()[0][name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child called ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"child {name!r} must be a Module or None, got {type(module).__name__}")
        self._discard(name)
        self._registries()[2][name] = module

    # ------------------------------------------------------------------- traversal
    def named_modules(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every descendant, depth first, with dotted names.

        A module reachable by two paths is yielded once unless ``remove_duplicate`` is False
        (``state_dict`` lists every path, as PyTorch does).
        """
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate and id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{child_name}" if name else child_name, child)
                for child_name, child in module._modules.items()
                if child is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry: str) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()  # a tensor shared by two layers is yielded once
        for module_name, module in self.named_modules():
            for name, tensor in getattr(module, registry).items():
                if tensor is None or id(tensor) in seen:
                    continue
                seen.add(id(tensor))
                yield (f"{module_name}.{name}" if module_name else name), tensor

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        yield from self._named_members("_parameters")  # type: ignore[misc]

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers")

    def buffers(self) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers():
            yield buffer

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every descendant, then on this module (children first, like PyTorch)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and all descendants (Dropout, BatchNorm read it)."""
        if not isinstance(mode, bool):
            raise TypeError(f"mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient, or zero it in place when ``set_to_none`` is False."""
        for param in self.parameters():
            zero_param_grad(param, set_to_none)

    # ----------------------------------------------------------- device and dtype
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move and/or cast parameters and buffers in place, with PyTorch's spellings.

        ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` (its device
        and dtype) or the keywords ``device=``, ``dtype=``; ``non_blocking`` is accepted
        and has no effect (every copy is synchronous). A device is anything whose
        ``str()`` names one ("cpu", "cuda", "cuda:0", a device object).

        Parameters keep their identity (optimizers holding them stay valid); only floating
        tensors are cast, so integer buffers such as ``num_batches_tracked`` stay int64.
        """
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"Module.to() got unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, (np.dtype, type)):
                dtype = arg
            else:
                device = arg
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"Module.to(dtype) needs a floating dtype, got {dtype}")
        targets = [t for t in (dtype, None if device is None else str(device)) if t is not None]
        with no_grad():
            for tensor in [*self.parameters(), *self.buffers()]:
                for target in targets:
                    if isinstance(target, np.dtype) and tensor.dtype.kind != "f":
                        continue
                    _move_in_place(tensor, target)
                    if tensor.grad is not None:
                        tensor.grad = tensor.grad.to(target)
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Module:
        """Move to the GPU (``device`` may name it, e.g. "cuda:0")."""
        return self.to("cuda" if device is None else device)

    # -------------------------------------------------------------- state dicts
    def state_dict(self) -> dict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name, detached, sharing storage."""
        state: dict[str, Tensor] = {}
        for module_name, module in self.named_modules(remove_duplicate=False):
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    state[prefix + name] = param.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers:
                    state[prefix + name] = buffer.detach()
        return state

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values (Tensors or arrays) into this module's parameters and buffers in place.

        Shapes must match exactly. With ``strict`` the key sets must match too; otherwise the
        keys that did not match are returned as ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict of name -> tensor, got {type(state_dict)}")
        own = self.state_dict()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        if strict and (missing or unexpected):
            raise KeyError(
                f"error loading state_dict into {type(self).__name__}: "
                f"missing keys {missing}, unexpected keys {unexpected}"
            )
        targets = dict(self._named_state_tensors())
        with no_grad():
            for key, value in state_dict.items():
                if key not in targets:
                    continue
                target = targets[key]
                # Through numpy, so a checkpoint from any device or precision loads; copy_
                # casts to the target's dtype on the target's device.
                source = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
                if tuple(source.shape) != tuple(target.shape):
                    raise ValueError(
                        f"size mismatch for {key!r}: the checkpoint has shape "
                        f"{tuple(source.shape)}, the module has shape {tuple(target.shape)}"
                    )
                target.copy_(source)
        return IncompatibleKeys(missing, unexpected)

    def _named_state_tensors(self) -> Iterator[tuple[str, Tensor]]:
        """The live tensors behind ``state_dict()``'s keys (not detached copies)."""
        for module_name, module in self.named_modules(remove_duplicate=False):
            prefix = f"{module_name}." if module_name else ""
            for registry in (module._parameters, module._buffers):
                for name, tensor in registry.items():
                    if tensor is not None:
                        yield prefix + name, tensor

    # ------------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """The arguments shown inside this module's parentheses; layers override it."""
        return ""

    def __repr__(self) -> str:
        lines = [line for line in [self.extra_repr()] if line]
        lines += [
            f"({name}): {_add_indent(repr(child), 2)}" for name, child in self._modules.items()
        ]
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"


def zero_param_grad(param: Tensor, set_to_none: bool) -> None:
    """Drop ``param.grad``, or cut it from any graph and zero its storage in place (PyTorch's
    ``set_to_none=False``: the same gradient tensor is reused by the next backward)."""
    grad = param.grad
    if grad is None:
        return
    if set_to_none:
        param.grad = None
        return
    grad.detach_()
    with no_grad():
        grad.zero_()


def _move_in_place(tensor: Tensor, target: str | np.dtype) -> None:
    """Swap ``tensor``'s array for one on the target device or dtype, keeping the object."""
    moved = tensor.detach().to(target)
    tensor._data, tensor.device = moved._data, moved.device
    tensor._version += 1  # the old values are gone
