"""Every differentiable op, by family. Tensor methods and the ``minigen`` namespace call these."""
from .activation import leaky_relu, relu, sigmoid, tanh
from .common import cast, to_device
from .conv import conv2d, conv_transpose2d
from .dropout import dropout
from .embedding import embedding
from .indexing import index
from .linear import linear
from .loss import binary_cross_entropy, binary_cross_entropy_with_logits, mse_loss
from .matmul import matmul
from .norm import batch_norm
from .penalty import critic_gradient_penalty, gradient_penalty
from .pointwise import (abs, add, clamp, div, eq, exp, ge, gt, le, log, lt, maximum, minimum, mul,
                        ne, neg, pow, sqrt, sub, where)
from .reduction import max, mean, sum, var
from .shape import (cat, expand, flatten, pad, permute, reshape, squeeze, stack, sum_to, transpose,
                    unsqueeze, view)
