"""One epoch of the Fashion-MNIST CNN in minigrad and in PyTorch CPU, same hyper-parameters.

    python bench/bench_train_cnn.py [--epochs 1] [--train-size 60000]

Both use the architecture of ``minigrad.models.FashionCNN``, Adam(lr=1e-3), batch 64,
the same shuffling order and 2 threads. PyTorch's weights are copied from minigrad's
initialisation, so the two runs start from the same point. Writes
bench/results/train_cnn.json with wall time and test accuracy of each.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.data import DataLoader, fashion_mnist
from minigrad.models import FashionCNN, accuracy, fit


def torch_twin(model: FashionCNN, torch):
    nn = torch.nn
    twin = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )
    ours = [p.numpy() for p in model.parameters()]
    with torch.no_grad():
        for param, value in zip(twin.parameters(), ours, strict=True):
            param.copy_(torch.from_numpy(value.copy()))
    return twin


def train_torch(twin, torch, images, labels, order_batches, lr):
    optimizer = torch.optim.Adam(twin.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_all, y_all = torch.from_numpy(images), torch.from_numpy(labels)
    start = time.perf_counter()
    for batch in order_batches:
        index = torch.from_numpy(batch)
        loss = loss_fn(twin(x_all[index]), y_all[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=60000)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    mg.manual_seed(0)
    train, test = fashion_mnist("train"), fashion_mnist("test")
    images, labels = (t[: args.train_size] for t in train.tensors)
    model = FashionCNN()
    twin = torch_twin(model, torch)

    loader = DataLoader(
        mg.data.TensorDataset(images, labels), batch_size=args.batch_size, shuffle=True, seed=0
    )
    order = np.random.default_rng(0).permutation(len(images))
    batches = [order[i : i + args.batch_size] for i in range(0, len(order), args.batch_size)]

    start = time.perf_counter()
    fit(model, loader, mg.optim.Adam(model.parameters(), lr=1e-3), epochs=args.epochs)
    ours_seconds = time.perf_counter() - start
    ours_accuracy = accuracy(model, *test.tensors)

    torch_seconds = sum(
        train_torch(twin, torch, images.numpy(), labels.numpy(), batches, 1e-3)
        for _ in range(args.epochs)
    )
    twin.eval()
    with torch.no_grad():
        logits = twin(torch.from_numpy(test.tensors[0].numpy()))
    torch_accuracy = float((logits.argmax(1).numpy() == test.tensors[1].numpy()).mean())

    result = {
        "epochs": args.epochs,
        "train_images": len(images),
        "batch_size": args.batch_size,
        "minigrad": {"seconds": ours_seconds, "test_accuracy": ours_accuracy},
        "torch": {"seconds": torch_seconds, "test_accuracy": torch_accuracy},
        "time_ratio": ours_seconds / torch_seconds,
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "train_cnn.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
