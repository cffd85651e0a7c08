"""A first-day user's error lines (review W, session 26): each names what is at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.export.test_audit_fixes import write_store
from tests.invariants import assert_one_error_line, run_cli


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("w") / "data_store"
    write_store(root)
    return root


@pytest.fixture(scope="module")
def archive(store: Path) -> Path:
    out = store.parent / "runs.aiida"
    assert run_cli("export", store, "-o", out).code == 0
    return out


def test_a_missing_output_folder_is_named(store: Path, archive: Path, tmp_path: Path):
    """The folder that is missing is named, not the output the command was asked to make."""
    runs = [
        run_cli("export", store, "-o", "nodir/x.aiida", cwd=tmp_path),
        run_cli("restore", archive, "-o", "nodir/ds", cwd=tmp_path),
        run_cli("archive", "migrate", archive, "nodir/y.zip", "--to", "0.12", cwd=tmp_path),
    ]
    for run in runs:
        assert_one_error_line(run, 73, "output folder 'nodir' does not exist")
    assert not (tmp_path / "nodir").exists()
    (tmp_path / "afile").write_text("")
    assert_one_error_line(run_cli("export", store, "-o", "afile/x.aiida", cwd=tmp_path), 73, "output folder 'afile' is not a folder")


def test_the_folder_above_a_data_store_points_at_it_for_every_command(store: Path, tmp_path: Path):
    """Not "build …" under inspect or export: the hint names the data_store, whatever the command."""
    for run in (run_cli("inspect", store.parent), run_cli("export", store.parent, "-o", tmp_path / "x.aiida")):
        line = assert_one_error_line(run, 66, f"its data_store would be {str(store)!r}")
        assert "build" not in line


def test_a_missing_data_store_reads_the_same_for_every_command(tmp_path: Path):
    gone = tmp_path / "gone"
    runs = [run_cli("inspect", gone), run_cli("export", gone, "-o", tmp_path / "x.aiida"),
            run_cli("bundle", gone, "-o", tmp_path / "b")]
    for run in runs:
        assert_one_error_line(run, 66, "data_store not found", str(gone))


def test_example_usage_errors_name_the_option(tmp_path: Path):
    assert_one_error_line(run_cli("example", tmp_path / "g", "--jobs", "0"), 64, "must be at least 1", "'--jobs'")
    assert_one_error_line(run_cli("example", tmp_path / "h", "--huge"), 64, "needs --edge-cases", "'--huge'")


def test_archive_inspect_says_none_under_an_empty_heading(archive: Path):
    run = run_cli("archive", "inspect", archive)
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    at = lines.index("conversion history:")
    assert lines[at + 1] == "  (none)"  # a fresh export was never converted
