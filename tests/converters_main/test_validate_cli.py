"""validate / inspect of main archives, and the CLI (real processes, one error line)."""

from __future__ import annotations

import json

import pytest

from converters.main import convert
from converters.main.validate import inspect_main, validate_main
from tests.converters_main.helpers import edit_main, legacy_archive
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli, tree_digest


@pytest.fixture()
def main_archive(tmp_path):
    out = tmp_path / "main.aiida"
    convert(legacy_archive(tmp_path), out)
    return out


def test_validate_finds_every_kind_of_problem(tmp_path, main_archive):
    bad = edit_main(
        main_archive,
        tmp_path / "bad.aiida",
        "UPDATE db_dbnode SET uuid = 'nope' WHERE id = 3",
        "UPDATE db_dbnode SET ctime = 'yesterday' WHERE id = 4",
        "INSERT INTO db_dblink (input_id, output_id, label, type) VALUES (99, 1, 'x', 'input_calc')",
        "UPDATE db_dbnode SET repository_metadata = '{\"o\": {\"f\": {\"k\": \"" + "0" * 64 + "\"}}}' WHERE id = 2",
    )
    found = {(p.code, p.path) for p in validate_main(bad)}
    assert ("bad-uuid", "db_dbnode[3].uuid") in found
    assert ("bad-datetime", "db_dbnode[4].ctime") in found
    assert ("dangling-reference", "db_dblink[4].input_id") in found
    assert ("missing-blob", "db_dbnode[2].repository_metadata") in found


def test_inspect_counts(main_archive):
    summary = inspect_main(main_archive)
    assert summary.entities["Node"] == 4 and summary.links == 3
    assert summary.link_types == {"create": 1, "input_calc": 2}
    assert summary.groups[0].nodes == 3 and summary.repository_files == 3


def test_cli_migrate_validate_inspect_down_and_up(tmp_path, main_archive):
    src = legacy_archive(tmp_path, "legacy.zip")
    before = tree_digest(tmp_path)
    run = run_cli("archive", "migrate", src, tmp_path / "cli.aiida", "--to", "main_0001")
    assert run.code == 0, run.stderr
    assert run_cli("archive", "validate", tmp_path / "cli.aiida").code == 0
    inspected = run_cli("archive", "inspect", tmp_path / "cli.aiida", "--json")
    assert json.loads(inspected.stdout)["export_version"] == "main_0001"
    # a main archive counts each content once; the text says so (a legacy one counts every file)
    assert "repository:     3 distinct files (blobs)," in run_cli("archive", "inspect", tmp_path / "cli.aiida").stdout
    assert "repository:     4 files," in run_cli("archive", "inspect", src).stdout
    down = run_cli("archive", "migrate", tmp_path / "cli.aiida", tmp_path / "old.tar.gz", "--to", "0.4")
    assert down.code == 0, down.stderr
    assert run_cli("archive", "validate", tmp_path / "old.tar.gz").code == 0
    assert all(tree_digest(tmp_path)[k] == v for k, v in before.items())  # inputs untouched


def test_cli_strict_dangling_link_one_error_line(tmp_path):
    src = legacy_archive(tmp_path, dangling=True)
    run = run_cli("archive", "migrate", src, tmp_path / "out.aiida", "--to", "main_0001", "--strict")
    assert_one_error_line(run, 65, "names a node not in the archive", "in.zip")
    assert not (tmp_path / "out.aiida").exists()
    assert_no_staging_left(tmp_path)


def test_cli_loss_refused_without_allow_loss(tmp_path, main_archive):
    rich = edit_main(main_archive, tmp_path / "rich.aiida", "INSERT INTO db_dbauthinfo VALUES (1, 1, 1, '{}', '{}', 1)")
    run = run_cli("archive", "migrate", rich, tmp_path / "old.zip", "--to", "0.13")
    assert_one_error_line(run, 65, "--allow-loss", "rich.aiida")
    assert_no_staging_left(tmp_path)
    ok = run_cli("archive", "migrate", rich, tmp_path / "old.zip", "--to", "0.13", "--allow-loss")
    assert ok.code == 0 and "authinfos" in ok.stdout


def test_cli_main_as_tar_refused(tmp_path):
    run = run_cli("archive", "migrate", legacy_archive(tmp_path), tmp_path / "x.tar.zst", "--to", "main_0001")
    assert_one_error_line(run, 64, "main_0001 archives are zip only", "x.tar.zst")


def test_streaming_legacy_validate_and_inspect(tmp_path):
    from converters.main.validate import inspect_legacy_streaming, validate_legacy_streaming

    src = legacy_archive(tmp_path, "bad.tar.zst", "tar.zst", dangling=True, unknown_member=True)
    codes = {p.code for p in validate_legacy_streaming(src)}
    assert {"dangling-link", "unknown-group-member"} <= codes
    summary = inspect_legacy_streaming(src)
    assert summary.entities["Node"] == 4 and summary.container == "tar.zst" and summary.repository_files == 4
    run = run_cli("archive", "validate", src, "--stream")
    assert run.code == 65 and "names a node not in the archive" in run.stdout and "(2 errors" in run.stdout
    assert run_cli("archive", "inspect", src, "--stream", "--json").code == 0
