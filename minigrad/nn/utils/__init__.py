"""``torch.nn.utils``'s spelling: gradient clipping."""

from minigrad.nn.clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
