"""A corrupt db.sqlite3 in a main_0001 archive (what a bad disk leaves) is one error line naming
db.sqlite3, exit 65, in every command; validate reports the failing quick_check; an SQLite error
that is no damage stays what it is."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest

from converters.errors import BadInputError
from converters.main.reader import copy_blobs, extract_db, read_main_metadata
from converters.main.writer import write_main
from converters.main.zipread import MainZip
from tests.converters_main.db_checks import error_messages, write_main_archive
from tests.invariants import assert_one_error_line, run_cli


@pytest.fixture(scope="module")
def main_archive(tmp_path_factory):
    return write_main_archive(tmp_path_factory.mktemp("main"))


def _corrupt_db(src: Path, dst: Path) -> Path:
    """``src`` with the header of an index page of db_dbnode overwritten (what a bad disk
    leaves): the file still opens and quick_check lists the page (it does not raise), while
    a query through that index fails with "database disk image is malformed"."""
    with MainZip(src) as zf, tempfile.TemporaryDirectory() as tmp:
        metadata = read_main_metadata(zf)
        db = extract_db(zf, Path(tmp) / "db.sqlite3")
        conn = sqlite3.connect(db)
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ix_db_dbnode_db_dbnode_node_type'").fetchone()
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        conn.close()
        raw = bytearray(db.read_bytes())
        start = (root - 1) * page_size
        raw[start : start + 64] = b"\xff" * 64
        db.write_bytes(bytes(raw))
        write_main(dst, metadata, db, copy_blobs(zf))
    return dst


@pytest.fixture(scope="module")
def corrupt_archive(main_archive):
    return _corrupt_db(main_archive, main_archive.with_name("corrupt.aiida"))


@pytest.mark.parametrize("command", [("inspect",), ("migrate", "--to", "0.13"), ("migrate", "--to", "main_0001")])
def test_corrupt_db_is_one_error_line_exit_65(tmp_path, corrupt_archive, command):
    args = ["archive", command[0], corrupt_archive]
    if command[0] == "migrate":
        args += [tmp_path / "out.zip", *command[1:]]
    run = run_cli(*args)
    line = assert_one_error_line(run, 65, "db.sqlite3", "corrupt.aiida")
    assert "malformed" in line or "quick_check" in line
    assert not (tmp_path / "out.zip").exists()


def test_validate_reports_a_failing_quick_check(corrupt_archive):
    found = error_messages(corrupt_archive)
    assert list(found) == ["db.sqlite3"], found
    assert "quick_check" in found["db.sqlite3"]
    run = run_cli("archive", "validate", corrupt_archive)
    assert run.code == 65 and "Traceback" not in run.stderr
    assert "error: db.sqlite3:" in run.stdout


def test_damage_met_by_a_query_names_db_sqlite3_other_errors_pass(tmp_path):
    """What quick_check does not see is still one error naming db.sqlite3 when a query meets it;
    an SQLite error that is no damage (a missing table, a full disk) stays what it is."""
    from converters.main.reader import input_db_errors

    garbage = tmp_path / "db.sqlite3"
    garbage.write_bytes(b"not a database, " * 512)
    with pytest.raises(BadInputError, match="not a valid SQLite database") as caught:
        with input_db_errors(tmp_path / "in.aiida"):
            sqlite3.connect(garbage).execute("SELECT * FROM sqlite_master").fetchall()
    assert caught.value.member == "db.sqlite3" and caught.value.file.endswith("in.aiida")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        with input_db_errors(tmp_path / "in.aiida"):
            sqlite3.connect(":memory:").execute("SELECT * FROM db_dbnode")
