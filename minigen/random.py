"""One seedable random generator for the CPU: the same seed gives the same numbers."""
import numpy as np

# PyTorch's default CPU seed, so an unseeded run is still reproducible.
_DEFAULT_SEED = 67280421310721
_seed = _DEFAULT_SEED
_generator = np.random.Generator(np.random.PCG64(_seed))


def manual_seed(seed):
    """Reset the generator; returns the seed, like ``torch.manual_seed`` returns its generator."""
    global _generator, _seed
    _seed = int(seed)
    _generator = np.random.Generator(np.random.PCG64(_seed))
    return _seed


def initial_seed():
    return _seed


def generator():
    return _generator
