"""``minigen.nn.utils``: what acts on whole modules rather than on tensors, with PyTorch's names."""
from .spectral_norm import remove_spectral_norm, spectral_norm

__all__ = ["remove_spectral_norm", "spectral_norm"]
