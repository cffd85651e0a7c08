"""export / restore on the command line: outputs, refusals and exit codes."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli


def test_export_and_restore_commands(example_store: Path, tmp_path: Path, unchanged):
    unchanged(example_store)
    run = run_cli("export", example_store, "-o", tmp_path / "runs.aiida", "--user-email", "lab@example.org")
    assert run.code == 0, run.stderr
    assert "nodes" in run.stdout and "links" in run.stdout and "groups" in run.stdout and "logs" in run.stdout
    valid = run_cli("archive", "validate", "--strict", tmp_path / "runs.aiida")
    assert valid.code == 0, valid.stdout + valid.stderr
    run = run_cli("restore", tmp_path / "runs.aiida", "-o", tmp_path / "restored")
    assert run.code == 0, run.stderr
    assert "git repositories" in run.stdout
    assert_no_staging_left(tmp_path)


def test_existing_output_is_refused(example_store: Path, tmp_path: Path, unchanged):
    unchanged(example_store)
    target = tmp_path / "a.zip"
    target.write_bytes(b"keep me")
    run = run_cli("export", example_store, "-o", target)
    assert_one_error_line(run, 73, "exists", "a.zip")
    assert target.read_bytes() == b"keep me"
    assert run_cli("export", example_store, "-o", target, "--force").code == 0
    assert zipfile.is_zipfile(target)
    (tmp_path / "out").mkdir()
    assert_one_error_line(run_cli("restore", target, "-o", tmp_path / "out"), 73, "exists")
    assert_no_staging_left(tmp_path)


def test_output_inside_input_is_refused(edge_store: Path, unchanged):
    unchanged(edge_store)
    run = run_cli("export", edge_store, "-o", edge_store / "x.zip")
    assert_one_error_line(run, 73, "overlaps")
    run = run_cli("bundle", edge_store, "-o", edge_store / "bag")
    assert_one_error_line(run, 73, "overlaps")


def test_missing_input_and_unknown_names(example_store: Path, tmp_path: Path):
    assert_one_error_line(run_cli("export", tmp_path / "nope", "-o", tmp_path / "a.zip"), 66, "data_store not found")
    run = run_cli("export", example_store, "-o", tmp_path / "a.zip", "--project", "no-such-project")
    assert_one_error_line(run, 64, "no project")
    run = run_cli("export", example_store, "-o", tmp_path / "a.zip", "--export-version", "9.9")
    assert_one_error_line(run, 64, "'--export-version': unknown target version '9.9'")
    assert not (tmp_path / "a.zip").exists()


def test_restore_refuses_foreign_and_broken_archives(tmp_path: Path):
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not an archive at all")
    assert_one_error_line(run_cli("restore", garbage, "-o", tmp_path / "r"), 65, "not a valid archive")
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("metadata.json", '{"export_version": "0.13", "aiida_version": "2.1.0"}')
        zf.writestr("data.json", '{"export_data": {"Node": {}}, "node_attributes": {}}')
    assert_one_error_line(run_cli("restore", foreign, "-o", tmp_path / "r"), 65, "no data_store files")
    assert not (tmp_path / "r").exists()
    assert_no_staging_left(tmp_path)


def test_restore_detects_a_changed_member(example_store: Path, tmp_path: Path):
    """A repository file whose bytes differ from the recorded SHA-256 stops the restore."""
    good = tmp_path / "good.zip"
    assert run_cli("export", example_store, "-o", good).code == 0
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(".hdf5"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.writestr(info, data)
    run = run_cli("restore", bad, "-o", tmp_path / "r")
    assert_one_error_line(run, 65, "checksum mismatch", "bad.zip")
    assert not (tmp_path / "r").exists()
    assert_no_staging_left(tmp_path)
