"""The streamed legacy chain (``converters.legacy_stream``) against the in-memory one.

The in-memory chain parses ``data.json`` whole and runs each step over the
whole tree; it is the reference.  The streamed chain must give the same bytes
for every version from 0.4, whatever the batch size, the read chunk size, or
the order of the sections (a consumer such as ``node_attributes`` before its
producers is spooled and spliced back in place).  It must also be as strict:
duplicate keys anywhere and lone surrogates are one error line naming the
place, and nothing is written.  (Integers beyond 64 bits, which aiida-core
writes, are kept exactly: ``test_big_integers_s24.py``.)
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from converters import jsonrows, migrate
from converters.containers import open_archive
from converters.errors import BadInputError
from converters.jsonrows import RowReader
from converters.legacy_stream import WALK, stream_data_json, streams
from converters.migrations import plan
from tests.converters import builders as b
from tests.converters.test_hostile import refuse

STREAMED = [v for v in b.VERSIONS if b.vi(v) >= b.vi("0.4")]


def _archive(tmp_path: Path, version: str, data: dict | None = None, text: bytes | None = None, name: str = "in.zip") -> Path:
    members = b.build_members(version, data=data)
    if text is not None:
        members["data.json"] = text
    return b.write_container(tmp_path / name, members, "zip")


def _migrated(src: Path, dst: Path, in_memory: bool, to: str = "0.13") -> dict[str, bytes]:
    migrate(src, dst, to_version=to, in_memory=in_memory, force=True)
    with zipfile.ZipFile(dst) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _streamed_data(src: Path, version: str, tmp_path: Path, batch: int, chunk: int, to: str = "0.13") -> bytes:
    archive = open_archive(src)
    opener = lambda: _Chunked(archive.open_member("data.json"), chunk)  # noqa: E731
    body = stream_data_json(archive, plan(version, to), tmp_path, opener=opener, batch=batch)
    return b"".join(body.chunks())


class _Chunked(io.RawIOBase):
    """A member stream that hands out at most ``size`` bytes per read (the reader's chunk edges)."""

    def __init__(self, inner, size: int) -> None:
        self._inner, self._size = inner, size

    def read(self, n: int = -1) -> bytes:
        return self._inner.read(self._size)

    def close(self) -> None:
        self._inner.close()
        super().close()


# ---------------------------------------------------------------- same bytes as the in-memory chain
@pytest.mark.parametrize("version", STREAMED)
def test_every_version_streams_to_the_bytes_of_the_in_memory_chain(tmp_path, version):
    src = _archive(tmp_path, version)
    streamed = _migrated(src, tmp_path / "s.zip", in_memory=False)
    in_memory = _migrated(src, tmp_path / "m.zip", in_memory=True)
    assert streamed == in_memory
    assert json.loads(streamed["metadata.json"])["export_version"] == "0.13"


@pytest.mark.parametrize("version", ["0.4", "0.5", "0.6", "0.11"])
@pytest.mark.parametrize(("batch", "chunk"), [(1, 7), (2, 1), (3, 1 << 20)])
def test_batch_and_chunk_edges_do_not_change_a_byte(tmp_path, version, batch, chunk):
    src = _archive(tmp_path, version)
    reference = _migrated(src, tmp_path / "m.zip", in_memory=True)["data.json"]
    assert _streamed_data(src, version, tmp_path, batch, chunk) == reference


@pytest.mark.parametrize("version", ["0.4", "0.5", "0.6", "0.11"])
@pytest.mark.parametrize("bulk", [24, 96])
def test_rows_read_in_bulk_runs_do_not_change_a_byte(tmp_path, monkeypatch, version, bulk):
    """Runs of a few rows (the fixtures are small), cut wherever a separator seems to be."""
    monkeypatch.setattr(jsonrows, "BULK", bulk)
    src = _archive(tmp_path, version)
    reference = _migrated(src, tmp_path / "m.zip", in_memory=True)["data.json"]
    assert _streamed_data(src, version, tmp_path, 1000, 1 << 20) == reference


def test_a_generated_archive_of_thousands_of_nodes_streams_to_the_in_memory_bytes(tmp_path):
    """The benchmark's 0.4 archive at 3,000 nodes: runs of the default size over realistic rows."""
    from bench.bench_migrate_legacy import write_archive

    src = tmp_path / "gen.aiida"
    write_archive(src, 3000)
    assert _migrated(src, tmp_path / "s.zip", in_memory=False) == _migrated(src, tmp_path / "m.zip", in_memory=True)


def _reordered(version: str, first: list[str]) -> dict:
    data = b.build_data(version)
    return {**{k: data[k] for k in first if k in data}, **{k: v for k, v in data.items() if k not in first}}


@pytest.mark.parametrize(
    "first",
    [["node_attributes", "node_extras"], ["node_attributes_conversion", "node_extras_conversion", "export_data"],
     ["links_uuid", "node_extras", "export_data", "node_attributes", "node_attributes_conversion"]],
    ids=["consumers-first", "producers-first", "mixed"],
)  # fmt: skip
@pytest.mark.parametrize("version", ["0.4", "0.6", "0.10"])
def test_section_order_is_kept_whether_or_not_a_section_waits_for_its_facts(tmp_path, version, first):
    data = _reordered(version, first)
    src = _archive(tmp_path, version, data=data)
    streamed = _migrated(src, tmp_path / "s.zip", in_memory=False)
    assert streamed == _migrated(src, tmp_path / "m.zip", in_memory=True)
    keys = list(json.loads(streamed["data.json"]))
    assert keys == [k for k in data if not k.endswith("_conversion")]  # 0.5 -> 0.6 drops the shadows


def test_the_facts_reach_attributes_that_come_before_their_nodes(tmp_path):
    """0.5 -> 0.6 converts dates by shadow, 0.6 -> 0.7 seals process nodes by type: both need
    sections that, here, come after the attributes."""
    data = _reordered("0.4", ["node_attributes", "node_extras"])
    streamed = json.loads(_migrated(_archive(tmp_path, "0.4", data=data), tmp_path / "s.zip", in_memory=False)["data.json"])
    nodes = streamed["export_data"]["Node"]
    sealed = [pk for pk, attrs in streamed["node_attributes"].items() if attrs.get("sealed")]
    assert sealed and all(nodes[pk]["node_type"].startswith("process.") for pk in sealed)
    dates = [v for attrs in streamed["node_attributes"].values() for v in attrs.values() if isinstance(v, str) and v.endswith("+00:00")]
    assert dates, "no date attribute was converted"


def test_unknown_sections_and_scalars_pass_through_in_place(tmp_path):
    data = b.build_data("0.8")
    data = {"comment": "kept", "extra_section": {"a": [1, 2], "b": {"c": None}}, **data, "tail": [{"x": 1}], "n": 5}
    data["export_data"] = {"Odd": 3, **data["export_data"]}
    streamed = _migrated(_archive(tmp_path, "0.8", data=data), tmp_path / "s.zip", in_memory=False)
    out = json.loads(streamed["data.json"])
    assert list(out) == list(data)
    assert out["extra_section"] == data["extra_section"] and out["tail"] == [{"x": 1}] and out["export_data"]["Odd"] == 3
    assert streamed == _migrated(_archive(tmp_path, "0.8", data=data, name="again.zip"), tmp_path / "m.zip", in_memory=True)


def test_a_change_of_container_alone_streams_and_keeps_every_byte_of_data_json(tmp_path):
    src = _archive(tmp_path, "0.13")
    out = _migrated(src, tmp_path / "s.zip", in_memory=False)
    assert streams("0.13", plan("0.13", "0.13"))
    assert json.loads(out["data.json"]) == b.build_data("0.13")


def test_versions_before_0_4_stay_in_memory():
    assert not streams("0.3", plan("0.3", "0.13"))
    assert streams("0.4", plan("0.4", "0.13"))


def test_escaped_colons_are_not_mistaken_for_a_lost_key(tmp_path):
    data = b.build_data("0.12")
    pk = next(iter(data["node_extras"]))
    data["node_extras"][pk] = {"url": "a:b", "odd": "x\\u003ay"}  # a literal backslash-u text, and
    text = json.dumps(data).replace('"a:b"', '"a\\u003ab"').encode()  # an escaped colon
    src = _archive(tmp_path, "0.12", text=text)
    streamed = _migrated(src, tmp_path / "s.zip", in_memory=False)
    assert json.loads(streamed["data.json"])["node_extras"][pk] == {"url": "a:b", "odd": "x\\u003ay"}


# ---------------------------------------------------------------- as strict as the in-memory reader
def _with(version: str, section: str, text: str) -> bytes:
    """data.json of ``version`` whose ``section`` object gets ``text`` spliced in as its first rows."""
    dumped = json.dumps(b.build_data(version))
    head = f'"{section}": {{'
    assert head in dumped
    return dumped.replace(head, head + text + ", ", 1).encode()


@pytest.mark.parametrize(
    ("section", "text", "named"),
    [("node_attributes", '"9001": {"a": 1, "a": 2}', "duplicate key 'a'"),
     ("node_extras", '"9001": {}, "9001": {}', "duplicate key '9001'"),
     ("node_extras", '"9001": {"s": "\\ud800"}', "node_extras"),
     ("groups_uuid", '"g": [], "g": []', "duplicate key 'g'")],
    ids=["key-inside-a-row", "row-key", "lone-surrogate", "group-key"],
)  # fmt: skip
def test_bad_json_inside_a_section_is_named(tmp_path, section, text, named):
    src = _archive(tmp_path, "0.12", text=_with("0.12", section, text))
    line = refuse(tmp_path, src, "data.json: invalid JSON at")
    assert named in line, line


@pytest.mark.parametrize(
    ("text", "named"),
    [('"9001": {}, "9001": {}', "duplicate key '9001'"),
     ('"9001": {"a": 1, "a": 2}', "duplicate key 'a'")],
    ids=["row-key", "key-inside-a-row"],
)  # fmt: skip
def test_bad_json_deep_inside_a_long_section_is_named(tmp_path, text, named):
    """Thousands of rows around it: it is read in bulk runs, and the exact reread must still see it."""
    filler = ", ".join(f'"{90000 + i}": {{"k": {i}, "s": "row {i}"}}' for i in range(3000))
    after = filler.replace('"9', '"8')
    src = _archive(tmp_path, "0.12", text=_with("0.12", "node_extras", f"{filler}, {text}, {after}"))
    line = refuse(tmp_path, src, "data.json: invalid JSON at")
    assert named in line, line


def test_a_row_key_repeated_in_a_later_batch_is_found(tmp_path):
    data = b.build_data("0.12")
    pks = list(data["node_extras"])
    text = json.dumps(data).replace(f'"node_extras": {{"{pks[0]}"', f'"node_extras": {{"{pks[-1]}": {{}}, "{pks[0]}"', 1)
    src = _archive(tmp_path, "0.12", text=text.encode())
    archive = open_archive(src)
    with pytest.raises(BadInputError, match=f"duplicate key '{pks[-1]}'"):
        stream_data_json(archive, plan("0.12", "0.13"), tmp_path, batch=1)


@pytest.mark.parametrize(
    "text",
    [b'{"export_data": {"Node": {}, "Node": {}}}', b'{"links_uuid": [1, 2,]}', b'{"node_extras": {"1": {},}}',
     b'{"node_extras": {}} {}', b'{"node_extras": {"1": {}'],
    ids=["entity-twice", "array-trailing-comma", "object-trailing-comma", "after-the-end", "cut-off"],
)  # fmt: skip
def test_malformed_outline_is_refused(tmp_path, text):
    with pytest.raises(BadInputError, match="data.json: invalid JSON at"):
        list(RowReader(io.BytesIO(text), "x.aiida", chunk=3).outline(WALK, 2))
    refuse(tmp_path, _archive(tmp_path, "0.12", text=text), "data.json: invalid JSON at")


def test_a_step_refusal_mid_stream_leaves_nothing_behind(tmp_path):
    """0.6 -> 0.7 refuses an active process; by then part of data.json has been migrated."""
    data = b.build_data("0.6")
    calc = next(pk for pk, row in data["export_data"]["Node"].items() if row["node_type"].startswith("process."))
    data["node_attributes"][calc]["process_state"] = "running"
    line = refuse(tmp_path, _archive(tmp_path, "0.6", data=data), "active process nodes cannot be sealed")
    assert calc in line
    assert not any(p.name.startswith(".") for p in (tmp_path / "out").iterdir())


# ---------------------------------------------------------------- on the way to main_0001
@pytest.mark.parametrize("version", ["0.4", "0.5", "0.6", "0.9"])
def test_streamed_rows_into_main_equal_a_stop_at_0_13_in_memory(tmp_path, version):
    """0.4 ... 0.6 -> main_0001 stages the migrated batches directly (no legacy document held);
    the result must be the archive that going through an in-memory 0.13 gives."""
    src = _archive(tmp_path, version)
    migrate(src, tmp_path / "direct.aiida", to_version="main_0001")
    migrate(src, tmp_path / "mid.zip", to_version="0.13", in_memory=True)
    migrate(tmp_path / "mid.zip", tmp_path / "two-hops.aiida", to_version="main_0001")
    with zipfile.ZipFile(tmp_path / "direct.aiida") as direct, zipfile.ZipFile(tmp_path / "two-hops.aiida") as hops:
        assert direct.namelist() == hops.namelist()
        for name in direct.namelist():
            assert direct.read(name) == hops.read(name), name


@pytest.mark.parametrize("version", ["0.4", "0.6"])
def test_validate_and_inspect_stream_an_old_archive_and_find_a_dangling_link(tmp_path, version):
    from converters.main.validate import inspect_legacy_streaming, validate_legacy_streaming

    data = b.build_data(version)
    data["links_uuid"][0]["input"] = "00000000-0000-4000-8000-000000000000"
    src = _archive(tmp_path, version, data=data)
    assert "dangling-link" in {p.code for p in validate_legacy_streaming(src)}
    assert inspect_legacy_streaming(src).entities["Node"] == len(data["export_data"]["Node"])
    with pytest.raises(BadInputError, match="migrate this 0.3 archive first"):
        validate_legacy_streaming(_archive(tmp_path, "0.3", name="old.zip"))
