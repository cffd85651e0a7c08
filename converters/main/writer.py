"""Write main_XXXX archives deterministically.

The database is always finished by ``copy_canonical``: a fresh file with a
fixed page size, the target revision's DDL, rows inserted in ``id`` order and
indexes built afterwards.  A database built this way has no free pages, so no
bytes of a working copy leak into the output, and the same rows give the same
file.  The zip holds ``metadata.json`` and ``db.sqlite3`` first (aiida-core
looks for the metadata among the first ten entries) then each repository blob
once, named by its sha256, with fixed timestamps.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from converters import progress
from converters.containers import CHUNK, DeflateAhead, OutMember, write_archive
from converters.errors import BadInputError
from converters.main import rowsink
from converters.main.schema import DB_NAME, META_NAME, PAGE_SIZE, TABLES, column_names, render_index_ddl, render_schema


def dumps_json(value: object) -> str:
    """JSON as stored in the database: compact, key order kept, like aiida-core's json.dumps."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def render_metadata(metadata: dict) -> bytes:
    return json.dumps(metadata, sort_keys=True, indent=1, ensure_ascii=False).encode("utf-8")


def connect(path: Path) -> sqlite3.Connection:
    """A new database file with the fixed page size, tuned for one writer (``rowsink.connect``)."""
    return rowsink.connect(path, page_size=PAGE_SIZE)


def create_db(path: Path, revision: str, with_indexes: bool = False) -> sqlite3.Connection:
    conn = connect(path)
    for statement in render_schema(revision):
        conn.execute(statement)
    if with_indexes:
        for table in TABLES:
            for statement in render_index_ddl(table):
                conn.execute(statement)
    conn.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
    return conn


def copy_canonical(src: Path, dst: Path, revision: str, selects: dict[str, str] | None = None) -> DeflateAhead:
    """Copy every table of ``src`` into a fresh ``dst`` at ``revision``, rows in id order.

    ``selects`` may replace a table's SELECT (it must yield the table's columns
    in order, sorted by id); legacy_to_main uses it to join staged attributes.
    NOT NULL and UNIQUE violations become ``BadInputError``.  Returns the rows'
    pages deflating for the zip while the indexes were built (``write_main``'s
    ``ahead``; ``stop`` it if no zip is written).
    """
    selects = selects or {}
    conn = create_db(dst, revision)
    conn.execute("ATTACH DATABASE ? AS src", (str(src),))
    with progress.stage(f"{dst.name}: rows in id order, then indexes", 2 * len(TABLES), "step") as advance:
        conn.execute("BEGIN")
        try:
            for table in TABLES:
                cols = ", ".join(column_names(table))
                query = selects.get(table, f"SELECT {cols} FROM src.{table} ORDER BY id")
                conn.execute(f"INSERT INTO main.{table} ({cols}) {query}")
                advance(1)
        except sqlite3.IntegrityError as exc:
            conn.execute("ROLLBACK")
            conn.close()
            raise BadInputError(src, f"cannot be stored at {revision}: {exc}") from None
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE src")
        ahead = DeflateAhead(dst)  # the rows' pages are final: deflated on the other core meanwhile
        try:
            for table in TABLES:
                for statement in render_index_ddl(table):
                    conn.execute(statement)
                advance(1)
            if conn.execute("PRAGMA freelist_count").fetchone()[0]:
                conn.execute("VACUUM")  # never expected; keeps freed pages out of the output if it happens
        except BaseException:
            ahead.stop()
            raise
    conn.close()
    return ahead


def file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


# The database header's last-writer fields (bytes 92-99): "version-valid-for" and the
# SQLITE_VERSION_NUMBER of the library that wrote the file, which is the machine's libsqlite3
# (Python links the system's), not ours to pin.  Written as below, the same rows give the same
# bytes on every machine.  SQLite reads the version only for diagnostics, and trusts the in-header
# page count only when version-valid-for equals the change counter (bytes 24-27), as it does here.
HEADER_SQLITE_VERSION = 3_000_000  # any fixed value does; 3.0.0 started the file format, claims no real writer


def pin_header(db_path: Path) -> None:
    """Make the last-writer fields of ``db_path``'s header fixed (see ``HEADER_SQLITE_VERSION``)."""
    with open(db_path, "r+b") as fh:
        change_counter = fh.read(28)[24:28]
        fh.seek(92)
        fh.write(change_counter + HEADER_SQLITE_VERSION.to_bytes(4, "big"))


def write_main(
    dst: Path, metadata: dict, db_path: Path, blobs: Iterable[OutMember], replace: bool = False, ahead: DeflateAhead | None = None
) -> None:
    """Write the zip: metadata, database, then the blobs in the order given (atomic; an existing
    ``dst`` is replaced only with ``replace``).  ``db_path`` is a work file: its header is pinned.
    ``ahead``: blocks of the database already deflated (``copy_canonical``)."""
    pin_header(db_path)

    def members() -> Iterator[OutMember]:
        yield OutMember(META_NAME, data=render_metadata(metadata), size=len(render_metadata(metadata)))
        yield OutMember(DB_NAME, size=db_path.stat().st_size, chunks=file_chunks(db_path), ahead=ahead)
        yield from blobs

    write_archive(dst, "zip", members(), replace)
