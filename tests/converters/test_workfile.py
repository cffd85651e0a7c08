"""Work files give back exactly what was written, forward only, and take little disk for JSON."""

from __future__ import annotations

import os

import orjson
import pytest

from converters.workfile import WorkFile


def _rows(n: int) -> list[bytes]:
    return [orjson.dumps({str(i): {"uuid": f"{i:032x}", "label": "node", "attributes": {"x": i * 0.5}}}) for i in range(n)]


def test_lines_come_back_as_written(tmp_path):
    work = WorkFile(tmp_path)
    rows = _rows(5000)
    for row in rows:
        work.write(row + b"\n")
    assert work.size == sum(len(r) + 1 for r in rows)
    assert [line.rstrip(b"\n") for line in work.reader()] == rows


def test_json_takes_a_fraction_of_its_size_on_disk(tmp_path):
    work = WorkFile(tmp_path)
    for row in _rows(20000):
        work.write(row)
    reader = work.reader()  # ends the writing: everything is on disk now
    on_disk = os.fstat(work._file.fileno()).st_size
    assert on_disk < work.size / 4, (on_disk, work.size)
    assert b"".join(reader.read_range(0, work.size)) == b"".join(_rows(20000))


def test_ranges_are_read_in_order_only(tmp_path):
    work = WorkFile(tmp_path)
    work.write(b"0123456789")
    reader = work.reader()
    assert b"".join(reader.read_range(0, 4)) == b"0123"
    with pytest.raises(ValueError, match="out of order"):
        list(reader.read_range(6, 8))
    assert b"".join(reader.read_range(4, 10)) == b"456789"
    with pytest.raises(OSError, match="ended 2 bytes early"):
        list(reader.read_range(10, 12))


def test_chunks_close_the_file(tmp_path):
    work = WorkFile(tmp_path)
    work.write(b"x" * 3_000_000)
    assert b"".join(work.chunks()) == b"x" * 3_000_000
    assert work._file.closed
    assert list(tmp_path.iterdir()) == []  # anonymous: nothing was ever visible in the folder
