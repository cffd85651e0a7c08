"""The data steward's review, session 23 (findings 2, 8, 11): ``inspect --stream`` describes the
archive on disk, as ``inspect`` does; a group without ``extras`` is no null on the way to
main_0001; a main_XXXX output in a tar names what asked for it."""

from __future__ import annotations

import copy
import json
import sqlite3
import zipfile
from dataclasses import asdict
from pathlib import Path

import pytest

from converters.errors import UsageError
from converters.inspect import inspect
from converters.main import convert
from converters.main.validate import inspect_legacy_streaming
from tests.converters import builders as b
from tests.converters_main.helpers import legacy_archive
from tests.invariants import assert_one_error_line, run_cli

HISTORY = ["Converted from version 0.3 to 0.4 with AiiDA v1.0.0"]


def _legacy(tmp: Path, version: str, container: str) -> Path:
    metadata = b.build_metadata(version)
    metadata["conversion_info"] = list(HISTORY)
    return b.write_container(tmp / f"in-{version}.{container}", b.build_members(version, metadata=metadata), container)


# ---------------------------------------------------------------- finding 2
@pytest.mark.parametrize(("version", "container"), [("0.4", "zip"), ("0.6", "tar.gz"), ("0.9", "tar.zst"), ("0.13", "zip")])
def test_inspect_stream_describes_the_archive_as_inspect_does(tmp_path: Path, version: str, container: str):
    """0.4 and 0.6 stream through the steps that need other sections' facts, 0.9 through the
    row-local ones: either way the counts are of the input's rows, not of the migrated ones."""
    src = _legacy(tmp_path, version, container)
    plain, streamed = asdict(inspect(src)), asdict(inspect_legacy_streaming(src))
    assert streamed == plain
    assert streamed["conversion_info"] == tuple(HISTORY)  # no invented "0.4 to 0.5 with reportgen vread-only"
    assert "AuthInfo" not in streamed["entities"]  # a legacy archive cannot hold one
    assert streamed["groups"][0]["type_string"] == ("user" if version in ("0.4", "0.6") else "core")
    assert not any(t.startswith("data.core.") for t in streamed["node_types"]) or version == "0.13"
    cli = [run_cli("archive", "inspect", "--json", *extra, src) for extra in ((), ("--stream",))]
    assert cli[0].code == cli[1].code == 0 and cli[0].stdout == cli[1].stdout


# ---------------------------------------------------------------- finding 8
def _group_extras(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        db = path.with_suffix(".sqlite3")
        db.write_bytes(zf.read("db.sqlite3"))
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT extras FROM db_dbgroup ORDER BY id")]


def test_a_group_without_extras_is_not_a_null_value(tmp_path: Path):
    data = b.build_data("0.13")
    assert all("extras" not in row for row in data["export_data"]["Group"].values())
    src = b.write_container(tmp_path / "in.zip", b.build_members("0.13", data=data), "zip")
    run = run_cli("archive", "migrate", src, tmp_path / "out.aiida", "--to", "main_0001")
    assert run.code == 0 and "null value" not in run.stdout + run.stderr, run.stdout
    assert _group_extras(tmp_path / "out.aiida") == ["{}"]
    nulled = copy.deepcopy(data)  # a field that *is* null is still replaced and reported
    for row in nulled["export_data"]["Group"].values():
        row["extras"] = None
    src2 = b.write_container(tmp_path / "in2.zip", b.build_members("0.13", data=nulled), "zip")
    run2 = run_cli("archive", "migrate", src2, tmp_path / "out2.aiida", "--to", "main_0001")
    assert run2.code == 0 and "warning: db_dbgroup.extras: 1 null value(s) set to {}" in run2.stdout
    assert _group_extras(tmp_path / "out2.aiida") == ["{}"]


# ---------------------------------------------------------------- finding 11
def test_a_main_output_in_a_tar_names_what_asked_for_it(tmp_path: Path):
    src = legacy_archive(tmp_path)
    with pytest.raises(UsageError) as named:
        convert(src, tmp_path / "out.tar.gz")
    assert named.value.file == str(tmp_path / "out.tar.gz") and "name it .aiida or .zip" in named.value.reason
    with pytest.raises(UsageError) as option:
        convert(src, tmp_path / "out.aiida", fmt="tar.zst")
    assert option.value.file == "--format" and "leave out --format tar.zst" in option.value.reason
    run = run_cli("archive", "migrate", src, tmp_path / "x.tar.gz", "--to", "main_0001")
    line = assert_one_error_line(run, 64, "main_0001 archives are zip only; name it .aiida or .zip", "x.tar.gz")
    assert "--format" not in line and "Tar files" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zip"]
    json.dumps(asdict(inspect(src)))  # the input is still readable, untouched
