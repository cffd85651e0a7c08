"""What a structure-aware fuzz campaign found in main_0001 archives, one test per finding (the
auditor's numbers): each input is the small legacy builder's archive converted to main_0001, its
database then edited in code.

The invariants: bad input is one error line naming the archive and db.sqlite3 with exit 65, never
70; and ``archive validate`` reports (as an error with its path) what a migration refuses.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest

from converters.main.reader import copy_blobs, extract_db, read_main_metadata
from converters.main.writer import write_main
from converters.main.zipread import MainZip
from tests.converters_main.db_checks import write_main_archive
from tests.converters_main.helpers import edit_main
from tests.invariants import assert_one_error_line, run_cli, tree_digest


@pytest.fixture(scope="module")
def main_archive(tmp_path_factory):
    return write_main_archive(tmp_path_factory.mktemp("main"))


def _validate_reports(path: Path, *words: str) -> None:
    run = run_cli("archive", "validate", path)
    assert run.code == 65 and "Traceback" not in run.stderr and not run.stderr, run.stderr
    assert all(word in run.stdout for word in words), run.stdout


def _migrate_refuses(src: Path, tmp_path: Path, keyword: str, *targets: str) -> None:
    before = tree_digest(src.parent)
    for target in targets or ("0.13", "main_0001"):
        out = tmp_path / f"out-{target}.zip"
        run = run_cli("archive", "migrate", src, out, "--to", target)
        assert_one_error_line(run, 65, keyword, src.name)
        assert not out.exists()
    assert tree_digest(src.parent) == before


def _with_raw_db(src: Path, dst: Path, change) -> Path:
    """A copy of a main archive whose database file ``change(db_path)`` rewrote (SQL alone cannot)."""
    with MainZip(src) as zf, tempfile.TemporaryDirectory() as tmp:
        metadata = read_main_metadata(zf)
        db = extract_db(zf, Path(tmp) / "db.sqlite3")
        change(db)
        write_main(dst, metadata, db, copy_blobs(zf))
    return dst


def test_03_a_link_type_that_is_none_is_reported_and_refused(tmp_path, main_archive):
    bad = edit_main(main_archive, tmp_path / "bad.aiida", "UPDATE db_dblink SET type = '2020-01-01' WHERE id = 1")
    _validate_reports(bad, "error: db_dblink[1].type: '2020-01-01' is not a link type")
    _migrate_refuses(bad, tmp_path, "db_dblink[1].type: '2020-01-01' is not a link type")


def _without_primary_key(table: str) -> tuple[str, ...]:
    """A table rebuilt by CREATE TABLE ... AS SELECT: its rows kept, its PRIMARY KEY gone."""
    return (f"CREATE TABLE _t AS SELECT * FROM {table}", f"DROP TABLE {table}", f"ALTER TABLE _t RENAME TO {table}")


@pytest.mark.parametrize(
    ("statements", "said"),
    [
        ((*_without_primary_key("db_dblog"), "UPDATE db_dblog SET id = NULL"), "db_dblog[None].id: not an integer: None"),
        ((*_without_primary_key("db_dbuser"), "INSERT INTO db_dbuser SELECT * FROM db_dbuser"), "db_dbuser[1].id: 1 is the id of more than one row"),
    ],
    ids=["null-id", "repeated-id"],
)  # fmt: skip
def test_04_an_id_that_is_null_or_repeated_is_reported_and_refused(tmp_path, main_archive, statements, said):
    bad = edit_main(main_archive, tmp_path / "bad.aiida", *statements)
    _validate_reports(bad, f"error: {said}")
    _migrate_refuses(bad, tmp_path, said)


def _flip_schema_byte(db: Path) -> None:
    """One bit flipped in db_dblink's CREATE TABLE: 'CONSTRAINT' becomes 'C\\xcfNSTRAINT', which
    SQLite's error message then quotes."""
    raw = bytearray(db.read_bytes())
    raw[raw.index(b"CONSTRAINT fk_db_dblink_input_id_db_dbnode") + 1] |= 0x80
    db.write_bytes(bytes(raw))


