"""Bounded memory: a 50,000-node archive converts in a child process well under what a full load needs."""

from __future__ import annotations

import sys

import pytest

from tests.converters_main.bigarchive import write_big_legacy
from tests.converters_main.memory import measure

NODES = 50_000
BOUND_MIB = 150  # json.load of this data.json (~30 MB) alone peaks near 6.8x its size: ~230 MiB with the interpreter


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["tar.zst"])  # the bounded container; zip keeps its directory in memory
def test_legacy_to_main_streams_within_bound(tmp_path, fmt):
    src = write_big_legacy(tmp_path / f"big.{fmt}", NODES, files=2_000, version="0.10", fmt=fmt)
    out = tmp_path / "out.aiida"
    run = measure([sys.executable, "-m", "reportgen", "archive", "migrate", str(src), str(out), "--to", "main_0001"])
    assert run.code == 0, run.stderr
    assert run.peak_mib < BOUND_MIB, f"VmHWM {run.peak_mib:.0f} MiB"
    check = measure([sys.executable, "-m", "reportgen", "archive", "validate", str(out)])
    assert check.code == 0 and check.peak_mib < BOUND_MIB, check
