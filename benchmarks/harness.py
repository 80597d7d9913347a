"""The benchmark scripts' shared timing and reporting: one copy, in the package
(``minigen/bench/harness.py``), so that ``minigen bench`` and these scripts measure alike."""
from minigen.bench.harness import machine, print_pairs, summary, time_call, torch, write_json  # noqa: F401
