"""Every differentiable op against central finite differences in float64, first and second order.

Shapes and values are drawn by hypothesis; values are pushed away from the kinks of
non-smooth ops (|x| > 0.2), and some inputs are non-contiguous views (transposed or
strided), so kernels see the strides users will hand them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import minigrad as mg
from minigrad.nn import functional as F

checks = settings(max_examples=25, deadline=None, derandomize=True)
small_shapes = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
seeds = st.integers(0, 2**31 - 1)


def leaf(shape, seed, low=0.2, high=2.0, signed=True, transposed=False) -> mg.Tensor:
    """A float64 leaf with |values| in [low, high]; optionally a non-contiguous view."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(low, high, size=shape)
    if signed:
        values *= rng.choice([-1.0, 1.0], size=shape)
    if transposed and len(shape) >= 2:
        values = np.ascontiguousarray(values.swapaxes(0, -1)).swapaxes(0, -1)
    tensor = mg.Tensor._make(values, "cpu", False).requires_grad_()
    return tensor


def check_both(fn, *inputs, second_order=True):
    assert mg.gradcheck(fn, inputs)
    if second_order:
        assert mg.gradgradcheck(fn, inputs)


UNARY = {
    "neg": (lambda x: -x, True),
    "exp": (lambda x: x.exp(), True),
    "log": (lambda x: x.abs().log(), True),
    "sqrt": (lambda x: x.abs().sqrt(), True),
    "abs": (lambda x: x.abs(), True),
    "tanh": (lambda x: x.tanh(), True),
    "sigmoid": (lambda x: x.sigmoid(), True),
    "relu": (lambda x: x.relu(), True),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), True),
    "softplus": (lambda x: F.softplus(x * 3), True),
    "logsigmoid": (lambda x: F.logsigmoid(x * 3), True),
    "pow_scalar": (lambda x: x**3 + x.abs() ** 0.5, True),
    "rpow": (lambda x: 2.0**x, True),
    "clamp": (lambda x: x.clamp(-1.0, 1.0) * x, True),
    "sign_times": (lambda x: x.sign() * x * x, True),
    "square_via_mul": (lambda x: x * x - x / 3, True),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@checks
@given(shape=small_shapes, seed=seeds, transposed=st.booleans())
def test_unary(name, shape, seed, transposed):
    fn, second = UNARY[name]
    x = leaf(shape, seed, transposed=transposed)
    if name == "clamp":  # keep away from the clamp's corners at ±1
        x.data[(x.data.abs() - 1.0).abs() < 0.1] *= 1.3
    check_both(fn, x, second_order=second)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a.abs() ** b,
    "maximum": lambda a, b: mg.maximum(a, b),
    "minimum": lambda a, b: mg.minimum(a, b),
    "where": lambda a, b: mg.where(a > b, a * b, b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@checks
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), seed=seeds)
def test_binary_broadcasting(name, shapes, seed):
    a = leaf(shapes.input_shapes[0], seed)
    b = leaf(shapes.input_shapes[1], seed + 1, low=0.5)
    if name in ("maximum", "minimum", "where"):  # no ties
        b.data += 0.05
    check_both(BINARY[name], a, b)


def test_scalar_operands_keep_float64_and_gradients():
    x = leaf((3,), 0)
    check_both(lambda t: 2 * t - 1 + t / 4 - 3 / t, x)


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
@given(shape=small_shapes, seed=seeds, data=st.data())
def test_reductions(name, shape, seed, data):
    x = leaf(shape, seed, transposed=True)
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keepdim = data.draw(st.booleans())
    if name == "var" and (x.numel() if dim is None else shape[dim]) < 2:
        return
    check_both(lambda t: REDUCTIONS[name](t, dim, keepdim), x)


@pytest.mark.parametrize("fn", [mg.softmax, mg.log_softmax])
@checks
@given(shape=small_shapes, seed=seeds, data=st.data())
def test_softmax_family(fn, shape, seed, data):
    x = leaf(shape, seed)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_both(lambda t: fn(t, dim) * t, x)


@checks
@given(
    shape=array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4), seed=seeds, data=st.data()
)
def test_shape_ops(shape, seed, data):
    x = leaf(shape, seed, transposed=True)
    dims = data.draw(st.permutations(list(range(len(shape)))))
    check_both(lambda t: (t.permute(*dims).reshape(-1) * 1.5).reshape(*shape[::-1]).T ** 2, x)
    check_both(lambda t: t.flatten(1).transpose(0, 1).unsqueeze(0).squeeze(0).exp(), x)


@checks
@given(shape=small_shapes, seed=seeds)
def test_expand(shape, seed):
    x = leaf((1, *shape[1:]), seed)
    check_both(
        lambda t: (
            t.expand(3, *shape[1:])
            * mg.arange(3, dtype=mg.float64).reshape(3, *([1] * (len(shape) - 1)))
        ),
        x,
    )


@checks
@given(
    shape=array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=5), seed=seeds, data=st.data()
)
def test_indexing_basic_and_integer_array(shape, seed, data):
    x = leaf(shape, seed)
    rows = data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5))
    check_both(lambda t: t[1:, ::2] * 2, x)
    check_both(lambda t: t[rows] ** 2, x)  # repeated rows must add their gradients
    check_both(lambda t: t[mg.tensor(rows), -1], x)
    check_both(lambda t: t[t.detach() > 0] * 3, x)


