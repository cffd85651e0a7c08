"""Every version reaches 0.13 from every container, validates, and reruns byte-identically."""

from __future__ import annotations

import json
import os
import stat
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

import converters
from converters.containers import TAR_MTIME
from tests.converters import builders as b
from tests.invariants import assert_one_error_line, run_cli


def errors_of(path: Path) -> list:
    return [p for p in converters.validate(path) if p.severity == "error"]


@pytest.mark.parametrize("container", b.CONTAINERS)
@pytest.mark.parametrize("version", b.VERSIONS)
def test_every_version_reaches_0_13_and_validates(tmp_path, version, container):
    src = b.build_archive(tmp_path, version, container, dirs=container == "tar.gz", dot_slash=container == "tar")
    assert errors_of(src) == []
    assert converters.read_version(src) == version
    fmt = {"zip": "tar.zst", "tar": "zip", "tar.gz": "zip", "tar.zst": "tar.gz", "folder": "zip"}[container]
    out = tmp_path / f"out.{fmt}"
    result = converters.migrate(src, out, fmt=fmt)
    assert result.version == "0.13" and len(result.steps) == 12 - b.VERSIONS.index(version)
    assert errors_of(out) == []
    summary = converters.inspect(out)
    assert (summary.export_version, summary.container) == ("0.13", fmt)
    assert summary.entities["Node"] == 7 and summary.links == 6
    assert len(summary.conversion_info) == len(result.steps)


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_migrated_0_1_equals_reference_0_13_where_defined(tmp_path):
    """Against the builder's 0.13 (from the reference), not against reportgen itself."""
    out = tmp_path / "out.zip"
    converters.migrate(b.build_archive(tmp_path, "0.1", "zip"), out)
    data = json.loads(_members(out)["data.json"])
    expected = b.build_data("0.13")
    for pk in ("1", "2", "3", "4", "6", "7"):
        assert data["export_data"]["Node"][pk]["node_type"] == expected["export_data"]["Node"][pk]["node_type"]
    assert data["links_uuid"] == expected["links_uuid"]
    assert data["export_data"]["Computer"] == expected["export_data"]["Computer"]
    assert data["export_data"]["Group"] == expected["export_data"]["Group"]
    assert data["node_attributes"]["7"] == expected["node_attributes"]["7"]  # symbols.npy became an attribute
    assert data["node_attributes"]["3"]["scheduler_lastchecktime"] == b.T0 + "+00:00"
    assert not any(name.endswith("symbols.npy") for name in _members(out))


@pytest.mark.parametrize("fmt", ["zip", "tar.gz", "tar.zst"])
def test_row_37_rerun_is_byte_identical(tmp_path, fmt):
    src = b.build_archive(tmp_path, "0.3", "tar.gz", dirs=True)
    first, second = tmp_path / f"1.{fmt}", tmp_path / f"2.{fmt}"
    converters.migrate(src, first)
    converters.migrate(src, second)
    assert first.read_bytes() == second.read_bytes()
    again = tmp_path / f"3.{fmt}"
    converters.migrate(first, again, to_version="0.13")  # 0.13 -> 0.13: a round trip through the writer
    assert converters.inspect(again).repository_files == converters.inspect(first).repository_files


def test_container_changes_in_the_same_pass_and_writes_deterministically(tmp_path):
    src = b.build_archive(tmp_path, "0.3", "tar.gz")
    out = tmp_path / "new.tar.zst"
    run = run_cli("archive", "migrate", src, out, "--to", "0.13", "--format", "tar.zst")
    assert run.code == 0, run.stderr
    assert "0.3 -> 0.13 (tar.gz -> tar.zst, 10 steps)" in run.stdout
    with tarfile.open(out, "r:*") if False else _zst_tar(out) as tf:
        members = tf.getmembers()
    names = [m.name for m in members]
    assert names[:2] == ["data.json", "metadata.json"]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(TAR_MTIME, 0, 0, "", "")}
    assert not any(":" in key for m in members for key in m.pax_headers if "time" in key)


