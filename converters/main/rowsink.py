"""Staged rows stored by a second process while this one parses and builds them.

Staging a large ``data.json`` is two halves of about equal cost, and both
hold the GIL: building the rows (parsing, the steps, JSON dumps) and SQLite
storing them.  A thread for SQLite was slower than none (every row's insert
hands the GIL over), so the rows go pickled through a pipe to a child
process that owns the inserts, on the other core.  Small inputs skip the
child's start-up and store their rows here, through the same ``store``.

The child stops at the first row SQLite refuses and reports it; the parent
raises it at its next write, or at the end.  When the parent itself finds bad
input later in the document, the child's refusal still wins: it is earlier.
Without the end marker (the parent failed or was killed) the child rolls back.

This module is also the child's program, run as a script so that it starts
in ~40 ms without importing the converters: it must import nothing but the
standard library.
"""

from __future__ import annotations

import pickle
import sqlite3
import struct
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CHILD_FROM_BYTES = 16 << 20  # a data.json this large (~30,000 nodes) is staged with the child's help
_LENGTH = struct.Struct("<Q")
_END = 0  # a message length of 0: the parent is done, commit
_REFUSED, _FAILED = 3, 4  # the child's exit codes when it reports on stdout


def connect(path: Path | str, page_size: int | None = None) -> sqlite3.Connection:
    """A connection tuned for one writer building a file from scratch (no journal, no fsync);
    ``page_size`` for a file not yet created."""
    conn = sqlite3.connect(path, isolation_level=None)
    if page_size is not None:
        conn.execute(f"PRAGMA page_size={int(page_size)}")
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-16000")  # 16 MB: bounded whatever the archive size
    conn.execute("PRAGMA temp_store=FILE")
    return conn


def store(conn: sqlite3.Connection, tag: str, sql: str, rows: list) -> None:
    """The one place staged rows are stored, here or in the child, and the one place that
    says what SQLite's failure means: a refused row, or no storing at all (a full disk)."""
    try:
        conn.executemany(sql, rows)
    except sqlite3.IntegrityError as exc:
        raise Refused(tag, str(exc)) from None
    except sqlite3.Error as exc:
        raise StoreFailed(str(exc)) from None


class Refused(Exception):
    """SQLite refused a row (a duplicate pk): ``tag`` says what the rows were, ``reason`` is SQLite's."""

    def __init__(self, tag: str, reason: str) -> None:
        super().__init__(tag, reason)
        self.tag, self.reason = tag, reason


class StoreFailed(Exception):
    """SQLite could not store at all (the disk is full): ``reason`` is SQLite's."""


class _Here:
    """Rows stored in this process, in one transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        conn.execute("BEGIN")

    def put(self, tag: str, sql: str, rows: list) -> None:
        store(self._conn, tag, sql, rows)

    def close(self, ok: bool) -> None:
        self._conn.execute("COMMIT" if ok else "ROLLBACK")


class _Child:
    """Rows pickled to a child process that stores them in its own connection and transaction."""

    def __init__(self, db: Path) -> None:
        self._errors = tempfile.TemporaryFile()  # a file, not a pipe: a long traceback cannot block the child
        self._proc = subprocess.Popen(
            [sys.executable, "-I", str(Path(__file__)), str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
        )
        self._done = False

    def put(self, tag: str, sql: str, rows: list) -> None:
        data = pickle.dumps((tag, sql, rows), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._proc.stdin.write(_LENGTH.pack(len(data)) + data)  # type: ignore[union-attr]
        except BrokenPipeError:  # the child stopped: it says why
            self.close(ok=False)
            raise RuntimeError("the staging writer stopped without saying why") from None

    def close(self, ok: bool) -> None:
        """Commit (``ok``) or roll back, wait for the child and raise what it reported, once."""
        if self._done:
            return
        self._done = True
        try:
            if ok:
                self._proc.stdin.write(_LENGTH.pack(_END))  # type: ignore[union-attr]
            self._proc.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass
        report = self._proc.stdout.read()  # type: ignore[union-attr]
        code = self._proc.wait()
        self._proc.stdout.close()  # type: ignore[union-attr]
        self._errors.seek(0)
        errors = self._errors.read().decode("utf-8", "replace").strip()
        self._errors.close()
        if code == _REFUSED:
            raise Refused(*pickle.loads(report))
        if code == _FAILED:
            raise StoreFailed(pickle.loads(report))
        if code != 0:
            raise RuntimeError(f"the staging writer failed (exit {code}): {errors.splitlines()[-1:]}")

    def kill(self) -> None:
        self._done = True
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout, self._errors):
            try:
                stream.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass


@contextmanager
def sink(conn: sqlite3.Connection, db: Path | None, size: int) -> Iterator:
    """``put(tag, sql, rows)`` for the rows of one staging pass: stored by a child process
    when ``size`` (of data.json) is at least ``CHILD_FROM_BYTES`` and ``db`` is given, else
    through ``conn``, which must not write meanwhile.  Committed when the block ends well."""
    if db is None or size < CHILD_FROM_BYTES:
        here = _Here(conn)
        try:
            yield here
        except BaseException:
            here.close(ok=False)
            raise
        here.close(ok=True)
        return
    child = _Child(db)
    try:
        yield child
    except Exception:
        child.close(ok=False)  # a refusal the child reported first wins over this error
        raise
    except BaseException:  # an interrupt: no waiting
        child.kill()
        raise
    child.close(ok=True)


# ---------------------------------------------------------------- the child
def _child(db: str) -> int:
    conn = connect(db)
    conn.execute("BEGIN")
    read = sys.stdin.buffer.read
    while True:
        head = read(_LENGTH.size)
        if len(head) < _LENGTH.size:  # the parent went away without the end marker
            conn.execute("ROLLBACK")
            return 0
        (length,) = _LENGTH.unpack(head)
        if length == _END:
            conn.execute("COMMIT")
            conn.close()
            return 0
        tag, sql, rows = pickle.loads(read(length))
        try:
            store(conn, tag, sql, rows)
        except Refused as refused:
            return _report(_REFUSED, (refused.tag, refused.reason))
        except StoreFailed as failed:
            return _report(_FAILED, str(failed))


def _report(code: int, what: object) -> int:
    sys.stdout.buffer.write(pickle.dumps(what))
    sys.stdout.buffer.flush()
    return code


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1]))
