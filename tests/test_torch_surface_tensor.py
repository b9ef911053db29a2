"""PyTorch's Tensor surface as scripts use it: ``.data``, methods, and the behaviours that
used to differ silently. Each rule is checked on its own, and against real
PyTorch where it is installed (``pytest.importorskip("torch")``)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F

# ---------------------------------------------------------------------------- .data


def test_data_is_a_detached_tensor_sharing_storage():
    w = mg.zeros(3, 4, requires_grad=True)
    view = w.data
    assert isinstance(view, mg.Tensor)
    assert not view.requires_grad and view.grad_fn is None
    mg.manual_seed(0)
    view.normal_(0, 0.02)  # the DCGAN idiom nn.init.normal_(m.weight.data, 0, 0.02)
    np.testing.assert_array_equal(w.numpy(), view.numpy())
    assert 0.005 < w.numpy().std() < 0.05
    w.data.fill_(2.0)
    assert (w.numpy() == 2).all()
    w.data.copy_(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(w.numpy(), np.arange(12.0).reshape(3, 4))
    assert w.is_leaf and w.requires_grad  # changes through .data leave w a leaf


def test_data_of_a_gradient_gives_its_sign():
    x = mg.tensor([-1.0, 2.0, 0.5], requires_grad=True)
    (x * mg.tensor([3.0, -2.0, 1.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data.sign().numpy(), [1.0, -1.0, 1.0])  # FGSM idiom


def _data_changes_hidden_from_autograd(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data.mul_(10)  # no version bump: backward uses the new values, as PyTorch does
    y.backward()
    return x.grad.numpy()


def test_data_changes_are_hidden_from_autograd():
    np.testing.assert_array_equal(_data_changes_hidden_from_autograd(mg), [20.0, 40.0])


def test_data_changes_match_torch():
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(
        _data_changes_hidden_from_autograd(mg), _data_changes_hidden_from_autograd(torch)
    )


def test_assigning_data_replaces_storage():
    w = mg.zeros(2, requires_grad=True)
    new = mg.ones(3)
    w.data = new
    assert w.shape == (3,) and w.requires_grad and w.is_leaf
    new.fill_(5.0)  # w now shares new's storage
    np.testing.assert_array_equal(w.numpy(), [5.0, 5.0, 5.0])
    w.data = np.array([1.0, 2.0], dtype=np.float32)  # a host array is accepted too
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])
    with pytest.raises(RuntimeError, match="floating point"):
        w.data = mg.tensor([1, 2])
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])  # the refused assignment left w alone


def test_data_of_a_zero_dim_result_is_writable():
    y = mg.tensor(1.0) + mg.tensor(2.0)  # numpy hands 0-d results back as scalars
    y.data.fill_(7.0)
    assert y.item() == 7.0


def test_setitem_writes_in_place_and_guards_leaves():
    x = mg.zeros(2, 3)
    x[0, 1] = 5.0
    x[1] = mg.tensor([1.0, 2.0, 3.0])
    x[x > 2.5] = -1.0
    np.testing.assert_array_equal(x.numpy(), [[0.0, -1.0, 0.0], [1.0, 2.0, -1.0]])
    w = mg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w[0] = 1.0
    with mg.no_grad():
        w[0] = 1.0
    w.data[1] = 2.0
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0, 0.0])


# ---------------------------------------------------------------------------- methods


def _methods_scenario(lib):
    x = lib.tensor([[1.0, 3.0, 3.0], [2.0, -2.0, 0.0]], dtype=lib.float64)
    other = lib.tensor([[1.0, 0.0, 3.0], [5.0, -2.0, 1.0]], dtype=lib.float64)
    values = {
        name: getattr(x, name)(other).numpy() for name in ("eq", "ne", "lt", "le", "gt", "ge")
    }
    values.update(
        {
            "eq_scalar": x.eq(3).numpy(),
            "view_as": x.view_as(lib.zeros(3, 2)).numpy(),
            "reshape_as": x.reshape_as(lib.zeros(6)).numpy(),
            "expand_as": x[:1].expand_as(x).numpy(),
            "new_zeros": x.new_zeros(2, 2).numpy(),
            "new_ones": x.new_ones((1, 2)).numpy(),
            "new_full": x.new_full((2,), 7.0).numpy(),
            "new_tensor": x.new_tensor([1, 2]).numpy(),
            "new_empty_shape": np.array(x.new_empty(4, 1).shape),
            "type_as": x.type_as(lib.zeros(1, dtype=lib.float32)).numpy(),
            "t": x.t().numpy(),
            "std": x.std().numpy(),
            "std_dim": x.std(dim=1, keepdim=True).numpy(),
            "sum_dim": x.sum(dim=1).numpy(),
            "argmax": x.argmax(dim=1, keepdim=True).numpy(),
            "max_values": x.max(1).values.numpy(),
            "max_indices": x.max(1).indices.numpy(),
            "min_keepdim": x.min(1, keepdim=True)[0].numpy(),
            "max_pair": lib.max(x, other).numpy(),
            "masked_fill": x.masked_fill(x > 1, -1.0).numpy(),
            "split": np.concatenate([p.numpy() for p in x.split([1, 2], dim=1)], axis=1),
            "chunk": np.stack([p.numpy() for p in x.chunk(2)]),
            "unbind": np.stack([p.numpy() for p in x.unbind(1)]),
            "all": (x > -3).all().numpy(),
            "any_dim": (x > 2).any(dim=1).numpy(),
            "invert": (~(x > 1)).numpy(),
            "and": ((x > 0) & (x < 3)).numpy(),
            "isfinite": lib.tensor([1.0, float("inf"), float("nan")]).isfinite().numpy(),
            "stride": np.array(x.t().contiguous().stride()),
            "int_dtype": np.array(str(x.int().dtype)),
            "bool": x.bool().numpy(),
        }
    )
    return values


def test_tensor_methods_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _methods_scenario(mg), _methods_scenario(torch)
    for key in ours:
        expected = theirs[key]
        if key == "int_dtype":
            assert str(ours[key]) == "int32" and str(expected) == "torch.int32"
            continue
        np.testing.assert_allclose(ours[key], expected, err_msg=key)


def test_tensor_methods_without_torch():
    got = _methods_scenario(mg)
    assert got["eq"].tolist() == [[True, False, True], [False, True, False]]
    assert got["max_indices"].tolist() == [1, 0]  # the first of tied maxima
    assert got["new_full"].dtype == np.float64  # new_* keep the tensor's dtype
    np.testing.assert_allclose(got["std"], np.std([1, 3, 3, 2, -2, 0], ddof=1))
    assert got["split"].tolist() == [[1.0, 3.0, 3.0], [2.0, -2.0, 0.0]]
    assert got["stride"].tolist() == [2, 1]


def test_module_level_spellings_and_dtypes():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert mg.float is mg.float32 and mg.long is mg.int64 and mg.double is mg.float64
    assert mg.tensor([1], dtype=mg.long).dtype == mg.int64
    assert mg.is_tensor(x) and not mg.is_tensor(x.numpy()) and mg.numel(x) == 4
    assert mg.equal(x, x.clone()) and not mg.equal(x, x + 1)
    assert mg.allclose(x, x + 1e-9) and not mg.allclose(x, x + 1)
    np.testing.assert_array_equal(mg.mm(x, x).numpy(), x.numpy() @ x.numpy())
    np.testing.assert_array_equal(mg.eq(x, 2).numpy(), x.numpy() == 2)
    values, indices = mg.max(x, 1)
    assert values.numpy().tolist() == [2.0, 4.0] and indices.numpy().tolist() == [1, 1]
    assert mg.max(x).item() == 4.0
    with pytest.raises(ValueError, match="mm expects two 2-d"):
        mg.mm(x, mg.ones(2))


def test_from_numpy_shares_memory_and_empty_is_zeros():
    array = np.zeros(3)
    shared = mg.from_numpy(array)
    array[0] = 5.0
    assert shared.numpy()[0] == 5.0 and shared.dtype == mg.float64
    assert mg.as_tensor(array).numpy()[0] == 5.0
    assert mg.as_tensor([1.0, 2.0]).dtype == mg.float32
    with pytest.raises(TypeError, match="numpy.ndarray"):
        mg.from_numpy([1.0])
    assert mg.empty(2, 3).shape == (2, 3) and not mg.empty(2).numpy().any()
    assert mg.empty_like(shared).dtype == mg.float64


def test_set_default_dtype_changes_what_floats_become():
    try:
        mg.set_default_dtype(mg.float64)
        assert mg.get_default_dtype() == mg.float64
        assert mg.tensor([1.0]).dtype == mg.float64 and mg.zeros(1).dtype == mg.float64
        assert mg.randn(2).dtype == mg.float64
    finally:
        mg.set_default_dtype(mg.float32)
    assert mg.tensor([1.0]).dtype == mg.float32
    with pytest.raises(TypeError, match="float32 or float64"):
        mg.set_default_dtype(mg.int64)


def test_inference_mode_records_no_graph():
    w = mg.ones(2, requires_grad=True)
    with mg.inference_mode():
        assert not (w * 2).requires_grad
    with mg.inference_mode(False):
        assert (w * 2).requires_grad
    with mg.no_grad(), mg.inference_mode(False):  # mode=False leaves grad mode alone
        assert not (w * 2).requires_grad

    @mg.inference_mode()
    def predict(x):
        return x * 2

    assert not predict(w).requires_grad


# ------------------------------------------------------------- gradients, float64 FD


def test_max_dim_gradient_goes_to_the_returned_index_only():
    x = mg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], dtype=mg.float64, requires_grad=True)
    x.max(1).values.sum().backward()
    assert x.grad.numpy().tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    x.grad = None
    x.amax(1).sum().backward()  # amax splits ties evenly, as PyTorch's does
    assert x.grad.numpy().tolist() == [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]]
    x.grad = None
    x.max().backward()  # a full max splits ties too, as PyTorch's does
    assert x.grad.numpy().tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]
    x.grad = None
    x.min(dim=0).values.sum().backward()
    assert x.grad.numpy().tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]


def test_max_dim_with_ties_matches_torch():
    torch = pytest.importorskip("torch")
    values = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]
    ours = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    for dim, keepdim in [(0, False), (1, True), (-1, False)]:
        for name in ("max", "min"):
            ours.grad, theirs.grad = None, None
            mine, ref = getattr(ours, name)(dim, keepdim), getattr(theirs, name)(dim, keepdim)
            np.testing.assert_array_equal(mine.indices.numpy(), ref.indices.numpy())
            (mine.values * mg.tensor([[2.0]], dtype=mg.float64)).sum().backward()
            (ref.values * 2).sum().backward()
            np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize(
    "name, fn",
    [
        ("max_dim", lambda x: x.max(1).values * x.min(0, keepdim=True).values.sum()),
        ("masked_fill", lambda x: (x.masked_fill(x > 0.5, 2.0) * x).sum(0)),
        ("std", lambda x: x.std(dim=0)),
        ("split_chunk", lambda x: x.split([1, 2], 1)[1] * x.chunk(3, 1)[0]),
        ("unbind", lambda x: x.unbind(0)[0] * x.unbind(0)[1]),
        ("contiguous_t", lambda x: (x.t().contiguous() @ x)),
        ("view_as_type_as", lambda x: x.view_as(x.t()).type_as(x) ** 2),
        ("hooked", lambda x: _hooked(x) * x),
    ],
)
def test_new_differentiable_methods_match_finite_differences(name, fn):
    rng = np.random.default_rng(7)
    x = mg.tensor(rng.uniform(-1, 1, (3, 3)), dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(fn, [x])
    assert mg.gradgradcheck(fn, [x])


def _hooked(x):
    y = x * x
    y.register_hook(lambda g: g)  # a hook that keeps the gradient changes nothing
    return y


# ------------------------------------------------------------------ silent differences


def _inplace_rules(lib):
    outcomes = {}
    leaf = lib.zeros(2, requires_grad=True)
    for name, change in {
        "iadd": lambda t: t.__iadd__(1),
        "mul_": lambda t: t.mul_(2),
        "setitem": lambda t: t.__setitem__(0, 1.0),
        "fill_": lambda t: t.fill_(1.0),
    }.items():
        try:
            change(leaf)
            outcomes[name] = "ok"
        except RuntimeError as error:
            outcomes[name] = "leaf" if "leaf Variable" in str(error) else str(error)
    with lib.no_grad():
        leaf -= 0.5  # the manual SGD step: in place, still the same leaf
    outcomes["no_grad_leaf"] = (leaf.is_leaf, leaf.requires_grad, leaf.detach().numpy().tolist())
    y = leaf * 2
    y += 1  # a non-leaf: recorded (PyTorch) / rebound (minigrad); same values and gradient
    y.sum().backward()
    outcomes["non_leaf"] = (y.detach().numpy().tolist(), leaf.grad.numpy().tolist())
    acc = lib.zeros(2)
    acc += leaf * 3  # a tensor without grad takes a graph-carrying value
    outcomes["acc_requires_grad"] = acc.requires_grad
    counts = lib.tensor([1, 2])
    try:
        counts += 0.5
        outcomes["int_plus_float"] = "ok"
    except RuntimeError:
        outcomes["int_plus_float"] = "raised"
    try:
        lib.tensor([1, 2], requires_grad=True)
        outcomes["int_requires_grad"] = "ok"
    except RuntimeError as error:
        outcomes["int_requires_grad"] = "floating point" in str(error)
    outcomes["Tensor(2, 3)"] = (tuple(lib.Tensor(2, 3).shape), str(lib.Tensor(2, 3).dtype))
    outcomes["Tensor(list)"] = lib.Tensor([1.0, 2.0]).numpy().tolist()
    return outcomes


def test_silent_differences_now_behave_like_torch():
    got = _inplace_rules(mg)
    assert got["iadd"] == got["mul_"] == got["setitem"] == got["fill_"] == "leaf"
    assert got["no_grad_leaf"] == (True, True, [-0.5, -0.5])
    assert got["non_leaf"] == ([0.0, 0.0], [2.0, 2.0])
    assert got["acc_requires_grad"] is True
    assert got["int_plus_float"] == "raised"
    assert got["int_requires_grad"] is True
    assert got["Tensor(2, 3)"] == ((2, 3), "float32")
    assert got["Tensor(list)"] == [1.0, 2.0]


def test_silent_differences_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _inplace_rules(mg), _inplace_rules(torch)
    theirs["Tensor(2, 3)"] = (theirs["Tensor(2, 3)"][0], "float32")  # torch.float32 spelling
    assert ours == theirs


def test_leaf_requires_grad_attribute_is_checked():
    counts = mg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="floating point"):
        counts.requires_grad = True
    assert not counts.requires_grad
    x = mg.tensor([1.0])
    x.requires_grad = True  # the scalar-autograd-suite idiom
    assert x.requires_grad and x.is_leaf
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad = False
    with pytest.raises(TypeError, match="int sizes"):
        mg.Tensor(2, "3")


def test_var_and_std_take_pytorchs_unbiased_spelling():
    values = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]])
    x = mg.tensor(values)
    for unbiased, ddof in ((True, 1), (False, 0)):
        assert np.allclose(mg.var(x, 1, unbiased=unbiased).numpy(), values.var(1, ddof=ddof))
        assert np.allclose(x.std(0, unbiased=unbiased).numpy(), values.std(0, ddof=ddof))
        assert np.allclose(mg.std(x, unbiased=unbiased).numpy(), values.std(ddof=ddof))


def test_functional_pad_takes_pytorchs_argument_names():
    x = mg.tensor(np.arange(4.0).reshape(1, 1, 2, 2))
    padded = F.pad(input=x, pad=(1, 0, 0, 1), mode="constant", value=-1.0).numpy()[0, 0]
    assert np.array_equal(padded, [[-1, 0, 1], [-1, 2, 3], [-1, -1, -1]])
    with pytest.raises(ValueError, match="mode must be 'constant'.*'reflect'"):
        F.pad(x, (1, 1), mode="reflect")
