"""Integers beyond 64 bits, as aiida-core writes them, are read and written exactly (review s24, F01).

aiida-core's ``clean_value`` stores an integral float of 2**63 or more as a
JSON integer: ``Float(1e20)`` is ``100000000000000000000``, Avogadro's
``6.02214076e23`` is ``602214075999999987023872``.  reportgen refused such
archives everywhere (validate INVALID, migrate exit 65).  Now every path
carries them digit for digit: inspect, validate, every legacy step (in memory
before 0.4, streamed from 0.4, with the spooled attributes section too), up
to main_0001 and down again to 0.4, in every container; orjson stays the
fast path and output without big integers is orjson's, byte for byte.  What
is really invalid stays refused.  The archives are built here, in code.
"""

from __future__ import annotations

import copy
import json
import random
import zipfile
from pathlib import Path

import orjson
import pytest

import converters
from converters import jsonio
from converters.containers import open_archive
from converters.legacy_stream import stream_data_json
from converters.main import convert
from converters.migrations import plan
from tests.converters import builders as b
from tests.converters.test_hostile import refuse
from tests.converters_main.helpers import rows
from tests.invariants import assert_one_error_line, run_cli

AVOGADRO = 602214075999999987023872  # 6.02214076e23 as aiida-core stores it
VALUES = {"avogadro": AVOGADRO, "float_1e20": 10**20, "below": -(2**63) - 1, "above": 2**64,
          "at_limits": [2**64 - 1, -(2**63)], "nested": {"x": [2**70, 1.5, "s", {"deep": -(10**30)}]}}  # fmt: skip
EXTRAS = {"big": 10**20, "list": [10**25]}
LOG_METADATA = {"n": 2**65}


def _with_big(version: str, attributes_first: bool = False) -> dict:
    """The builder's archive of ``version`` with big integers in an attribute tree, extras and a log."""
    data = b.build_data(version)
    data["node_attributes"]["4"].update(copy.deepcopy(VALUES))
    if "node_attributes_conversion" in data:
        data["node_attributes_conversion"]["4"].update(b._shadow(VALUES))
    if "node_extras" in data:
        data["node_extras"]["6"] = copy.deepcopy(EXTRAS)
    if "node_extras_conversion" in data:
        data["node_extras_conversion"]["6"] = b._shadow(EXTRAS)
    if "Log" in data["export_data"]:
        data["export_data"]["Log"]["1"]["metadata"] = dict(LOG_METADATA)
    if attributes_first:  # as aiida-core writes data.json: the attributes before their nodes (spooled)
        data = {"node_attributes": data.pop("node_attributes"), **data}
    return data


def _archive(tmp_path: Path, version: str, container: str = "zip", data: dict | None = None, name: str = "in") -> Path:
    members = b.build_members(version, data=data if data is not None else _with_big(version))
    return b.write_container(tmp_path / f"{name}{b.SUFFIX[container]}", members, container)


def _legacy_data(path: Path) -> dict:
    with open_archive(path) as archive:
        return json.loads(archive.read_bytes("data.json"))  # the stdlib: integers exact


def _assert_exact(data: dict, version: str) -> None:
    attributes = data["node_attributes"]["4"]
    for key, value in VALUES.items():
        assert attributes[key] == value, key
    assert type(attributes["avogadro"]) is int and type(attributes["nested"]["x"][0]) is int
    if b.at_least(version, "0.4"):
        assert data["node_extras"]["6"] == EXTRAS
        assert data["export_data"]["Log"]["1"]["metadata"] == LOG_METADATA


def _main_json(path: Path, query: str) -> object:
    ((text,),) = rows(path, query)
    return json.loads(text)


# ---------------------------------------------------------------- every version, every command
@pytest.mark.parametrize("version", b.VERSIONS)
def test_every_version_validates_inspects_and_migrates_big_integers_exactly(tmp_path, version):
    src = _archive(tmp_path, version)
    assert [p for p in converters.validate(src) if p.severity == "error"] == []
    assert sum(converters.inspect(src).node_types.values()) == len(b.U)
    out = tmp_path / "out.zip"
    converters.migrate(src, out, to_version="0.13")
    _assert_exact(_legacy_data(out), version)
    assert converters.is_valid(converters.validate(out))


