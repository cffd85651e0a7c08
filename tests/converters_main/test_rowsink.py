"""Staging rows stored by a second process (``converters.main.rowsink``) gives what storing them
here gives, refuses what SQLite refuses with the same one error, and leaves no process behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from converters.errors import BadInputError
from converters.main import convert, rowsink
from converters.main.writer import connect
from converters.containers import OutMember, write_archive
from tests.converters_main.builders import legacy_013, uid, write_legacy
from tests.converters_main.helpers import legacy_archive
from tests.converters_main.bigarchive import write_big_legacy

HERE, CHILD = 1 << 60, 0  # CHILD_FROM_BYTES: never the child, always the child


def children() -> set[int]:
    """This process's live child processes, from procfs."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found |= {int(pid) for pid in (task / "children").read_text().split()}
    return found


@pytest.fixture(params=[HERE, CHILD], ids=["here", "child"])
def where(request, monkeypatch):
    monkeypatch.setattr(rowsink, "CHILD_FROM_BYTES", request.param)
    return request.param


def test_the_child_gives_the_same_archive_byte_for_byte(tmp_path, monkeypatch):
    src = write_big_legacy(tmp_path / "in.zip", 3000, files=50)
    outs = []
    for threshold in (HERE, CHILD):
        monkeypatch.setattr(rowsink, "CHILD_FROM_BYTES", threshold)
        outs.append(convert(src, tmp_path / f"out-{threshold}.aiida").output)
    assert Path(outs[0]).read_bytes() == Path(outs[1]).read_bytes()
    assert children() == set()


def _duplicated_node(tmp_path: Path, later_bad_link: bool = False) -> Path:
    """A Node section that repeats pk 1 at its end, 2,500 rows after the first: in another
    batch of rows, so the repeat reaches SQLite, which refuses it."""
    metadata, data, files = legacy_013()
    if later_bad_link:
        data["links_uuid"].append("not a link")
    nodes = data["export_data"]["Node"]
    for pk in range(10_000, 12_500):  # past one batch of 2,000 rows (a batch is a dict)
        nodes[str(pk)] = {**nodes["1"], "uuid": uid(pk)}
        data["node_attributes"][str(pk)] = {}
        data["node_extras"][str(pk)] = {}
    section = json.dumps(nodes)[:-1] + ', "1": ' + json.dumps(nodes["1"]) + "}"
    data["export_data"]["Node"] = "@NODES@"
    text = json.dumps(data).replace('"@NODES@"', section).encode()
    members = [OutMember("metadata.json", data=json.dumps(metadata).encode(), size=len(json.dumps(metadata).encode())),
               OutMember("data.json", data=text, size=len(text))]  # fmt: skip
    members += [
        OutMember(n, is_dir=True) if c is None else OutMember(n, data=c, size=len(c))
        for n, c in sorted(files.items())
    ]
    path = tmp_path / "dup.zip"
    write_archive(path, "zip", members)
    return path


def test_a_pk_given_twice_is_one_error_either_way(tmp_path, where):
    src = _duplicated_node(tmp_path)
    with pytest.raises(BadInputError) as caught:
        convert(src, tmp_path / "out.aiida")
    assert "$.export_data: db_dbnode" in str(caught.value) and "(duplicate pk)" in str(caught.value)
    assert caught.value.member == "data.json"
    assert not (tmp_path / "out.aiida").exists()
    assert children() == set()


def test_the_childs_earlier_refusal_wins_over_a_later_error(tmp_path, where):
    """The parent finds the bad link after the child refused pk 1: the report is the refusal,
    as it is when both are found here, in document order."""
    src = _duplicated_node(tmp_path, later_bad_link=True)
    with pytest.raises(BadInputError) as caught:
        convert(src, tmp_path / "out.aiida")
    assert "(duplicate pk)" in str(caught.value)
    assert children() == set()


def test_a_parent_error_rolls_the_child_back_and_waits_for_it(tmp_path, where):
    metadata, data, files = legacy_013()
    data["links_uuid"].append("not a link")
    src = write_legacy(tmp_path / "in.zip", metadata, data, files)
    with pytest.raises(BadInputError, match="a link that is not an object"):
        convert(src, tmp_path / "out.aiida")
    assert children() == set()


def test_rows_are_stored_and_committed_by_the_child(tmp_path, where):
    db = tmp_path / "t.sqlite3"
    conn = connect(db)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    with rowsink.sink(conn, db, size=1) as sink:
        sink.put("t", "INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b")])
        sink.put("t", "INSERT INTO t VALUES (?, ?)", [(3, "c")])
    assert conn.execute("SELECT v FROM t ORDER BY id").fetchall() == [("a",), ("b",), ("c",)]
    with pytest.raises(rowsink.Refused) as caught:
        with rowsink.sink(conn, db, size=1) as sink:
            sink.put("the t rows", "INSERT INTO t VALUES (?, ?)", [(4, "d"), (1, "again")])
    assert caught.value.tag == "the t rows" and "UNIQUE" in caught.value.reason
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (3,)  # the refused batch rolled back
    conn.close()
    assert children() == set()


def test_legacy_archive_helper_still_converts(tmp_path, where):
    """The small fixture archive through either path: valid, as before."""
    out = convert(legacy_archive(tmp_path), tmp_path / "out.aiida")
    assert Path(out.output).exists()


def test_a_child_that_dies_is_an_internal_error_not_a_hang(tmp_path):
    """Killed from outside (the OOM killer, say): the next write or the end says so."""
    db = tmp_path / "t.sqlite3"
    conn = connect(db)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    with pytest.raises(RuntimeError, match="exit -9"):
        with rowsink.sink(conn, db, size=rowsink.CHILD_FROM_BYTES) as sink:
            sink._proc.kill()
            sink._proc.wait()
            for _ in range(100):  # the pipe takes some writes before it breaks
                sink.put("t", "INSERT INTO t VALUES (?, ?)", [(None, "x" * 10_000)] * 10)
    conn.close()
    assert children() == set()


def test_a_store_that_fails_outright_is_the_same_failure_either_way(tmp_path, where):
    """Not a refused row but no storing at all (SQLite's error, as for a full disk): here and in
    the child alike, ``StoreFailed`` with SQLite's reason (the converters make it exit 74)."""
    db = tmp_path / "t.sqlite3"
    conn = connect(db)
    with pytest.raises(rowsink.StoreFailed, match="no such table"):
        with rowsink.sink(conn, db, size=1) as sink:
            sink.put("t", "INSERT INTO missing VALUES (?)", [(1,)])
    conn.close()
    assert children() == set()
