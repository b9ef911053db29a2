"""nn pieces PyTorch scripts reach for: Dropout2d, inplace=, interpolate, nn.parallel."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.nn.parallel import DataParallel, data_parallel


def test_dropout2d_drops_whole_channels_and_keeps_the_mean():
    mg.manual_seed(0)
    layer = nn.Dropout2d(p=0.25)
    y = layer(mg.ones(200, 16, 3, 3)).numpy()
    per_channel = y.reshape(200, 16, 9)
    # Each channel is all zeros or all 1/(1-p): one draw per (n, c).
    assert set(np.unique(per_channel.min(axis=2))) <= {0.0, np.float32(1 / 0.75)}
    assert np.array_equal(per_channel.min(axis=2), per_channel.max(axis=2))
    dropped = (per_channel[:, :, 0] == 0).mean()
    assert abs(dropped - 0.25) < 0.03, dropped
    assert abs(y.mean() - 1.0) < 0.05
    layer.eval()
    x = mg.randn(2, 3, 4, 4)
    assert layer(x) is x
    with pytest.raises(ValueError, match=r"4-D \(N, C, H, W\)"):
        layer.train()(mg.ones(3, 4))


def test_inplace_overwrites_the_input_only_where_no_graph_records_it():
    x = mg.tensor([-1.0, 2.0, -3.0])
    y = nn.ReLU(inplace=True)(x)
    assert y is x and x.tolist() == [0.0, 2.0, 0.0]
    z = mg.tensor([-1.0, 2.0])
    assert nn.LeakyReLU(0.5, inplace=True)(z) is z and z.tolist() == [-0.5, 2.0]

    # In a recorded graph the input keeps its values and the gradient is the usual one.
    leaf = mg.tensor([-1.0, 2.0], requires_grad=True)
    hidden = leaf * 1
    out = F.relu(hidden, inplace=True)
    assert out is not hidden and hidden.tolist() == [-1.0, 2.0]
    out.sum().backward()
    assert leaf.grad.tolist() == [0.0, 1.0]

    with mg.no_grad():
        w = mg.tensor([-1.0, 1.0], requires_grad=True) * 1
        assert F.relu(w, inplace=True) is w
    with pytest.raises(TypeError, match="inplace"):
        nn.ReLU(inplace="yes")


def test_dropout_inplace_in_eval_and_training():
    mg.manual_seed(1)
    x = mg.ones(1000)
    out = nn.Dropout(0.5, inplace=True)(x)
    assert out is x
    assert set(np.unique(x.numpy())) == {0.0, 2.0}


def test_data_parallel_on_one_device_is_the_module_and_keeps_torch_keys():
    mg.manual_seed(0)
    net = nn.Linear(3, 2)
    wrapped = nn.DataParallel(net, device_ids=[0])
    x = mg.randn(4, 3)
    assert np.array_equal(wrapped(x).numpy(), net(x).numpy())
    assert np.array_equal(data_parallel(net, x).numpy(), net(x).numpy())
    assert sorted(wrapped.state_dict()) == ["module.bias", "module.weight"]
    assert wrapped.module is net and DataParallel is nn.DataParallel
    with pytest.raises(ValueError, match="one device"):
        nn.DataParallel(net, device_ids=[0, 1])
    with pytest.raises(ValueError, match="one device"):
        data_parallel(net, x, device_ids=[0, 1])


def test_interpolate_argument_errors_name_the_argument():
    x = mg.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="mode"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="size"):
        F.interpolate(x, size=(0, 3))
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="antialias"):
        F.interpolate(x, size=2, mode="bilinear", antialias=True)


CASES = [
    ({"scale_factor": 2}, "nearest"),
    ({"scale_factor": 1.7}, "nearest"),
    ({"size": (7, 3)}, "nearest"),
    ({"size": (9, 11)}, "nearest-exact"),
    ({"scale_factor": (0.5, 1.5)}, "nearest-exact"),
    ({"size": (9, 11)}, "bilinear"),
    ({"size": (3, 2)}, "bilinear"),
    ({"scale_factor": 2.5}, "bilinear"),
    ({"scale_factor": 2.5, "recompute_scale_factor": True}, "bilinear"),
    ({"size": (9, 11), "align_corners": True}, "bilinear"),
]


@pytest.mark.parametrize(("options", "mode"), CASES)
def test_interpolate_matches_torch_values_and_gradients(options, mode):
    torch = pytest.importorskip("torch")
    array = np.random.default_rng(0).normal(size=(2, 3, 5, 6))
    ours_in = mg.tensor(array, requires_grad=True)
    theirs_in = torch.tensor(array, requires_grad=True)
    ours = F.interpolate(ours_in, mode=mode, **options)
    theirs = torch.nn.functional.interpolate(theirs_in, mode=mode, **options)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-7)
    weights = np.random.default_rng(1).normal(size=ours.shape)
    (ours * mg.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours_in.grad.numpy(), theirs_in.grad.numpy(), rtol=1e-6, atol=1e-7)
    module = nn.Upsample(mode=mode, **options)
    assert np.array_equal(module(ours_in).numpy(), ours.numpy())


def test_bilinear_interpolate_passes_gradchecks():
    x = mg.tensor(np.random.default_rng(2).normal(size=(1, 2, 3, 4)), requires_grad=True)
    assert mg.gradcheck(lambda t: F.interpolate(t, size=(5, 3), mode="bilinear"), [x])
    assert mg.gradgradcheck(lambda t: F.interpolate(t, size=(5, 3), mode="bilinear"), [x])


def test_module_to_takes_pytorch_spellings():
    class Named:  # any object whose str() names a device, as minigrad.device(...) does
        def __str__(self):
            return "cpu"

    model = nn.BatchNorm1d(3)
    assert model.to("cpu", mg.float64) is model and model.weight.dtype == np.float64
    assert model.running_var.dtype == np.float64
    assert model.num_batches_tracked.dtype == np.int64  # integer buffers are not cast
    model.to(mg.ones(1, dtype=mg.float32))
    assert model.weight.dtype == np.float32
    model.to(device=Named(), dtype=mg.float64, non_blocking=True)
    assert model.weight.dtype == np.float64 and model.weight.device == "cpu"
    with pytest.raises(TypeError, match="floating dtype"):
        model.to(mg.int64)
    with pytest.raises(TypeError, match="unexpected keyword"):
        model.to(memory_format="channels_last")
    with pytest.raises(ValueError, match="device"):
        model.to("tpu")


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("ELU(alpha=0.7)", "ELU(alpha=0.7)"),
        ("SiLU()", "SiLU()"),
        ("Softplus(beta=2.0, threshold=5.0)", "Softplus(beta=2.0, threshold=5.0)"),
        ("Softmax(dim=1)", "Softmax(dim=1)"),
        ("LogSoftmax(dim=0)", "LogSoftmax(dim=0)"),
        ("Identity(7, key=1)", "Identity(7, key=1)"),
    ],
)
def test_more_activation_modules_match_torch(ours, theirs):
    torch = pytest.importorskip("torch")
    array = np.random.default_rng(3).normal(size=(4, 5)) * 6
    ours_layer, theirs_layer = eval("nn." + ours), eval("torch.nn." + theirs)  # noqa: S307
    assert repr(ours_layer) == repr(theirs_layer)
    x, t = mg.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
    weights = np.random.default_rng(4).normal(size=array.shape)
    (ours_layer(x) * mg.tensor(weights)).sum().backward()
    (theirs_layer(t) * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours_layer(x).numpy(), theirs_layer(t).detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-12)


def test_one_hot_like_torch():
    labels = mg.tensor(np.array([[0, 3], [2, 1]]))
    expected = [[[1, 0, 0, 0], [0, 0, 0, 1]], [[0, 0, 1, 0], [0, 1, 0, 0]]]
    assert F.one_hot(labels).tolist() == expected
    assert F.one_hot(labels, 5).shape == (2, 2, 5) and F.one_hot(labels).dtype == np.int64
    with pytest.raises(ValueError, match="num_classes"):
        F.one_hot(labels, 3)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    arrays = [np.random.default_rng(5).normal(size=s) for s in [(3, 4), (4,)]]
    ours = [nn.Parameter(a.copy()) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    for params in (ours, theirs):
        sum((p * p * p).sum() for p in params).backward()
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-12)
    nn.utils.clip_grad_value_(ours, 0.1)
    torch.nn.utils.clip_grad_value_(theirs, 0.1)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(mine.grad.numpy(), reference.grad.numpy())
