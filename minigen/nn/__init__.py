"""Neural-network building blocks with PyTorch's names: modules, layers, initialisation and
the functional ops (``minigen.nn.functional``)."""
from . import functional, init, utils
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .layers import (BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Dropout, Embedding, Flatten,
                     Linear, Unflatten)
from .module import Module, ModuleList, Parameter, Sequential
