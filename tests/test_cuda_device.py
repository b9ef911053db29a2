"""minigrad on a CUDA device: the CUDA backend's kernels behind real Tensor code.

The device is "cuda-simulator" in a process of its own with ``NUMBA_ENABLE_CUDASIM=1``
(set before numba is imported), or "cuda" when CuPy sees a real GPU (see
tests/cuda_cases.py); without either the module is skipped. Each op and its gradients
run in float32 on the device and are compared with the CPU in float64, with float32
tolerances (rtol 1e-4, atol 1e-5 on values of order one); second-order gradients
(create_graph) are checked the same way.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cuda_cases import cuda_backend

import minigrad as mg
from minigrad import nn, optim
from minigrad.nn import functional as F

DEVICE = cuda_backend().name  # skips this module when there is no CUDA device

SIMULATED = DEVICE == "cuda-simulator"
RTOL, ATOL = 1e-4, 1e-5


def _values(shape, seed):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape)


def _run(fn, arrays, device, dtype):
    """fn's output and the gradients of sum(output * weights) w.r.t. every input, as numpy."""
    inputs = [mg.tensor(a, dtype=dtype, device=device, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    weights = mg.tensor(_values(out.shape, 99), dtype=dtype, device=device)
    (out * weights).sum().backward()
    return out.numpy(), [t.grad.numpy() for t in inputs]


def _ce_target(device):
    return mg.tensor(np.array([2, 0, 1]), device=device)


OPS = {
    "broadcast_arith": (lambda a, b: (a * b - a / (b.abs() + 1)) ** 2, [(3, 4), (4,)]),
    "matmul_batched": (lambda a, b: a @ b, [(3, 5, 4), (4, 6)]),
    "linear": (lambda x, w, b: F.linear(x, w, b), [(3, 5), (4, 5), (4,)]),
    "conv2d_s2_p1": (
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
        [(3, 2, 7, 6), (4, 2, 3, 3), (4,)],
    ),
    "conv_transpose2d": (
        lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1),
        [(2, 3, 4, 4), (3, 2, 4, 4)],
    ),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 2, 1), [(2, 3, 7, 6)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2), [(2, 3, 6, 5)]),
    "activations": (
        lambda x: F.leaky_relu(x, 0.2) + x.relu() * x.sigmoid() + x.tanh(),
        [(17, 33)],
    ),
    "reductions": (
        lambda x: x.sum(1) + x.max(dim=1).values + x.mean((0, 2), keepdim=True).sum(),
        [(3, 5, 4)],
    ),
    "softmax_family": (lambda x: F.softmax(x, 1) + F.log_softmax(x, 0), [(3, 5)]),
    "shapes_and_indexing": (
        lambda x: x.permute(2, 0, 1)[1:, ::2].reshape(-1, 2).T,
        [(3, 4, 3)],
    ),
    "bce_with_logits": (
        lambda z, t: F.binary_cross_entropy_with_logits(z, t.sigmoid()),
        [(4, 3), (4, 3)],
    ),
    "cross_entropy": (lambda z: F.cross_entropy(z, _ce_target(z.device)), [(3, 4)]),
    "batch_norm_train": (
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        [(4, 3, 2, 2), (3,), (3,)],
    ),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_and_gradient_match_cpu_float64(name):
    fn, shapes = OPS[name]
    arrays = [_values(shape, seed) for seed, shape in enumerate(shapes)]
    out_cpu, grads_cpu = _run(fn, arrays, "cpu", mg.float64)
    out_device, grads_device = _run(fn, arrays, DEVICE, mg.float32)
    assert out_device.dtype == np.float32
    np.testing.assert_allclose(out_device, out_cpu, rtol=RTOL, atol=ATOL)
    for grad_device, grad_cpu in zip(grads_device, grads_cpu, strict=True):
        np.testing.assert_allclose(grad_device, grad_cpu, rtol=RTOL, atol=ATOL)


def _gradient_penalty(x, w1, w2):
    """||d D(x) / dx||^2 for a tiny conv critic D: a gradient of a gradient (WGAN-GP).

    tanh, not a ReLU, so that the penalty depends smoothly on x as well as on w."""
    h = F.conv2d(x, w1, stride=2, padding=1).tanh()
    score = F.conv2d(h, w2).sum()
    (grad_x,) = mg.grad(score, [x], create_graph=True)
    return (grad_x * grad_x).sum().reshape(1)


def test_second_order_gradients_match_cpu_float64():
    arrays = [_values((2, 2, 6, 6), 0), _values((3, 2, 3, 3), 1), _values((1, 3, 3, 3), 2)]
    out_cpu, grads_cpu = _run(_gradient_penalty, arrays, "cpu", mg.float64)
    out_device, grads_device = _run(_gradient_penalty, arrays, DEVICE, mg.float32)
    np.testing.assert_allclose(out_device, out_cpu, rtol=RTOL)
    for grad_device, grad_cpu in zip(grads_device, grads_cpu, strict=True):
        np.testing.assert_allclose(grad_device, grad_cpu, rtol=RTOL, atol=1e-4)


