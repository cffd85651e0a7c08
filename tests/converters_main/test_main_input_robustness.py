"""Hostile or broken main_0001 inputs: refused with one BadInputError (exit 65) naming the archive,
the member and the reason, before any output exists.

Every input is built here from a real archive (``convert`` of the small legacy builder), edited
with real SQL (``edit_main``) or re-zipped with a member changed, added or left out.
"""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from converters.containers import OutMember, write_archive
from converters.errors import BadInputError
from converters.main import convert
from converters.main.zipread import MainZip
from converters.validate import validate
from tests.converters_main.builders import legacy_013, uid, write_legacy
from tests.converters_main.helpers import edit_main, legacy_archive, rows
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli

TRAVERSAL = "../../../../../../../tmp/pwned-by-uuid"


@pytest.fixture()
def main_archive(tmp_path: Path) -> Path:
    out = tmp_path / "main.aiida"
    convert(legacy_archive(tmp_path), out)
    return out


def _keys(path: Path) -> list[str]:
    with MainZip(path) as zf:
        return zf.keys


def _tree(files: dict[str, str]) -> str:
    return json.dumps({"o": {name: {"k": key} for name, key in files.items()}})


def _set_tree(src: Path, dst: Path, node: int, tree: str) -> Path:
    return edit_main(src, dst, f"UPDATE db_dbnode SET repository_metadata = '{tree}' WHERE id = {node}")


def _rezip(src: Path, dst: Path, replace: dict[str, bytes | None] | None = None, add: dict[str, bytes] | None = None) -> Path:
    """A copy of a zip with members replaced (None: left out) or added, bytes as given."""
    replace, members = replace or {}, []
    with zipfile.ZipFile(src) as zf:
        for info in zf.infolist():
            data = replace.get(info.filename, zf.read(info))
            if data is not None:
                members.append(OutMember(info.filename, data=data, size=len(data)))
    members += [OutMember(name, data=data, size=len(data)) for name, data in (add or {}).items()]
    write_archive(dst, "zip", members)
    return dst


def _refused(src: Path, out: Path, to: str, *words: str, allow_loss: bool = False) -> BadInputError:
    with pytest.raises(BadInputError) as caught:
        convert(src, out, to_version=to, allow_loss=allow_loss)
    error = caught.value
    assert error.file == str(src), error.describe()  # the input archive, never ''
    for word in words:
        assert word in error.describe(), error.describe()
    assert not out.exists()
    assert_no_staging_left(out.parent)
    return error


# ---------------------------------------------------------------- 1. values that become member names
@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_uuid_that_walks_out_of_nodes_is_refused_before_anything_is_written(tmp_path, main_archive, fmt):
    key = _keys(main_archive)[0]
    bad = edit_main(
        main_archive, tmp_path / "trav.aiida",
        f"UPDATE db_dbnode SET uuid = '{TRAVERSAL}', repository_metadata = '{_tree({'evil.sh': key})}' WHERE id = 3",
    )  # fmt: skip
    error = _refused(bad, tmp_path / f"out.{fmt}", "0.13", "db_dbnode[3].uuid", TRAVERSAL, "not a UUID")
    assert error.member == "db.sqlite3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zip", "main.aiida", "trav.aiida"]


def test_uuid_traversal_cli_one_line_exit_65(tmp_path, main_archive):
    bad = edit_main(main_archive, tmp_path / "trav.aiida", f"UPDATE db_dbnode SET uuid = '{TRAVERSAL}' WHERE id = 4")
    run = run_cli("archive", "migrate", bad, tmp_path / "out.zip", "--to", "0.13")
    assert_one_error_line(run, 65, "not a UUID", "trav.aiida")
    assert "db_dbnode[4].uuid" in run.stderr and not (tmp_path / "out.zip").exists()


def test_uppercase_or_short_uuid_is_refused_on_the_way_down(tmp_path, main_archive):
    shouting = "ABCDEF00-0000-4000-8000-000000000002"  # a reader of legacy archives accepts it; aiida writes lowercase
    upper = edit_main(main_archive, tmp_path / "up.aiida", f"UPDATE db_dbnode SET uuid = '{shouting}' WHERE id = 2")
    _refused(upper, tmp_path / "out.zip", "0.13", "db_dbnode[2].uuid", shouting)
    number = edit_main(main_archive, tmp_path / "num.aiida", "UPDATE db_dbnode SET uuid = 12345 WHERE id = 2")
    _refused(number, tmp_path / "out.zip", "0.12", "db_dbnode[2].uuid", "12345", allow_loss=True)


