"""Datetimes that have the shape of one but are no moment: 2020-02-30, year 0000, digits of
another script.

Before, the way up rewrote any ``YYYY-MM-DDTHH:MM:SS.ffffff`` whose digits
matched ``\\d`` (any script's) and whose day was at most 31 by changing the
``T`` alone: ``2020-02-30T10:00:00.000000`` went into the main archive as it
was, and our own ``validate`` (and aiida-core, which parses it) refused the
output.  The legacy validate passed ``2020-13-45T99:99:99`` as a date, and
the 0.6 -> 0.5 downgrade marked such a string as a date for a 0.5 reader to
choke on.
"""

from __future__ import annotations

import pytest

from converters.downgrades.v0_6_to_v0_5 import serialize
from converters.main import convert
from converters.main.schema import format_datetime, read_stored_datetime
from converters.main.validate import validate_main
from converters.validate import is_date, validate
from tests.converters_main.builders import legacy_013, write_legacy

NO_MOMENTS = [
    "2020-02-30T10:00:00.000000",  # no such day
    "2021-02-29T10:00:00.000000",  # not a leap year
    "2020-04-31T10:00:00.000000",
    "0000-01-01T10:00:00.000000",  # no year 0 in datetime (nor in aiida-core's readers)
    "\u0662\u0660\u0662\u0660-01-01T10:00:00.000000",  # Arabic-Indic digits: \d matches them
    "2020-01-0\uff11T10:00:00.000000",  # a fullwidth digit
]


@pytest.mark.parametrize("value", NO_MOMENTS)
def test_format_datetime_refuses_what_is_no_moment(value):
    with pytest.raises(ValueError):
        format_datetime(value)


@pytest.mark.parametrize("day", ["2020-02-29", "2020-01-31", "2020-04-30", "2020-12-28", "0001-01-01", "9999-12-31"])
def test_format_datetime_keeps_every_real_day(day):
    stored = format_datetime(f"{day}T23:59:59.000123")
    assert stored == f"{day} 23:59:59.000123"
    assert read_stored_datetime(stored).isoformat(" ", "microseconds") == stored  # what validate reads back


def _archive_with_ctime(tmp_path, value: str):
    metadata, data, files = legacy_013()
    data["export_data"]["Node"]["2"]["ctime"] = value
    return write_legacy(tmp_path / "in.zip", metadata, data, files)


@pytest.mark.parametrize("value", NO_MOMENTS[:1] + NO_MOMENTS[3:5])
def test_way_up_reports_such_a_ctime_and_writes_a_valid_archive(tmp_path, value):
    src = _archive_with_ctime(tmp_path, value)
    out = tmp_path / "out.aiida"
    result = convert(src, out)
    found = {(p.code, p.path) for p in result.problems}
    assert ("bad-datetime", "$.export_data.Node['2'].ctime") in found
    assert [p for p in validate_main(out) if p.severity == "error"] == []


@pytest.mark.parametrize("value", NO_MOMENTS)
def test_legacy_validate_refuses_such_a_date(tmp_path, value):
    assert not is_date(value.replace(".000000", ""))
    src = _archive_with_ctime(tmp_path, value)
    dates = [p for p in validate(src) if p.code == "date"]
    assert [p.path for p in dates] == ['$.export_data.Node["2"].ctime']


@pytest.mark.parametrize("value", ["2020-01-01T10:00:00", "2020-02-29T10:00:00.5", "2020-01-01T10:00:00.123456+02:00", "2020-01-01T10:00:00Z"])
def test_legacy_validate_keeps_real_dates(value):
    assert is_date(value)


def test_downgrade_to_0_5_marks_only_real_utc_moments_as_dates():
    values, shadow = serialize({"a": "2020-02-29T10:00:00+00:00", "b": "2020-02-30T10:00:00+00:00", "c": "\u0662020-01-01T10:00:00+00:00"})
    assert values == {"a": "2020-02-29T10:00:00", "b": "2020-02-30T10:00:00+00:00", "c": "\u0662020-01-01T10:00:00+00:00"}
    assert shadow == {"a": "date", "b": None, "c": None}
