"""Validate and migrate agree on the values of a main_0001 database: datetimes (offsets converted to
UTC, out-of-range ones refused), references to rows that do not exist, JSON columns parsed
strictly, and integers beyond 64 bits kept exactly (aiida-core writes them), never rounded.

Each archive is a reportgen main_0001 archive from the small legacy builder, edited by SQL."""

from __future__ import annotations

from pathlib import Path

import json

import pytest

from converters.containers import open_archive
from converters.errors import BadInputError
from converters.main import convert
from converters.validate import validate
from tests.converters_main.db_checks import error_messages, write_main_archive
from tests.converters_main.helpers import edit_main
from tests.invariants import assert_one_error_line, run_cli


@pytest.fixture(scope="module")
def main_archive(tmp_path_factory):
    return write_main_archive(tmp_path_factory.mktemp("main"))


def _data_json(path: Path) -> dict:
    with open_archive(path) as archive:
        return json.loads(archive.read_bytes("data.json"))  # the stdlib: integers beyond 64 bits exact


def _to_legacy(src: Path, dst: Path, **options):
    return convert(src, dst, to_version="0.13", **options)


# ---------------------------------------------------------------- datetimes
def test_datetime_offset_is_converted_to_utc(tmp_path, main_archive):
    src = edit_main(main_archive, tmp_path / "tz.aiida", "UPDATE db_dbnode SET ctime = '2020-01-01 10:00:00.000000+02:00' WHERE id = 1",
                    "UPDATE db_dbnode SET mtime = '2020-01-01 10:00:00-01:30' WHERE id = 2")  # fmt: skip
    assert error_messages(src) == {}
    _to_legacy(src, tmp_path / "out.zip")
    nodes = _data_json(tmp_path / "out.zip")["export_data"]["Node"]
    assert nodes["1"]["ctime"] == "2020-01-01T08:00:00.000000"
    assert nodes["2"]["mtime"] == "2020-01-01T11:30:00.000000"
    assert nodes["3"]["ctime"] == "2020-01-04T10:00:00.000003"  # the common form, unchanged


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2020-01-01 10:00:00", True),  # no microseconds: legacy->main writes it, aiida-core reads it
        ("2020-01-01T10:00:00.000000", True),  # aiida-core's reader (fromisoformat) takes it too
        ("2020-01-01 10:00:00.000000junk", False),
        ("2020-02-30 10:00:00.000000", False),
        ("yesterday", False),
        ("0001-01-01 00:00:00.000000+01:00", False),  # a legal text whose UTC time is before year 1
        ("9999-12-31 23:59:59.999999-12:00", False),  # ... or after year 9999
    ],
)
def test_validate_and_migrate_agree_on_datetimes(tmp_path, main_archive, value, valid):
    src = edit_main(main_archive, tmp_path / "dt.aiida", f"UPDATE db_dbnode SET ctime = '{value}' WHERE id = 3")
    reported = "db_dbnode[3].ctime" in error_messages(src)
    try:
        _to_legacy(src, tmp_path / "out.zip")
        refused = False
    except BadInputError as exc:
        assert "db_dbnode[3].ctime" in exc.reason and "not a datetime" in exc.reason
        refused = True
    assert (reported, refused) == (not valid, not valid)


# ---------------------------------------------------------------- foreign keys on the way down
def test_dangling_link_and_member_are_reported_dropped_and_refused_strict(tmp_path, main_archive):
    src = edit_main(main_archive, tmp_path / "dl.aiida", "UPDATE db_dblink SET input_id = 9999 WHERE id = 1",
                    "UPDATE db_dbgroup_dbnodes SET dbnode_id = 8888 WHERE id = 1")  # fmt: skip
    result = _to_legacy(src, tmp_path / "out.zip")
    found = {(p.code, p.path) for p in result.problems}
    assert ("dangling-link", "db_dblink[1]") in found
    assert ("unknown-group-member", "db_dbgroup_dbnodes[1]") in found
    assert [p for p in validate(tmp_path / "out.zip") if p.severity == "error"] == []
    data = _data_json(tmp_path / "out.zip")
    assert len(data["links_uuid"]) == 2 and sum(map(len, data["groups_uuid"].values())) == 2
    with pytest.raises(BadInputError, match=r"db_dblink\[1\].*--strict"):
        _to_legacy(src, tmp_path / "strict.zip", strict=True)
    assert not (tmp_path / "strict.zip").exists()


@pytest.mark.parametrize(
    ("statement", "where"),
    [
        ("UPDATE db_dbnode SET user_id = 77 WHERE id = 1", "db_dbnode[1].user_id"),
        ("UPDATE db_dbnode SET dbcomputer_id = 55 WHERE id = 2", "db_dbnode[2].dbcomputer_id"),
        ("UPDATE db_dbgroup SET user_id = 66 WHERE id = 1", "db_dbgroup[1].user_id"),
        ("UPDATE db_dbcomment SET dbnode_id = 44 WHERE id = 1", "db_dbcomment[1].dbnode_id"),
        ("UPDATE db_dbcomment SET user_id = 33 WHERE id = 1", "db_dbcomment[1].user_id"),
        ("UPDATE db_dblog SET dbnode_id = 22 WHERE id = 1", "db_dblog[1].dbnode_id"),
    ],
)
def test_dangling_reference_is_refused(tmp_path, main_archive, statement, where):
    src = edit_main(main_archive, tmp_path / "ref.aiida", statement)
    with pytest.raises(BadInputError) as caught:
        _to_legacy(src, tmp_path / "out.zip")
    assert where in caught.value.reason and caught.value.member == "db.sqlite3"
    assert not (tmp_path / "out.zip").exists()


