"""What a killed export, restore or bundle left beside its output (staging and work folders) is
removed by the next run of the same output; what a live run is writing is kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.export.archives import write_input
from tests.invariants import run_cli


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("command", ["restore", "bundle", "export"])
def test_leftovers_of_a_killed_run_are_removed_and_a_live_runs_kept(tmp_path: Path, command: str):
    source = write_input(tmp_path, command)
    output = tmp_path / ("out.aiida" if command == "export" else "out")
    dead, alive = dead_pid(), os.getpid()
    stale = [f".{output.name}.staging-{dead}"]
    if command != "bundle":  # export and restore also use work folders beside the output; bundle does not
        stale.append(f".{output.name}.work-{dead}-x1y2z3")
    live = [f".{output.name}.staging-{alive}", f".{output.name}.work-{alive}-a1b2c3"]
    for name in [*stale, *live]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "half-written").write_bytes(b"x" * 1000)
    run = run_cli(command, source, "-o", output)
    assert run.code == 0, run.stderr
    left = sorted(p.name for p in tmp_path.iterdir() if ".staging-" in p.name or ".work-" in p.name)
    assert left == sorted(live)
