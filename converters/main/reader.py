"""Read a main_XXXX archive: metadata, the database (extracted to a work file) and blobs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from converters.containers import OutMember
from converters.errors import BadInputError
from converters.jsonio import read_json
from converters.main.problems import ProblemLog
from converters.main.schema import DB_NAME, MAIN_REVISIONS, META_NAME, REPO_PREFIX
from converters.main.zipread import MainZip


def read_main_metadata(zf: MainZip) -> dict:
    if not zf.has(META_NAME):
        raise BadInputError(zf.path, "missing metadata.json (not an AiiDA archive)")
    metadata = read_json(zf.path, META_NAME, zf.read_bytes(META_NAME))
    if not isinstance(metadata, dict):
        raise BadInputError(zf.path, "metadata.json is not a JSON object", META_NAME)
    version = metadata.get("export_version")
    if version not in MAIN_REVISIONS:
        raise BadInputError(zf.path, f"not a main_XXXX archive (export_version {version!r})", META_NAME)
    return metadata


def extract_db(zf: MainZip, target: Path) -> Path:
    if not zf.has(DB_NAME):
        raise BadInputError(zf.path, "missing db.sqlite3", DB_NAME)
    zf.extract_to(DB_NAME, target)
    try:
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        conn.execute("PRAGMA quick_check").fetchone()
        conn.close()
    except sqlite3.DatabaseError as exc:
        raise BadInputError(zf.path, f"db.sqlite3 is not a valid SQLite database ({exc})", DB_NAME) from None
    return target


def read_db_revision(db: Path) -> str | None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    except sqlite3.OperationalError:
        return None  # archives from `verdi archive create` carry no alembic_version
    finally:
        conn.close()


def stage_main(path: Path, workdir: Path, strict: bool = False, archive: Archive | None = None):
    """A main archive as a ``Staged`` work item: its db extracted, its blobs re-emitted as they are.

    ``archive``: the file already opened by the caller."""
    from converters.main.legacy_to_main import Staged

    zf = MainZip(path, archive=archive)
    metadata = read_main_metadata(zf)
    db = extract_db(zf, workdir / "input.sqlite3")
    staged = Staged(db, metadata, ProblemLog(zf.path, strict))
    staged.emit_blobs = lambda: copy_blobs(zf)
    staged.source = zf  # type: ignore[attr-defined]
    return staged


def copy_blobs(zf: MainZip) -> Iterator[OutMember]:
    for key in zf.keys:
        name = REPO_PREFIX + key
        yield OutMember(name, size=zf.size(name), chunks=zf.chunks(name))


def iter_rows(db: Path, table: str, columns: str = "*") -> Iterator[sqlite3.Row]:
    """Rows of one table in id order, fetched in batches (bounded memory)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        cursor = conn.execute(f"SELECT {columns} FROM {table} ORDER BY id")
        while rows := cursor.fetchmany(2000):
            yield from rows
    finally:
        conn.close()
