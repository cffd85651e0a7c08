"""db.sqlite3 carries no trace of the machine's SQLite library (review D, F7).

SQLite writes the version of the library that last wrote a file into its header (bytes 96-99),
and Python links the system's libsqlite3, which the install cannot pin; so two machines gave
two archives for the same input.  ``writer.pin_header`` fixes those fields.
"""

from __future__ import annotations

import sqlite3
import struct
import zipfile

from converters.main import convert
from converters.main.writer import HEADER_SQLITE_VERSION
from tests.converters_main.helpers import legacy_archive


def test_the_header_names_a_fixed_writer_and_sqlite_still_trusts_it(tmp_path):
    out = tmp_path / "out.aiida"
    convert(legacy_archive(tmp_path), out)
    with zipfile.ZipFile(out) as zf:
        db = zf.read("db.sqlite3")
    change_counter, pages = struct.unpack(">II", db[24:32])
    valid_for, version = struct.unpack(">II", db[92:100])
    running = sqlite3.sqlite_version_info
    assert version == HEADER_SQLITE_VERSION != running[0] * 1_000_000 + running[1] * 1_000 + running[2]
    assert valid_for == change_counter  # so SQLite trusts the page count of the header
    page_size = int.from_bytes(db[16:18], "big")
    assert pages * page_size == len(db)
    (tmp_path / "db.sqlite3").write_bytes(db)
    with sqlite3.connect(f"file:{tmp_path / 'db.sqlite3'}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT count(*) FROM db_dbnode").fetchone()[0] > 0
