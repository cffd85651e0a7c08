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


WRITE_MANY = """
import sys
import time
from pathlib import Path
from converters.containers import OutMember, write_archive
members = (OutMember(f"nodes/{i % 256:02x}/{i // 256 % 256:02x}/{i:032x}/path", is_dir=True) for i in range(int(sys.argv[2])))
write_archive(Path(sys.argv[1]), sys.argv[3], members)
time.sleep(0.3)  # VmHWM is polled: a run shorter than a poll would read as 0 MiB
"""


@pytest.mark.parametrize("fmt", ["tar.zst", "zip"])
def test_the_writer_does_not_keep_its_members(tmp_path, fmt):
    """tarfile keeps every TarInfo it writes and zipfile every ZipInfo; the writers do not (a
    downgrade writes a folder per node).  The zip's central directory waits on disk past 32 MiB."""
    small = measure([sys.executable, "-c", WRITE_MANY, str(tmp_path / f"small.{fmt}"), "1000", fmt])
    large = measure([sys.executable, "-c", WRITE_MANY, str(tmp_path / f"large.{fmt}"), "300000", fmt])
    assert small.code == 0 and large.code == 0, large.stderr
    assert large.peak_mib - small.peak_mib < 45  # kept, 300,000 TarInfo or ZipInfo would be about 150 MiB
