"""Sequential and ModuleList: modules that hold other modules under the names "0", "1", ...

Children live in the ordinary ``_modules`` registry, so parameters, state_dict keys
("0.weight", "1.bias") and ``to()`` work with no extra code here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from minigrad.nn.fusion import fused_forward
from minigrad.nn.module import Module


def _check_module(module: object, where: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{where} takes Modules, got {type(module).__name__}")
    return module


class _IndexedModules(Module):
    """Integer indexing, len and iteration over the children, in registration order."""

    def _index(self, index: int) -> str:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"index must be an int or a slice, got {type(index).__name__}")
        size = len(self._modules)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range for {type(self).__name__} of {size}")
        return list(self._modules)[index % size]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __setitem__(self, index: int, module: Module) -> None:
        self._modules[self._index(index)] = _check_module(module, type(self).__name__)

    def __delitem__(self, index: int | slice) -> None:
        names = list(self._modules)
        doomed = names[index] if isinstance(index, slice) else [self._index(index)]
        for name in doomed:
            del self._modules[name]
        # Renumber so that names stay "0".."n-1", as PyTorch does.
        kept = list(self._modules.values())
        self._modules.clear()
        for position, module in enumerate(kept):
            self._modules[str(position)] = module

    def append(self, module: Module) -> _IndexedModules:
        self.add_module(str(len(self)), _check_module(module, type(self).__name__))
        return self


class Sequential(_IndexedModules):
    """Chains modules: forward(x) = m_n(...m_2(m_1(x))).

    A BatchNorm, Conv2d or ConvTranspose2d followed by ReLU, LeakyReLU, Tanh or Sigmoid
    runs as one fused op with the same values (minigrad/nn/fusion.py).

    Built from modules in order, ``Sequential(Linear(2, 3), ReLU())``, or from a dict of
    name -> module, whose names become the state_dict prefixes.
    """

    def __init__(self, *modules: Module | dict[str, Module]):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, module in modules[0].items():
                self.add_module(name, _check_module(module, "Sequential"))
        else:
            for position, module in enumerate(modules):
                self.add_module(str(position), _check_module(module, "Sequential"))

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return Sequential(dict(list(self._modules.items())[index]))
        return self._modules[self._index(index)]

    def forward(self, x: Any) -> Any:
        # A layer and the activation after it run as one fused op where that gives the
        # same values with fewer kernels (minigrad/nn/fusion.py); all else one by one.
        modules = list(self)
        index = 0
        while index < len(modules):
            fused = None
            if index + 1 < len(modules):
                fused = fused_forward(modules[index], modules[index + 1])
            if fused is not None:
                x = fused(x)
                index += 2
            else:
                x = modules[index](x)
                index += 1
        return x


class ModuleList(_IndexedModules):
    """A list of modules whose parameters are registered; it has no forward of its own."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[self._index(index)]

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, _check_module(module, "ModuleList"))
        self._modules.clear()
        for position, item in enumerate(modules):
            self._modules[str(position)] = item