def test_dangling_user_cli_one_error_line(tmp_path, main_archive):
    src = edit_main(main_archive, tmp_path / "user.aiida", "UPDATE db_dbnode SET user_id = 77 WHERE id = 1")
    run = run_cli("archive", "migrate", src, tmp_path / "out.zip", "--to", "0.13")
    assert_one_error_line(run, 65, "db_dbnode[1].user_id", "user.aiida")


# ---------------------------------------------------------------- JSON columns
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"value": NaN}', "not JSON"),
        ('{"value": 1', "not JSON"),
        ('\ufeff{"value": 1}', "not JSON"),
        ('{"value": 1} {}', "not JSON"),
        ('{"value": 1, "value": 2}', "duplicate key 'value'"),
        ('{"a": {"x": ":", "x": 1}}', "duplicate key 'x'"),
        ('{"a": "\\u003a", "b": 1, "b": 2}', "duplicate key 'b'"),
        ("[1, 2]", "not an object"),
        ('{"big": 18446744073709551617, "big": 1}', "duplicate key 'big'"),
    ],
)
def test_validate_parses_json_columns_strictly(tmp_path, main_archive, text, words):
    quoted = text.replace("'", "''")
    src = edit_main(main_archive, tmp_path / "json.aiida", f"UPDATE db_dbnode SET attributes = '{quoted}' WHERE id = 2")
    found = error_messages(src)
    assert words in found.get("db_dbnode[2].attributes", ""), found
    with pytest.raises(BadInputError, match=r"db_dbnode\[2\]\.attributes"):
        _to_legacy(src, tmp_path / "out.zip")


def test_validate_checks_every_json_column(tmp_path, main_archive):
    src = edit_main(main_archive, tmp_path / "cols.aiida", """UPDATE db_dbcomputer SET metadata = '{"a": 1, "a": 2}' WHERE id = 1""",
                    "UPDATE db_dbnode SET extras = '\"text\"' WHERE id = 3")  # fmt: skip
    found = error_messages(src)
    assert "duplicate key" in found.get("db_dbcomputer[1].metadata", ""), found
    assert "not an object" in found.get("db_dbnode[3].extras", ""), found


def test_non_object_extras_migrate_is_one_error_line(tmp_path, main_archive):
    src = edit_main(main_archive, tmp_path / "list.aiida", "UPDATE db_dbnode SET extras = '[1, 2]' WHERE id = 3")
    run = run_cli("archive", "migrate", src, tmp_path / "out.zip", "--to", "0.13")
    assert_one_error_line(run, 65, "db_dbnode[3].extras", "list.aiida")
    assert not (tmp_path / "out.zip").exists()


# ---------------------------------------------------------------- integers beyond 64 bits
def test_integer_beyond_64_bits_is_kept_not_rounded(tmp_path, main_archive):
    """aiida-core stores Float(1e20) as the integer 100000000000000000000 (clean_value): kept exactly."""
    src = edit_main(main_archive, tmp_path / "big.aiida", """UPDATE db_dbnode SET extras = '{"e": 1180591620717411303424}' WHERE id = 2""")
    assert error_messages(src) == {}
    run = run_cli("archive", "migrate", src, tmp_path / "out.zip", "--to", "0.13")
    assert run.code == 0, run.stderr
    assert _data_json(tmp_path / "out.zip")["node_extras"]["2"]["e"] == 2**70


@pytest.mark.parametrize("value", [-(2**63) - 1, 2**64])
def test_integer_just_past_the_64_bit_range_is_kept(tmp_path, main_archive, value):
    src = edit_main(main_archive, tmp_path / "edge.aiida", f"""UPDATE db_dbgroup SET extras = '{{"n": {value}}}' WHERE id = 1""")
    _to_legacy(src, tmp_path / "out.zip")
    (extras,) = [g["extras"] for g in _data_json(tmp_path / "out.zip")["export_data"]["Group"].values()]
    assert extras == {"n": value} and type(extras["n"]) is int


def test_integers_at_the_64_bit_limits_are_kept_exactly(tmp_path, main_archive):
    value = '{"hi": 18446744073709551615, "lo": -9223372036854775808, "f": 0.1234567890123456789012}'
    src = edit_main(main_archive, tmp_path / "limit.aiida", f"UPDATE db_dbnode SET attributes = '{value}' WHERE id = 2")
    assert error_messages(src) == {}
    _to_legacy(src, tmp_path / "out.zip")
    attributes = _data_json(tmp_path / "out.zip")["node_attributes"]["2"]
    assert attributes["hi"] == 2**64 - 1 and attributes["lo"] == -(2**63)
