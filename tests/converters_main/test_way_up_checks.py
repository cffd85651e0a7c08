"""The way up (legacy -> main, main -> main) writes only what validate accepts.

Before, a node naming a missing user, a dangling link in a main input, a
repeated JSON key or a bad datetime in a main database went into the output as
they were: exit 0, and an archive our own ``validate`` (and aiida-core) refuses.
Each input here is built in code, a small archive edited by SQL or by hand.
"""

from __future__ import annotations

import pytest

from converters.errors import BadInputError
from converters.main import convert
from converters.main.validate import validate_main
from tests.converters_main.builders import legacy_013, write_legacy
from tests.converters_main.helpers import edit_main, legacy_archive, rows
from tests.invariants import assert_one_error_line, run_cli


@pytest.fixture(scope="module")
def main_0000(tmp_path_factory):
    """A valid main_0000 archive: its way to main_0001 runs the revision steps on its database."""
    tmp = tmp_path_factory.mktemp("up")
    out = tmp / "m0.aiida"
    convert(legacy_archive(tmp), out, to_version="main_0000")
    return out


def _errors(path) -> list:
    return [p for p in validate_main(path) if p.severity == "error"]


@pytest.mark.parametrize(
    ("statement", "where", "missing"),
    [
        ("UPDATE db_dbnode SET user_id = 77 WHERE id = 1", "db_dbnode[1].user_id", "db_dbuser"),
        ("UPDATE db_dbnode SET dbcomputer_id = 55 WHERE id = 2", "db_dbnode[2].dbcomputer_id", "db_dbcomputer"),
        ("UPDATE db_dbgroup SET user_id = 66 WHERE id = 1", "db_dbgroup[1].user_id", "db_dbuser"),
        ("UPDATE db_dbcomment SET dbnode_id = 44 WHERE id = 1", "db_dbcomment[1].dbnode_id", "db_dbnode"),
        ("UPDATE db_dblog SET dbnode_id = 22 WHERE id = 1", "db_dblog[1].dbnode_id", "db_dbnode"),
    ],
)
def test_main_to_main_refuses_a_dangling_reference(tmp_path, main_0000, statement, where, missing):
    src = edit_main(main_0000, tmp_path / "ref.aiida", statement)
    with pytest.raises(BadInputError) as caught:
        convert(src, tmp_path / "out.aiida")
    assert caught.value.reason.startswith(f"{where}: ") and f"is not in {missing}" in caught.value.reason
    assert caught.value.member == "db.sqlite3" and caught.value.file == str(src)
    assert not (tmp_path / "out.aiida").exists()


def test_main_to_main_reports_and_drops_dangling_links_and_members(tmp_path, main_0000):
    src = edit_main(main_0000, tmp_path / "dl.aiida", "UPDATE db_dblink SET input_id = 9999 WHERE id = 1",
                    "UPDATE db_dbgroup_dbnodes SET dbnode_id = 8888 WHERE id = 1")  # fmt: skip
    before = rows(src, "SELECT COUNT(*) FROM db_dblink")[0][0], rows(src, "SELECT COUNT(*) FROM db_dbgroup_dbnodes")[0][0]
    result = convert(src, tmp_path / "out.aiida")
    found = {(p.code, p.path) for p in result.problems}
    assert {("dangling-link", "db_dblink[1]"), ("unknown-group-member", "db_dbgroup_dbnodes[1]")} <= found
    out = tmp_path / "out.aiida"
    assert _errors(out) == []
    after = rows(out, "SELECT COUNT(*) FROM db_dblink")[0][0], rows(out, "SELECT COUNT(*) FROM db_dbgroup_dbnodes")[0][0]
    assert after == (before[0] - 1, before[1] - 1)
    with pytest.raises(BadInputError, match=r"db_dblink\[1\].*--strict"):
        convert(src, tmp_path / "strict.aiida", strict=True)
    assert not (tmp_path / "strict.aiida").exists()


@pytest.mark.parametrize(
    ("statement", "where", "words"),
    [
        ("""UPDATE db_dbnode SET attributes = '{"a": 1, "a": 2}' WHERE id = 2""", "db_dbnode[2].attributes", "duplicate key 'a'"),
        ("""UPDATE db_dbnode SET extras = '{"v": NaN}' WHERE id = 3""", "db_dbnode[3].extras", "not JSON"),
        ("UPDATE db_dbnode SET extras = '[1]' WHERE id = 3", "db_dbnode[3].extras", "not an object"),
        ("""UPDATE db_dbcomputer SET metadata = '{"x": 1, "x": 1}' WHERE id = 1""", "db_dbcomputer[1].metadata", "duplicate key"),
        ("UPDATE db_dbnode SET ctime = 'yesterday' WHERE id = 1", "db_dbnode[1].ctime", "not a datetime"),
        ("UPDATE db_dbnode SET uuid = 'not-a-uuid' WHERE id = 2", "db_dbnode[2].uuid", "not a 36-character UUID"),
    ],
)
def test_main_to_main_refuses_values_validate_refuses(tmp_path, main_0000, statement, where, words):
    src = edit_main(main_0000, tmp_path / "bad.aiida", statement)
    assert any(p.path == where for p in _errors(src))  # the input is invalid by validate's rule ...
    with pytest.raises(BadInputError) as caught:  # ... and migrate refuses it by the same rule
        convert(src, tmp_path / "out.aiida")
    assert caught.value.reason.startswith(f"{where}: ") and words in caught.value.reason
    assert "main_0001 cannot hold it" in caught.value.reason
    assert not (tmp_path / "out.aiida").exists()


