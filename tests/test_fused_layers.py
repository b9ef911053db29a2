"""The fused layers: BatchNorm with its affine map and activation (minigrad/ops/batch_norm.py),
bias + activation (minigrad/ops/activation.py), and nn.Sequential's choice of which pairs
to fuse (minigrad/nn/fusion.py).

Gradients are checked against central finite differences in float64, first order (the
fused backward kernels) and second order (the recorded backward, create_graph=True). The
tests run on the CPU, and also on the CUDA simulator when NUMBA_ENABLE_CUDASIM=1
(scripts/test.sh runs this file there too).
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import cuda_backend_name

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.ops.activation import bias_activation
from minigrad.ops.batch_norm import normalize_batch

DEVICES = ["cpu"] + ([cuda_backend_name()] if cuda_backend_name() else [])
ACTIVATIONS = [(None, 0.0), ("relu", 0.0), ("leaky_relu", 0.2), ("tanh", 0.0), ("sigmoid", 0.0)]


def _tensor(array, device, requires_grad=True):
    return mg.tensor(array, device=device, requires_grad=requires_grad)


@pytest.mark.parametrize("activation, slope", ACTIVATIONS)
@pytest.mark.parametrize("device", DEVICES)
def test_batch_norm_node_against_finite_differences(device, activation, slope):
    rng = np.random.default_rng(0)
    shape = (4, 3, 2) if device == "cpu" else (3, 2, 2)  # the simulator is slow
    x = _tensor(rng.standard_normal(shape) * 2 + 1, device)
    weight = _tensor(rng.standard_normal(shape[1]) * 0.5 + 1, device)
    bias = _tensor(rng.standard_normal(shape[1]), device)

    def layer(t, w, b):
        return normalize_batch(t, w, b, 1e-3, activation, slope)[0]

    assert mg.gradcheck(layer, [x, weight, bias])
    if device == "cpu" or activation == "leaky_relu":
        assert mg.gradgradcheck(layer, [x, weight, bias])


@pytest.mark.parametrize("activation, slope", ACTIVATIONS)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape, axis", [((3, 2, 2, 2), 1), ((4, 3), -1)])
def test_bias_activation_node_against_finite_differences(device, shape, axis, activation, slope):
    rng = np.random.default_rng(1)
    y = _tensor(rng.standard_normal(shape), device)
    bias = _tensor(rng.standard_normal(shape[axis]), device)

    def layer(t, b):
        return bias_activation(t, b, axis, activation or "identity", slope)

    assert mg.gradcheck(layer, [y, bias])
    if device == "cpu" or activation == "tanh":
        assert mg.gradgradcheck(layer, [y, bias])


def _dcgan_like(negative_slope=0.2):
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=2, padding=1),
        nn.LeakyReLU(negative_slope),
        nn.Conv2d(4, 3, 3, padding=1, bias=False),
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(128, 5),
        nn.Sigmoid(),
    ).double()


def _one_by_one(model, x):
    for module in model:
        x = module(x)
    return x


@pytest.mark.parametrize("device", DEVICES)
def test_sequential_fuses_and_gives_the_unfused_values_and_gradients(device):
    mg.manual_seed(0)
    fused_model = _dcgan_like().to(device)
    plain_model = _dcgan_like().to(device)
    plain_model.load_state_dict(fused_model.state_dict())
    data = np.random.default_rng(2).standard_normal((3, 2, 8, 8))
    results = []
    for model, run in ((fused_model, lambda m, t: m(t)), (plain_model, _one_by_one)):
        x = _tensor(data, device)
        out = run(model, x)
        (out * mg.arange(5, device=device, dtype=mg.float64)).sum().backward()
        grads = [p.grad.numpy() for p in model.parameters()]
        stats = [model[3].running_mean.numpy(), model[3].running_var.numpy()]
        results.append([out.numpy(), x.grad.numpy(), *grads, *stats])
    for fused, plain in zip(results[0], results[1], strict=True):
        np.testing.assert_allclose(fused, plain, rtol=1e-10, atol=1e-12)
    x = _tensor(data, device)
    assert type(fused_model[:7](x).grad_fn).__name__ == "BiasActivation"  # ConvT + Tanh
    assert type(fused_model[:5](x).grad_fn).__name__ == "BatchNormalize"  # BN + ReLU
    assert type(fused_model(x).grad_fn).__name__ == "Sigmoid"  # Linear + Sigmoid: not fused


def test_which_pairs_fuse():
    x = mg.randn(4, 3, 5, 5, dtype=mg.float64)
    bn_relu = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU()).double()
    assert type(bn_relu(x).grad_fn).__name__ == "BatchNormalize"
    # A leaky ReLU with a negative slope: its derivative is not the output's sign.
    negative = nn.Sequential(nn.BatchNorm2d(3), nn.LeakyReLU(-0.5)).double()
    assert type(negative(x).grad_fn).__name__ == "LeakyReLU"
    # No bias: nothing to fuse the activation with.
    no_bias = nn.Sequential(nn.Conv2d(3, 2, 1, bias=False), nn.Tanh()).double()
    assert type(no_bias(x).grad_fn).__name__ == "Tanh"

    class Scaled(nn.Conv2d):  # a subclass runs as written
        def forward(self, t):
            return super().forward(t) * 2

    assert type(nn.Sequential(Scaled(3, 2, 1), nn.ReLU()).double()(x).grad_fn).__name__ == "ReLU"
    replaced = nn.Sequential(nn.Conv2d(3, 2, 1), nn.ReLU()).double()
    replaced[1].forward = lambda t: t * 3  # replaced on the instance: runs as written
    np.testing.assert_allclose(
        replaced(x).numpy(), replaced[0](x).numpy() * 3, rtol=1e-12, atol=1e-12
    )


def test_eval_mode_batch_norm_and_activation_use_the_running_statistics():
    mg.manual_seed(1)
    model = nn.Sequential(nn.BatchNorm1d(3), nn.LeakyReLU(0.1)).double()
    model(mg.randn(6, 3, dtype=mg.float64) * 2 + 1)  # moves the running statistics
    model.eval()
    x = mg.randn(4, 3, dtype=mg.float64)
    bn = model[0]
    expected = (x - bn.running_mean) / (bn.running_var + bn.eps).sqrt() * bn.weight + bn.bias
    np.testing.assert_allclose(
        model(x).numpy(), F.leaky_relu(expected, 0.1).numpy(), rtol=1e-12, atol=1e-12
    )


def test_functional_batch_norm_with_only_a_weight_or_only_a_bias():
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.standard_normal((5, 2)))
    weight = mg.tensor([2.0, 3.0], dtype=mg.float64)
    bias = mg.tensor([0.5, -1.0], dtype=mg.float64)
    normalised = F.batch_norm(x, None, None, training=True).numpy()
    only_weight = F.batch_norm(x, None, None, weight=weight, training=True).numpy()
    only_bias = F.batch_norm(x, None, None, bias=bias, training=True).numpy()
    np.testing.assert_allclose(only_weight, normalised * weight.numpy(), rtol=1e-12)
    np.testing.assert_allclose(only_bias, normalised + bias.numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="weight must be"):  # float32 γ on float64 x
        F.batch_norm(x, None, None, weight.float(), bias.float(), training=True)
    with pytest.raises(ValueError, match="weight and bias together"):
        normalize_batch(x, weight, None, 1e-5)
