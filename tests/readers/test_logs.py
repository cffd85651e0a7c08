"""reportgen.readers.logs: decoding, cleaning, bounds and traceback detection (D6)."""

from __future__ import annotations

import resource
import time

from reportgen.readers.logs import CHUNK, TRACEBACK, read_log
from reportgen.records import ReadLimits
from tests.readers.builders import write_log

TB = "Traceback (most recent call last):\n  File \"node.py\", line 3, in <module>\nValueError: boom\n"


def test_clean_log(tmp_path):
    log = read_log(write_log(tmp_path / "QPU.log", "hello\nworld\n"), "p/j/QPU.log", "QPU")
    assert (log.node, log.path, log.size, log.preview, log.line_count, log.total_lines) == (
        "QPU", "p/j/QPU.log", 12, "hello\nworld\n", 2, 2
    )
    assert not log.truncated and not log.has_traceback and not log.invalid_utf8 and log.mtime.tzinfo


def test_traceback_and_error_lines(tmp_path):
    log = read_log(write_log(tmp_path / "n.log", "start\nERROR: bad\n" + TB), "n.log", "n")
    assert log.traceback_lines == (3,)
    assert log.error_lines == (2, 3, 5)


def test_ansi_stripped_crlf_kept_invalid_utf8_replaced(tmp_path):
    raw = b"\x1b[31mred\x1b[0m\r\nbad \xff\xfe byte\r\n\x1b[2Jnul\x00end"
    log = read_log(write_log(tmp_path / "n.log", raw), "n.log", "n")
    assert log.preview == "red\r\nbad \ufffd\ufffd byte\r\nnul\ufffdend"
    assert log.invalid_utf8 and log.line_count == 3


def test_empty_log_and_no_trailing_newline(tmp_path):
    empty = read_log(write_log(tmp_path / "e.log", b""), "e.log", "e")
    assert (empty.size, empty.preview, empty.line_count, empty.total_lines) == (0, "", 0, 0)
    last = read_log(write_log(tmp_path / "l.log", "a\nb"), "l.log", "l")
    assert last.line_count == 2 and last.total_lines == 2


def test_traceback_beyond_preview_and_across_chunk_boundary(tmp_path):
    filler = b"x" * (CHUNK + 256 * 1024 - 10) + b"\n"  # the marker straddles a chunk boundary
    raw = b"line\n" + filler + TRACEBACK + b"\nboom\n"
    log = read_log(write_log(tmp_path / "n.log", raw), "n.log", "n", ReadLimits(log_preview_bytes=1000))
    assert log.truncated and log.size == len(raw)
    assert log.traceback_lines == (3,) and log.total_lines == 4
    assert "Traceback (most recent call last):" in log.tail


def test_preview_cut_inside_a_character_is_clean(tmp_path):
    log = read_log(write_log(tmp_path / "n.log", "β" * 100), "n.log", "n", ReadLimits(log_preview_bytes=11))
    assert log.preview == "β" * 5 and log.truncated and not log.invalid_utf8


def test_50_mb_single_line_log_is_bounded(tmp_path):
    path = tmp_path / "big.log"
    with open(path, "wb") as stream:
        for _ in range(50):
            stream.write(b"y" * (1024 * 1024))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    log = read_log(path, "big.log", "big")
    assert time.monotonic() - started < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 40 * 1024  # KiB: < 40 MiB growth
    assert log.size == 50 * 1024 * 1024 and log.truncated and len(log.preview) == ReadLimits().log_preview_bytes
    assert log.line_count == 1 and log.total_lines == 1 and len(log.tail) <= 16 * 1024
