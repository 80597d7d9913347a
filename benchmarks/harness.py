"""The benchmark scripts' shared timing and reporting: one copy, in the package
(``minigen/bench/harness.py``), so that ``minigen bench`` and these scripts measure alike."""
from minigen.bench.harness import (add_device_arguments, check_device, machine, precision,  # noqa: F401
                                   print_pairs, summary, synchronizer, time_call, torch, write_json)
