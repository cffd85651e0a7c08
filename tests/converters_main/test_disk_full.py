"""A full disk under the work files is an I/O error (74) naming the folder, never exit 70 or ``None``.

Real full disks: a 64 KiB tmpfs mounted for the test (needs root; skipped otherwise),
and a file size limit (``ulimit -f``, any user), under which every write past the
limit fails with EFBIG, as a write on a full disk fails with ENOSPC.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.converters_main.helpers import legacy_archive
from tests.invariants import Run, assert_no_staging_left, assert_one_error_line, run_cli

EXIT_IOERR = 74


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 64 KiB tmpfs: too small for the staging database of even a tiny archive."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr!r}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def _no_leftovers(folder: Path) -> None:
    assert_no_staging_left(folder)
    assert not [p.name for p in folder.iterdir() if ".work-" in p.name]


def test_legacy_to_main_on_a_full_disk_names_the_work_folder(tmp_path: Path, small_disk: Path):
    src = legacy_archive(tmp_path)
    run = run_cli("archive", "migrate", src, small_disk / "m.aiida", "--to", "main_0001")
    line = assert_one_error_line(run, EXIT_IOERR, "no space left on device", str(small_disk / ".m.aiida.work-"))
    assert "None" not in line and "internal error" not in line
    assert not (small_disk / "m.aiida").exists()
    _no_leftovers(small_disk)


def test_main_to_legacy_on_a_full_disk_names_a_file(tmp_path: Path, small_disk: Path):
    main = tmp_path / "m.aiida"
    assert run_cli("archive", "migrate", legacy_archive(tmp_path), main, "--to", "main_0001").code == 0
    run = run_cli("archive", "migrate", main, small_disk / "l.aiida", "--to", "0.13")
    line = assert_one_error_line(run, EXIT_IOERR, "no space left on device", str(small_disk))
    assert "None" not in line
    _no_leftovers(small_disk)


@pytest.mark.parametrize("command", ["validate", "inspect"])
def test_a_full_tmpdir_while_reading_a_main_archive_names_tmpdir(tmp_path: Path, small_disk: Path, command: str):
    main = tmp_path / "m.aiida"
    assert run_cli("archive", "migrate", legacy_archive(tmp_path, n_nodes=200), main, "--to", "main_0001").code == 0
    run = run_cli("archive", command, main, env={"TMPDIR": str(small_disk)})
    line = assert_one_error_line(run, EXIT_IOERR, "no space left on device", str(small_disk))
    assert "TMPDIR" in line and "None" not in line
    assert list(small_disk.iterdir()) == []


def _limit_file_size() -> None:
    # with PYTHONDONTWRITEBYTECODE: Python writes .pyc files with one unchecked write, so under
    # the limit it would leave truncated ones behind in the tree for every later run
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (48 * 1024, 48 * 1024))


def test_a_file_size_limit_under_the_staging_database_is_an_io_error(tmp_path: Path):
    """The same path for any user: SQLite's failed write becomes WriteError naming the work folder."""
    src = legacy_archive(tmp_path, n_nodes=200)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-m", "reportgen", "archive", "migrate", str(src), str(out / "m.aiida"), "--to", "main_0001"],
                          capture_output=True, text=True, env={**os.environ, "CI": "1", "PYTHONDONTWRITEBYTECODE": "1"}, preexec_fn=_limit_file_size, timeout=120)
    line = assert_one_error_line(Run(proc.returncode, proc.stdout, proc.stderr), EXIT_IOERR, "SQLite", str(out / ".m.aiida.work-"))
    assert "internal error" not in line
    _no_leftovers(out)
