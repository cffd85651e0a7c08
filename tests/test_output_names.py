"""Outputs named up to NAME_MAX (255 bytes) work in every command: the names of their staging,
moved-aside and lock files keep the first bytes of the name and a hash of it
(``converters.workdirs.sibling``), where NAME plus the affixes would not fit.  And what a
killed export with ``--export-version`` leaves (its 0.13 intermediate) is swept by the next.
An output folder this process cannot write in is one line, exit 73, whatever the command
(it was 66, 73 or 74 by command, each failing at its own first work file)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from converters import progress
from reportgen.export.write import ExportOptions, export_archive
from tests.converters.test_publish import _Bar
from tests.export.test_audit_fixes import write_store
from tests.export.test_audit_s11 import run_cli_unprivileged
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli

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


def test_a_killed_exports_intermediate_archive_is_swept_by_the_next_run(tmp_path: Path, store: Path) -> None:
    out = tmp_path / "old.aiida"
    seen: list[str] = []

    def sink(description: str, _total, _unit):  # while the final archive is written, what lies beside it
        if description == f"writing {out.name}":
            seen.extend(p.name for p in tmp_path.iterdir() if p.name != "data_store")
        return _Bar()

    with progress.reporting(sink):
        export_archive(store, out, ExportOptions(export_version="0.4"))
    intermediate = [name for name in seen if "0.13" in name]
    assert len(intermediate) == 1, seen
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no process has any more: the run killed with SIGKILL
    leftover = tmp_path / intermediate[0].replace(str(os.getpid()), str(dead.pid))
    leftover.write_bytes(b"PK half an intermediate archive")
    _ok("export", store, "-o", out, "--export-version", "0.4", "--force")
    assert not leftover.exists()
    assert_no_staging_left(tmp_path)


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


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_output_folder_that_cannot_be_written_is_one_line_exit_73_naming_it(
        tmp_path: Path, store: Path, command: str) -> None:
    archive, out = tmp_path / "a.aiida", tmp_path / "read-only"
    _ok("export", store, "-o", archive)
    out.mkdir()
    out.chmod(0o555)
    try:
        run = run_cli_unprivileged(*COMMANDS[command](store, archive, out))
    finally:
        out.chmod(0o755)
    assert_one_error_line(run, 73, "cannot create files in this folder (permission denied)", f"'{out}'")
    assert list(out.iterdir()) == []
