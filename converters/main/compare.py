"""Compare archives under the reference's rules: what an archive says, not how it is stored.

Ignored: ``aiida_version``, ``conversion_info``, ``mtime``, ``compression``,
every pk (a reference is compared as the uuid or email of the row it names;
aiida-core's import gives new pks anyway), the order of rows (two exports of
the same profile list links in different orders), member order and
compression.  Datetimes compare as values (``...T10:00:00`` equals
``... 10:00:00.000000``).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from converters.main.reader import extract_db, read_main_metadata
from converters.main.schema import FOREIGN_KEYS, NATURAL_KEYS, TABLES, format_datetime
from converters.main.zipread import MainZip
from converters.workdirs import temp_folder

IGNORED_METADATA = ("aiida_version", "conversion_info", "mtime", "compression")


def main_digest(path: Path) -> dict:
    """A plain, comparable picture of a main archive: metadata, each table's rows as a sorted list, blobs."""
    with MainZip(path) as zf, temp_folder(f"extracting db.sqlite3 of {Path(path).name}") as tmp:
        metadata = {k: v for k, v in read_main_metadata(zf).items() if k not in IGNORED_METADATA}
        db = extract_db(zf, Path(tmp) / "db.sqlite3")
        conn = sqlite3.connect(db)
        try:
            names = {table: dict(conn.execute(f"SELECT id, {key} FROM {table}")) for table, key in NATURAL_KEYS.items()}
            tables = {table: _rows(conn, table, names) for table in TABLES}
        finally:
            conn.close()
        keys = zf.keys
    return {"metadata": metadata, "tables": tables, "blobs": keys}


def _rows(conn: sqlite3.Connection, table: str, names: dict[str, dict]) -> list[dict]:
    """Every row without its pk, references as natural keys, in an order of their own."""
    cols = TABLES[table]
    targets = {column: target for t, column, target, _ in FOREIGN_KEYS if t == table}
    rows = []
    for row in conn.execute(f"SELECT {', '.join(c.name for c in cols)} FROM {table}"):
        values = {}
        for col, value in zip(cols, row):
            if col.name == "id":
                continue
            if col.name in targets and value is not None:
                value = names[targets[col.name]].get(value, f"<missing {targets[col.name]} {value}>")
            elif col.kind == "json" and value is not None:
                value = json.loads(value) if isinstance(value, str) else value  # exact: integers beyond 64 bits
            elif col.kind == "datetime" and value is not None:
                value = format_datetime(value)
            values[col.name] = value
        rows.append(values)
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
