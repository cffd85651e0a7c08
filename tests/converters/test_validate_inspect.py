"""validate (row 22: every problem, with its JSON path), inspect, and zip64 (row 39)."""

from __future__ import annotations

import json
import zipfile

import pytest

import converters
from tests.converters import builders as b
from tests.invariants import run_cli


def test_row_22_referential_integrity_every_problem_with_its_path(tmp_path):
    data = b.build_data("0.10")
    data["links_uuid"].append({"input": "00000000-0000-4000-8000-00000000dead", "output": b.U["3"], "label": "x", "type": "input_calc"})
    data["export_data"]["Node"]["2"]["ctime"] = "yesterday"
    data["export_data"]["Node"]["4"]["uuid"] = "not-a-uuid"
    data["export_data"]["Node"]["6"]["user"] = 99
    data["node_attributes"]["77"] = {}
    data["node_extras"]["78"] = {}
    data["groups_uuid"][b.GROUP_UUID].append("11111111-0000-4000-8000-000000000011")
    members = b.build_members("0.10", data=data)
    members["nodes/ab/cd/ef00-0000-4000-8000-0000000000ff/path/x"] = b"orphan"
    src = b.write_container(tmp_path / "bad.zip", members, "zip")
    problems = converters.validate(src)
    errors = [(p.code, p.path) for p in problems if p.severity == "error"]
    assert sorted(errors) == sorted([
        ("dangling-link", "$.links_uuid[6].input"),
        ("dangling-link", "$.links_uuid[2].output"),  # node 4's UUID is broken, so its link and membership are too
        ("group-member", f'$.groups_uuid["{b.GROUP_UUID}"][1]'),
        ("date", '$.export_data.Node["2"].ctime'),
        ("uuid", '$.export_data.Node["4"].uuid'),
        ("foreign-key", '$.export_data.Node["6"].user'),
        ("orphan", '$.node_attributes["77"]'),
        ("orphan", '$.node_extras["78"]'),
        ("group-member", f'$.groups_uuid["{b.GROUP_UUID}"][2]'),
        ("orphan", "nodes/ab/cd/ef00-0000-4000-8000-0000000000ff"),
    ])  # fmt: skip
    run = run_cli("archive", "validate", src, "--json")
    assert run.code == 65 and "Traceback" not in run.stderr
    doc = json.loads(run.stdout)
    assert doc["valid"] is False and doc["errors"] == len(errors)
    assert doc["format"] == "reportgen-archive-validate/1"


def test_valid_archive_exits_0_and_missing_repository_is_only_a_warning(tmp_path):
    src = b.build_archive(tmp_path, "0.13", "tar.zst")
    problems = converters.validate(src)
    assert [p.code for p in problems] == ["no-repository"] * 4  # nodes 2, 4, 5, 6 have no files: legitimate
    run = run_cli("archive", "validate", src)
    assert run.code == 0 and run.stdout.rstrip().endswith("valid (0 errors, 4 warnings)")
    assert run_cli("archive", "validate", src, "--strict").code == 65


def test_inspect_text_and_json(tmp_path):
    src = b.build_archive(tmp_path, "0.3", "tar.gz")
    run = run_cli("archive", "inspect", src, "--json")
    assert run.code == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["format"] == "reportgen-archive-inspect/1"
    assert doc["export_version"] == "0.3" and doc["container"] == "tar.gz"
    assert doc["entities"] == {"User": 1, "Computer": 1, "Group": 1, "Node": 7, "Log": 0, "Comment": 0}
    assert doc["link_types"] == {"calllink": 1, "createlink": 1, "inputlink": 3, "returnlink": 1}
    assert doc["groups"] == [{"label": "my-group", "type_string": "", "nodes": 2}]
    assert doc["repository_files"] == 7
    text = run_cli("archive", "inspect", src).stdout
    assert "export version: 0.3" in text and "calculation.job.quantumespresso.pw.PwCalculation." in text


def test_row_39_zip64_members_are_accepted(tmp_path):
    src = tmp_path / "z64.zip"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in b.build_members("0.8").items():
            with zf.open(name, "w", force_zip64=True) as fh:
                fh.write(data)
    out = tmp_path / "o.zip"
    run = run_cli("archive", "migrate", src, out)
    assert run.code == 0, run.stderr
    assert converters.read_version(out) == "0.13"


@pytest.mark.slow  # about 5 s: runs in every suite (`-m "not slow"` leaves it out)
def test_row_39_more_than_65535_entries(tmp_path):
    members = b.build_members("0.13")
    base = b.node_dir(b.U["3"]) + "/path/many/"
    members.update({f"{base}{i:05d}": b"" for i in range(66_000)})
    src = b.write_container(tmp_path / "many.zip", members, "zip")
    out = tmp_path / "o.zip"
    converters.migrate(src, out)
    assert converters.inspect(out).repository_files == len(members) - 2
