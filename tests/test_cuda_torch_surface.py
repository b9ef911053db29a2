"""PyTorch's device surface on a CUDA device: the simulator ("cuda-simulator", with
NUMBA_ENABLE_CUDASIM=1 in a process of its own) or a real GPU ("cuda"); skipped otherwise."""

from __future__ import annotations

import numpy as np
from cuda_cases import cuda_backend

import minigrad as mg

DEVICE = cuda_backend().name  # skips this module when there is no CUDA device
ON_GPU = DEVICE == "cuda"


def test_device_objects_move_tensors_and_report_cuda():
    target = mg.device(DEVICE)
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    y = x.to(target)
    assert y.device is target and y.is_cuda is ON_GPU and y.get_device() == 0
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0])
    assert mg.zeros(2, device=target).device is target
    assert mg.cuda.is_available() is ON_GPU and mg.cuda.device_count() == int(ON_GPU)
    assert mg.accelerator.current_accelerator() == (mg.device("cuda") if ON_GPU else None)


def test_data_shares_storage_on_the_device():
    w = mg.zeros(3, device=DEVICE, requires_grad=True)
    w.data.fill_(2.0)
    w.data[1] = 5.0
    np.testing.assert_array_equal(w.numpy(), [2.0, 5.0, 2.0])
    w.data = np.array([1.0, 2.0], dtype=np.float32)  # a host array moves to w's device
    assert w.device == DEVICE and w.numpy().tolist() == [1.0, 2.0]


def test_cuda_manual_seed_seeds_the_device_generator_only():
    mg.manual_seed(0)
    cpu_first = mg.randn(4).numpy()
    mg.cuda.manual_seed(7)
    first = mg.randn(4, device=DEVICE).numpy()
    mg.cuda.manual_seed_all(7)
    np.testing.assert_array_equal(mg.randn(4, device=DEVICE).numpy(), first)
    mg.manual_seed(0)
    mg.cuda.manual_seed(7)  # leaves the CPU generator where manual_seed(0) put it
    np.testing.assert_array_equal(mg.randn(4).numpy(), cpu_first)
    if ON_GPU:
        mg.cuda.synchronize()
        assert mg.cuda.current_device() == 0
