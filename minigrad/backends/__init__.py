"""``minigrad.backends``: PyTorch's ``torch.backends`` switches that scripts set or ask.

minigrad computes with its own kernels (``kernels/``) and uses neither cuDNN nor Apple's
MPS, so these answer as a PyTorch build without them does.
"""

from minigrad.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