def test_tar_member_times_fit_a_zip_in_every_time_zone(tmp_path, monkeypatch):
    """aiida-core 2.x rewrites a legacy tar as a zip with the members' mtimes: before 1980 it fails."""
    src = b.build_archive(tmp_path, "0.13", "zip")
    out = tmp_path / "out.tar.gz"
    assert run_cli("archive", "migrate", src, out).code == 0
    with tarfile.open(out) as tf:
        tf.extractall(tmp_path / "unpacked", filter="data")
    monkeypatch.setenv("TZ", "Etc/GMT+12")  # the westernmost zone: local time is earliest there
    time.tzset()
    try:
        with zipfile.ZipFile(tmp_path / "again.zip", "w") as zf:  # what aiida-core does with them
            for path in sorted((tmp_path / "unpacked").rglob("*")):
                zf.write(path, path.relative_to(tmp_path / "unpacked").as_posix())
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert "data.json" in zipfile.ZipFile(tmp_path / "again.zip").namelist()


def _zst_tar(path: Path):
    import io

    import zstandard

    raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(path.read_bytes())).read()
    return tarfile.open(fileobj=io.BytesIO(raw))


def test_zip_output_has_fixed_timestamps_and_sorted_members(tmp_path):
    out = tmp_path / "o.zip"
    converters.migrate(b.build_archive(tmp_path, "0.9", "folder"), out)
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    names = [i.filename for i in infos]
    assert names[:2] == ["data.json", "metadata.json"] and names[2:] == sorted(names[2:])


def test_existing_output_and_output_equal_input_are_refused(tmp_path):
    src = b.build_archive(tmp_path, "0.9", "zip")
    out = tmp_path / "o.zip"
    out.write_bytes(b"previous good output")
    assert_one_error_line(run_cli("archive", "migrate", src, out), 73, "exists")
    assert out.read_bytes() == b"previous good output"
    assert_one_error_line(run_cli("archive", "migrate", src, src, "--force"), 73, "output is the input")
    assert run_cli("archive", "migrate", src, out, "--force").code == 0
    assert converters.read_version(out) == "0.13"


def test_an_output_that_is_a_fifo_is_refused_even_with_force(tmp_path):
    src = b.build_archive(tmp_path, "0.9", "zip")
    fifo = tmp_path / "pipe.zip"
    os.mkfifo(fifo)
    assert_one_error_line(run_cli("archive", "migrate", src, fifo, "--force"), 73, "not a regular file")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_an_empty_output_path_is_a_usage_error(tmp_path):
    src = b.build_archive(tmp_path, "0.9", "zip")
    assert_one_error_line(run_cli("archive", "migrate", src, "", cwd=tmp_path), 64, "empty path")
    assert sorted(p.name for p in tmp_path.iterdir()) == [src.name]


def test_backwards_and_unknown_targets_are_usage_errors(tmp_path):
    src = b.build_archive(tmp_path, "0.9", "zip")
    line = assert_one_error_line(run_cli("archive", "migrate", src, tmp_path / "o.zip", "--to", "0.2"), 64, "0.2")
    assert "0.9" in line
    assert not (tmp_path / "o.zip").exists()


def test_partial_migration_to_an_intermediate_version(tmp_path):
    out = tmp_path / "o.tar.gz"
    converters.migrate(b.build_archive(tmp_path, "0.2", "zip"), out, to_version="0.6")
    assert converters.read_version(out) == "0.6"
    assert errors_of(out) == []


def test_junk_members_are_warned_and_not_copied(tmp_path):
    members = b.build_members("0.10")
    members["__MACOSX/._data.json"] = b"junk"
    members[b.node_dir(b.U["3"]) + "/path/.DS_Store"] = b"junk"
    members["test_pf.py"] = b"print()"
    src = b.write_container(tmp_path / "j.zip", members, "zip")
    out = tmp_path / "o.zip"
    result = converters.migrate(src, out)
    assert len(result.notes) == 3
    assert not any("DS_Store" in n or "MACOSX" in n or n == "test_pf.py" for n in _members(out))
