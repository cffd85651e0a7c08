"""Walk between versions where a main_XXXX revision is involved.

The plan is a list of versions; each adjacent pair is one step of the
registry (``converters.main.steps``).  Work items change form at the
legacy/main border: a legacy ``Archive`` becomes a ``Staged`` database at
``0.13 -> main_0000``; a ``Staged`` database becomes a legacy ``Draft`` at
``main_0000 -> 0.13``.
"""

from __future__ import annotations

import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from converters.containers import DeflateAhead
from converters.errors import BadInputError
from converters.main.legacy_to_main import Staged
from converters.main.problems import ProblemLog
from converters.main.records import Problem
from converters.main.reader import input_db_errors
from converters.main.references import check_references, drop_left_out
from converters.main.schema import MAIN_REVISIONS
from converters.main.validate import check_values
from converters.main.writer import copy_canonical, write_main


def write_staged(staged: Staged, dst: Path, workdir: Path, replace: bool) -> None:
    """Canonical database at the staged revision, then the zip (atomic; ``replace``: as ``--force``)."""
    revision = staged.metadata["export_version"]
    assert revision in MAIN_REVISIONS
    final = workdir / "db.sqlite3"
    final.unlink(missing_ok=True)
    ahead = checked_copy(staged, final, revision)
    try:
        staged.db.unlink()  # a working copy: free its disk before the zip is written
        staged.db = final
        write_main(dst, staged.metadata, final, staged.emit_blobs(), replace, ahead)
    finally:
        ahead.stop()


def checked_copy(staged: Staged, final: Path, revision: str) -> DeflateAhead:
    """The canonical copy (``copy_canonical``) of the staged rows, made only of what ``validate``
    would accept (``ValueCheck``, ``resolve_references``).  The value check runs beside the copy,
    and its refusal wins over any other.  Returns the copy's blocks deflating ahead."""
    check = ValueCheck(staged, revision)
    try:
        resolve_references(staged, revision, check)
        try:
            ahead = copy_canonical(staged.db, final, revision, staged.selects)
        except BadInputError as exc:
            check.wait()  # a value's refusal comes first, as it did when the check ran before the copy
            if exc.file != str(staged.db):
                raise
            raise refused_row(staged, revision, exc.reason) from None
        try:
            check.wait()
        except BaseException:
            ahead.stop()
            raise
        return ahead
    finally:
        check.stop()


class ValueCheck:
    """What ``validate`` would find wrong in the staged values, checked on a second thread and
    connection while this one resolves references and makes the canonical copy.

    A main input's database is anyone's: its values (UUIDs, datetimes, text,
    JSON) are checked as ``validate`` checks them.  Legacy rows were parsed,
    formatted and dumped on the way in: their UUIDs and ids are left.  The scans
    are SQLite's C loops, which let go of the GIL, as the copy does: side by side
    they take the time of the longer (200,000 legacy nodes: 0.35 s saved).
    ``wait`` raises the first value refused, naming its row."""

    def __init__(self, staged: Staged, revision: str) -> None:
        self._staged, self._revision = staged, revision
        self._conn = sqlite3.connect(staged.db, check_same_thread=False)  # used by one thread at a time
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="check-values")
        self._found = self._pool.submit(self._first_error)

    def _first_error(self) -> Problem | None:
        with input_db_errors(self._staged.file):
            found = ProblemLog(self._staged.file)
            check_values(self._conn, None, found, parsed=self._staged.parsed)
        return next((p for p in found.kept if p.severity == "error"), None)

    def wait(self) -> None:
        """Wait for the check; a value it refused is raised (``BadInputError``, exit 65)."""
        first = self._found.result()
        if first is not None:
            where = _row_where(self._staged, self._conn, first.path)
            raise BadInputError(self._staged.file, f"{where}: {first.message}; {self._revision} cannot hold it", self._staged.member)

    def stop(self) -> None:
        """Stop the check if it still runs (an error or an interrupt elsewhere) and close it."""
        self._conn.interrupt()  # SQLite's own stop: the scan ends at its next row, not at its end
        self._pool.shutdown(wait=True)
        self._conn.close()


def resolve_references(staged: Staged, revision: str, check: ValueCheck) -> None:
    """Refuse a row naming a missing row, report and leave out dangling links and group members
    (``converters.main.references``); NOT NULL and UNIQUE are the copy's own constraints
    (``refused_row``).  Whenever this refuses or deletes, ``check`` is waited for first: its
    refusal wins, and its scan must not see the rows change."""
    conn = sqlite3.connect(staged.db)
    try:
        with input_db_errors(staged.file):
            try:
                left_out = check_references(conn, staged, revision)
            except BadInputError:
                check.wait()
                raise
            if left_out:
                check.wait()
                drop_left_out(conn)
                conn.commit()
    finally:
        conn.close()


_ROW_PATH = re.compile(r"(\w+)\[(-?\d+)\]\.(\w+)")  # how check_values names a value: db_dbnode[3].uuid


def _row_where(staged: Staged, conn: sqlite3.Connection, path: str) -> str:
    found = _ROW_PATH.fullmatch(path)
    return staged.where(conn, found.group(1), int(found.group(2)), [found.group(3)]) if found else path


_CONSTRAINT = re.compile(r"(NOT NULL|UNIQUE) constraint failed: (\w+)\.(\w+)((?:, \w+\.\w+)*)")


def refused_row(staged: Staged, revision: str, reason: str) -> BadInputError:
    """``copy_canonical``'s refusal (it names the work file) as one line naming the input
    archive, the member and the row the constraint refused: ``$.export_data.Computer['2'].label``."""
    found = _CONSTRAINT.search(reason)
    if found is None:
        return BadInputError(staged.file, reason, staged.member)
    kind, table = found.group(1), found.group(2)
    columns = [found.group(3)] + [c.split(".")[1] for c in found.group(4).split(", ")[1:]]
    conn = sqlite3.connect(f"file:{staged.db}?mode=ro", uri=True)
    try:
        pk, values = _offending_row(conn, table, columns, kind == "NOT NULL")
        where = staged.where(conn, table, pk, columns)
    finally:
        conn.close()
    if kind == "NOT NULL":
        return BadInputError(staged.file, f"{where}: null, but {revision} requires a value", staged.member)
    shown = repr(values[0]) if len(values) == 1 else repr(values)
    return BadInputError(staged.file, f"{where}: {shown} is not unique, but {revision} requires it to be", staged.member)


def _offending_row(conn: sqlite3.Connection, table: str, columns: list[str], null: bool) -> tuple[int, tuple]:
    """The first row (in id order, the copy's order) that the constraint refuses, and its values."""
    if null:
        row = conn.execute(f"SELECT id FROM {table} WHERE {columns[0]} IS NULL ORDER BY id LIMIT 1").fetchone()
        return (row[0] if row else 0), (None,)
    cols = ", ".join(columns)
    values = conn.execute(
        f"SELECT {cols} FROM {table} WHERE {' AND '.join(c + ' IS NOT NULL' for c in columns)}"
        f" GROUP BY {cols} HAVING COUNT(*) > 1 ORDER BY MIN(id) LIMIT 1"
    ).fetchone() or ()
    if not values:
        return 0, ()
    match = " AND ".join(f"{c} = ?" for c in columns)
    row = conn.execute(f"SELECT id FROM {table} WHERE {match} ORDER BY id LIMIT 1 OFFSET 1", values).fetchone()
    return (row[0] if row else 0), tuple(values)