@checks
@given(
    shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), seed=seeds, data=st.data()
)
def test_cat_stack_pad(shape, seed, data):
    a, b = leaf(shape, seed), leaf(shape, seed + 7)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_both(lambda s, t: mg.cat([s, t * t, s], dim) * 2, a, b)
    check_both(lambda s, t: mg.stack([s, t.exp()], dim).sum(0) ** 2, a, b)
    pads = data.draw(st.lists(st.integers(0, 2), min_size=2, max_size=2))
    check_both(lambda s: F.pad(s, pads, value=0.5) ** 2, a)


@checks
@given(seed=seeds, data=st.data())
def test_matmul_batched_and_vectors(seed, data):
    m, k, n = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = data.draw(st.sampled_from([(), (2,), (2, 1)]))
    a, b = leaf((*batch, m, k), seed, transposed=True), leaf((k, n), seed + 1)
    check_both(lambda s, t: (s @ t).tanh(), a, b)
    v = leaf((k,), seed + 2)
    check_both(lambda t, u: (t @ u) * (u @ t.T).sum(), b.T.detach().requires_grad_(), v)
    w, bias = leaf((n, k), seed + 3), leaf((n,), seed + 4)
    check_both(lambda s, t, c: F.linear(s, t, c).sigmoid(), a, w, bias)


conv_settings = settings(max_examples=20, deadline=None, derandomize=True)


@conv_settings
@given(seed=seeds, data=st.data())
def test_conv2d_and_conv_transpose2d(seed, data):
    n, c_in, c_out = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)), 2
    kh, kw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    stride = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    padding = (data.draw(st.integers(0, kh // 2)), data.draw(st.integers(0, kw // 2)))
    h, w = data.draw(st.integers(kh, kh + 3)), data.draw(st.integers(kw, kw + 3))
    x = leaf((n, c_in, h, w), seed)
    weight = leaf((c_out, c_in, kh, kw), seed + 1)
    bias = leaf((c_out,), seed + 2)
    check_both(lambda a, b, c: F.conv2d(a, b, c, stride, padding), x, weight, bias)
    output_padding = tuple(data.draw(st.integers(0, s - 1)) for s in stride)
    weight_t = leaf((c_in, c_out, kh, kw), seed + 3)
    check_both(
        lambda a, b: F.conv_transpose2d(a, b, None, stride, padding, output_padding), x, weight_t
    )


@conv_settings
@given(seed=seeds, data=st.data())
def test_pooling_and_upsampling(seed, data):
    k = data.draw(st.integers(1, 3))
    stride = data.draw(st.integers(1, 2))
    padding = data.draw(st.integers(0, k // 2))
    h, w = data.draw(st.integers(k, k + 3)), data.draw(st.integers(k, k + 3))
    x = leaf((2, 2, h, w), seed)
    x.data += mg.arange(x.numel(), dtype=x.dtype).reshape(x.shape) * 1e-3  # no ties in a window
    check_both(lambda a: F.max_pool2d(a, k, stride, padding) ** 2, x)
    check_both(lambda a: F.avg_pool2d(a, k, stride, padding) ** 2, x)
    check_both(lambda a: F.interpolate(a, scale_factor=2) ** 2, x)


@conv_settings
@given(seed=seeds, training=st.booleans())
def test_batch_norm(seed, training):
    x = leaf((4, 3, 2, 2), seed)
    gamma, beta = leaf((3,), seed + 1), leaf((3,), seed + 2)

    def fn(a, g, b):
        running_mean = mg.zeros(3, dtype=mg.float64)
        running_var = mg.ones(3, dtype=mg.float64)
        return F.batch_norm(a, running_mean, running_var, g, b, training=training) ** 2

    check_both(fn, x, gamma, beta)


@checks
@given(seed=seeds, n=st.integers(1, 4), classes=st.integers(2, 4))
def test_losses(seed, n, classes):
    logits = leaf((n, classes), seed)
    rng = np.random.default_rng(seed)
    hard = mg.tensor(rng.integers(0, classes, n))
    soft = mg.tensor(rng.dirichlet(np.ones(classes), n), dtype=mg.float64)
    prob = mg.tensor(rng.uniform(0, 1, (n, classes)), dtype=mg.float64)
    check_both(lambda z: F.cross_entropy(z, hard), logits)
    check_both(lambda z: F.cross_entropy(z, soft), logits)
    check_both(lambda z: F.nll_loss(F.log_softmax(z, 1), hard, reduction="sum"), logits)
    check_both(lambda z: F.binary_cross_entropy_with_logits(z, prob), logits)
    check_both(lambda z: F.binary_cross_entropy(z.sigmoid(), prob), logits)
    check_both(lambda z: F.mse_loss(z, prob, reduction="none"), logits)


def test_dropout_gradient_uses_the_same_mask():
    x = leaf((4, 5), 3)

    def fn(t):
        mg.manual_seed(11)  # the same mask on every evaluation
        return F.dropout(t, 0.3, training=True) * t

    check_both(fn, x)
