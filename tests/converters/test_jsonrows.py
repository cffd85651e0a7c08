"""converters.jsonrows: the one-pass row reader gives exactly what json.loads gives, at any chunk size."""

from __future__ import annotations

import io
import json
import random

import pytest

from converters.errors import BadInputError
from converters.jsonrows import RowReader

KEY_ENDS = ("", "é", '"', "\\")
SECTIONS = {"export_data.Node", "export_data.User", "node_attributes", "links_uuid", "groups_uuid"}


def _value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 3 else 5)
    if kind == 0:
        return rng.choice([0, -7, 12345678901234567890, 2**63 - 1, -(2**70)])
    if kind == 1:
        return rng.choice([1.5, -0.0, 1e-300, 6.02214076e23, 123456.789e-3])
    if kind == 2:
        return rng.choice([True, False, None])
    if kind in (3, 4):
        return rng.choice(["", "plain", 'q"uote\\back', "tab\tnl\n", "é ü ∑ 𝄞 \u2028", "}],{[:", "\x01"]) * rng.randrange(1, 4)
    if kind in (5, 6):
        return {f"k{i}" + rng.choice(KEY_ENDS): _value(rng, depth + 1) for i in range(rng.randrange(4))}
    return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]


def _document(rng: random.Random, rows: int) -> dict:
    return {
        "unwanted_first": {str(i): _value(rng) for i in range(rows // 4)},
        "export_data": {
            "User": {"1": {"email": "a@b.c"}},
            "Computer": {"1": {"name": "skipped"}},
            "Node": {str(pk): {"uuid": f"u{pk}", "attrs": _value(rng)} for pk in range(1, rows + 1)},
            "Empty": {},
        },
        "node_attributes": {str(pk): _value(rng) for pk in range(1, rows + 1)},
        "links_uuid": [{"input": f"u{i}", "output": f"u{i + 1}", "n": _value(rng)} for i in range(rows)],
        "groups_uuid": {},
        "scalar_section": 12345,
    }


def _expected(
    document: dict, sections=("export_data.User", "export_data.Node", "node_attributes", "links_uuid", "groups_uuid")
) -> list[tuple[str, object, object]]:
    rows = []
    for section in sections:
        node = document
        for part in section.split("."):
            node = node[part]
        items = enumerate(node) if isinstance(node, list) else node.items()
        rows += [(section, key, value) for key, value in items]
    return rows


def _read(text: bytes, chunk: int, sections=SECTIONS, **kw) -> list:
    return list(RowReader(io.BytesIO(text), "in.aiida", chunk=chunk, **kw).rows(set(sections)))


@pytest.mark.parametrize("chunk", [1, 7, 1000, 3001, 1 << 20])
@pytest.mark.parametrize("indent", [None, 2])
def test_rows_equal_json_loads_at_any_chunk_size(chunk: int, indent: int | None) -> None:
    rng = random.Random(chunk * 31 + (indent or 0))
    document = _document(rng, 40 if chunk < 100 else 600)
    text = json.dumps(document, indent=indent, ensure_ascii=bool(indent)).encode("utf-8")
    got = _read(text, chunk)
    assert got == _expected(json.loads(text))
    assert [type(v) for _, _, v in got] == [type(v) for _, _, v in _expected(json.loads(text))]


def test_a_number_cut_by_the_chunk_boundary_is_read_whole() -> None:
    text = b'{"node_attributes": {"1": 123456789, "2": -1.25e+10, "3": true}}'
    for chunk in range(1, len(text) + 1):
        assert _read(text, chunk) == [("node_attributes", "1", 123456789), ("node_attributes", "2", -1.25e10),
                                      ("node_attributes", "3", True)]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b'{"node_attributes": {"1": {"a": 1}, "2": {"a": }}}', "Expecting value"),
        (b'{"node_attributes": {"1": {"a": 1}', "expected ','"),
        (b'{"node_attributes": {"1": {"a": "cut', "Unterminated string"),
        (b'{"node_attributes": {"1": NaN}}', "NaN is not JSON"),
        (b'{"node_attributes": {"1": -Infinity}}', "-Infinity is not JSON"),
        (b'{"node_attributes": {"1": {"a": "\xff"}}}', "not UTF-8"),
        (b'{"node_attributes": {"1": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}", "nested too deeply"),
        (b'{"node_attributes": {}} trailing', "data after the end"),
        (b'["not", "an", "object"]', "not a JSON object"),
        (b'{"node_attributes" {"1": 1}}', "expected ':'"),
        (b"{node_attributes: 1}", "member name in double quotes"),
        (b"", "not a JSON object"),
    ],
)
def test_malformed_json_is_one_error_naming_the_member_and_the_char(text: bytes, reason: str) -> None:
    for chunk in (3, 1 << 20):
        with pytest.raises(BadInputError) as caught:
            _read(text, chunk)
        message = str(caught.value)
        assert reason in message and "data.json" in message and "invalid JSON at char" in message


