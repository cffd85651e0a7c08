"""Killed and refused builds: a build killed with SIGKILL leaves no worker (and no lock holder)
behind, ``.``/``..`` outputs are refused, a refused build leaves no lock file, and the staging
leftovers of a killed writer are swept by the next run.

Everything runs the real CLI in real processes; the kill is a real ``kill -9``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from reportgen.errors import OutputError
from reportgen.outdir import check_output_path, remove_stale_staging
from tests.invariants import assert_one_error_line, run_cli, tree_digest


# ---------------------------------------------------------------- 1: kill -9 during a build
def _marked_processes(marker: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose environment holds ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":  # a zombie is dead, only not yet reaped
            found.append((int(entry), cmdline))
    return found


def _wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _last_job(store: Path) -> str:
    project = max(p for p in store.iterdir() if p.is_dir() and p.name != "git")
    return max(p.stem for p in project.glob("*.hdf5"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_kill_9_during_build_leaves_no_worker_and_a_rerun_succeeds(example_store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    marker = f"REPORTGEN_KILL_TEST={uuid.uuid4().hex}"
    env = {**os.environ, "CI": "1", marker.split("=")[0]: marker.split("=")[1],
           # one worker hangs on the last job: the build is surely still running when it is killed
           "REPORTGEN_CRASH_AT": f"hang:{_last_job(example_store)}"}
    build = subprocess.Popen([sys.executable, "-m", "reportgen", "build", str(example_store), "-o", str(site),
                              "--workers", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def workers_and_git() -> bool:
            commands = [cmd for pid, cmd in _marked_processes(marker) if pid != build.pid]
            return sum("reportgen" in c for c in commands) >= 2 and any("cat-file" in c for c in commands)

        assert _wait_for(workers_and_git, 60), _marked_processes(marker)
        assert build.poll() is None, "the build finished before it could be killed"
        os.kill(build.pid, signal.SIGKILL)
        build.wait()
        assert _wait_for(lambda: not _marked_processes(marker), 5), _marked_processes(marker)
    finally:
        build.kill()
        for pid, _ in _marked_processes(marker):  # the old code's orphans: never leave them running
            os.kill(pid, signal.SIGKILL)
    assert list(tmp_path.glob(".site.staging-*")), "the killed build had not started its staging folder"
    rerun = run_cli("build", example_store, "-o", site, "--workers", "2")
    assert rerun.code == 0, rerun.stderr
    assert (site / "manifest.json").is_file() or any(site.iterdir())
    assert not list(tmp_path.glob(".site.staging-*"))  # the killed build's staging was swept


# ---------------------------------------------------------------- 2 and 3: '.' and '..' outputs
@pytest.mark.parametrize("output", [".", "..", "sub/..", "./"])
def test_dot_outputs_are_refused_with_73(example_store: Path, tmp_path: Path, output: str) -> None:
    cwd = tmp_path / "here"
    (cwd / "sub").mkdir(parents=True)
    before = tree_digest(tmp_path)
    for args in (("example", output, "--force"), ("build", example_store, "-o", output, "--force")):
        run = run_cli(*args, cwd=cwd)
        assert_one_error_line(run, 73, "output")
        assert tree_digest(tmp_path) == before, args  # no lock, no staging, nothing replaced


def test_an_output_holding_the_current_folder_is_refused(tmp_path: Path) -> None:
    cwd = tmp_path / "a" / "b"
    cwd.mkdir(parents=True)
    for output in (cwd, tmp_path / "a"):
        with pytest.raises(OutputError, match="current folder"):
            _in(cwd, check_output_path, output)
    _in(cwd, check_output_path, cwd / "new")  # a folder inside the current one is fine


def _in(cwd: Path, func, *args):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return func(*args)
    finally:
        os.chdir(old)


def test_a_refused_build_leaves_no_lock_file(example_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "notasite"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    before = tree_digest(tmp_path)
    run = run_cli("build", example_store, "-o", target)
    assert_one_error_line(run, 73, "not a reportgen site")
    assert tree_digest(tmp_path) == before
    assert not (tmp_path / "notasite.lock").exists()


def test_a_built_site_keeps_its_lock_file(example_store: Path, tmp_path: Path) -> None:
    run = run_cli("build", example_store, "-o", tmp_path / "site", "--workers", "1")
    assert run.code == 0, run.stderr
    assert (tmp_path / "site.lock").is_file()


# ---------------------------------------------------------------- 4: stale staging of killed writers
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_remove_stale_staging_removes_only_dead_writers_leftovers(tmp_path: Path) -> None:
    dead, alive = _dead_pid(), os.getppid()
    # only hidden names are reportgen's: "out.old-N" may be a user's backup
    names = [f".out.staging-{dead}", f".out.old-{dead}", f".out.staging-{alive}", f".other.staging-{dead}",
             f".out.staging-{dead}-0.13.zip", f"out.staging-{dead}", f"out.old-{dead}", "out"]
    for name in names:
        (tmp_path / name / "x").mkdir(parents=True)
    (tmp_path / f".out.staging-{dead}" / "x").chmod(0o500)  # restored git objects are read-only
    removed = remove_stale_staging(tmp_path / "out")
    assert removed == sorted(names[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])


def test_example_sweeps_the_staging_of_a_killed_run(tmp_path: Path) -> None:
    stale = tmp_path / f".ds.staging-{_dead_pid()}"
    (stale / "default_project").mkdir(parents=True)
    run = run_cli("example", tmp_path / "ds", "--jobs", "1")
    assert run.code == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]
