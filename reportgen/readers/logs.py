"""Node logs (``<job id>/<node>.log``) -> ``LogFile`` records (design decision D6).

A log is whatever the node process wrote to stdout and stderr: any bytes, any
size.  The preview is the head of the file (``ReadLimits.log_preview_bytes``)
decoded as UTF-8 with replacement, ANSI escapes stripped and CRLF kept; the
whole file is streamed once in fixed-size chunks to count its lines, find
every ``Traceback (most recent call last):`` (status D4 depends on it, and it
is usually at the end) and check that it is valid UTF-8.  Memory stays bounded
whatever the file holds, a 50 MB single line included.  Lines of the preview that
look like errors, and others that look like warnings, are marked (the last
``MAX_MARKED_LINES`` of each, the lines a page shows, and how many more there are).

A line is what ends at ``\n``, the CR of a CRLF dropped (``split_log_lines``); a lone CR
(a progress bar redrawing itself), U+2028 or U+0085 is a character of its line, as the
scan counts them, so every line number the site shows is the file's.
"""

from __future__ import annotations

import codecs
import os
import re
import stat as stat_
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from reportgen.records import LogFile, ReadLimits

CHUNK = 1024 * 1024
TAIL_BYTES = 16 * 1024
MAX_MARKED_LINES = 1000
TRACEBACK = b"Traceback (most recent call last):"
# CSI and OSC sequences, then any other two-byte escape.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # keeps \t \n \r
ERROR_LINE = re.compile(
    r"\b(?:ERROR|CRITICAL|FATAL)\b|Error:|Exception\b|\berror:|Traceback \(most recent call last\):"
)
# WARN/WARNING as words (logging), "UserWarning:" (the warnings module), "warning:" (compilers);
# a line that also matches ERROR_LINE is an error line only.
WARNING_LINE = re.compile(r"\b(?:WARN|WARNING)\b|\b(?:[A-Z][A-Za-z0-9_]*)?Warning:|\bwarning:")
# Literal supersets of the two: one pass over a whole preview finds out whether any line can
# match, ten times faster than the patterns themselves (no word boundaries to test at each letter).
ERROR_HINT = re.compile(r"ERROR|CRITICAL|FATAL|rror:|Exception|Traceback")
WARNING_HINT = re.compile(r"WARN|arning:")


class NotRegularFile(OSError):
    """The path is a FIFO, socket, device or folder: never read (a FIFO would block forever)."""


