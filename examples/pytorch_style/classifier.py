"""A Fashion-MNIST classifier written the way PyTorch's examples write one.

Only the imports are minigrad's: replace them with ``import torch`` / ``torch.nn`` /
``torch.nn.functional`` / ``torch.optim`` / ``torch.utils.data`` (and torchvision's
FashionMNIST for ``load_split``) and it is a PyTorch script.

    python examples/pytorch_style/classifier.py --epochs 1
    python examples/pytorch_style/classifier.py --dry-run --fake-data    # seconds
"""

import argparse

import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.data import fashion_mnist
from minigrad.optim.lr_scheduler import StepLR
from minigrad.utils.data import DataLoader, Subset, TensorDataset

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's pixel statistics


class Net(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, 1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, 1)
        self.drop_maps = nn.Dropout2d(0.1)
        self.drop_hidden = nn.Dropout(0.4)
        self.fc1 = nn.Linear(2 * width * 12 * 12, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.drop_maps(F.max_pool2d(x, 2))
        x = torch.flatten(x, 1)
        x = self.drop_hidden(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


def load_split(train, args):
    """Normalised (images, labels): Fashion-MNIST, or look-alikes with --fake-data."""
    if args.fake_data:
        # Learnable look-alikes: noise with a bright stripe in the row of the class.
        count = 512 if train else 128
        labels = torch.randint(0, 10, (count,))
        stripes = torch.zeros(10, 1, 28, 28)
        for k in range(10):
            stripes[k, 0, 4 + 2 * k] = 1.0
        images = torch.rand(count, 1, 28, 28) * 0.3 + stripes[labels]
    else:
        images, labels = fashion_mnist("train" if train else "test").tensors
    dataset = TensorDataset((images - MEAN) / STD, labels)
    if not train and args.test_size:
        dataset = Subset(dataset, range(min(args.test_size, len(dataset))))
    return dataset


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            seen = batch_idx * len(data)
            print(
                f"Train Epoch: {epoch} [{seen}/{len(train_loader.dataset)} "
                f"({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item():.6f}"
            )
        if args.dry_run or batch_idx + 1 == args.max_batches:
            break


def test(model, device, test_loader):
    model.eval()
    test_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
            seen += len(data)
    test_loss /= seen
    print(
        f"\nTest set: Average loss: {test_loss:.4f}, "
        f"Accuracy: {correct}/{seen} ({100.0 * correct / seen:.0f}%)\n"
    )
    return correct / seen


def main():
    parser = argparse.ArgumentParser(description="Fashion-MNIST classifier, PyTorch style")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N")
    parser.add_argument("--test-batch-size", type=int, default=1000, metavar="N")
    parser.add_argument("--epochs", type=int, default=3, metavar="N")
    parser.add_argument("--lr", type=float, default=1.0, metavar="LR", help="Adadelta rate")
    parser.add_argument("--gamma", type=float, default=0.7, metavar="M", help="StepLR factor")
    parser.add_argument("--width", type=int, default=16, help="channels of the first conv")
    parser.add_argument("--no-accel", action="store_true", help="stay on the CPU")
    parser.add_argument("--dry-run", action="store_true", help="one batch per epoch")
    parser.add_argument("--max-batches", type=int, default=0, help="stop epochs early (0: no)")
    parser.add_argument("--fake-data", action="store_true", help="random images, no download")
    parser.add_argument("--test-size", type=int, default=0, help="test on the first N (0: all)")
    parser.add_argument("--num-workers", type=int, default=0, help="DataLoader processes")
    parser.add_argument("--seed", type=int, default=1, metavar="S")
    parser.add_argument("--log-interval", type=int, default=10, metavar="N")
    parser.add_argument("--save-model", action="store_true", help="write fashion_cnn.pt")
    args = parser.parse_args()

    use_accel = not args.no_accel and torch.accelerator.is_available()
    torch.manual_seed(args.seed)
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")

    train_kwargs = {"batch_size": args.batch_size, "shuffle": True}
    test_kwargs = {"batch_size": args.test_batch_size}
    if args.num_workers > 0:
        worker_kwargs = {"num_workers": args.num_workers, "persistent_workers": True}
        train_kwargs.update(worker_kwargs)
        test_kwargs.update(worker_kwargs)
    train_loader = DataLoader(load_split(True, args), **train_kwargs)
    test_loader = DataLoader(load_split(False, args), **test_kwargs)

    model = Net(args.width).to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)
        scheduler.step()

    if args.save_model:
        torch.save(model.state_dict(), "fashion_cnn.pt")


if __name__ == "__main__":
    main()
