"""Compare archives under the reference's rules: what an archive says, not how it is stored.

Ignored: ``aiida_version``, ``conversion_info``, ``mtime``, ``compression``,
the surrogate ids of links and group members, member order and compression.
Datetimes compare as values (``...T10:00:00`` equals ``... 10:00:00.000000``).
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import orjson

from converters.main.reader import extract_db, read_main_metadata
from converters.main.schema import TABLES, format_datetime
from converters.main.zipread import MainZip

IGNORED_METADATA = ("aiida_version", "conversion_info", "mtime", "compression")


def main_digest(path: Path) -> dict:
    """A plain, comparable picture of a main archive: metadata, rows by uuid/email, blobs."""
    with MainZip(path) as zf, tempfile.TemporaryDirectory() as tmp:
        metadata = {k: v for k, v in read_main_metadata(zf).items() if k not in IGNORED_METADATA}
        db = extract_db(zf, Path(tmp) / "db.sqlite3")
        conn = sqlite3.connect(db)
        try:
            tables = {table: _rows(conn, table) for table in TABLES}
        finally:
            conn.close()
        keys = zf.keys
    return {"metadata": metadata, "tables": tables, "blobs": keys}


def _rows(conn: sqlite3.Connection, table: str) -> list:
    cols = [c for c in TABLES[table]]
    names = ", ".join(c.name for c in cols)
    rows = []
    for row in conn.execute(f"SELECT {names} FROM {table} ORDER BY id"):
        values = {}
        for col, value in zip(cols, row):
            if col.name == "id" and table in ("db_dblink", "db_dbgroup_dbnodes"):
                continue  # surrogate ids
            if col.kind == "json" and value is not None:
                value = orjson.loads(value)
            elif col.kind == "datetime" and value is not None:
                value = format_datetime(value)
            values[col.name] = value
        rows.append(values)
    return rows
