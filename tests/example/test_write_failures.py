"""``reportgen example`` when writing goes wrong: a full disk gives one error line, exit 74 and
nothing left behind; an output another run wrote meanwhile is refused (73), never replaced.

A full disk is made real with ``RLIMIT_FSIZE`` (SIGXFSZ ignored): every write past the limit
fails with EFBIG, as on a full file system, without needing a small mount.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reportgen.errors import WriteError
from reportgen.example.gitrepos import init_bare_repo, run_git
from tests.invariants import Run, assert_no_staging_left, assert_one_error_line


def _run_with_file_limit(limit: int, *args: object, cwd: Path) -> Run:
    def limit_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    # no .pyc writes: one cut short at the limit would be renamed into the shared tree
    env = {"CI": "1", "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-m", "reportgen", *map(str, args)], cwd=cwd, preexec_fn=limit_files,
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def test_hdf5_writes_on_a_full_disk_give_one_line_and_no_leftover(tmp_path: Path) -> None:
    run = _run_with_file_limit(30_000, "example", "ds", "--jobs", "2", cwd=tmp_path)  # the git repos fit, an HDF5 file not
    assert_one_error_line(run, 74, "no space left on device", "'ds'")
    assert "Exception ignored" not in run.stderr
    assert_no_staging_left(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_git_fast_import_gives_its_fatal_line_only_and_no_crash_report(tmp_path: Path) -> None:
    git_dir = tmp_path / "r.git"
    init_bare_repo(git_dir)
    with pytest.raises(WriteError) as caught:
        run_git(git_dir, "fast-import", "--quiet", stdin=b"commit refs/heads/main\nnot a committer line\n")
    message = str(caught.value)
    assert "\n" not in message and "Expected committer" in message and "fatal" not in message, message
    assert not list(git_dir.glob("fast_import_crash_*"))


def test_an_output_written_by_another_run_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    """Without --force the output was absent at the check: a tree that appears before the swap stays."""
    import os
    import time

    run = subprocess.Popen([sys.executable, "-m", "reportgen", "example", "ds", "--jobs", "2"], cwd=tmp_path,
                           env={**os.environ, "CI": "1"}, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 60
    while not list(tmp_path.glob(".ds.staging-*")) and time.monotonic() < end and run.poll() is None:
        time.sleep(0.01)
    (tmp_path / "ds").mkdir()  # the other run's finished output
    (tmp_path / "ds" / "theirs.txt").write_text("first run")
    _, stderr = run.communicate(timeout=120)
    assert_one_error_line(Run(run.returncode, "", stderr), 73, "appeared while writing", "'ds'")
    assert [p.name for p in (tmp_path / "ds").iterdir()] == ["theirs.txt"]
    assert_no_staging_left(tmp_path)


@pytest.mark.parametrize("force", [False, True])
def test_a_symlink_to_a_folder_is_refused_as_a_symlink_and_left_alone(tmp_path: Path, force: bool) -> None:
    """The line said "not a directory" of a link to an empty folder, which the user can see is untrue."""
    from tests.invariants import run_cli

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    run = run_cli("example", tmp_path / "link", *(["--force"] if force else []))
    assert_one_error_line(run, 73, "link", "symlink; refusing to write through it")
    assert (tmp_path / "link").is_symlink() and list((tmp_path / "real").iterdir()) == []
