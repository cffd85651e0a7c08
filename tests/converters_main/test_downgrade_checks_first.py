"""main_0001 -> legacy runs validate's structural checks before it writes anything.

Each input is the small legacy builder's archive converted to main_0001, its database or metadata
then edited in code to break one check of ``validate_main`` that the way down did not run before
(it wrote an output, some of which ``archive validate`` then refused, or named no table).  The
contract: exit 65, one error line naming the archive, the member and the row with the words
validate uses, no output, nothing left behind, the input unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.main.validate import validate_main
from tests.converters_main.db_checks import write_main_archive
from tests.converters_main.helpers import edit_main
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli, tree_digest


@pytest.fixture(scope="module")
def main_archive(tmp_path_factory):
    return write_main_archive(tmp_path_factory.mktemp("main"))


def _rebuilt(table: str, change: str) -> tuple[str, ...]:
    """``table`` rebuilt by CREATE TABLE ... AS SELECT (its NOT NULL constraints gone), then ``change``."""
    return (f"CREATE TABLE _t AS SELECT * FROM {table}", f"DROP TABLE {table}", f"ALTER TABLE _t RENAME TO {table}", change)


def _edited(main_archive: Path, tmp_path: Path, *statements: str, metadata: dict | None = None) -> Path:
    """A copy of ``main_archive`` in a folder of its own (its digest is compared), edited."""
    (tmp_path / "in").mkdir()
    return edit_main(main_archive, tmp_path / "in" / "bad.aiida", *statements, metadata_changes=metadata)


def _first_error(path: Path) -> tuple[str, str]:
    """The path and message of the first error validate reports."""
    problem = next(p for p in validate_main(path) if p.severity == "error")
    return problem.path, problem.message


def _refused_before_writing(src: Path, out: Path, member: str) -> str:
    """The way down refuses ``src`` with validate's own words, and leaves nothing behind."""
    before = tree_digest(src.parent)
    run = run_cli("archive", "migrate", src, out, "--to", "0.13")
    where, message = _first_error(src)
    line = assert_one_error_line(run, 65, message, src.name)
    assert f"'{member}': {where.removeprefix(member + ':')}: " in line, line
    assert not out.exists()
    assert_no_staging_left(out.parent)
    assert tree_digest(src.parent) == before
    return line


CASES = {
    # metadata and revision: the way down wrote a "valid" 0.13 archive from an invalid input
    "key-format": ((), {"key_format": "sha1"}, "metadata.json"),
    "revision": (("UPDATE alembic_version SET version_num = 'main_0000'",), None, "db.sqlite3"),
    # a null main_0001 forbids: written as null, or (node_type) as a 0.13 archive validate refuses
    "null-ctime": (_rebuilt("db_dbnode", "UPDATE db_dbnode SET ctime = NULL WHERE id = 2"), None, "db.sqlite3"),
    "null-node-type": (_rebuilt("db_dbnode", "UPDATE db_dbnode SET node_type = NULL WHERE id = 2"), None, "db.sqlite3"),
    "null-email": (_rebuilt("db_dbuser", "UPDATE db_dbuser SET email = NULL"), None, "db.sqlite3"),
    "null-computer-uuid": (_rebuilt("db_dbcomputer", "UPDATE db_dbcomputer SET uuid = NULL"), None, "db.sqlite3"),
    "null-log-node": (_rebuilt("db_dblog", "UPDATE db_dblog SET dbnode_id = NULL"), None, "db.sqlite3"),
    # a uuid of another table than db_dbnode: written as it is, into a 0.13 archive validate refuses
    "group-uuid": (("UPDATE db_dbgroup SET uuid = 'nope'",), None, "db.sqlite3"),
    "computer-uuid": (("UPDATE db_dbcomputer SET uuid = 'nope'",), None, "db.sqlite3"),
    "log-uuid": (("UPDATE db_dblog SET uuid = 'nope'",), None, "db.sqlite3"),
    "comment-uuid": (("UPDATE db_dbcomment SET uuid = 'nope'",), None, "db.sqlite3"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_what_validate_finds_by_sql_is_refused_before_writing(tmp_path, main_archive, case):
    statements, metadata, member = CASES[case]
    bad = _edited(main_archive, tmp_path, *statements, metadata=metadata)
    line = _refused_before_writing(bad, tmp_path / "out.zip", member)
    assert "refused before writing" in line


def test_every_error_is_counted_and_validate_lists_them(tmp_path, main_archive):
    bad = _edited(main_archive, tmp_path, "UPDATE db_dbgroup SET uuid = 'nope'", "UPDATE db_dblog SET uuid = 'nope'",
                  "UPDATE db_dbcomment SET uuid = 'nope'")  # fmt: skip
    line = _refused_before_writing(bad, tmp_path / "out.zip", "db.sqlite3")
    assert "db_dbgroup[1].uuid: not a 36-character UUID: 'nope' (and 2 more errors)" in line, line


def test_text_that_is_not_utf8_is_named_by_row_as_validate_names_it(tmp_path, main_archive):
    """Still found as it is written (no second pass over every value), but named by table, row and
    column with validate's words, not as sqlite3's "Could not decode" of a column of no table."""
    bad = _edited(main_archive, tmp_path, "UPDATE db_dbnode SET label = CAST(x'ff41' AS TEXT) WHERE id = 2")
    line = _refused_before_writing(bad, tmp_path / "out.zip", "db.sqlite3")
    assert "db_dbnode[2].label: text is not UTF-8" in line, line

