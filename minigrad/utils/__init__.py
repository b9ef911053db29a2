"""``minigrad.utils``: PyTorch's ``torch.utils`` spelling (``minigrad.utils.data``)."""

from minigrad.utils import data

__all__ = ["data"]
