"""PyTorch's device surface: ``minigrad.device``, ``minigrad.cuda``, ``minigrad.accelerator``,
``minigrad.backends``, seeding; checked against a CPU-only PyTorch where installed."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

# ---------------------------------------------------------------------------- devices


def test_device_objects_name_devices_like_torch():
    cuda = mg.device("cuda:0")
    assert cuda.type == "cuda" and cuda.index == 0
    assert repr(cuda) == "device(type='cuda', index=0)"
    assert cuda is mg.device("cuda", 0) and cuda == mg.device("cuda")
    cpu = mg.device("cpu")
    assert cpu.type == "cpu" and cpu.index is None and repr(cpu) == "device(type='cpu')"
    assert str(cpu) == "cpu" and cpu == "cpu" and "cpu" == cpu and cpu != "cuda"
    assert cpu != cuda and mg.device(cpu) is cpu
    assert {cpu: 1}["cpu"] == 1  # hashes as its name: usable as a dict key for either


@pytest.mark.parametrize(
    "args, error",
    [
        (("mps",), ValueError),
        (("cuda", 1), ValueError),
        (("cuda:x",), ValueError),
        ((0,), TypeError),
    ],
)
def test_device_rejects_what_minigrad_cannot_drive(args, error):
    with pytest.raises(error, match="device"):
        mg.device(*args)


def test_device_objects_go_where_device_strings_go():
    cpu = mg.device("cpu")
    x = mg.tensor([1.0, 2.0], device=cpu)
    assert x.device == cpu and isinstance(x.device, mg.device)
    assert x.to(cpu) is x and x.to(device=cpu) is x and x.cpu() is x
    for made in (mg.zeros(2, device=cpu), mg.ones(2, device=cpu), mg.randn(2, device=cpu)):
        assert made.device is cpu
    assert mg.full((2,), 1.0, device=cpu).device is cpu
    assert mg.randint(0, 3, (4,), device=cpu).device is cpu
    assert mg.zeros(1, device=None).device is cpu  # PyTorch's default
    model = mg.nn.Linear(2, 1).to(cpu)
    assert model.weight.device is cpu
    assert not x.is_cuda and x.is_cpu and x.get_device() == -1


def test_to_takes_a_tensor_copy_and_non_blocking():
    x = mg.tensor([1.0, 2.0])
    like = mg.zeros(1, dtype=mg.float64)
    y = x.to(like)
    assert y.dtype == mg.float64 and y.device == like.device
    copied = x.to("cpu", copy=True)
    copied.fill_(0.0)
    assert x.numpy().tolist() == [1.0, 2.0]
    assert x.to("cpu", non_blocking=True) is x
    with pytest.raises(TypeError, match="non_blocking"):
        x.to("cpu", non_blocking="yes")


def test_cuda_accelerator_and_backends_answer_like_a_cpu_only_torch():
    available = mg.cuda.is_available()
    assert mg.cuda.device_count() == int(available)
    assert mg.accelerator.is_available() is available
    assert mg.accelerator.current_accelerator() == (mg.device("cuda") if available else None)
    assert mg.backends.mps.is_available() is False and mg.backends.mps.is_built() is False
    assert mg.backends.cudnn.is_available() is False and mg.backends.cudnn.version() is None
    mg.backends.cudnn.benchmark = True  # scripts set these: allowed, documented no-ops
    mg.backends.cudnn.deterministic = True
    mg.backends.cudnn.benchmark = mg.backends.cudnn.deterministic = False
    if not available:
        with pytest.raises(RuntimeError, match="cuda"):
            mg.cuda.current_device()
        with pytest.raises(RuntimeError, match="cuda"):
            mg.zeros(1).cuda()


def test_cuda_answers_match_torch_on_a_cpu_only_machine():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available() or mg.cuda.is_available():
        pytest.skip("compares CPU-only answers")
    assert mg.cuda.is_available() == torch.cuda.is_available()
    assert mg.cuda.device_count() == torch.cuda.device_count()
    assert mg.accelerator.current_accelerator() == torch.accelerator.current_accelerator()
    assert mg.backends.mps.is_available() == torch.backends.mps.is_available()
    assert mg.backends.cudnn.benchmark == torch.backends.cudnn.benchmark
    assert mg.cuda.manual_seed(3) is None and torch.cuda.manual_seed(3) is None
    assert repr(mg.device("cpu")) == repr(torch.device("cpu"))
    assert repr(mg.device("cuda:0")) == repr(torch.device("cuda:0"))
    assert mg.zeros(1).is_cuda == torch.zeros(1).is_cuda
    assert mg.zeros(1).get_device() == torch.zeros(1).get_device()


def test_manual_seed_returns_the_default_generator():
    generator = mg.manual_seed(5)
    assert generator is mg.default_generator and generator.initial_seed() == 5
    first = mg.randn(3).numpy()
    state = generator.get_state()
    second = mg.randn(3).numpy()
    generator.set_state(state)
    np.testing.assert_array_equal(mg.randn(3).numpy(), second)
    assert generator.manual_seed(5) is generator
    np.testing.assert_array_equal(mg.randn(3).numpy(), first)
    with pytest.raises(ValueError, match="seed"):
        mg.manual_seed(-1)
