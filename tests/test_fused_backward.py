"""BatchNormalize and SoftmaxCrossEntropy: explicit backward formulas equal the composed ops."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.ops.batch_norm import normalize_batch
from minigrad.ops.softmax_cross_entropy import softmax_cross_entropy


def _composed_batch_norm(x, axes, eps):
    mean = x.mean(dim=axes, keepdim=True)
    centred = x - mean
    variance = (centred * centred).mean(dim=axes, keepdim=True)
    return centred / (variance + eps).sqrt()


def _composed_cross_entropy(logits, target):
    return -F.log_softmax(logits, dim=1)[np.arange(logits.shape[0]), target.numpy()]


@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 3), (3, 2, 4, 4)])
def test_batch_normalize_matches_composed_ops_and_their_gradients(shape):
    rng = np.random.default_rng(0)
    axes = (0, *range(2, len(shape)))
    array = rng.standard_normal(shape) * 3 + 1
    weights = mg.tensor(rng.standard_normal(shape))
    x1 = mg.tensor(array, requires_grad=True)
    x2 = mg.tensor(array, requires_grad=True)
    fused, mean, variance = normalize_batch(x1, None, None, 1e-5)
    composed = _composed_batch_norm(x2, axes, 1e-5)
    np.testing.assert_allclose(fused.numpy(), composed.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mean.numpy(), array.mean(axis=axes), atol=1e-12)
    np.testing.assert_allclose(variance.numpy(), array.var(axis=axes), atol=1e-12)
    (fused * weights).sum().backward()
    (composed * weights).sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_batch_normalize_against_finite_differences_first_and_second_order():
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)

    def normalized(t):
        return normalize_batch(t, None, None, 1e-3)[0]

    assert mg.gradcheck(normalized, [x])
    assert mg.gradgradcheck(normalized, [x])


def test_batch_norm_layer_second_derivative_matches_the_composed_ops():
    # A gradient penalty through BatchNorm (WGAN-GP with a BN critic) needs d²/dx².
    rng = np.random.default_rng(2)
    array = rng.standard_normal((6, 3))
    weights = mg.tensor(rng.standard_normal((6, 3)))
    results = []
    fused = lambda t: normalize_batch(t, None, None, 1e-5)[0]  # noqa: E731
    composed = lambda t: _composed_batch_norm(t, (0,), 1e-5)  # noqa: E731
    for function in (fused, composed):
        x = mg.tensor(array, requires_grad=True)
        (gx,) = mg.grad((mg.tanh(function(x)) * weights).sum(), x, create_graph=True)
        (ggx,) = mg.grad((gx * gx).sum(), x)
        results.append(ggx.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-9, atol=1e-12)


def test_functional_batch_norm_training_uses_the_fused_op_and_updates_running_stats():
    x = mg.tensor(np.random.default_rng(3).standard_normal((8, 2)), requires_grad=True)
    running_mean, running_var = mg.zeros(2, dtype=mg.float64), mg.ones(2, dtype=mg.float64)
    y = F.batch_norm(x, running_mean, running_var, training=True, momentum=0.5)
    assert type(y.grad_fn).__name__ == "BatchNormalize"
    data = x.numpy()
    np.testing.assert_allclose(running_mean.numpy(), 0.5 * data.mean(0))
    np.testing.assert_allclose(running_var.numpy(), 0.5 + 0.5 * data.var(0, ddof=1))


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_softmax_cross_entropy_matches_composed_ops_and_their_gradients(scale):
    rng = np.random.default_rng(4)
    array = rng.standard_normal((6, 5)) * scale
    target = mg.tensor(rng.integers(0, 5, 6))
    upstream = mg.tensor(rng.standard_normal(6))
    z1 = mg.tensor(array, requires_grad=True)
    z2 = mg.tensor(array, requires_grad=True)
    assert z1.dtype == mg.float64
    fused = softmax_cross_entropy(z1, target.numpy())
    composed = _composed_cross_entropy(z2, target)
    np.testing.assert_allclose(fused.numpy(), composed.numpy(), rtol=1e-12, atol=1e-12)
    (fused * upstream).sum().backward()
    (composed * upstream).sum().backward()
    np.testing.assert_allclose(z1.grad.numpy(), z2.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_softmax_cross_entropy_gradient_is_softmax_minus_one_hot():
    z = mg.tensor([[1.0, 2.0, 0.5]], dtype=mg.float64, requires_grad=True)
    softmax_cross_entropy(z, np.array([1])).sum().backward()
    expected = np.exp(z.numpy()) / np.exp(z.numpy()).sum() - np.array([[0.0, 1.0, 0.0]])
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-12)


def test_softmax_cross_entropy_first_and_second_order_against_finite_differences():
    rng = np.random.default_rng(5)
    z = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    target = np.array([0, 3, 1])

    def loss(t):
        return softmax_cross_entropy(t, target)

    assert mg.gradcheck(loss, [z])
    assert mg.gradgradcheck(loss, [z])


def test_cross_entropy_uses_the_fused_op_and_keeps_its_checks():
    logits = mg.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(logits, mg.tensor([0, 1, 2, 1]), reduction="none")
    assert type(loss.grad_fn).__name__ == "SoftmaxCrossEntropy"
    with pytest.raises(ValueError, match=r"target values must be in \[0, 3\)"):
        F.cross_entropy(logits, mg.tensor([0, 1, 2, 3]))
    with pytest.raises(TypeError, match="int class indices"):
        F.cross_entropy(logits, mg.tensor([True, False, True, True]))