# ---------------------------------------------------------------- 2. blobs: hashed while copied, missing refused
@pytest.mark.parametrize("to", ["0.13", "main_0001"])
def test_tampered_blob_is_refused_naming_its_member(tmp_path, main_archive, to):
    key = rows(main_archive, "SELECT repository_metadata FROM db_dbnode WHERE id = 2")[0][0].split('"k":"')[1][:64]
    bad = _rezip(main_archive, tmp_path / "tampered.aiida", replace={f"repo/{key}": b"tampered"})
    error = _refused(bad, tmp_path / "out.zip", to, "hashes to", "not to its name")
    assert error.member == f"repo/{key}"


def test_blob_missing_from_repo_is_refused_main_to_main(tmp_path, main_archive):
    key = _keys(main_archive)[0]
    bad = _rezip(main_archive, tmp_path / "missing.aiida", replace={f"repo/{key}": None})
    error = _refused(bad, tmp_path / "out.aiida", "main_0001", "repository_metadata", "not in the archive")
    assert error.member == f"repo/{key}"
    _refused(bad, tmp_path / "out.zip", "0.13", "not in the archive")


# ---------------------------------------------------------------- 3. schema and values
def _drop(table: str, column: str) -> tuple[str, ...]:
    indexes = [f"DROP INDEX IF EXISTS ix_{table}_{table}_{column}"]
    return (*indexes, f"ALTER TABLE {table} DROP COLUMN {column}")


@pytest.mark.parametrize("to", ["0.13", "main_0001"])
@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (_drop("db_dbnode", "label"), ("db_dbnode.label", "column missing")),
        (("DROP TABLE db_dblog",), ("db_dblog", "table missing")),
    ],
)
def test_database_without_the_main_schema_is_refused_up_front(tmp_path, main_archive, to, edit, words):
    bad = edit_main(main_archive, tmp_path / "schema.aiida", *edit)
    error = _refused(bad, tmp_path / "out.zip", to, *words, "not the schema")
    assert error.member == "db.sqlite3"


@pytest.mark.parametrize("to", ["0.13", "main_0001"])
def test_empty_database_file_is_refused(tmp_path, main_archive, to):
    bad = _rezip(main_archive, tmp_path / "empty.aiida", replace={"db.sqlite3": b""})
    _refused(bad, tmp_path / "out.zip", to, "table missing", "not the schema")


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ("UPDATE db_dbnode SET attributes = '{not json' WHERE id = 2", ("db_dbnode[2].attributes", "not JSON")),
        ("UPDATE db_dbnode SET extras = 5 WHERE id = 3", ("db_dbnode[3].extras", "not JSON text")),
        ("UPDATE db_dbnode SET ctime = 'yesterday' WHERE id = 4", ("db_dbnode[4].ctime", "not a datetime", "yesterday")),
        ("UPDATE db_dbcomputer SET metadata = '[' WHERE id = 1", ("db_dbcomputer[1].metadata", "not JSON")),
        ("UPDATE db_dbnode SET label = x'00ff' WHERE id = 2", ("db_dbnode[2].label", "is not text")),
        ("UPDATE db_dblog SET time = 20200101 WHERE id = 1", ("db_dblog[1].time", "not datetime text")),
        ("UPDATE db_dbnode SET repository_metadata = '{\"o\": 5}' WHERE id = 2", ("db_dbnode[2].repository_metadata", "not an object")),
        ("UPDATE db_dbnode SET repository_metadata = '[1]' WHERE id = 2", ("db_dbnode[2].repository_metadata", "directory object")),
    ],
)
def test_value_of_the_wrong_kind_names_table_row_and_column(tmp_path, main_archive, statement, words):
    bad = edit_main(main_archive, tmp_path / "value.aiida", statement)
    error = _refused(bad, tmp_path / "out.zip", "0.13", *words, allow_loss=True)
    assert error.member == "db.sqlite3"


def test_bad_value_cli_is_one_line_exit_65_not_70(tmp_path, main_archive):
    bad = edit_main(main_archive, tmp_path / "ctime.aiida", "UPDATE db_dbnode SET ctime = 'yesterday' WHERE id = 1")
    run = run_cli("archive", "migrate", bad, tmp_path / "out.zip", "--to", "0.13", "--allow-loss")
    assert_one_error_line(run, 65, "db_dbnode[1].ctime", "ctime.aiida")


