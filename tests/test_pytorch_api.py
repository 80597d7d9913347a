"""minigen's ops, modules and optimisers take every argument PyTorch's take, by the same names in
the same order: each is either implemented (its own family's tests hold it to PyTorch) or refused
with a ValueError that names it (here). The README's table says which is which."""
import inspect
import pathlib
import re

import numpy as np
import pytest

import minigen
import minigen.nn as nn
import minigen.nn.functional as F
from minigen import optim

from helpers import torch

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
MODULES = ["BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "Dropout", "Embedding", "Flatten",
           "LeakyReLU", "Linear", "ReLU", "Sigmoid", "Tanh", "Unflatten"]
OPTIMIZERS = ["SGD", "Adam", "RMSprop"]
MINIGEN_ONLY = {"critic_gradient_penalty", "gradient_penalty"}  # WGAN-GP's penalty: no PyTorch twin


def parameter_names(fn):
    """The names of ``fn``'s parameters, from its signature or, for PyTorch's builtins, from the
    first line of its docstring ("conv2d(input, weight, bias=None, ...) -> Tensor")."""
    try:
        return [p for p in inspect.signature(fn).parameters if p != "self"]
    except ValueError:
        arguments = re.match(r"\w+\((.*)\)", fn.__doc__.strip().splitlines()[0]).group(1)
        return [a.split("=")[0].strip() for a in arguments.split(",")]


def pairs():
    yield from ((f"F.{name}", getattr(F, name), getattr(torch.nn.functional, name))
                for name in sorted(set(F.__all__) - MINIGEN_ONLY))
    yield from ((f"nn.{name}", getattr(nn, name).__init__, getattr(torch.nn, name).__init__)
                for name in MODULES if getattr(torch.nn, name).__init__ is not torch.nn.Module.__init__)
    yield from ((f"optim.{name}", getattr(optim, name).__init__, getattr(torch.optim, name).__init__)
                for name in OPTIMIZERS)


@pytest.mark.skipif(torch is None, reason="PyTorch is the reference")
def test_every_pytorch_argument_is_taken_by_name_and_position():
    for label, ours, theirs in pairs():
        assert parameter_names(ours) == parameter_names(theirs), label


def test_the_readme_table_lists_every_op_module_and_optimiser():
    first_cells = re.findall(r"^\| (`[^|]*)\|", README.read_text(), flags=re.M)
    listed = {name for cell in first_cells for name in re.findall(r"`((?:F|nn|optim)\.\w+)`", cell)}
    expected = ({f"F.{name}" for name in F.__all__} | {f"nn.{name}" for name in MODULES}
                | {f"optim.{name}" for name in OPTIMIZERS})
    assert listed == expected


@pytest.mark.parametrize("call, message", [
    (lambda: F.embedding(minigen.tensor([0]), minigen.zeros(2, 2), max_norm=1.0),
     r"embedding: max_norm=1.0 is not supported \(only max_norm=None\)"),
    (lambda: F.embedding(minigen.tensor([0]), minigen.zeros(2, 2), scale_grad_by_freq=True),
     r"embedding: scale_grad_by_freq=True is not supported"),
    (lambda: nn.Embedding(3, 2, sparse=True), r"Embedding: sparse=True is not supported"),
    (lambda: nn.Embedding(3, 2, padding_idx=3), r"Embedding: padding_idx must be an int in \[-3, 3\)"),
    (lambda: nn.Conv2d(1, 1, 3, padding_mode="circular"),
     r"Conv2d: padding_mode='circular' is not supported; only 'zeros'"),
    (lambda: nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect"),
     r"ConvTranspose2d: padding_mode='reflect' is not supported"),
    (lambda: F.pad(minigen.zeros(2, 3), (1, 1), mode="reflect"),
     r"pad: mode='reflect' is not supported; only mode='constant'"),
    (lambda: optim.Adam([nn.Parameter(minigen.zeros(1))], decoupled_weight_decay=True),
     r"Adam: decoupled_weight_decay=True is not supported"),
    (lambda: optim.SGD([nn.Parameter(minigen.zeros(1))], differentiable=True),
     r"SGD: differentiable=True is not supported"),
    (lambda: optim.RMSprop([nn.Parameter(minigen.zeros(1))], capturable=True),
     r"RMSprop: capturable=True is not supported"),
])
def test_what_is_not_supported_is_refused_by_name(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_layer_is_made_of_floats():
    with pytest.raises(TypeError, match=r"Linear: dtype must be float32 or float64, got int64"):
        nn.Linear(2, 2, dtype=minigen.int64)


@pytest.mark.parametrize("name, options, switches", [
    ("SGD", dict(lr=0.1, momentum=0.9), dict(foreach=True, fused=False)),
    ("Adam", dict(lr=0.1), dict(foreach=False, fused=True)),
    ("RMSprop", dict(lr=0.1), dict(foreach=True)),
])
def test_implementation_switches_change_nothing(name, options, switches):
    """foreach and fused pick how PyTorch computes the same step; minigen has one way."""
    def two_steps(**kwargs):
        p = nn.Parameter(minigen.tensor([1.0, -2.0, 3.0]))
        optimizer = getattr(optim, name)([p], **options, **kwargs)
        for _ in range(2):
            p.grad = p.detach() * 2
            optimizer.step()
        return p.detach().numpy()

    np.testing.assert_array_equal(two_steps(**switches), two_steps())
