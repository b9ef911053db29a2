"""Small image classifiers and the plain loop that trains them.

Shared by the examples, the GAN evaluation tools (features for Fréchet distance) and the
adversarial attacks (the models under attack).
"""

from minigrad.models.cnn import FashionCNN
from minigrad.models.fit import accuracy, fit, predict_logits

__all__ = ["FashionCNN", "accuracy", "fit", "predict_logits"]