# ---------------------------------------------------------------- 4, 5. file names a legacy archive cannot hold
@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"A.txt": 0, "a.txt": 1}, ("names collide", "'A.txt' and 'a.txt'")),
        ({"\u00e9.txt": 0, "e\u0301.txt": 1}, ("names collide",)),
        ({"a" * 300: 0}, ("300 bytes", "unsafe member name")),
        ({"con.txt": 0}, ("'con.txt'", "unsafe member name")),
    ],
)
def test_file_names_the_reader_would_refuse_are_refused_before_writing(tmp_path, main_archive, files, words):
    keys = _keys(main_archive)
    bad = _set_tree(main_archive, tmp_path / "names.aiida", 3, _tree({name: keys[i] for name, i in files.items()}))
    _refused(bad, tmp_path / "out.zip", "0.13", f"node {uid(3)}", "db_dbnode[3].repository_metadata", *words, "cannot hold")


def test_folder_and_file_differing_in_case_are_refused_and_valid_names_pass(tmp_path, main_archive):
    key = _keys(main_archive)[0]
    # the same policy passes what it should: nested folders, an empty folder, non-ASCII names
    tree = json.dumps({"o": {"d": {"o": {"\u00e9t\u00e9.txt": {"k": key}, "e": {}}}, "D.txt": {"k": key}}})
    convert(_set_tree(main_archive, tmp_path / "ok.aiida", 3, tree), tmp_path / "ok.zip", to_version="0.13")
    assert not [p for p in validate(tmp_path / "ok.zip") if p.severity == "error"]
    tree = json.dumps({"o": {"Sub": {"o": {"x": {"k": key}}}, "sub": {"k": key}}})
    bad = _set_tree(main_archive, tmp_path / "dirs.aiida", 3, tree)
    _refused(bad, tmp_path / "out.tar.gz", "0.13", "names collide", "'Sub'", "'sub'")


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ""])
def test_unsafe_name_in_the_tree_names_the_input_archive(tmp_path, main_archive, name):
    key = _keys(main_archive)[0]
    bad = _set_tree(main_archive, tmp_path / "unsafe.aiida", 2, _tree({name: key}))
    error = _refused(bad, tmp_path / "out.zip", "0.13", "unsafe name", repr(name))
    assert error.describe().startswith(repr(str(bad)))


# ---------------------------------------------------------------- 6. not a main zip: say what it is
@pytest.mark.parametrize(
    ("extra", "member"),
    [({"repo/sub/x": b"x"}, "repo/sub/x"), ({"repo/" + "AB" * 32: b"x"}, "repo/" + "AB" * 32), ({"notes.txt": b"x"}, "notes.txt")],
)
def test_member_outside_the_main_layout_refused_alike_by_migrate_and_validate(tmp_path, main_archive, extra, member):
    bad = _rezip(main_archive, tmp_path / "extra.aiida", add=extra)
    for to in ("0.13", "main_0001"):
        error = _refused(bad, tmp_path / "out.zip", to, "unexpected member in a main_0001 archive")
        assert error.member == member and "Tar" not in error.reason
    with pytest.raises(BadInputError, match="unexpected member"):
        validate(bad)


def test_data_json_beside_db_sqlite3_is_a_mixed_layout(tmp_path, main_archive):
    bad = _rezip(main_archive, tmp_path / "mixed.aiida", add={"data.json": b"{}"})
    error = _refused(bad, tmp_path / "out.zip", "0.13", "mixed layout")
    assert error.member == "data.json"
    with pytest.raises(BadInputError, match="mixed layout"):
        validate(bad)


def test_main_layout_in_a_folder_is_not_called_a_tar(tmp_path, main_archive):
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(main_archive) as zf:
        zf.extractall(folder)
    error = _refused(folder, tmp_path / "out.zip", "0.13", "a folder is not a main_0001 archive")
    assert "Tar" not in error.reason
    with pytest.raises(BadInputError, match="a folder is not"):
        validate(folder)


