"""minigen: a small tensor/autograd engine with hand-written kernels, for generative models.

    >>> import minigen
    >>> x = minigen.randn(3, requires_grad=True)
    >>> (x * x).sum().backward()
    >>> bool(((x.grad - 2 * x).abs() < 1e-6).numpy().all())
    True
"""

from . import autograd, cuda, dtypes, nn, ops
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import Device, device
from .backend.cpu import cpu_isa, get_num_threads, set_num_threads
from .creation import (arange, full, full_like, ones, ones_like, rand, rand_like, randn,
                       randn_like, tensor, zeros, zeros_like)
from .ops import (abs, add, cat, clamp, div, exp, expand, flatten, leaky_relu, log, matmul, max,
                  maximum, mean, minimum, mul, neg, permute, pow, relu, reshape, sigmoid, sqrt,
                  squeeze, stack, sub, sum, tanh, transpose, unsqueeze, var, where)
from .random import initial_seed, manual_seed
from .tensor import Tensor

float32 = dtypes.float32
float64 = dtypes.float64
int64 = dtypes.int64
bool = dtypes.bool_
float = float32
double = float64
long = int64

__version__ = "0.1.0"

# the layers above the tensor, which use the names defined here
from . import data, metrics, models, optim  # noqa: E402
