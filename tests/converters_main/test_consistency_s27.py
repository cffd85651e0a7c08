"""Legacy ``validate``, ``validate --stream`` and ``migrate --to main_0001`` agree (review Y, s27).

Before:
- an attribute nested 251 levels went into a main archive that our own validate refused;
- a datetime that is ISO 8601 but no legacy date (``2020-01-01``, seven fraction digits, cut
  to six) was an error to validate, nothing to --stream, and silently taken by migrate;
- a time past year 9999 in UTC (``9999-12-31T23:59:59-01:00``) was valid to validate and an
  error to the others;
- a repository folder of an unknown node was an error to validate, nothing to --stream, and
  its blob was written into the main archive, whose way down then refused it as unreferenced.
"""

from __future__ import annotations

import hashlib
import zipfile

import pytest

from converters.errors import BadInputError
from converters.main import convert
from converters.main.validate import validate_legacy_streaming, validate_main
from converters.validate import validate
from tests.converters_main.builders import legacy_013, write_legacy


def _archive(tmp_path, edit):
    metadata, data, files = legacy_013()
    edit(data, files)
    return write_legacy(tmp_path / "in.zip", metadata, data, files)


def _nest(levels: int):
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


def _errors(problems) -> list:
    return [p for p in problems if p.severity == "error"]


@pytest.mark.parametrize("where", ["attributes", "extras"])
def test_a_column_nested_past_250_levels_is_refused_naming_its_row(tmp_path, where):
    section = f"node_{where}"
    src = _archive(tmp_path, lambda data, files: data[section].__setitem__("2", {"deep": _nest(250)}))  # 251 levels
    with pytest.raises(BadInputError) as caught:
        convert(src, tmp_path / "out.aiida")
    assert caught.value.reason.startswith(f"$.{section}['2']: nested too deeply (more than 250 levels")
    assert not (tmp_path / "out.aiida").exists()


def test_250_levels_still_go_up_and_validate(tmp_path):
    src = _archive(tmp_path, lambda data, files: data["node_attributes"].__setitem__("2", {"deep": _nest(249)}))
    convert(src, tmp_path / "out.aiida")
    assert _errors(validate_main(tmp_path / "out.aiida")) == []


@pytest.mark.parametrize("value", ["2020-01-01", "2020-01-01 10:00:00.000000", "2020-01-01T10:00:00.1234567", "20200101T100000"])
def test_an_iso_datetime_that_is_no_legacy_date_is_an_error_to_both_validates_and_a_warning_up(tmp_path, value):
    src = _archive(tmp_path, lambda data, files: data["export_data"]["Node"]["2"].__setitem__("ctime", value))
    assert [p.code for p in _errors(validate(src))] == ["date"]
    streamed = _errors(validate_legacy_streaming(src))
    assert [(p.code, p.path) for p in streamed] == [("datetime-form", "$.export_data.Node['2'].ctime")]
    result = convert(src, tmp_path / "out.aiida")
    warned = [p for p in result.problems if p.code == "datetime-form"]
    assert [p.severity for p in warned] == ["warning"] and "read as '2020-01-01 " in warned[0].message
    assert _errors(validate_main(tmp_path / "out.aiida")) == []


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_time_outside_the_years_in_utc_is_an_error_everywhere(tmp_path, value):
    src = _archive(tmp_path, lambda data, files: data["export_data"]["Node"]["2"].__setitem__("ctime", value))
    assert [p.code for p in _errors(validate(src))] == ["date"]
    assert [p.code for p in _errors(validate_legacy_streaming(src))] == ["bad-datetime"]
    assert "bad-datetime" in {p.code for p in convert(src, tmp_path / "out.aiida").problems}


def test_an_unknown_nodes_folder_is_an_error_to_both_validates_and_its_blob_is_not_written(tmp_path):
    lost = b"orphan bytes"
    src = _archive(tmp_path, lambda data, files: files.__setitem__("nodes/ab/cd/ef00-0000-4000-8000-000000000099/path/lost.txt", lost))
    assert _errors(validate(src)) != []
    assert [p.code for p in _errors(validate_legacy_streaming(src))] == ["repository-without-node"]
    convert(src, tmp_path / "out.aiida")
    with zipfile.ZipFile(tmp_path / "out.aiida") as zf:
        assert "repo/" + hashlib.sha256(lost).hexdigest() not in zf.namelist()
    assert validate_main(tmp_path / "out.aiida") == []  # no unreferenced blob either
    convert(tmp_path / "out.aiida", tmp_path / "back.zip", to_version="0.13")  # no loss to refuse


def test_a_blob_a_known_node_shares_with_a_clashing_unknown_folder_is_kept(tmp_path):
    """An unknown node's folder whose raw_input/ and path/ clash on a name: its files are left out
    once, not counted again for the clash, so a blob a known node also holds stays written."""
    orphan = "nodes/ab/cd/ef00-0000-4000-8000-000000000099"

    def edit(data, files):
        files[f"{orphan}/raw_input/x"] = b"input file\n"  # node 1's raw_input/aiida.in holds these bytes too
        files[f"{orphan}/path/x"] = b"other bytes"

    src = _archive(tmp_path, edit)
    convert(src, tmp_path / "out.aiida")
    with zipfile.ZipFile(tmp_path / "out.aiida") as zf:
        names = set(zf.namelist())
    assert "repo/" + hashlib.sha256(b"input file\n").hexdigest() in names
    assert "repo/" + hashlib.sha256(b"other bytes").hexdigest() not in names
    assert validate_main(tmp_path / "out.aiida") == []
