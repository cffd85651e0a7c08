"""The streamed readers are as strict as the in-memory ones (audit of the streamed paths).

``--to main_XXXX``, ``validate --stream`` and ``inspect --stream`` stage
``data.json`` into SQLite in one pass; ``inspect`` and ``validate`` parse it
whole.  Bad input is one error line (exit 65) naming the archive, the member
and the JSON path, never an internal error (70), never garbage stored with
exit 0.  The inputs are built here, in code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

import converters
from converters.errors import BadInputError
from converters.main import convert
from converters.main.validate import inspect_legacy_streaming, validate_legacy_streaming, validate_main
from tests.converters import builders as b
from tests.converters_main.builders import legacy_013, uid, write_legacy
from tests.converters_main.helpers import edit_main, legacy_archive, rows
from tests.invariants import run_cli


def _to_main(src: Path) -> object:
    return convert(src, src.with_name("out.aiida"))


STREAMED: dict[str, Callable[[Path], object]] = {
    "migrate": _to_main,
    "validate-stream": validate_legacy_streaming,
    "inspect-stream": inspect_legacy_streaming,
}


def _written(tmp: Path, spoil: Callable[[dict], None], name: str = "in.zip", **options) -> Path:
    """A small 0.13 archive with ``spoil`` applied to its data.json tree."""
    metadata, data, files = legacy_013(**options)
    spoil(data)
    return write_legacy(tmp / name, metadata, data, files)


def _with_text(tmp: Path, edit: Callable[[str], str], n_nodes: int = 4) -> Path:
    """A small 0.13 archive whose data.json text is edited: what json.dumps cannot write (a repeated key)."""
    from converters.containers import OutMember, write_archive

    metadata, data, files = legacy_013(n_nodes)
    text = edit(json.dumps(data)).encode()
    meta = json.dumps(metadata).encode()
    members = [OutMember("metadata.json", data=meta, size=len(meta)), OutMember("data.json", data=text, size=len(text))]
    members += [OutMember(n, is_dir=True) if c is None else OutMember(n, data=c, size=len(c)) for n, c in sorted(files.items())]
    write_archive(tmp / "in.zip", "zip", members)
    return tmp / "in.zip"


def _legacy_04(tmp: Path, spoil: Callable[[dict], None]) -> Path:
    data = b.build_data("0.4")
    spoil(data)
    return b.write_container(tmp / "in-04.zip", b.build_members("0.4", data=data), "zip")


def _refused(action: Callable[[Path], object], src: Path, match: str) -> BadInputError:
    with pytest.raises(BadInputError, match=match) as caught:
        action(src)
    assert caught.value.member == "data.json"
    assert not src.with_name("out.aiida").exists()
    return caught.value


# ---------------------------------------------------------------- 1. duplicate keys, 64 bits
def _second_value(text: str) -> str:
    return text.replace('"value": 2,', '"value": 2, "value": 3,', 1)


def _escaped_colon_twice(text: str) -> str:
    return text.replace('"value": 2,', '"a\\u003a": 2, "a\\u003a": 3,', 1)


def _node_attributes_twice(text: str) -> str:
    return text.replace('"node_attributes": {', '"node_attributes": {"2": {"value": 9}, ', 1)


@pytest.mark.parametrize("how", STREAMED)
@pytest.mark.parametrize(
    ("edit", "named"),
    [(_second_value, "duplicate key 'value'"), (_escaped_colon_twice, "duplicate key 'a:'"),
     (_node_attributes_twice, r"\$\.node_attributes: duplicate key '2'")],
    ids=["inside-a-row", "escaped-colon", "row-key"],
)  # fmt: skip
def test_a_repeated_key_is_refused_not_last_copy_wins(tmp_path, how, edit, named):
    _refused(STREAMED[how], _with_text(tmp_path, edit), rf"data\.json: invalid JSON at .*{named}")


def test_an_attribute_row_repeated_in_a_later_batch_is_refused(tmp_path):
    """2,100 attribute rows: the repeat of row 2 comes in the second batch, where the dict
    cannot show it; SQLite would keep the last copy (INSERT OR REPLACE)."""
    src = _with_text(tmp_path, lambda t: t.replace('}}, "node_extras"', '}, "2": {"value": 9}}, "node_extras"', 1), 2_100)
    _refused(_to_main, src, r"invalid JSON at \$\.node_attributes: duplicate key '2'")


@pytest.mark.parametrize("how", STREAMED)
def test_an_integer_beyond_64_bits_is_read_exactly(tmp_path, how):
    """aiida-core writes them (an integral float of 2**63 or more): read exactly, not refused."""
    src = _written(tmp_path, lambda d: d["node_attributes"]["2"].update(value=2**64))
    result = STREAMED[how](src)
    if how == "validate-stream":
        assert [p for p in result if p.severity == "error"] == []
    if how == "migrate":
        ((text,),) = rows(src.with_name("out.aiida"), "SELECT attributes FROM db_dbnode WHERE id = 2")
        assert json.loads(text)["value"] == 2**64


# ---------------------------------------------------------------- 2. bad input is 65, not 70
@pytest.mark.parametrize("how", STREAMED)
def test_a_lone_surrogate_is_bad_input(tmp_path, how):
    src = _written(tmp_path, lambda d: d["node_attributes"]["2"].update(s="\ud800"))  # json.dumps writes "\ud800"
    _refused(STREAMED[how], src, r"invalid JSON at \$\.node_attributes\['2'\]: str is not valid UTF-8")


@pytest.mark.parametrize(
    ("spoil", "named"),
    [(lambda d: d.__setitem__("links_uuid", "abc"), r"\$\.links_uuid: must be a list, not a string"),
     (lambda d: d["export_data"]["Node"].__setitem__("2", [1, 2]), r"\$\.export_data\.Node\['2'\]: must be an object, not a list"),
     (lambda d: d["links_uuid"].append(7), r"\$\.links_uuid\[\d+\]: must be an object, not a number"),
     (lambda d: d.__setitem__("groups_uuid", [1]), r"\$\.groups_uuid: must be an object, not a list")],
    ids=["links-a-string", "node-a-list", "link-a-number", "groups-a-list"],
)  # fmt: skip
def test_inspect_names_a_section_of_the_wrong_shape(tmp_path, spoil, named):
    src = _written(tmp_path, spoil)
    with pytest.raises(BadInputError, match=named) as caught:
        converters.inspect(src)
    assert caught.value.member == "data.json"


def test_inspect_json_of_a_wrong_shape_exits_65_with_one_line(tmp_path):
    src = _written(tmp_path, lambda d: d.__setitem__("links_uuid", "abc"))
    for args in (("--json",), ()):
        run = run_cli("archive", "inspect", src, *args)
        assert run.code == 65 and "Traceback" not in run.stderr
        assert run.stderr.splitlines() == [f"reportgen: error: {str(src)!r}:'data.json': $.links_uuid: must be a list, not a string"]


def test_a_0_4_entity_section_that_is_a_list_is_bad_input(tmp_path):
    src = _legacy_04(tmp_path, lambda d: d["export_data"].__setitem__("Computer", [1]))
    _refused(_to_main, src, r"\$\.export_data\.Computer: must be an object, not a list")


@pytest.mark.parametrize(
    ("spoil", "named"),
    [(lambda d: d["links_uuid"].append({"input": [1], "output": uid(1), "type": "create"}), r"\$\.links_uuid\[\d+\]\.input: dangling link: node \[1\]"),
     (lambda d: d.__setitem__("groups_uuid", [1]), r"\$\.groups_uuid: must be a object"),
     (lambda d: d["groups_uuid"].update({next(iter(d["groups_uuid"])): [[1]]}), r"group member \[1\] is not a node"),
     (lambda d: d["export_data"]["Node"]["2"].update(uuid=[1]), r"\$\.export_data\.Node\[\"2\"\]\.uuid: malformed UUID \[1\]"),
     (lambda d: d["node_attributes"].update({"2": [1]}), r"\$\.node_attributes\[\"2\"\]: must be an object")],
    ids=["link-end-a-list", "groups-a-list", "member-a-list", "uuid-a-list", "attributes-a-list"],
)  # fmt: skip
def test_validate_reports_shapes_it_used_to_crash_on_or_miss(tmp_path, spoil, named):
    problems = converters.validate(_written(tmp_path, spoil))
    assert [p for p in problems if p.severity == "error" and re.search(named, p.path + ": " + p.message)], problems


# ---------------------------------------------------------------- 3. no garbage stored with exit 0
@pytest.mark.parametrize("how", STREAMED)
@pytest.mark.parametrize(
    ("spoil", "named"),
    [(lambda d: d.__setitem__("links_uuid", "abc"), r"\$\.links_uuid: must be a list, not a string"),
     (lambda d: d.__setitem__("links_uuid", {}), r"\$\.links_uuid: must be a list, not an object"),
     (lambda d: d.__setitem__("groups_uuid", []), r"\$\.groups_uuid: must be an object, not a list"),
     (lambda d: d.__setitem__("export_data", []), r"\$\.export_data: must be an object, not a list"),
     (lambda d: d.__setitem__("node_extras", 5), r"\$\.node_extras: must be an object, not a number"),
     (lambda d: d["node_attributes"].update({"2": [1]}), r"\$\.node_attributes\['2'\]: a list \(\[1\]\) where an object is expected"),
     (lambda d: d["export_data"]["Node"]["2"].update(uuid=5), r"\$\.export_data\.Node\['2'\]\.uuid: a number \(5\) where a string is expected"),
     (lambda d: d["export_data"]["Node"]["2"].update(node_type=7), r"\$\.export_data\.Node\['2'\]\.node_type: a number \(7\) where a string"),
     (lambda d: d["export_data"]["Node"]["2"].update(user="abc"), r"\$\.export_data\.Node\['2'\]\.user: a string \('abc'\) where an integer pk"),
     (lambda d: d["export_data"]["Node"]["2"].update(user=2**63), r"\$\.export_data\.Node\['2'\]\.user: a number .* where an integer pk"),
     (lambda d: d["links_uuid"][1].update(label={"a": 1}), r"\$\.links_uuid\[1\]\.label: an object .* where a string is expected"),
     (lambda d: d["groups_uuid"].update({next(iter(d["groups_uuid"])): [uid(2), 5]}), r"\$\.groups_uuid\['.*'\]\[1\]: a number \(5\) where a node uuid")],
    ids=["links-a-string", "links-an-object", "groups-a-list", "export-data-a-list", "extras-a-number", "attributes-a-list",
         "uuid-a-number", "node-type-a-number", "user-a-string", "user-beyond-sqlite", "link-label-an-object", "member-a-number"],
)  # fmt: skip
def test_a_shape_error_is_refused_with_its_path(tmp_path, how, spoil, named):
    _refused(STREAMED[how], _written(tmp_path, spoil), named)


SECTION_SPOILS = {
    "links-an-object": (lambda d: d.__setitem__("links_uuid", {}), r"\$\.links_uuid: must be a list, not an object"),
    "groups-true": (lambda d: d.__setitem__("groups_uuid", True), r"\$\.groups_uuid: must be an object, not a boolean"),
    "node-rows-a-list": (lambda d: d["export_data"].__setitem__("Node", []), r"\$\.export_data\.Node: must be an object, not a list"),
    "extras-null": (lambda d: d.__setitem__("node_extras", None), r"\$\.node_extras: must be an object, not null"),
}


@pytest.mark.parametrize("spoil", SECTION_SPOILS)
@pytest.mark.parametrize("way", ["0.13-down-in-memory", "0.4-up-streamed", "0.3-up-in-memory"])
def test_legacy_to_legacy_refuses_a_section_of_the_wrong_shape(tmp_path, way, spoil):
    """Every legacy path refuses a misshapen section as --to main_XXXX does; it used to pass
    through the steps untouched (0.13 -> 0.4, 0.4 -> 0.13 wrote it with exit 0)."""
    edit, named = SECTION_SPOILS[spoil]
    version, target = {"0.13-down-in-memory": ("0.13", "0.4"), "0.4-up-streamed": ("0.4", "0.13"),
                       "0.3-up-in-memory": ("0.3", "0.13")}[way]  # fmt: skip
    if version == "0.13":
        src = _written(tmp_path, edit)
    else:
        data = b.build_data(version)
        edit(data)
        src = b.write_container(tmp_path / "in.zip", b.build_members(version, data=data), "zip")
    _refused(lambda path: convert(path, path.with_name("out.aiida"), target, allow_loss=True), src, named)


def test_a_shape_error_exits_65_with_one_line_naming_the_path(tmp_path):
    src = _written(tmp_path, lambda d: d.__setitem__("links_uuid", "abc"))
    for args in (("migrate", src, tmp_path / "out.aiida", "--to", "main_0001"), ("validate", "--stream", src), ("inspect", "--stream", src)):
        run = run_cli("archive", *args)
        assert run.code == 65, run.stderr
        assert run.stderr.splitlines() == [f"reportgen: error: {str(src)!r}:'data.json': $.links_uuid: must be a list, not a string"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zip"]


# ---------------------------------------------------------------- 4. null labels
def test_a_null_computer_label_becomes_empty_and_is_reported(tmp_path):
    src = _written(tmp_path, lambda d: d["export_data"]["Computer"]["1"].update(label=None))
    result = _to_main(src)
    out = src.with_name("out.aiida")
    assert rows(out, "SELECT label FROM db_dbcomputer") == [("",)]
    assert ("warning", "null-replaced", "db_dbcomputer.label", "1 null value(s) set to ''") in {
        (p.severity, p.code, p.path, p.message) for p in result.problems
    }
    assert validate_main(out) == []


@pytest.mark.parametrize("version", ["0.4", "0.13"])
def test_a_null_link_label_becomes_empty_and_is_reported(tmp_path, version):
    if version == "0.4":
        src = _legacy_04(tmp_path, lambda d: d["links_uuid"][0].update(label=None))
    else:
        src = _written(tmp_path, lambda d: d["links_uuid"][0].update(label=None))
    result = convert(src, tmp_path / "out.aiida")
    assert ("",) in rows(tmp_path / "out.aiida", "SELECT label FROM db_dblink")
    assert ("null-replaced", "db_dblink.label") in {(p.code, p.path) for p in result.problems}


def test_a_constraint_the_output_refuses_names_the_input_and_the_row(tmp_path):
    """Two computers with null labels are both '' then: the second is named, not the work file."""

    def spoil(d: dict) -> None:
        computers = d["export_data"]["Computer"]
        computers["1"]["label"] = None
        computers["2"] = dict(computers["1"], uuid=uid(501))

    src = _written(tmp_path, spoil)
    error = _refused(_to_main, src, r"\$\.export_data\.Computer\['2'\]\.label: '' is not unique, but main_0001 requires it to be")
    assert error.file == str(src) and "sqlite3" not in str(error) and ".work-" not in str(error)


def test_a_null_node_type_names_the_node(tmp_path):
    src = _written(tmp_path, lambda d: d["export_data"]["Node"]["3"].update(node_type=None))
    error = _refused(_to_main, src, r"\$\.export_data\.Node\['3'\]\.node_type: null, but main_0001 requires a value")
    assert error.file == str(src)


def test_a_null_link_type_names_the_link(tmp_path):
    src = _written(tmp_path, lambda d: d["links_uuid"][1].update(type=None))
    _refused(_to_main, src, r"\$\.links_uuid\[1\]\.type: null, but main_0001 requires a value")


def test_a_main_input_the_output_refuses_names_the_input_and_the_table_row(tmp_path):
    main = tmp_path / "main.aiida"
    convert(legacy_archive(tmp_path), main)
    loose = "id INTEGER PRIMARY KEY, uuid, label, hostname, description, scheduler_type, transport_type, metadata"
    bad = edit_main(main, tmp_path / "bad.aiida",
                    "ALTER TABLE db_dbcomputer RENAME TO old", f"CREATE TABLE db_dbcomputer ({loose})",
                    "INSERT INTO db_dbcomputer SELECT * FROM old", "DROP TABLE old",
                    "INSERT INTO db_dbcomputer VALUES (2, '00000000-0000-4000-8000-0000000000c2', NULL, '', '', '', '', '{}')")  # fmt: skip
    with pytest.raises(BadInputError, match=r"db_dbcomputer\[2\]\.label: null, but main_0001 requires a value") as caught:
        convert(bad, tmp_path / "out.aiida")
    assert caught.value.file == str(bad) and caught.value.member == "db.sqlite3"


# ---------------------------------------------------------------- 5. a plain reason
@pytest.mark.parametrize("how", ["migrate-main", "migrate-0.13", "validate", "validate-stream"])
def test_an_integer_of_5000_digits_is_a_plain_reason(tmp_path, how):
    src = _with_text(tmp_path, lambda t: t.replace('"value": 2,', '"value": ' + "9" * 5000 + ",", 1))
    actions = {
        "migrate-main": _to_main,
        "migrate-0.13": lambda s: converters.migrate(s, s.with_name("out.zip"), to_version="0.13", fmt="zip"),
        "validate": converters.validate,
        "validate-stream": validate_legacy_streaming,
    }
    with pytest.raises(BadInputError, match="an integer with more than 4300 digits") as caught:
        actions[how](src)
    assert "sys." not in str(caught.value) and "set_int_max_str_digits" not in str(caught.value)


def test_a_0_3_input_is_named_not_its_work_copy(tmp_path):
    """0.1 ... 0.3 go up to 0.13 in memory and into a work copy first: errors still name the input."""

    def spoil(d: dict) -> None:
        computers = d["export_data"]["Computer"]
        computers["1"]["name"] = None
        computers["2"] = dict(computers["1"], uuid="c0c0c0c0-0000-4000-8000-0000000000c1")

    data = b.build_data("0.3")
    spoil(data)
    src = b.write_container(tmp_path / "in-03.zip", b.build_members("0.3", data=data), "zip")
    error = _refused(_to_main, src, r"\$\.export_data\.Computer\['2'\]\.label: '' is not unique")
    assert error.file == str(src)
