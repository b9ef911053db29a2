"""Neural-network layers, PyTorch-style: Modules holding Parameters, plus init and functional."""

from minigrad.nn import functional, init
from minigrad.nn.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from minigrad.nn.batchnorm import BatchNorm1d, BatchNorm2d
from minigrad.nn.container import ModuleList, Sequential
from minigrad.nn.conv import Conv2d, ConvTranspose2d
from minigrad.nn.dropout import Dropout
from minigrad.nn.linear import Linear
from minigrad.nn.module import IncompatibleKeys, Module
from minigrad.nn.parameter import Parameter
from minigrad.nn.pooling import AvgPool2d, MaxPool2d, Upsample
from minigrad.nn.shape import Flatten, Unflatten

__all__ = [
    "AvgPool2d",
    "MaxPool2d",
    "Upsample",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "ConvTranspose2d",
    "Dropout",
    "Flatten",
    "IncompatibleKeys",
    "LeakyReLU",
    "Linear",
    "Module",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "Unflatten",
    "functional",
    "init",
]
