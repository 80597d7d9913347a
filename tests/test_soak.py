"""The soak benchmark in short: a few hundred DCGAN steps, and the memory stops growing.

benchmarks/soak.py runs in a process of its own, so that its resident memory is DCGAN's and
not the test suite's. Pictures and checkpoints are written every 30 steps, so that warm-up
(the first third of the readings) includes their first allocations and what follows repeats
them several times.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[1] / "benchmarks" / "soak.py"

# A leak of one batch of 16 digits per step (50 KiB) would add 8 MiB over the 160 steps after
# warm-up; what the allocator's arenas and the loss history add stays well under 4 MiB.
GROWTH_BOUND_MIB = 4.0

# glibc raises its mmap threshold each time a large mapped block is freed, after which blocks of
# that size come from the heap and stay resident once freed: RSS then steps up by a few MiB at
# random moments (CI once saw +9 MiB after warm-up) with no memory live. A fixed threshold turns
# that heuristic off, so RSS follows the live memory and a leak shows as plainly as before.
FIXED_MMAP_THRESHOLD = {"MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}


def test_a_short_dcgan_soak_keeps_its_memory_flat_after_warm_up(tmp_path):
    command = [sys.executable, str(SOAK), "--steps", "240", "--interval", "0.5", "--batch-size", "16",
               "--every", "30", "--warmup", "0.33", "--out", str(tmp_path)]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=600,
                   env={**os.environ, **FIXED_MMAP_THRESHOLD})
    result = json.loads((tmp_path / "soak.json").read_text())
    readings = result["readings"]
    assert result["steps"] == 240 and readings[-1]["step"] == 240
    assert len(readings) >= 10, "too few readings to see a trend"
    settled = readings[round(0.33 * (len(readings) - 1)):]
    growth = max(r["rss_mib"] for r in settled) - settled[0]["rss_mib"]
    assert growth == pytest.approx(result["growth_after_warmup_mib"], abs=0.01)
    assert growth < GROWTH_BOUND_MIB, readings
    assert (tmp_path / "soak.png").stat().st_size > 0
    assert (tmp_path / "checkpoint.npz").exists()