@pytest.mark.parametrize("version", ["0.2", "0.4", "0.6", "0.10", "0.13"])
def test_every_version_goes_to_main_and_back_down_to_0_4_exactly(tmp_path, version):
    src = _archive(tmp_path, version)
    main = tmp_path / "main.aiida"
    convert(src, main)
    assert _main_json(main, "SELECT attributes FROM db_dbnode WHERE id = 4")["avogadro"] == AVOGADRO
    assert [p for p in converters.validate(main) if p.severity == "error"] == []
    down = tmp_path / "down.tar.gz"
    convert(main, down, to_version="0.4", fmt="tar.gz", allow_loss=True)
    data = _legacy_data(down)
    assert {k: data["node_attributes"]["4"][k] for k in VALUES} == VALUES
    again = tmp_path / "again.aiida"
    convert(down, again)
    assert _main_json(again, "SELECT attributes FROM db_dbnode WHERE id = 4") == _main_json(main, "SELECT attributes FROM db_dbnode WHERE id = 4")


# ---------------------------------------------------------------- streamed = in memory, byte for byte
@pytest.mark.parametrize("version", ["0.4", "0.5", "0.6", "0.9", "0.12"])
@pytest.mark.parametrize("attributes_first", [False, True], ids=["nodes-first", "attributes-spooled"])
def test_streamed_chain_writes_the_in_memory_bytes(tmp_path, version, attributes_first):
    src = _archive(tmp_path, version, data=_with_big(version, attributes_first))
    converters.migrate(src, tmp_path / "s.zip", in_memory=False)
    converters.migrate(src, tmp_path / "m.zip", in_memory=True)
    with zipfile.ZipFile(tmp_path / "s.zip") as s, zipfile.ZipFile(tmp_path / "m.zip") as m:
        assert s.read("data.json") == m.read("data.json")
    _assert_exact(_legacy_data(tmp_path / "s.zip"), version)


@pytest.mark.parametrize(("batch", "chunk"), [(1, 5), (2, 64), (3, 1 << 20)])
def test_batch_and_chunk_edges_keep_every_digit(tmp_path, batch, chunk):
    """Chunks of 5 bytes cut every number; batches of one row put each big one in its own dump."""
    from tests.converters.test_legacy_stream import _Chunked

    src = _archive(tmp_path, "0.5", data=_with_big("0.5", attributes_first=True))
    converters.migrate(src, tmp_path / "m.zip", in_memory=True)
    archive = open_archive(src)
    opener = lambda: _Chunked(archive.open_member("data.json"), chunk)  # noqa: E731
    body = stream_data_json(archive, plan("0.5", "0.13"), tmp_path, opener=opener, batch=batch)
    with zipfile.ZipFile(tmp_path / "m.zip") as m:
        assert b"".join(body.chunks()) == m.read("data.json")


def test_big_integers_deep_inside_long_sections_are_read_in_bulk_runs_exactly(tmp_path):
    """Thousands of extras rows (read by orjson in bulk runs), a few big integers among them."""
    data = b.build_data("0.12")
    rng = random.Random(24)
    filler = {str(9000 + i): {"k": i, "v": rng.choice([1, 2**63 - 1, 10**20 + i, -(10**22), 0.5])} for i in range(4000)}
    data["node_extras"].update(filler)
    for pk in filler:
        data["export_data"]["Node"][pk] = b.node_row("0.12", "2") | {"uuid": f"00000000-0000-4000-8000-{int(pk):012d}"}
        data["node_attributes"][pk] = {}
    src = _archive(tmp_path, "0.12", data=data)
    converters.migrate(src, tmp_path / "s.zip", in_memory=False)
    converters.migrate(src, tmp_path / "m.zip", in_memory=True)
    assert zipfile.ZipFile(tmp_path / "s.zip").read("data.json") == zipfile.ZipFile(tmp_path / "m.zip").read("data.json")
    out = _legacy_data(tmp_path / "s.zip")["node_extras"]
    assert all(out[pk] == row and type(out[pk]["v"]) is type(row["v"]) for pk, row in filler.items())
    convert(src, tmp_path / "main.aiida")
    stored = dict(rows(tmp_path / "main.aiida", "SELECT id, extras FROM db_dbnode WHERE id >= 9000"))
    assert all(json.loads(stored[int(pk)]) == row for pk, row in filler.items())


