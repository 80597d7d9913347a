"""Every differentiable op, by family. Tensor methods and the ``minigen`` namespace call these."""
from .activation import leaky_relu, relu, sigmoid, tanh
from .common import cast
from .indexing import index
from .matmul import matmul
from .pointwise import (
                        abs,
                        add,
                        clamp,
                        div,
                        eq,
                        exp,
                        ge,
                        gt,
                        le,
                        log,
                        lt,
                        maximum,
                        minimum,
                        mul,
                        ne,
                        neg,
                        pow,
                        sqrt,
                        sub,
                        where,
)
from .reduction import max, mean, sum, var
from .shape import cat, expand, flatten, permute, reshape, squeeze, stack, sum_to, transpose, unsqueeze, view
