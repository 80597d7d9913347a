"""``python -m minigen``: the same command line as ``minigen``."""
import sys

from .cli import main

sys.exit(main())