def test_07_a_schema_that_is_not_utf8_is_a_damaged_database(tmp_path, main_archive):
    bad = _with_raw_db(main_archive, tmp_path / "bad.aiida", _flip_schema_byte)
    assert_one_error_line(run_cli("archive", "inspect", bad), 65, "its schema is not UTF-8 text", "'db.sqlite3'")
    _validate_reports(bad, "error: db.sqlite3: damaged SQLite database (its schema is not UTF-8 text")
    _migrate_refuses(bad, tmp_path, "its schema is not UTF-8 text")


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("statement", "where"),
    [
        (f"UPDATE db_dbnode SET attributes = '{{\"deep\":{_nested(300)}}}' WHERE id = 2", "db_dbnode[2].attributes"),
        (f"UPDATE db_dblog SET metadata = '{_nested(260)}' WHERE id = 1", "db_dblog[1].metadata"),
    ],
    ids=["attributes-300", "log-metadata-260"],
)
def test_10_json_nested_deeper_than_a_legacy_archive_holds_is_reported_and_refused(tmp_path, main_archive, statement, where):
    """orjson reads such a value but cannot write it: it was exit 70 in validate and migrate."""
    bad = edit_main(main_archive, tmp_path / "bad.aiida", statement)
    _validate_reports(bad, f"error: {where}: nested too deeply")
    _migrate_refuses(bad, tmp_path, f"{where}: nested too deeply")


def test_10_json_nested_as_deep_as_a_legacy_archive_holds_round_trips(tmp_path, main_archive):
    good = edit_main(main_archive, tmp_path / "good.aiida", f"UPDATE db_dblog SET metadata = '{_nested(250)}' WHERE id = 1")
    assert run_cli("archive", "validate", good).code == 0
    assert run_cli("archive", "migrate", good, tmp_path / "out.zip", "--to", "0.13").code == 0
    assert run_cli("archive", "validate", tmp_path / "out.zip").code == 0


def _as_utf16(db: Path) -> None:
    copy = db.with_name("utf16.sqlite3")
    out = sqlite3.connect(copy)
    out.execute("PRAGMA encoding = 'UTF-16le'")
    src = sqlite3.connect(db)
    for line in src.iterdump():
        if line not in ("BEGIN TRANSACTION;", "COMMIT;"):
            out.execute(line)
    out.commit()
    out.close()
    src.close()
    copy.replace(db)


def _unknown_virtual_table(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("INSERT INTO sqlite_master VALUES ('table', 'zz', 'zz', 0, 'CREATE VIRTUAL TABLE zz USING nosuchmodule(a)')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(("change", "said"), [(_as_utf16, "stores its text as UTF-16le"), (_unknown_virtual_table, "table 'zz' cannot be read (no such module")],
                         ids=["utf16", "unknown-vtab"])  # fmt: skip
def test_13_a_database_a_migration_cannot_read_is_reported_and_refused(tmp_path, main_archive, change, said):
    bad = _with_raw_db(main_archive, tmp_path / "bad.aiida", change)
    _validate_reports(bad, f"error: db.sqlite3: db.sqlite3 {said}" if "UTF-16" in said else f"error: db.sqlite3: {said}")
    _migrate_refuses(bad, tmp_path, said)


def test_15_repository_metadata_that_is_not_utf8_is_reported_not_exit_70(tmp_path, main_archive):
    statement = "UPDATE db_dbnode SET repository_metadata = CAST(X'7B226F223A7B2266FF223A7B7D7D7D' AS TEXT) WHERE id = 2"
    bad = edit_main(main_archive, tmp_path / "bad.aiida", statement)
    for args in (("archive", "validate"), ("archive", "validate", "--strict")):
        run = run_cli(*args, bad)
        assert run.code == 65 and not run.stderr, run.stderr
        assert "error: db_dbnode[2].repository_metadata: text is not UTF-8" in run.stdout, run.stdout
    _migrate_refuses(bad, tmp_path, "repository_metadata", "0.13")


def test_16_a_repository_path_too_deep_for_main_is_left_out_and_reported(tmp_path):
    """300 folders deep (a 660-byte member name, under the 1024 limit): the main_0001 output's
    repository_metadata nested past the 250 levels validate allows, so the output failed validate
    and could not be migrated back.  The path is left out with an error line; --strict refuses."""
    from tests.converters import builders as B

    members = B.build_members("0.13")
    node = "/".join(next(name for name in members if name.startswith("nodes/")).split("/")[:4])
    members[f"{node}/path/" + "/".join(["d"] * 300) + "/f"] = b"deep"
    src = B.write_container(tmp_path / "in.zip", members, "zip")
    out = tmp_path / "out.aiida"
    run = run_cli("archive", "migrate", src, out, "--to", "main_0001")
    assert run.code == 0 and "301 levels deep" in run.stdout and "the file is left out" in run.stdout
    assert run_cli("archive", "validate", out).code == 0
    assert run_cli("archive", "migrate", out, tmp_path / "back.zip", "--to", "0.13").code == 0
    strict = run_cli("archive", "migrate", src, tmp_path / "strict.aiida", "--to", "main_0001", "--strict")
    assert strict.code == 65 and not (tmp_path / "strict.aiida").exists()
