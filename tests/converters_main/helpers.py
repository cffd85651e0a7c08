"""Small helpers of the main_XXXX tests: build archives, edit a main database, read rows."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from converters.main.reader import copy_blobs, extract_db, read_main_metadata
from converters.main.writer import write_main
from converters.main.zipread import MainZip
from tests.converters_main.builders import legacy_013, write_legacy


def legacy_archive(tmp: Path, name: str = "in.zip", fmt: str = "zip", **options) -> Path:
    metadata, data, files = legacy_013(**options)
    return write_legacy(tmp / name, metadata, data, files, fmt)


def edit_main(src: Path, dst: Path, *statements: str, metadata_changes: dict | None = None) -> Path:
    """A copy of a main archive with SQL applied to its database (a hand-made bad or rich input)."""
    with MainZip(src) as zf, tempfile.TemporaryDirectory() as tmp:
        metadata = read_main_metadata(zf) | (metadata_changes or {})
        db = extract_db(zf, Path(tmp) / "db.sqlite3")
        conn = sqlite3.connect(db)
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.close()
        write_main(dst, metadata, db, copy_blobs(zf))
    return dst


def rows(path: Path, query: str) -> list[tuple]:
    with MainZip(path) as zf, tempfile.TemporaryDirectory() as tmp:
        db = extract_db(zf, Path(tmp) / "db.sqlite3")
        conn = sqlite3.connect(db)
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()
