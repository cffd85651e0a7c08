"""What validate and migrate say of a legacy data.json: a number beyond a double's range, group
members that are no list, a datetime whose UTC time leaves years 1-9999, and a dangling link
refused by --strict.  Each was a crash, a silent change of the data or a misleading line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.converters import builders as b
from tests.invariants import assert_one_error_line, run_cli


# ---------------------------------------------------------------- 1e400
@pytest.mark.parametrize("version", ["0.2", "0.4", "0.12"])  # 0.2: the in-memory chain; later: streamed
@pytest.mark.parametrize("number", ["1e400", "-1E+400", "1" + "0" * 400 + ".5"])
def test_a_number_beyond_a_doubles_range_is_refused_like_infinity(tmp_path: Path, version: str, number: str) -> None:
    """Read as infinity, it was written as null (orjson) in 0.13 and main_0001 outputs, exit 0."""
    data = b.build_data(version)
    attributes = data["node_attributes"]
    first = sorted(attributes)[0]
    attributes[first]["huge"] = "@HUGE@"
    text = json.dumps(data).replace('"@HUGE@"', number)
    archive = b.write_container(tmp_path / "in.zip", {**b.build_members(version), "data.json": text.encode()}, "zip")
    for target in ("0.13", "main_0001"):
        out = tmp_path / f"out-{target}.zip"
        run = run_cli("archive", "migrate", archive, out, "--to", target)
        assert_one_error_line(run, 65, "beyond the range of a double", "data.json")
        assert not out.exists()
    assert_one_error_line(run_cli("archive", "validate", archive), 65, "beyond the range of a double")


# ---------------------------------------------------------------- groups_uuid members that are no list
def test_group_members_that_are_no_list_are_a_validate_error(tmp_path: Path) -> None:
    """``inspect`` and ``--to main_0001`` refused them while ``validate`` called the archive valid."""
    data = b.build_data("0.12")
    group = next(iter(data["groups_uuid"]))
    data["groups_uuid"][group] = b.U["3"]  # one UUID as a string, not a list of them
    archive = b.write_container(tmp_path / "in.zip", {**b.build_members("0.12"), "data.json": json.dumps(data).encode()},
                                "zip")  # fmt: skip
    run = run_cli("archive", "validate", archive)
    assert run.code == 65 and f"$.groups_uuid[\"{group}\"]: group members must be a list of node UUIDs, not a string" in run.stdout


# ---------------------------------------------------------------- a legal datetime whose UTC leaves years 1-9999
def test_a_legacy_datetime_whose_utc_is_out_of_range_is_refused_not_a_crash(tmp_path: Path) -> None:
    """``0001-01-01T00:00:00+01:00`` parses, but its UTC time is before year 1 (was exit 70)."""
    data = b.build_data("0.12")
    node = sorted(data["export_data"]["Node"])[0]
    data["export_data"]["Node"][node]["ctime"] = "0001-01-01T00:00:00+01:00"
    archive = b.write_container(tmp_path / "in.zip", {**b.build_members("0.12"), "data.json": json.dumps(data).encode()},
                                "zip")  # fmt: skip
    run = run_cli("archive", "migrate", archive, tmp_path / "o.aiida", "--to", "main_0001")
    assert run.code in (0, 65) and "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert any(line.startswith("error: $.export_data.Node") and ".ctime" in line for line in run.stdout.splitlines()), run.stdout


# ---------------------------------------------------------------- --strict names the cause, not the lenient outcome
def test_strict_refusal_of_a_dangling_link_does_not_claim_it_was_dropped(tmp_path: Path) -> None:
    """Without --strict a dangling link is reported and "dropped"; with it the conversion stops,
    so the line must give the cause and what --strict did, not the outcome it did not have."""
    data = b.build_data("0.13")
    data["links_uuid"][0]["input"] = "00000000-0000-4000-8000-000000000000"
    src = b.write_container(tmp_path / "in.zip", b.build_members("0.13", data=data), "zip")
    strict = run_cli("archive", "migrate", src, tmp_path / "o.aiida", "--to", "main_0001", "--strict")
    line = assert_one_error_line(strict, 65, "names a node not in the archive (refused by --strict", "data.json")
    assert "dropped" not in line
    assert not (tmp_path / "o.aiida").exists()