def _legacy(tmp_path, edit) -> object:
    metadata, data, files = legacy_013()
    edit(data)
    return write_legacy(tmp_path / "in.zip", metadata, data, files)


def test_legacy_to_main_refuses_a_node_of_a_missing_user(tmp_path):
    src = _legacy(tmp_path, lambda data: data["export_data"]["Node"]["1"].update(user=999))
    run = run_cli("archive", "migrate", src, tmp_path / "out.aiida", "--to", "main_0001")
    line = assert_one_error_line(run, 65, "in.zip", "data.json")
    assert "$.export_data.Node['1'].user: 999 is not in $.export_data.User" in line
    assert not (tmp_path / "out.aiida").exists()


def test_legacy_to_main_refuses_a_malformed_uuid(tmp_path):
    src = _legacy(tmp_path, lambda data: data["export_data"]["Computer"][next(iter(data["export_data"]["Computer"]))].update(uuid="abc"))
    with pytest.raises(BadInputError, match=r"\$\.export_data\.Computer\['\d+'\]\.uuid: not a 36-character UUID: 'abc'"):
        convert(src, tmp_path / "out.aiida")
    assert not (tmp_path / "out.aiida").exists()


def test_main_to_main_cli_is_one_error_line(tmp_path, main_0000):
    src = edit_main(main_0000, tmp_path / "user.aiida", "UPDATE db_dbnode SET user_id = 77 WHERE id = 1")
    run = run_cli("archive", "migrate", src, tmp_path / "out.aiida", "--to", "main_0001")
    assert_one_error_line(run, 65, "db_dbnode[1].user_id", "user.aiida")


# ---------------------------------------------------------------- a value followed by a newline
def test_a_uuid_with_a_trailing_newline_is_not_a_uuid(tmp_path, main_0000):
    """``$`` in a Python pattern matches before a final newline: every form is checked to the end."""
    src = edit_main(main_0000, tmp_path / "nl.aiida", "UPDATE db_dbnode SET uuid = uuid || char(10) WHERE id = 2")
    assert [p.path for p in _errors(src) if p.code == "bad-uuid"] == ["db_dbnode[2].uuid"]
    with pytest.raises(BadInputError, match=r"db_dbnode\[2\]\.uuid: not a 36-character UUID"):
        convert(src, tmp_path / "out.aiida")


def test_a_legacy_uuid_or_datetime_with_a_trailing_newline_is_refused(tmp_path):
    from converters.validate import validate

    def edit(data):
        data["export_data"]["Node"]["1"]["uuid"] += "\n"
        data["export_data"]["Node"]["2"]["ctime"] += "\n"

    src = _legacy(tmp_path, edit)
    found = {(p.code, p.path) for p in validate(src) if p.severity == "error"}
    assert any("Node" in path and "uuid" in path for _, path in found), found
    assert any("Node" in path and "ctime" in path for _, path in found), found


def test_one_step_is_one_step(tmp_path, main_0000):
    run = run_cli("archive", "migrate", main_0000, tmp_path / "back.zip", "--to", "0.13")
    assert run.code == 0 and "(zip, 1 step)" in run.stdout, run.stdout


@pytest.mark.parametrize("column", ["uuid", "ctime"])
def test_bytes_that_are_not_utf8_are_reported_not_a_crash(tmp_path, main_0000, column):
    """sqlite3 cannot decode such text: validate and main -> main stopped with exit 70."""
    src = edit_main(main_0000, tmp_path / "raw.aiida", f"UPDATE db_dbnode SET {column} = CAST(x'ff41' AS TEXT) WHERE id = 2")
    assert f"db_dbnode[2].{column}" in {p.path for p in _errors(src)}
    assert run_cli("archive", "validate", src).code == 65
    run = run_cli("archive", "migrate", src, tmp_path / "out.aiida", "--to", "main_0001")
    assert_one_error_line(run, 65, "raw.aiida", f"db_dbnode[2].{column}")
