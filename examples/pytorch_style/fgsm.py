"""The fast gradient sign attack on a Fashion-MNIST classifier, PyTorch-tutorial style.

x' = clamp(x + eps * sign(grad_x loss), 0, 1): for each eps, the accuracy on test
images the model first got right, after one signed-gradient step on each of them.
Only the imports are minigrad's. There is no pretrained model to download, so the
script trains a small one first (``--train-batches``) or loads ``--pretrained``.

    python examples/pytorch_style/fgsm.py --train-batches 400 --test-images 1000
    python examples/pytorch_style/fgsm.py --fake-data --train-batches 5 --test-images 20
"""

import argparse

import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.data import fashion_mnist
from minigrad.utils.data import DataLoader, Subset, TensorDataset

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's pixel statistics


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5)
        self.conv2 = nn.Conv2d(8, 16, 5)
        self.dropout = nn.Dropout(0.3)
        self.fc1 = nn.Linear(16 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


def normalize(batch):
    """What transforms.Normalize((MEAN,), (STD,)) does to pixels in [0, 1]."""
    return (batch - MEAN) / STD


def denorm(batch, mean=(MEAN,), std=(STD,)):
    """Back from normalised inputs to pixels in [0, 1], per channel."""
    mean = torch.tensor(mean).to(batch.device)
    std = torch.tensor(std).to(batch.device)
    return batch * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)


def fgsm_attack(image, epsilon, data_grad):
    """x' = clamp(x + epsilon * sign(data_grad), 0, 1)."""
    sign_data_grad = data_grad.sign()
    perturbed_image = image + epsilon * sign_data_grad
    return torch.clamp(perturbed_image, 0, 1)


def load_split(train, args):
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
    return TensorDataset(normalize(images), labels)


def train(model, device, loader, batches):
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    step = 0
    while step < batches:  # as many epochs as the steps need
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            loss = F.nll_loss(model(data), target)
            loss.backward()
            optimizer.step()
            if step % 100 == 0:
                print(f"train step {step}: loss {loss.item():.4f}")
            step += 1
            if step == batches:
                break


def test(model, device, test_loader, epsilon):
    correct = 0
    adv_examples = []
    for data, target in test_loader:
        data, target = data.to(device), target.to(device)
        data.requires_grad = True
        output = model(data)
        init_pred = output.max(1, keepdim=True)[1]
        if init_pred.item() != target.item():
            continue  # already wrong: nothing to attack
        loss = F.nll_loss(output, target)
        model.zero_grad()
        loss.backward()
        data_grad = data.grad.data
        data_denorm = denorm(data)
        perturbed_data = fgsm_attack(data_denorm, epsilon, data_grad)
        output = model(normalize(perturbed_data))
        final_pred = output.max(1, keepdim=True)[1]
        if final_pred.item() == target.item():
            correct += 1
            if epsilon == 0 and len(adv_examples) < 5:
                adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
                adv_examples.append((init_pred.item(), final_pred.item(), adv_ex))
        elif len(adv_examples) < 5:
            adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
            adv_examples.append((init_pred.item(), final_pred.item(), adv_ex))
    final_acc = correct / float(len(test_loader))
    print(f"Epsilon: {epsilon}\tTest Accuracy = {correct} / {len(test_loader)} = {final_acc}")
    return final_acc, adv_examples


def main():
    parser = argparse.ArgumentParser(description="FGSM on Fashion-MNIST, PyTorch style")
    parser.add_argument("--epsilons", type=float, nargs="+", default=[0, 0.05, 0.1, 0.2, 0.3])
    parser.add_argument("--pretrained", default="", help="a state_dict saved by torch.save")
    parser.add_argument("--train-batches", type=int, default=400, help="training steps first")
    parser.add_argument("--test-images", type=int, default=1000, help="images attacked")
    parser.add_argument("--fake-data", action="store_true", help="random images, no download")
    parser.add_argument("--no-accel", action="store_true", help="stay on the CPU")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    use_accel = not args.no_accel and torch.accelerator.is_available()
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
    print("Using device:", device)

    model = Net().to(device)
    if args.pretrained:
        model.load_state_dict(torch.load(args.pretrained, map_location=device))
    else:
        train_loader = DataLoader(load_split(True, args), batch_size=64, shuffle=True)
        train(model, device, train_loader, args.train_batches)
    model.eval()

    test_set = load_split(False, args)
    test_set = Subset(test_set, range(min(args.test_images, len(test_set))))
    test_loader = DataLoader(test_set, batch_size=1, shuffle=True)
    accuracies = []
    for eps in args.epsilons:
        acc, _ = test(model, device, test_loader, eps)
        accuracies.append(acc)
    return accuracies


if __name__ == "__main__":
    main()
