"""Neural-network building blocks. So far: ``minigen.nn.functional``."""
from . import functional
