"""SOURCE_DATE_EPOCH sets the times of archive members; a value that is not a number of seconds is a
usage error (64) naming it, before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.containers import OutMember, write_archive
from tests.converters import builders as b
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", " 3", "-1", "1.5", "99999999999", str(8**11)])
def test_a_bad_source_date_epoch_is_a_usage_error_naming_it(tmp_path: Path, value: str):
    src = b.write_container(tmp_path / "in.zip", b.build_members("0.13"), "zip")
    run = run_cli("archive", "migrate", src, tmp_path / "out.tar.gz", env={"SOURCE_DATE_EPOCH": value})
    assert_one_error_line(run, 64, "not a number of seconds", "SOURCE_DATE_EPOCH")
    assert not (tmp_path / "out.tar.gz").exists()
    assert_no_staging_left(tmp_path)


@pytest.mark.parametrize(("value", "mtime"), [("", 315_619_200), ("0", 315_619_200), ("1700000000", 1_700_000_000),
                                              (str(8**11 - 1), 8**11 - 1)])  # fmt: skip
def test_source_date_epoch_sets_tar_mtimes_without_pax_timestamps(tmp_path: Path, monkeypatch, value: str, mtime: int):
    import tarfile

    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    write_archive(tmp_path / "out.tar.gz", "tar.gz", [OutMember("a/", is_dir=True), OutMember("a/b.txt", data=b"b")])
    with tarfile.open(tmp_path / "out.tar.gz") as tf:
        members = tf.getmembers()
    assert [m.mtime for m in members] == [mtime, mtime]
    assert all(m.pax_headers == {} for m in members)


def test_source_date_epoch_is_public_for_the_bundle(monkeypatch):
    from converters.containers import source_date_epoch
    from converters.errors import UsageError

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert source_date_epoch() is None
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert source_date_epoch() == 86400
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "\u00b2")
    with pytest.raises(UsageError):
        source_date_epoch()