def test_moving_between_devices():
    x = mg.tensor(_values((2, 3), 0), dtype=mg.float32, requires_grad=True)
    on_device = x.to(DEVICE)
    assert on_device.device == DEVICE and on_device.dtype == mg.float32
    back = (on_device * 2).cpu()
    assert back.device == "cpu"
    back.sum().backward()  # the gradient crosses both moves back to the CPU leaf
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2, np.float32))
    assert mg.zeros(2, device=DEVICE).device == DEVICE


def test_mixing_devices_is_a_clear_error():
    a, b = mg.ones(2), mg.ones(2, device=DEVICE)
    with pytest.raises(RuntimeError, match=f"one device.*'cpu'.*'{DEVICE}'"):
        a + b
    if SIMULATED:
        with pytest.raises(RuntimeError, match="use 'cuda-simulator'"):
            a.to("cuda")


def test_cuda_without_a_gpu_names_the_missing_piece():
    """Outside the simulator, "cuda" without CuPy or a GPU is a clear error with the fix."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    code = "import minigrad as mg; mg.ones(2).to('cuda')"
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True
    )
    if done.returncode == 0:
        pytest.skip("a GPU and CuPy are present here")
    assert "RuntimeError" in done.stderr
    assert "pip install minigrad[cuda]" in done.stderr or "GPU" in done.stderr


def test_adam_steps_match_cpu():
    def train(device, dtype):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten())
        model.to(dtype).to(device)
        opt = optim.Adam(model.parameters(), lr=0.05, weight_decay=0.01)
        x = mg.tensor(_values((2, 2, 4, 4), 3), dtype=dtype, device=device)
        for _ in range(3):
            opt.zero_grad()
            (model(x) ** 2).mean().backward()
            opt.step()
        return [p.numpy() for p in model.parameters()]

    for on_device, cpu in zip(train(DEVICE, mg.float32), train("cpu", mg.float64), strict=True):
        np.testing.assert_allclose(on_device, cpu, rtol=1e-4, atol=1e-5)


def test_seeded_random_numbers_repeat_and_restore():
    mg.manual_seed(5)
    first = mg.randn(3, 4, device=DEVICE).numpy()
    state = json.loads(json.dumps(mg.get_rng_state()))
    second = mg.rand(5, device=DEVICE).numpy()
    mg.manual_seed(5)
    np.testing.assert_array_equal(mg.randn(3, 4, device=DEVICE).numpy(), first)
    mg.set_rng_state(state)
    np.testing.assert_array_equal(mg.rand(5, device=DEVICE).numpy(), second)
    assert 0 <= second.min() and second.max() < 1


# bench/gpu.py cannot time anything here; its code paths still run, at toy sizes.


def _bench_module():
    path = Path(__file__).resolve().parent.parent / "bench" / "gpu.py"
    spec = importlib.util.spec_from_file_location("bench_gpu", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not SIMULATED, reason="on a GPU, run bench/gpu.py itself")
def test_gpu_bench_code_paths_run_on_the_simulator():
    bench = _bench_module()
    cuda = mg.devices.get_backend(DEVICE)

    def no_sync():
        return None

    gemm = bench.gemm_rows(cuda, [5, (3, 4, 40)], 1, no_sync)
    assert gemm[0]["m,n,k"] == "5,5,5" and gemm[1]["m,n,k"] == "3,4,40"
    assert max(row["max_abs_diff"] for row in gemm) < 1e-4
    conv = bench.conv_rows(cuda, [(2, 3, 4)], 1, 1, no_sync, ("numba",))
    assert conv[0]["numba_ms"] > 0
    step_ms = bench.minigrad_step_ms(DEVICE, 2, 8, 2, 3, 1, no_sync)
    assert step_ms > 0
    assert "numba_ms" in bench.format_table(conv, "conv").splitlines()[1]
    with pytest.raises(SystemExit, match="real GPU"):
        bench.main([])


def _tiny_dcgan_step():
    """bench/gpu.py's DCGAN training step (BatchNorm, LeakyReLU, Adam, BCE) at 8x8 pixels."""
    bench = _bench_module()
    mg.manual_seed(0)
    G, D = bench.dcgan(nn, 8, 2, 3)
    G.to(DEVICE)
    D.to(DEVICE)

    def randn(*shape):
        return mg.randn(*shape, device=DEVICE)

    step = bench._gan_step(optim, F.binary_cross_entropy_with_logits, randn, G, D, 2, 8, 3)
    step()  # the first step creates Adam's state
    return step


def test_a_training_step_copies_nothing_between_host_and_device():
    """Counted on the backend's transfer paths (kernels.cuda.runtime.transfers)."""
    from kernels.cuda.runtime import transfers

    step = _tiny_dcgan_step()
    transfers.reset()
    step()
    assert (transfers.host_to_device, transfers.device_to_host) == (0, 0)
    mg.tensor([1.0, 2.0], device=DEVICE).sum().item()  # the counter does count
    assert (transfers.host_to_device, transfers.device_to_host) == (1, 1)


@pytest.mark.skipif(SIMULATED, reason="CuPy's synchronisation guard needs a real GPU")
def test_a_training_step_never_waits_for_the_gpu():
    """CuPy raises DeviceSynchronized on any implicit wait (a .get(), an int() of an array)."""
    import cupyx

    step = _tiny_dcgan_step()
    with cupyx.allow_synchronize(False):
        step()
