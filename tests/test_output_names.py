"""Outputs named up to NAME_MAX (255 bytes) work in every command: the names of their staging,
moved-aside and lock files keep the first bytes of the name and a hash of it
(``converters.workdirs.sibling``), where NAME plus the affixes would not fit.  And what a
killed export with ``--export-version`` leaves (its 0.13 intermediate) is swept by the next.
An output folder this process cannot write in is one line, exit 73, whatever the command
(it was 66, 73 or 74 by command, each failing at its own first work file)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.export.test_audit_fixes import write_store
from tests.invariants import Run, assert_no_staging_left, assert_one_error_line, run_cli, tree_digest
from tests.unprivileged import run_cli_unprivileged

LONG = "é" * 120 + "x" * 11  # 251 bytes: a legal name, with no room left for ".staging-PID"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("long") / "data_store"
    write_store(root)
    return root


def _ok(*args: object) -> None:
    run = run_cli(*args)
    assert run.code == 0, run.stderr


def test_build_restore_and_bundle_write_outputs_with_the_longest_names(tmp_path: Path, store: Path) -> None:
    site, archive, restored, bundle = (tmp_path / d / LONG for d in ("site", "archive", "restored", "bundle"))
    for path in (site, archive, restored, bundle):
        path.parent.mkdir()
    _ok("build", store, "-o", site)
    _ok("build", store, "-o", site)  # the incremental build moves replaced pages aside under a long name too
    _ok("build", store, "-o", site, "--full", "--force")
    assert (site / "index.html").is_file()
    _ok("export", store, "-o", archive, "--format", "zip")
    _ok("restore", archive, "-o", restored)
    assert (restored / "proj").is_dir()
    _ok("bundle", "create", store, "-o", bundle)
    _ok("bundle", "verify", bundle)
    for path in (site, archive, restored, bundle):
        assert_no_staging_left(path.parent)
        assert sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".lock")) == [LONG]


KILLED_EXPORT = """
import os, signal, sys
from pathlib import Path
from converters import progress
from reportgen.export.write import ExportOptions, export_archive

store, out, stage = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

class Bar:
    def update(self, n=1): pass
    def close(self): pass

def sink(description, _total, _unit):
    if description == f"writing {stage}":
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup at all, at a known point
    return Bar()

with progress.reporting(sink):
    export_archive(store, out, ExportOptions(export_version="0.4"))
"""


@pytest.mark.parametrize("stage", ["export-0.13.zip", "old.aiida"])
def test_what_a_killed_export_to_another_version_leaves_is_swept_by_the_next_run(
        tmp_path: Path, store: Path, stage: str) -> None:
    """Killed while its 0.13 intermediate is written, or while the final archive is: the next
    run of the same output leaves nothing of it (the intermediate lives in the work folder)."""
    out = tmp_path / "old.aiida"
    killed = subprocess.run([sys.executable, "-c", KILLED_EXPORT, store, out, stage], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert any(p.name.startswith(".old.aiida.") for p in tmp_path.iterdir())  # what the kill left
    _ok("export", store, "-o", out, "--export-version", "0.4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.aiida"]


def test_the_sweep_never_touches_a_users_own_backups(tmp_path: Path, store: Path) -> None:
    """Only hidden names whose number can be a pid are reportgen's: ``site.old-2023`` or
    ``runs.aiida.old-20240601`` beside an output are a user's, and stay."""
    backups = ["site.old-2023", "site.staging-7", ".site.old-20240601", "old.aiida.old-20240601",
               ".old.aiida.old-99999999"]
    for name in backups:
        (tmp_path / name).mkdir()
    _ok("build", store, "-o", tmp_path / "site")
    _ok("export", store, "-o", tmp_path / "old.aiida", "--export-version", "0.4")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in ("site", "site.lock", "old.aiida")) == sorted(backups)


# ---------------------------------------------------------------- an output folder that is not writable
COMMANDS = {
    "build": lambda store, archive, out: ("build", store, "-o", out / "site"),
    "export": lambda store, archive, out: ("export", store, "-o", out / "x.aiida"),
    "migrate 0.12": lambda store, archive, out: ("archive", "migrate", archive, out / "y.aiida", "--to", "0.12"),
    "migrate main": lambda store, archive, out: ("archive", "migrate", archive, out / "y.aiida", "--to", "main_0001"),
    "restore": lambda store, archive, out: ("restore", archive, "-o", out / "r"),
    "bundle": lambda store, archive, out: ("bundle", "create", store, "-o", out / "b"),
    "example": lambda store, archive, out: ("example", out / "new" / "e"),
}


