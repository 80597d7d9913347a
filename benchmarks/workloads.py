"""docs/WORKLOADS.md's training workloads W1-W4, minigen beside PyTorch: the same as
``minigen bench`` (see minigen/bench/workloads.py for what is timed and how).

    python benchmarks/workloads.py [--only w1,w3] [--iters N] [--threads 2] [--json FILE]
    python benchmarks/workloads.py --profile w2,w3
"""
import sys

from minigen.bench.workloads import main

if __name__ == "__main__":
    sys.exit(main())
