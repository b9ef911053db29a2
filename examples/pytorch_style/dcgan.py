"""A DCGAN on Fashion-MNIST written the way PyTorch's examples write one.

Only the imports are minigrad's (``torch``, ``torch.nn``, ``torch.optim``,
``torch.backends.cudnn``, ``torch.utils.data``, ``torchvision.utils`` in PyTorch, and
torchvision's FashionMNIST for ``load_images``).

    python examples/pytorch_style/dcgan.py --niter 5 --outf dcgan-out
    python examples/pytorch_style/dcgan.py --dry-run --fake-data --outf /tmp/dcgan
"""

import argparse
import os
import random

import minigrad as torch
import minigrad.nn as nn
import minigrad.optim as optim
from minigrad.data import fashion_mnist
from minigrad.images import save_image
from minigrad.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser(description="DCGAN on Fashion-MNIST, PyTorch style")
parser.add_argument("--batchSize", type=int, default=64, help="input batch size")
parser.add_argument("--nz", type=int, default=64, help="size of the latent z vector")
parser.add_argument("--ngf", type=int, default=32, help="generator width")
parser.add_argument("--ndf", type=int, default=32, help="discriminator width")
parser.add_argument("--niter", type=int, default=5, help="number of epochs to train for")
parser.add_argument("--lr", type=float, default=0.0002, help="learning rate")
parser.add_argument("--beta1", type=float, default=0.5, help="beta1 for adam")
parser.add_argument("--no-accel", action="store_true", help="stay on the CPU")
parser.add_argument("--ngpu", type=int, default=1, help="number of GPUs to use")
parser.add_argument("--netG", default="", help="path to netG (to continue training)")
parser.add_argument("--netD", default="", help="path to netD (to continue training)")
parser.add_argument("--outf", default=".", help="folder for images and checkpoints")
parser.add_argument("--manualSeed", type=int, help="manual seed")
parser.add_argument("--dry-run", action="store_true", help="check a single training cycle")
parser.add_argument("--max-batches", type=int, default=0, help="batches per epoch (0: all)")
parser.add_argument("--fake-data", action="store_true", help="random images, no download")
parser.add_argument("--workers", type=int, default=0, help="number of data loading workers")
opt = parser.parse_args()
print(opt)

os.makedirs(opt.outf, exist_ok=True)
if opt.manualSeed is None:
    opt.manualSeed = random.randint(1, 10000)
print("Random Seed: ", opt.manualSeed)
random.seed(opt.manualSeed)
torch.manual_seed(opt.manualSeed)
torch.backends.cudnn.benchmark = True

use_accel = not opt.no_accel and torch.accelerator.is_available()
device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
print(f"Using device: {device}")


def load_images():
    """Images scaled to [-1, 1] (the generator ends in Tanh) with their labels."""
    if opt.fake_data:
        images, labels = torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,))
    else:
        images, labels = fashion_mnist("train").tensors
    return TensorDataset(images * 2 - 1, labels)


dataloader = DataLoader(
    load_images(), batch_size=opt.batchSize, shuffle=True, num_workers=opt.workers
)
ngpu, nz, ngf, ndf, nc = opt.ngpu, opt.nz, opt.ngf, opt.ndf, 1


def weights_init(m):
    """Conv weights ~ N(0, 0.02); BatchNorm scales ~ N(1, 0.02), shifts 0 (the DCGAN paper)."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.zeros_(m.bias.data)


class Generator(nn.Module):
    def __init__(self, ngpu):
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            # z: nz x 1 x 1 -> (ngf*4) x 7 x 7
            nn.ConvTranspose2d(nz, ngf * 4, 7, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # -> (ngf*2) x 14 x 14
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # -> nc x 28 x 28, in [-1, 1]
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        if input.is_cuda and self.ngpu > 1:
            return nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self, ngpu):
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            # nc x 28 x 28 -> ndf x 14 x 14
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (ndf*2) x 7 x 7
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # -> 1 x 1 x 1, a probability
            nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        if input.is_cuda and self.ngpu > 1:
            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        else:
            output = self.main(input)
        return output.view(-1, 1).squeeze(1)


netG = Generator(ngpu).to(device)
netG.apply(weights_init)
if opt.netG != "":
    netG.load_state_dict(torch.load(opt.netG, map_location=device))
print(netG)

netD = Discriminator(ngpu).to(device)
netD.apply(weights_init)
if opt.netD != "":
    netD.load_state_dict(torch.load(opt.netD, map_location=device))
print(netD)

criterion = nn.BCELoss()
fixed_noise = torch.randn(opt.batchSize, nz, 1, 1, device=device)
real_label, fake_label = 1.0, 0.0

optimizerD = optim.Adam(netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))

if opt.dry_run:
    opt.niter = 1

for epoch in range(opt.niter):
    for i, data in enumerate(dataloader, 0):
        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real_cpu = data[0].to(device)
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        noise = torch.randn(batch_size, nz, 1, 1, device=device)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        # (2) Update G: maximize log(D(G(z))), the non-saturating loss
        netG.zero_grad()
        label.fill_(real_label)  # fake labels are real for the generator's cost
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()

        print(
            f"[{epoch}/{opt.niter}][{i}/{len(dataloader)}] Loss_D: {errD.item():.4f} "
            f"Loss_G: {errG.item():.4f} D(x): {D_x:.4f} D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}"
        )
        if i % 100 == 0:
            save_image(real_cpu, f"{opt.outf}/real_samples.png", normalize=True)
            fake = netG(fixed_noise)
            save_image(
                fake.detach(), f"{opt.outf}/fake_samples_epoch_{epoch:03d}.png", normalize=True
            )
        if opt.dry_run or i + 1 == opt.max_batches:
            break
    # checkpoints after every epoch
    torch.save(netG.state_dict(), f"{opt.outf}/netG_epoch_{epoch}.pth")
    torch.save(netD.state_dict(), f"{opt.outf}/netD_epoch_{epoch}.pth")