def _chattr(flag: str, path: Path) -> None:
    if shutil.which("chattr") is None or subprocess.run(["chattr", flag, path], capture_output=True).returncode:
        pytest.skip("chattr is missing, or this file system has no inode flags")


FOLDERS = {  # how the folder is made unwritable, how it is undone, the reason the line gives
    "read-only": (lambda out: out.chmod(0o555), lambda out: out.chmod(0o755), "permission denied"),
    "no search": (lambda out: out.chmod(0o200), lambda out: out.chmod(0o755), "permission denied"),
    "append-only": (lambda out: _chattr("+a", out), lambda out: _chattr("-a", out), "append-only"),
}


@pytest.mark.parametrize("folder", sorted(FOLDERS))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_output_folder_that_cannot_be_written_is_one_line_exit_73_naming_it(
        tmp_path: Path, store: Path, command: str, folder: str) -> None:
    """Before any work: an append-only folder let the whole run happen and then failed to clean
    up (exit 70), a folder without x permission gave 66."""
    archive, out = tmp_path / "a.aiida", tmp_path / "unwritable"
    _ok("export", store, "-o", archive)
    out.mkdir()
    lock, unlock, reason = FOLDERS[folder]
    lock(out)
    try:
        run = run_cli_unprivileged(*COMMANDS[command](store, archive, out))
    finally:
        unlock(out)
    assert_one_error_line(run, 73, "cannot create files in this folder", f"'{out}'")
    assert reason in run.stderr
    assert list(out.iterdir()) == []


def test_an_immutable_site_is_refused_before_the_build(tmp_path: Path, store: Path) -> None:
    """An incremental build writes inside the site: an immutable one failed late (66 or 74)."""
    site = tmp_path / "site"
    _ok("build", store, "-o", site)
    before = tree_digest(site)
    _chattr("+i", site)
    try:
        run = run_cli("build", store, "-o", site, "--full")
    finally:
        _chattr("-i", site)
    assert_one_error_line(run, 73, "immutable or append-only", f"'{site}'")
    assert tree_digest(site) == before


# ---------------------------------------------------------------- another user's output in a sticky folder
NO_FOWNER = ["setpriv", "--inh-caps=-fowner", "--bounding-set=-fowner"]
FOLDER_OUTPUTS = {"build": "site", "restore": "r", "bundle": "b", "example": "e"}


def _another_users_output(out: Path, command: str) -> Path:
    """The output of ``command`` in ``out``, already there and owned by another user."""
    path = out / FOLDER_OUTPUTS.get(command, "x.aiida" if command == "export" else "y.aiida")
    if command == "example":
        path = out / "new" / "e"
        path.parent.mkdir()
        os.chown(path.parent, 4321, 4321)
        path.parent.chmod(0o1777)
    if command in FOLDER_OUTPUTS:
        path.mkdir()
        (path / "theirs.txt").write_text("theirs")
        os.chown(path / "theirs.txt", 4321, 4321)
    else:
        path.write_text("theirs")
    os.chown(path, 4321, 4321)
    return path


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_another_users_output_in_a_sticky_folder_is_refused_before_the_work(
        tmp_path: Path, store: Path, command: str) -> None:
    """Only the owner (of the output or the folder) may rename over an output in a sticky folder
    such as /tmp: ``--force`` used to do all the work, then fail at the last rename (74, naming
    the temporary file).  Played by root without CAP_FOWNER; the folder and output belong to uid 4321."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv (to act as a user without CAP_FOWNER)")
    archive, out = tmp_path / "a.aiida", tmp_path / "drop"
    _ok("export", store, "-o", archive)
    out.mkdir()
    os.chown(out, 4321, 4321)
    out.chmod(0o1777)
    target = _another_users_output(out, command)
    before = tree_digest(out)
    proc = subprocess.run([*NO_FOWNER, sys.executable, "-m", "reportgen", *map(str, COMMANDS[command](store, archive, out)),
                           "--force"], capture_output=True, text=True, env={**os.environ, "CI": "1"}, timeout=300)
    run = Run(proc.returncode, proc.stdout, proc.stderr)
    assert_one_error_line(run, 73, "belongs to another user in a sticky folder", f"'{target}'")
    assert tree_digest(out) == before


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_folder_that_refuses_new_files_whatever_its_permissions_say_is_exit_73(
        tmp_path: Path, store: Path, command: str) -> None:
    """``/proc`` takes no new files although root passes every permission check there: each
    command failed at its own first work file (74 naming a staging file, or 66)."""
    archive = tmp_path / "a.aiida"
    _ok("export", store, "-o", archive)
    run = run_cli(*COMMANDS[command](store, archive, Path("/proc")))
    assert_one_error_line(run, 73, "cannot create files in this folder", "'/proc")
