"""Train the small CNN on Fashion-MNIST and print its test accuracy.

    python examples/train_fashion_cnn.py --epochs 1

The data come from $MINIGRAD_DATA, the user cache, the Debian package
``dataset-fashion-mnist``, or a verified download, in that order.
"""

from __future__ import annotations

import argparse
import time

import minigrad as mg
from minigrad.data import DataLoader, fashion_mnist
from minigrad.models import FashionCNN, accuracy, fit


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="passes over the training set")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    parser.add_argument("--train-size", type=int, default=60000, help="use the first N images")
    parser.add_argument("--seed", type=int, default=0, help="seed for init and shuffling")
    args = parser.parse_args(argv)

    mg.manual_seed(args.seed)
    train, test = fashion_mnist("train"), fashion_mnist("test")
    images, labels = train.tensors
    subset = mg.data.TensorDataset(images[: args.train_size], labels[: args.train_size])
    loader = DataLoader(subset, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    model = FashionCNN()
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr)
    start = time.perf_counter()
    losses = fit(model, loader, optimizer, epochs=args.epochs)
    seconds = time.perf_counter() - start
    test_accuracy = accuracy(model, *test.tensors)
    print(f"train loss per epoch: {[round(v, 4) for v in losses]}")
    print(f"trained {args.epochs} epoch(s) on {len(subset)} images in {seconds:.1f} s")
    print(f"test accuracy: {test_accuracy:.4f}")
    return test_accuracy


if __name__ == "__main__":
    main()
