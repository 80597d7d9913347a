"""The functional ops under PyTorch's names: ``import minigen.nn.functional as F``."""
from ..ops import (batch_norm, binary_cross_entropy, binary_cross_entropy_with_logits, conv2d,
                   conv_transpose2d, critic_gradient_penalty, dropout, embedding, gradient_penalty,
                   leaky_relu, linear, mse_loss, pad, relu, sigmoid, tanh)

__all__ = ["batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv2d",
           "conv_transpose2d", "critic_gradient_penalty", "dropout", "embedding",
           "gradient_penalty", "leaky_relu", "linear", "mse_loss", "pad", "relu", "sigmoid", "tanh"]
