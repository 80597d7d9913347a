"""One seedable random generator for the CPU: the same seed gives the same numbers."""
import contextlib

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


def get_rng_state():
    """The generator's full state as plain data (JSON-serialisable), for checkpoints."""
    return {"seed": _seed, "bit_generator": _generator.bit_generator.state}


def set_rng_state(state):
    """Restore a state from ``get_rng_state``: the numbers that follow repeat exactly."""
    global _generator, _seed
    bit_generator = np.random.PCG64()
    bit_generator.state = state["bit_generator"]
    _seed = int(state["seed"])
    _generator = np.random.Generator(bit_generator)


@contextlib.contextmanager
def fork_rng(seed):
    """Run the block on a generator seeded with ``seed``, then restore the previous one.

    Sampling for a picture or a metric inside a training run goes through this, so that it
    neither depends on nor changes the numbers the training itself draws.
    """
    saved = get_rng_state()
    manual_seed(seed)
    try:
        yield
    finally:
        set_rng_state(saved)