# ---------------------------------------------------------------- every container
@pytest.mark.parametrize("container", ["zip", "tar.gz", "tar.zst", "folder"])
def test_every_container_carries_them_to_0_13_and_to_main(tmp_path, container):
    src = _archive(tmp_path, "0.10", container)
    converters.migrate(src, tmp_path / "out.tar.zst", to_version="0.13", fmt="tar.zst")
    _assert_exact(_legacy_data(tmp_path / "out.tar.zst"), "0.10")
    convert(src, tmp_path / "main.aiida")
    assert _main_json(tmp_path / "main.aiida", "SELECT metadata FROM db_dblog") == LOG_METADATA
    assert _main_json(tmp_path / "main.aiida", "SELECT extras FROM db_dbnode WHERE id = 6") == EXTRAS


def test_same_input_same_bytes(tmp_path):
    src = _archive(tmp_path, "0.8")
    for name in ("a", "b"):
        converters.migrate(src, tmp_path / f"{name}.zip")
        convert(src, tmp_path / f"{name}.aiida")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert (tmp_path / "a.aiida").read_bytes() == (tmp_path / "b.aiida").read_bytes()


# ---------------------------------------------------------------- the CLI, as the review ran it
def test_cli_validate_and_migrate_accept_aiida_cores_integers(tmp_path):
    """The review's legacy 0.13 archive: a Float node whose value aiida-core stored as an integer."""
    data = b.build_data("0.13")
    data["node_attributes"]["6"] = {"value": 100000000000000000000}
    src = _archive(tmp_path, "0.13", data=data)
    run = run_cli("archive", "validate", src)
    assert run.code == 0 and "0 errors" in run.stdout, run.stdout + run.stderr
    for to, out in (("0.4", "o.tar.gz"), ("main_0001", "o.aiida")):
        run = run_cli("archive", "migrate", src, tmp_path / out, "--to", to, "--allow-loss")
        assert run.code == 0, run.stderr
    assert _legacy_data(tmp_path / "o.tar.gz")["node_attributes"]["6"]["value"] == 10**20
    assert _main_json(tmp_path / "o.aiida", "SELECT attributes FROM db_dbnode WHERE id = 6") == {"value": 10**20}


# ---------------------------------------------------------------- what stays refused
@pytest.mark.parametrize(
    ("text", "words"),
    [('{"a": %s}' % ("7" * 4301), "more than 4300 digits"), ('{"a": 1e400}', "beyond the range of a double"),
     ('{"a": NaN}', "NaN"), ('{"b": 100000000000000000000, "b": 1}', "duplicate key 'b'")],
    ids=["4301-digits", "1e400", "nan", "duplicate-key"],
)  # fmt: skip
@pytest.mark.parametrize(("version", "to"), [("0.3", "0.13"), ("0.12", "0.13"), ("0.12", "main_0001")], ids=["in-memory", "streamed", "to-main"])
def test_what_is_really_invalid_stays_refused(tmp_path, text, words, version, to):
    data = b.build_data(version)
    dumped = json.dumps(data).replace('"node_attributes": {', f'"node_attributes": {{"4": {text}, ', 1)
    dumped = dumped.replace('"4": {"energy"', '"9004": {"energy"', 1)  # the builder's own row 4 moves aside
    members = b.build_members(version)
    members["data.json"] = dumped.encode()
    src = b.write_container(tmp_path / "bad.zip", members, "zip")
    run = run_cli("archive", "migrate", src, tmp_path / "out.aiida" if to.startswith("main") else tmp_path / "out.zip", "--to", to)
    line = assert_one_error_line(run, 65, "data.json")
    assert words in line, line