def open_regular(path: Path | str):
    """``open(path, "rb")`` for a regular file only; never follows a symlink, never blocks on a FIFO.

    Why: the scan saw a regular file, but the name can be replaced before it is
    read; ``O_NONBLOCK`` makes opening a FIFO return at once so ``fstat`` can refuse it.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat_.S_ISREG(mode):
            raise NotRegularFile(f"{describe_mode(mode)}, not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def describe_mode(mode: int) -> str:
    """"FIFO", "socket", ... for the type bits of ``st_mode``."""
    for test, kind in ((stat_.S_ISFIFO, "FIFO"), (stat_.S_ISSOCK, "socket"), (stat_.S_ISCHR, "character device"),
                       (stat_.S_ISBLK, "block device"), (stat_.S_ISDIR, "folder"), (stat_.S_ISLNK, "symlink")):
        if test(mode):
            return kind
    return "regular file" if stat_.S_ISREG(mode) else "special file"


class LogScan:
    """Line count, traceback lines and UTF-8 validity of a whole stream, chunk by chunk."""

    def __init__(self) -> None:
        self.newlines = 0
        self.traceback_lines: list[int] = []
        self.valid_utf8 = True
        self._carry = b""
        self._strict = codecs.getincrementaldecoder("utf-8")("strict")

    def feed(self, chunk: bytes) -> None:
        if self.valid_utf8:
            try:
                self._strict.decode(chunk)
            except UnicodeDecodeError:
                self.valid_utf8 = False
        buffer = self._carry + chunk
        start = buffer.find(TRACEBACK)
        while start != -1 and len(self.traceback_lines) < MAX_MARKED_LINES:
            if start + len(TRACEBACK) > len(self._carry):  # not already found in the previous buffer
                self.traceback_lines.append(self.newlines + buffer.count(b"\n", 0, start) + 1)
            start = buffer.find(TRACEBACK, start + 1)
        keep = len(TRACEBACK) - 1
        consumed = max(0, len(buffer) - keep)
        self.newlines += buffer.count(b"\n", 0, consumed)
        self._carry = buffer[consumed:]

    def finish(self) -> None:
        self.newlines += self._carry.count(b"\n")
        self._carry = b""
        if self.valid_utf8:
            try:
                self._strict.decode(b"", final=True)
            except UnicodeDecodeError:
                self.valid_utf8 = False


def clean_text(text: str) -> str:
    """ANSI escapes removed, other control characters shown as U+FFFD; CR and LF kept."""
    return CONTROL.sub("\ufffd", ANSI.sub("", text))


def decode_head(raw: bytes, final: bool) -> str:
    """UTF-8 with replacement; a character cut at the end of a head is dropped, not replaced."""
    return codecs.getincrementaldecoder("utf-8")("replace").decode(raw, final=final)


def split_log_lines(text: str) -> list[str]:
    """The lines of a log as the reader counts them: split at ``\n`` only, the CR of a CRLF dropped.

    Why not ``str.splitlines``: it also splits at a lone CR, U+2028, U+0085 and others, so its
    line numbers drift from the file's (and from the scan's traceback lines) after a progress bar.
    """
    lines = text.split("\n")
    if lines[-1] == "":  # the text ends with a line end (or is empty)
        lines.pop()
    return [line.removesuffix("\r") for line in lines] if "\r" in text else lines


def error_line_numbers(lines: list[str], text: str) -> tuple[tuple[int, ...], int]:
    return marked_line_numbers(lines, text, ERROR_HINT, ERROR_LINE.search)


def warning_line_numbers(lines: list[str], text: str) -> tuple[tuple[int, ...], int]:
    """1-based lines that look like warnings and not like errors."""
    return marked_line_numbers(lines, text, WARNING_HINT, is_warning_line)


def marked_line_numbers(lines: list[str], text: str, hint: re.Pattern[str],
                        is_marked: Callable[[str], object]) -> tuple[tuple[int, ...], int]:
    """The LAST ``MAX_MARKED_LINES`` 1-based ``lines`` that ``is_marked`` accepts, and how many more it
    accepted; none unless ``hint`` is in ``text`` (the lines joined).

    The last, not the first: a page shows a preview's last lines (a failure ends a log).
    """
    if hint.search(text) is None:  # most logs: one cheap pass instead of a search per line
        return (), 0
    kept: deque[int] = deque(maxlen=MAX_MARKED_LINES)
    found = 0
    for number, line in enumerate(lines, start=1):
        if is_marked(line):
            kept.append(number)
            found += 1
    return tuple(kept), found - len(kept)


def error_line_count(log: LogFile) -> int:
    """Every error line of the preview (the record keeps the last ``MAX_MARKED_LINES`` of them)."""
    return len(log.error_lines) + log.error_lines_left_out


def warning_line_count(log: LogFile) -> int:
    return len(log.warning_lines) + log.warning_lines_left_out


def error_and_traceback_count(log: LogFile) -> int:
    """Error lines of the preview and traceback starts anywhere in the file, each line once.

    A traceback start in the preview is an error line too; one the kept error lines do not hold
    is past the preview, or cut short at its end, or before the kept ones (counted already).
    """
    errors = set(log.error_lines)
    first_kept = min(log.error_lines) if log.error_lines_left_out and log.error_lines else 0
    extra = sum(1 for line in log.traceback_lines
                if line not in errors and (line > log.line_count or line > first_kept))
    return error_line_count(log) + extra


def is_warning_line(line: str) -> bool:
    return WARNING_LINE.search(line) is not None and ERROR_LINE.search(line) is None


def read_log(path: Path, rel: str, node: str, limits: ReadLimits = ReadLimits()) -> LogFile:
    """Read one log; raises OSError (PermissionError, FileNotFoundError, NotRegularFile) for the caller to report."""
    with open_regular(path) as stream:
        stat = os.fstat(stream.fileno())
        head = stream.read(limits.log_preview_bytes)
        scan = LogScan()
        scan.feed(head)
        tail = head[-TAIL_BYTES:]
        size = len(head)
        while chunk := stream.read(CHUNK):
            scan.feed(chunk)
            tail = (tail + chunk)[-TAIL_BYTES:]
            size += len(chunk)
        scan.finish()
    truncated = size > len(head)
    preview = clean_text(decode_head(head, final=not truncated))
    lines = split_log_lines(preview)
    error_lines, errors_left_out = error_line_numbers(lines, preview)
    warning_lines, warnings_left_out = warning_line_numbers(lines, preview)
    return LogFile(
        node=node,
        path=rel,
        size=size,
        mtime=datetime.fromtimestamp(stat.st_mtime_ns / 1e9, tz=timezone.utc),
        preview=preview,
        truncated=truncated,
        line_count=len(lines),
        error_lines=error_lines,
        warning_lines=warning_lines,
        error_lines_left_out=errors_left_out,
        warning_lines_left_out=warnings_left_out,
        traceback_lines=tuple(scan.traceback_lines),
        invalid_utf8=not scan.valid_utf8,
        tail=clean_text(_decode_tail(tail)) if truncated else "",
        total_lines=scan.newlines + (1 if size and not tail.endswith(b"\n") else 0),
    )


def _decode_tail(raw: bytes) -> str:
    """The tail may start inside a character: skip continuation bytes first."""
    start = 0
    while start < min(4, len(raw)) and raw[start] & 0xC0 == 0x80:
        start += 1
    return raw[start:].decode("utf-8", "replace")