def test_legacy_folder_whose_metadata_says_main_is_refused_by_validate_too(tmp_path):
    metadata, data, files = legacy_013()
    folder = tmp_path / "legacy"
    folder.mkdir()
    (folder / "metadata.json").write_text(json.dumps(metadata | {"export_version": "main_0001"}))
    (folder / "data.json").write_text(json.dumps(data))
    error = _refused(folder, tmp_path / "out.zip", "0.13", "legacy layout", "main_0001")
    assert error.member == "metadata.json" and "Tar" not in error.reason
    run = run_cli("archive", "validate", folder)
    assert_one_error_line(run, 65, "legacy layout", "legacy")
    # is_main reads metadata.json for that: a legacy zip with a stray db.sqlite3 stays legacy (a warning)
    src = write_legacy(tmp_path / "legacy.zip", metadata, data, files | {"db.sqlite3": b"x"})
    problems = validate(src)
    assert not [p for p in problems if p.severity == "error"]
    assert any("db.sqlite3" in p.describe() for p in problems)


def test_unique_uuid_index_missing_and_duplicate_uuids(tmp_path, main_archive):
    """A database without the UNIQUE index on uuid may hold two nodes with one uuid: one folder twice."""
    statements = (
        "CREATE TABLE n2 AS SELECT * FROM db_dbnode", "DROP TABLE db_dbnode",
        "CREATE TABLE db_dbnode AS SELECT * FROM n2", "DROP TABLE n2",
        f"UPDATE db_dbnode SET uuid = '{uid(2)}' WHERE id = 4",
    )  # fmt: skip
    bad = edit_main(main_archive, tmp_path / "dup.aiida", *statements)
    assert sqlite3.sqlite_version_info >= (3, 35)
    _refused(bad, tmp_path / "out.zip", "0.13", "db_dbnode[4].uuid", "also the uuid of db_dbnode[2]")


# ---------------------------------------------------------------- triggers in the input database
def test_triggers_of_the_input_are_dropped_before_any_step_and_reported(tmp_path, main_archive):
    """A trigger would run its own SQL whenever a revision step updates a row."""
    from converters.main.reader import stage_main

    bad = edit_main(
        main_archive, tmp_path / "trig.aiida",
        "CREATE TRIGGER rename AFTER UPDATE ON db_dbnode BEGIN UPDATE db_dbcomputer SET label = 'pwned'; END",
    )  # fmt: skip
    staged = stage_main(bad, tmp_path)
    conn = sqlite3.connect(staged.db)
    try:
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'").fetchone()[0] == 0
        conn.execute("UPDATE db_dbnode SET label = label")  # what a step does: the trigger no longer fires
        assert "pwned" not in [row[0] for row in conn.execute("SELECT label FROM db_dbcomputer")]
    finally:
        conn.close()
    assert [p.code for p in staged.log.summary()] == ["trigger-dropped"]


def test_text_that_is_not_utf8_is_invalid_for_validate_as_for_migrate(tmp_path, main_archive):
    """validate called it valid while every migration refused it."""
    bad = edit_main(main_archive, tmp_path / "bytes.aiida",
                    "UPDATE db_dbnode SET label = CAST(x'ff41' AS TEXT) WHERE id = (SELECT MIN(id) FROM db_dbnode)")
    errors = [p for p in validate(bad) if p.severity == "error"]
    assert [p.code for p in errors] == ["not-utf8"]
    assert errors[0].path.endswith(".label")
    _refused(bad, tmp_path / "out.zip", "0.13", "UTF-8")


def test_a_node_file_named_ds_store_is_a_declared_loss_of_the_downgrade(tmp_path: Path, main_archive: Path) -> None:
    """A legacy reader drops ``.DS_Store`` as macOS litter (reportgen's name policy), so a round
    trip would lose the file without a word: the downgrade says so, and with --allow-loss it is
    not written at all (the output reads back without a junk warning)."""
    keys = _keys(main_archive)
    litter = _set_tree(main_archive, tmp_path / "litter.aiida", 3,
                       json.dumps({"o": {"sub": {"o": {".DS_Store": {"k": keys[0]}}}, "data.txt": {"k": keys[1]}}}))
    error = _refused(litter, tmp_path / "out.zip", "0.13", "1 node files named .DS_Store", "--allow-loss")
    assert error.exit_code == 65
    result = convert(litter, tmp_path / "out.zip", to_version="0.13", allow_loss=True)
    assert any(".DS_Store" in note for note in result.notes)
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        names = zf.namelist()
    assert not any(".DS_Store" in name for name in names)
    assert any(name.endswith("/path/data.txt") for name in names)
    assert validate(tmp_path / "out.zip") == []
