"""What a killed ``archive migrate`` left beside its output (a staging file, a work folder) is swept by
the next run of the same output; what a live process is writing is kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.converters import builders as b
from tests.invariants import run_cli


def _dead_pid() -> int:
    """The pid of a process that has just ended (not reused in the moment this test takes)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


@pytest.mark.parametrize("to", ["0.13", "main_0001"])
def test_a_killed_runs_staging_file_and_work_folder_are_swept_by_the_next_run(tmp_path: Path, to: str):
    """kill -9 runs no cleanup; the next run of the same output removes what a dead pid left,
    and never what a live one (this test's own process) is writing."""
    src = b.write_container(tmp_path / "in.zip", b.build_members("0.12"), "zip")
    out = tmp_path / "out"
    out.mkdir()
    dead, alive = _dead_pid(), os.getpid()
    left = [f".m.aiida.staging-{dead}.tmp", f".m.aiida.work-{dead}-k2j4x9"]
    kept = [f".m.aiida.staging-{alive}.tmp", f".m.aiida.work-{alive}-a1b2c3", ".m.aiida.staging-x.tmp", ".other.staging-1.tmp"]
    for name in left + kept:
        (out / name).mkdir() if ".work-" in name else (out / name).write_bytes(b"partial")
    (out / left[1] / "staging.sqlite3").write_bytes(b"half a database")
    run = run_cli("archive", "migrate", src, out / "m.aiida", "--to", to)
    assert run.code == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(["m.aiida", *kept])
