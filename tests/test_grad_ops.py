"""Every differentiable op against central finite differences in float64, first and second order.

Shapes, values and memory layouts are drawn by ``minigrad.testing``'s strategies, the same
ones users get: values are kept away from the kinks of non-smooth ops (|x| >= 0.2) and
many inputs are non-contiguous views (transposed or strided), so kernels see the strides
users will hand them. Two tensors drawn in one example can hold the same values, so the
ops that pick between their inputs (maximum, where) offset one of them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn import functional as F
from minigrad.testing import assert_gradients_match, broadcastable_shapes, shapes, tensors

checks = settings(max_examples=25, deadline=None, derandomize=True)
small_shapes = shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


UNARY = {
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.abs().log(),
    "sqrt": lambda x: x.abs().sqrt(),
    "abs": lambda x: x.abs(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "softplus": lambda x: F.softplus(x * 3),
    "logsigmoid": lambda x: F.logsigmoid(x * 3),
    "pow_scalar": lambda x: x**3 + x.abs() ** 0.5,
    "rpow": lambda x: 2.0**x,
    "clamp": lambda x: x.clamp(-1.0, 1.0) * x,
    "sign_times": lambda x: x.sign() * x * x,
    "square_via_mul": lambda x: x * x - x / 3,
}


@pytest.mark.parametrize("name", sorted(UNARY))
@checks
@given(x=tensors(shape=small_shapes))
def test_unary(name, x):
    assert_gradients_match(UNARY[name], x)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a.abs() ** b,
    # b + 0.05: a and b may have been drawn with the same values, and a tie has no derivative.
    "maximum": lambda a, b: mg.maximum(a, b + 0.05),
    "minimum": lambda a, b: mg.minimum(a, b + 0.05),
    "where": lambda a, b: mg.where(a > b + 0.05, a * b, b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@checks
@given(shapes=broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), data=st.data())
def test_binary_broadcasting(name, shapes, data):
    a = data.draw(tensors(shape=shapes[0]))
    b = data.draw(tensors(shape=shapes[1], low=0.5))
    assert_gradients_match(BINARY[name], a, b)


def test_scalar_operands_keep_float64_and_gradients():
    x = mg.tensor([0.5, -1.25, 2.0], dtype=mg.float64, requires_grad=True)
    assert_gradients_match(lambda t: 2 * t - 1 + t / 4 - 3 / t, x)


REDUCTIONS = {
    "sum": lambda x, d, k: x.sum(d, keepdim=k),
    "mean": lambda x, d, k: x.mean(d, keepdim=k),
    "var": lambda x, d, k: x.var(d, keepdim=k),
    "max": lambda x, d, k: x.amax(d, keepdim=k),
    "min": lambda x, d, k: x.amin(d, keepdim=k),
    "logsumexp": lambda x, d, k: x.logsumexp(d, keepdim=k),
    "norm2": lambda x, d, k: x.norm(2, d, keepdim=k),
    "norm1": lambda x, d, k: x.norm(1, d, keepdim=k),
    "norm_inf": lambda x, d, k: x.norm(float("inf"), d, keepdim=k),
    "norm3": lambda x, d, k: x.norm(3, d, keepdim=k),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@checks
@given(x=tensors(shape=small_shapes), data=st.data())
def test_reductions(name, x, data):
    dim = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    keepdim = data.draw(st.booleans())
    if name == "var" and (x.numel() if dim is None else x.shape[dim]) < 2:
        return
    assert_gradients_match(lambda t: REDUCTIONS[name](t, dim, keepdim), x)


@pytest.mark.parametrize("fn", [mg.softmax, mg.log_softmax])
@checks
@given(x=tensors(shape=small_shapes), data=st.data())
def test_softmax_family(fn, x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert_gradients_match(lambda t: fn(t, dim) * t, x)


@checks
@given(x=tensors(min_dims=2, max_dims=3, min_side=1, max_side=4), data=st.data())
def test_shape_ops(x, data):
    shape = x.shape
    dims = data.draw(st.permutations(list(range(x.ndim))))
    assert_gradients_match(
        lambda t: (t.permute(*dims).reshape(-1) * 1.5).reshape(*shape[::-1]).T ** 2, x
    )
    assert_gradients_match(lambda t: t.flatten(1).transpose(0, 1).unsqueeze(0).squeeze(0).exp(), x)


@checks
@given(shape=small_shapes, data=st.data())
def test_expand(shape, data):
    x = data.draw(tensors(shape=(1, *shape[1:])))
    steps = mg.arange(3, dtype=mg.float64).reshape(3, *([1] * (len(shape) - 1)))
    assert_gradients_match(lambda t: t.expand(3, *shape[1:]) * steps, x)


@checks
@given(x=tensors(min_dims=2, max_dims=3, min_side=2, max_side=5), data=st.data())
def test_indexing_basic_and_integer_array(x, data):
    rows = data.draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=1, max_size=5))
    assert_gradients_match(lambda t: t[1:, ::2] * 2, x)
    assert_gradients_match(lambda t: t[rows] ** 2, x)  # repeated rows must add their gradients
    assert_gradients_match(lambda t: t[mg.tensor(rows), -1], x)
    assert_gradients_match(lambda t: t[t.detach() > 0] * 3, x)


@checks
@given(shape=shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), data=st.data())
def test_cat_stack_pad(shape, data):
    a, b = data.draw(tensors(shape=shape)), data.draw(tensors(shape=shape))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    assert_gradients_match(lambda s, t: mg.cat([s, t * t, s], dim) * 2, a, b)
    assert_gradients_match(lambda s, t: mg.stack([s, t.exp()], dim).sum(0) ** 2, a, b)
    pads = data.draw(st.lists(st.integers(0, 2), min_size=2, max_size=2))
    assert_gradients_match(lambda s: F.pad(s, pads, value=0.5) ** 2, a)


@checks
@given(data=st.data())
def test_matmul_batched_and_vectors(data):
    m, k, n = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = data.draw(st.sampled_from([(), (2,), (2, 1)]))
    a, b = data.draw(tensors(shape=(*batch, m, k))), data.draw(tensors(shape=(k, n)))
    assert_gradients_match(lambda s, t: (s @ t).tanh(), a, b)
    v = data.draw(tensors(shape=(k,)))
    assert_gradients_match(
        lambda t, u: (t @ u) * (u @ t.T).sum(), b.T.detach().requires_grad_(), v
    )
    w, bias = data.draw(tensors(shape=(n, k))), data.draw(tensors(shape=(n,)))
    assert_gradients_match(lambda s, t, c: F.linear(s, t, c).sigmoid(), a, w, bias)


conv_settings = settings(max_examples=20, deadline=None, derandomize=True)


@conv_settings
@given(data=st.data())
def test_conv2d_and_conv_transpose2d(data):
    n, c_in, c_out = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)), 2
    kh, kw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    stride = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    padding = (data.draw(st.integers(0, kh // 2)), data.draw(st.integers(0, kw // 2)))
    h, w = data.draw(st.integers(kh, kh + 3)), data.draw(st.integers(kw, kw + 3))
    x = data.draw(tensors(shape=(n, c_in, h, w)))
    weight = data.draw(tensors(shape=(c_out, c_in, kh, kw)))
    bias = data.draw(tensors(shape=(c_out,)))
    assert_gradients_match(lambda a, b, c: F.conv2d(a, b, c, stride, padding), x, weight, bias)
    output_padding = tuple(data.draw(st.integers(0, s - 1)) for s in stride)
    weight_t = data.draw(tensors(shape=(c_in, c_out, kh, kw)))
    assert_gradients_match(
        lambda a, b: F.conv_transpose2d(a, b, None, stride, padding, output_padding), x, weight_t
    )


@conv_settings
@given(data=st.data())
def test_pooling_and_upsampling(data):
    k = data.draw(st.integers(1, 3))
    stride = data.draw(st.integers(1, 2))
    padding = data.draw(st.integers(0, k // 2))
    h, w = data.draw(st.integers(k, k + 3)), data.draw(st.integers(k, k + 3))
    x = data.draw(tensors(shape=(2, 2, h, w)))  # distinct values: no ties inside a window
    assert_gradients_match(lambda a: F.max_pool2d(a, k, stride, padding) ** 2, x)
    assert_gradients_match(lambda a: F.avg_pool2d(a, k, stride, padding) ** 2, x)
    assert_gradients_match(lambda a: F.interpolate(a, scale_factor=2) ** 2, x)


@conv_settings
@given(
    x=tensors(shape=(4, 3, 2, 2)),
    gamma=tensors(shape=(3,)),
    beta=tensors(shape=(3,)),
    training=st.booleans(),
)
def test_batch_norm(x, gamma, beta, training):
    def fn(a, g, b):
        running_mean = mg.zeros(3, dtype=mg.float64)
        running_var = mg.ones(3, dtype=mg.float64)
        return F.batch_norm(a, running_mean, running_var, g, b, training=training) ** 2

    assert_gradients_match(fn, x, gamma, beta)


@checks
@given(
    n=st.integers(1, 4), classes=st.integers(2, 4), seed=st.integers(0, 2**31 - 1), data=st.data()
)
def test_losses(n, classes, seed, data):
    logits = data.draw(tensors(shape=(n, classes)))
    rng = np.random.default_rng(seed)
    hard = mg.tensor(rng.integers(0, classes, n))
    soft = mg.tensor(rng.dirichlet(np.ones(classes), n), dtype=mg.float64)
    prob = mg.tensor(rng.uniform(0, 1, (n, classes)), dtype=mg.float64)
    assert_gradients_match(lambda z: F.cross_entropy(z, hard), logits)
    assert_gradients_match(lambda z: F.cross_entropy(z, soft), logits)
    assert_gradients_match(lambda z: F.nll_loss(F.log_softmax(z, 1), hard, reduction="sum"), logits)
    assert_gradients_match(lambda z: F.binary_cross_entropy_with_logits(z, prob), logits)
    assert_gradients_match(lambda z: F.binary_cross_entropy(z.sigmoid(), prob), logits)
    assert_gradients_match(lambda z: F.mse_loss(z, prob, reduction="none"), logits)


@checks
@given(x=tensors(shape=(4, 5)))
def test_dropout_gradient_uses_the_same_mask(x):
    def fn(t):
        mg.manual_seed(11)  # the same mask on every evaluation
        return F.dropout(t, 0.3, training=True) * t

    assert_gradients_match(fn, x)