def test_the_error_names_where_the_bad_row_is() -> None:
    good = b"".join(b'"%d": {"a": 1}, ' % i for i in range(5000))
    text = b'{"node_attributes": {' + good + b'"x": {"a": tru}}}'
    with pytest.raises(BadInputError) as caught:
        _read(text, 4096)
    assert f"char {text.index(b'tru')}" in str(caught.value)


def test_a_row_larger_than_the_bound_is_refused_not_buffered() -> None:
    text = b'{"node_attributes": {"1": "' + b"x" * 50_000 + b'"}}'
    with pytest.raises(BadInputError, match="a row longer than"):
        _read(text, 1024, max_row=10_000)
    assert _read(text, 1024, max_row=100_000)[0][2] == "x" * 50_000


def test_unwanted_sections_cost_one_row_of_memory() -> None:
    """A section nobody asked for is walked row by row: its rows never sit in the buffer together."""
    rows = b", ".join(b'"%d": "%s"' % (i, b"y" * 1000) for i in range(2000))
    text = b'{"big_unwanted": {' + rows + b'}, "node_attributes": {"1": 1}}'
    assert _read(text, 4096, max_row=8192) == [("node_attributes", "1", 1)]


# ---------------------------------------------------------------- rows in bulk (orjson runs)
@pytest.mark.parametrize("bulk", [0, 48, 300, 4096])
def test_runs_parsed_in_bulk_equal_json_loads_row_for_row(bulk: int) -> None:
    """Runs of any size, cut at guessed boundaries (strings here hold ``}],{[:``), give what json.loads gives,
    types included: an integer beyond 64 bits stays an int (orjson alone would make it a float)."""
    rng = random.Random(bulk)
    document = _document(rng, 3000)
    text = json.dumps(document, ensure_ascii=False).encode("utf-8")
    got = _read(text, 1 << 16, bulk=bulk)
    expected = _expected(json.loads(text))
    assert got == expected
    assert [type(v) for _, _, v in got] == [type(v) for _, _, v in expected]


def _separator_trap_rows(count: int) -> dict:
    """Rows whose insides look like the separator between rows: a guessed cut lands inside them."""
    return {
        str(pk): {"note": '},"%d":{' % (pk + 1), "kinds": {"0": {"a": 1}, "1": {"b": [1, {"c": 2}]}}, "n": pk}
        for pk in range(1, count + 1)
    }


@pytest.mark.parametrize("bulk", [40, 200, 2000])
def test_a_guessed_cut_inside_a_row_falls_back_to_row_by_row(bulk: int) -> None:
    document = {"node_attributes": _separator_trap_rows(2000), "links_uuid": [[{"x": [1]}, "],["] for _ in range(2000)]}
    for indent in (None, 1):
        text = json.dumps(document, indent=indent).encode()
        expected = _expected(document, ("node_attributes", "links_uuid"))
        assert _read(text, 1 << 15, {"node_attributes", "links_uuid"}, bulk=bulk) == expected


@pytest.mark.parametrize("number", [-(2**63) - 1, 2**64, 10**30, -(2**63), 2**64 - 1])
def test_a_long_integer_is_read_exactly_wherever_the_chunks_cut_it(number: int) -> None:
    """The nineteen-digit look runs per chunk read; a number straddling two chunks is still seen."""
    rows = {str(pk): {"a": pk} for pk in range(1, 400)}
    head = json.dumps({"node_attributes": rows})[:-2].encode()
    text = head + b', "999": {"big": %d}}}' % number
    for chunk in range(len(head) // 3 - 30, len(head) // 3 + 30, 3):
        got = _read(text, chunk, bulk=64)
        assert got[-1] == ("node_attributes", "999", {"big": number})
        assert type(got[-1][2]["big"]) is int


def test_the_outline_gives_the_same_batches_in_bulk_and_row_by_row() -> None:
    from converters.legacy_stream import WALK

    rng = random.Random(5)
    text = json.dumps(_document(rng, 2000) | {"node_extras": _separator_trap_rows(500)}).encode()

    def merged(bulk: int) -> list:
        events = list(RowReader(io.BytesIO(text), "in.aiida", chunk=1 << 14, bulk=bulk).outline(WALK, 400))
        rows: dict = {}
        for event in events:
            if event[0] == "rows":
                held = rows.setdefault(event[1], [])
                held += list(event[2].items()) if isinstance(event[2], dict) else event[2]
                assert event[3] == len(event[2])  # no repeated key here: every row read is held
        return [e[:2] for e in events if e[0] != "rows"], rows

    assert merged(100) == merged(0)


def test_the_strict_reader_yields_a_repeated_row_key_every_time_it_occurs() -> None:
    """The exact check counts keys itself: rows gathered into a dict would hide the repeat."""
    rows = ", ".join(f'"{i}": {{"a": {i}}}' for i in range(3000))
    text = ('{"node_extras": {' + rows + ', "5": {"again": 1}, "6": {}}}').encode()
    keys = [key for _, key, _ in _read(text, 1 << 14, {"node_extras"}, strict=True)]
    assert len(keys) == 3002 and keys.count("5") == 2