def test_a_json_column_that_is_only_a_big_integer_is_refused_on_the_way_to_main(tmp_path):
    """SQLite would store it as a float (the column's NUMERIC affinity); legacy targets hold it."""
    data = b.build_data("0.13")
    data["export_data"]["Log"]["1"]["metadata"] = 10**20
    src = _archive(tmp_path, "0.13", data=data)
    run = run_cli("archive", "migrate", src, tmp_path / "out.aiida", "--to", "main_0001")
    line = assert_one_error_line(run, 65, "$.export_data.Log['1'].metadata", "in.aiida")
    assert "100000000000000000000" in line and "float" in line
    assert not (tmp_path / "out.aiida").exists()
    converters.migrate(src, tmp_path / "out.tar.gz", to_version="0.12", fmt="tar.gz")
    assert _legacy_data(tmp_path / "out.tar.gz")["export_data"]["Log"]["1"]["metadata"] == 10**20


# ---------------------------------------------------------------- the writer itself
def _tree(rng: random.Random, depth: int = 0) -> object:
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice([0, -1, 2**63 - 1, 2**64 - 1, -(2**63), 1.5, 1e20, -0.0, 5e-324, "é\n\u2028", "", None, True])
    if roll < 0.7:
        return [_tree(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice("bBaé\U00010000\uffff") + str(i): _tree(rng, depth + 1) for i in range(rng.randrange(4))}


@pytest.mark.parametrize("seed", range(30))
def test_dumps_is_orjson_itself_without_big_integers_and_exact_with_them(seed):
    rng = random.Random(seed)
    tree = {"t": _tree(rng), "u": [_tree(rng) for _ in range(3)]}
    for option in (0, orjson.OPT_SORT_KEYS):
        assert jsonio.dumps(tree, option) == orjson.dumps(tree, option=option)
        assert type(jsonio.dumps(tree, option)) is bytes
    big = copy.deepcopy(tree)
    big["u"].append({"z": 2**64, "a": [-(2**63) - 1, tree["t"]]})
    for option in (0, orjson.OPT_SORT_KEYS):
        dumped = jsonio.dumps(big, option)
        assert isinstance(dumped, jsonio.ExactJson) and jsonio.loads(dumped) == big
        # the same bytes orjson writes once the big integers are small ones of the same digits' place
        small = orjson.dumps(json.loads(dumped.replace(b"18446744073709551616", b"1").replace(b"-9223372036854775809", b"2")), option=option)
        assert dumped.replace(b"18446744073709551616", b"1").replace(b"-9223372036854775809", b"2") == small


def test_dumps_still_refuses_what_orjson_refuses_for_another_reason():
    for value in ({"a": 2**64, "b": "\ud800"}, {"a": 2**64, 1: 2}):
        with pytest.raises(orjson.JSONEncodeError):
            jsonio.dumps(value)


def test_an_integer_longer_than_a_double_goes_up_and_down_exactly(tmp_path):
    """310 to 4300 digits: JSON, read exactly by the stdlib; orjson reads it as an infinite double
    and refuses it, so a main archive holding one is read the stdlib's way too (validate, way down)."""
    huge = int("9" * 4300)
    data = b.build_data("0.13")
    data["node_attributes"]["6"] = {"value": huge, "neg": -int("1" + "0" * 400)}
    src = _archive(tmp_path, "0.13", data=data)
    convert(src, tmp_path / "main.aiida")
    assert [p for p in converters.validate(tmp_path / "main.aiida") if p.severity == "error"] == []
    convert(tmp_path / "main.aiida", tmp_path / "down.zip", to_version="0.13")
    assert _legacy_data(tmp_path / "down.zip")["node_attributes"]["6"] == data["node_attributes"]["6"]
