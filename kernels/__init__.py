"""Device code: arrays in, arrays out. Knows nothing of autodiff.

Each device is a module exposing the same flat set of functions over raw arrays
(numpy arrays on the CPU, CuPy arrays on a GPU, numpy arrays again under Numba's
CUDA simulator). ``minigrad`` asks :func:`backend` for the module of a tensor's
device and calls it; it never branches on the device itself.

The contract every backend module honours is :data:`REQUIRED`; ``tests/test_kernels.py``
checks each backend against a plain-numpy reference.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

#: The names each backend module must define. Shapes follow PyTorch: NCHW images,
#: conv weights (out_channels, in_channels, kh, kw). ``stride`` and ``padding`` are
#: (h, w) tuples of ints.
REQUIRED: tuple[str, ...] = (
    "name",  # "cpu", "cuda" or "cuda-simulator"
    "xp",  # the array module: numpy or cupy
    "asarray",  # (numpy array or scalar list, dtype) -> device array
    "to_numpy",  # device array -> numpy array
    # GEMM
    "matmul",  # (a, b) -> a @ b, batched over leading dims like np.matmul
    # convolution, as the closed triangle conv / input-grad / weight-grad
    "im2col",  # (x, kernel_hw, stride, padding) -> cols (N, C*kh*kw, OH*OW)
    "col2im",  # (cols, x_shape, kernel_hw, stride, padding) -> x-shaped sum of patches
    "conv2d_forward",  # (x, w, stride, padding, keep_columns=False) -> y, or (y, columns)
    #   with keep_columns=True: the im2col conv2d_backward may reuse (None if none is kept)
    "conv2d_input_grad",  # (grad_y, w, input_hw, stride, padding) -> grad_x
    "conv2d_weight_grad",  # (x, grad_y, kernel_hw, stride, padding) -> grad_w
    # both gradients at once, the incoming gradient laid out (or im2col-ed) once:
    "conv2d_backward",  # (x, w, grad_y, stride, padding, need_x, need_w, columns=None)
    #   -> (grad_x, grad_w)
    "conv_transpose2d_backward",  # (x, w, grad_z, stride, padding, need_x, need_w) -> same,
    #   for z = conv2d_input_grad(x, w); a gradient not needed comes back as None
    # pooling
    "max_pool2d",  # (x, kernel_hw, stride, padding) -> (y, argmax: int64 flat index in H*W)
    "max_pool2d_backward",  # (grad_y, argmax, input_hw) -> grad_x (scatter-add)
    "avg_pool2d",  # (x, kernel_hw, stride, padding) -> y   (count_include_pad=True)
    "avg_pool2d_backward",  # (grad_y, input_hw, kernel_hw, stride, padding) -> grad_x
    # activations: fused forward kernels, and the backward masks that save a pass
    "relu",  # (x) -> max(x, 0)
    "relu_backward",  # (grad_y, x) -> grad_y * (x > 0)
    "leaky_relu",  # (x, slope) -> x if x > 0 else slope * x
    "leaky_relu_backward",  # (grad_y, x, slope) -> grad_y * (1 if x > 0 else slope)
    "sigmoid",  # (x) -> 1 / (1 + exp(-x)), overflow-safe
    "tanh",  # (x) -> tanh(x)
    # fused layer + activation (f: "identity", "relu", "leaky_relu", "tanh", "sigmoid";
    # kernels/epilogue.py), one launch each on a GPU
    "bias_activation",  # (y, bias, axis, f, slope) -> f(y + bias along axis)
    "bias_activation_backward",  # (grad_z, z, axis, f, slope) -> (grad_z * f'(z), its sum = dbias)
    "batch_norm_forward",  # (x, weight, bias, eps, f, slope) -> (z, mean, var, stats)
    "batch_norm_backward",  # (grad_z, z, x, stats, weight, f, slope) -> (dx, dweight, dbias)
    # reductions
    "sum",  # (x, axis, keepdims) -> sum
    "max",  # (x, axis, keepdims) -> max
    "argmax",  # (x, axis) -> int64 indices
    # minibatch discrimination's pairwise term (gan/remedies.py)
    "pairwise_l1_closeness",  # rows (N, B, C) -> (o (N, B), s (B, N, N)):
    #   s_ijb = exp(-||M_ib - M_jb||_1), o_ib = sum_{j != i} s_ijb
    "pairwise_l1_closeness_backward",  # (g (N, B), rows, s) -> dL/drows (N, B, C)
    # optimiser
    "adam_update",  # in place: (param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2,
    #                              eps, weight_decay) -> None, PyTorch's Adam semantics
    # random numbers from a seeded generator
    "make_rng",  # (seed: int) -> generator object
    "rng_state",  # (rng) -> JSON-serialisable state
    "set_rng_state",  # (rng, state) -> None
    "normal",  # (rng, shape, dtype) -> standard normal samples
    "uniform",  # (rng, shape, dtype) -> samples in [0, 1)
)

_MODULES = {
    "cpu": "kernels.cpu",
    "cuda": "kernels.cuda",
    "cuda-simulator": "kernels.cuda",
}


def backend(device: str) -> ModuleType:
    """Return the kernel module for ``device`` ("cpu", "cuda" or "cuda-simulator")."""
    if device not in _MODULES:
        raise ValueError(f"device must be one of {sorted(_MODULES)}, got {device!r}")
    if device == "cuda-simulator" and os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        raise RuntimeError(
            "device 'cuda-simulator' needs NUMBA_ENABLE_CUDASIM=1 set before numba is imported"
        )
    module = importlib.import_module(_MODULES[device])
    if device == "cuda" and getattr(module, "name", None) == "cuda-simulator":
        raise RuntimeError(
            "device 'cuda' asked for, but NUMBA_ENABLE_CUDASIM=1 is set: use 'cuda-simulator'"
        )
    return module
