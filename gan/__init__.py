"""gan: the lecture's first half, written on minigrad's public API like user code.

* ``gan.losses``          the value function V(D,G) and the players' losses (and WGAN-GP)
* ``gan.learning_round``  D on reals, D on fakes, G through a frozen D; k D-steps; confusion
* ``gan.models``          DCGAN for 28x28/32x32 images, MLPs for the toy problems
* ``gan.remedies``        minibatch discrimination and minibatch standard deviation layers
* ``gan.toy_data``        the 1-D Gaussian from uniform noise, the ring and grid mixtures
* ``gan.mode_collapse``   modes covered, high-quality fraction, reverse KL
* ``gan.trainer``         the plain training loop with its run folder
* ``gan.evaluate``        classifier features, Fréchet distance, scores, precision/recall

Command line: ``python -m gan train|sample|evaluate --help``.
"""
