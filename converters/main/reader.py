"""Read a main_XXXX archive: metadata, the database (extracted to a work file) and blobs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from converters.containers import Archive, OutMember
from converters.errors import BadInputError
from converters.jsonio import read_json
from converters.main.problems import ProblemLog
from converters.main.schema import DB_NAME, MAIN_REVISIONS, META_NAME, REPO_PREFIX, TABLES
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


def extract_db(zf: MainZip, target: Path, check: bool = True) -> Path:
    """db.sqlite3 copied to ``target``; refused if it is no SQLite database, or (``check``)
    if ``PRAGMA quick_check`` finds damage (``validate`` reports that as a problem instead)."""
    if not zf.has(DB_NAME):
        raise BadInputError(zf.path, "missing db.sqlite3", DB_NAME)
    zf.extract_to(DB_NAME, target)
    damage = quick_check(zf.path, target) if check else ""  # without: the caller runs it itself
    if damage:
        raise BadInputError(zf.path, damage, DB_NAME)
    return target


def quick_check(file: object, db: Path) -> str:
    """What ``PRAGMA quick_check`` (then ``unusable_schema``) finds wrong with the database ('' when nothing).

    A damaged page is often only met by the query that reads it, deep in a
    step; checked here, before any step runs, every command says the same.
    About 0.1-0.3 s on a 100 MB database (200,000 nodes): every page is read once;
    ``integrity_check``, which also compares each index with its table, costs
    ten times that."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        conn.text_factory = lambda raw: raw.decode("utf-8", "replace")  # its report quotes damaged bytes
        try:
            rows = conn.execute("PRAGMA quick_check(5)").fetchall()
            unusable = "" if any(text != "ok" for (text,) in rows) else unusable_schema(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BadInputError(file, f"db.sqlite3 is not a valid SQLite database ({exc})", DB_NAME) from None
    except UnicodeDecodeError as exc:  # sqlite3 decodes a schema error's message, quoting the schema, as UTF-8
        return f"damaged SQLite database (its schema is not UTF-8 text: {bytes(exc.object[:100]).decode('utf-8', 'replace')})"
    found = [line for (text,) in rows if text != "ok" for line in str(text).splitlines() if not line.startswith("***")]
    return f"damaged SQLite database (PRAGMA quick_check: {'; '.join(found)})" if found else unusable


def unusable_schema(conn: sqlite3.Connection) -> str:
    """What makes a sound database unusable as an archive's ('' when nothing), found before any
    step runs, so that validate reports what a migration would stop at:

    - text stored as UTF-16: aiida-core writes UTF-8, and SQLite attaches (as the canonical copy
      does) only databases of one encoding;
    - a table SQLite cannot open, such as a virtual table of a module it does not have: every
      statement that names it fails."""
    (encoding,) = conn.execute("PRAGMA encoding").fetchone()
    if encoding != "UTF-8":
        return f"db.sqlite3 stores its text as {encoding}; an archive's database is UTF-8"
    names = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    for name in names:
        try:
            conn.execute(f'SELECT * FROM "{name.replace(chr(34), chr(34) * 2)}" LIMIT 0')  # a name from the input: quoted
        except sqlite3.OperationalError as exc:
            return f"table {name!r} cannot be read ({exc})"
    return ""


# SQLite's primary result codes for a damaged file: SQLITE_CORRUPT, SQLITE_NOTADB
_DAMAGED = {11, 26}


@contextmanager
def input_db_errors(file: object) -> Iterator[None]:
    """Damage met while reading an input database (what quick_check did not see) becomes an
    error naming the archive and db.sqlite3; other SQLite errors (a full disk) stay what they are."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if type(exc) is not sqlite3.DatabaseError and (code is None or code & 0xFF not in _DAMAGED):
            raise
        raise BadInputError(file, f"db.sqlite3 is not a valid SQLite database ({exc})", DB_NAME) from None


def find_schema_gaps(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """``(where, what)`` for each table and column of the main schema that the database lacks.

    Extra tables and columns are not gaps (``verdi archive create`` adds
    ``db_dbsetting``); ``alembic_version`` is optional for the same reason."""
    gaps = []
    for table, cols in TABLES.items():
        found = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if not found:
            gaps.append((table, "table missing"))
            continue
        gaps += [(f"{table}.{col.name}", "column missing") for col in cols if col.name not in found]
    return gaps


def check_schema(file: object, db: Path) -> None:
    """Refuse, before any step reads a row, a database without the tables and columns of the main schema."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        gaps = find_schema_gaps(conn)
    finally:
        conn.close()
    if gaps:
        where, what = gaps[0]
        more = f" (and {len(gaps) - 1} more)" if len(gaps) > 1 else ""
        raise BadInputError(file, f"{where}: {what}{more}; not the schema of a main_XXXX archive", DB_NAME)


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
    staged = Staged(db, metadata, ProblemLog(zf.path, strict), input_revision=metadata["export_version"])
    with input_db_errors(zf.path):
        check_schema(zf.path, db)
        drop_triggers(db, staged.log)

    def emit_blobs() -> Iterator[OutMember]:
        check_blobs_present(zf, staged.db)  # runs when called, before the writer starts
        return copy_blobs(zf)

    staged.emit_blobs = emit_blobs
    staged.source = zf  # type: ignore[attr-defined]
    return staged


def drop_triggers(db: Path, log: ProblemLog) -> None:
    """Remove the input's triggers from the work copy before any step runs SQL on it.

    AiiDA's schema has none; one in an input would run its own SQL each time a
    revision step updates a row (and change what is written).  The output is a
    fresh canonical copy, which never carries them anyway."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")]
        for name in names:
            conn.execute(f'DROP TRIGGER "{name.replace(chr(34), chr(34) * 2)}"')  # a name from the input: quoted
    finally:
        conn.close()
    if names:
        log.add("warning", "trigger-dropped", DB_NAME, f"{len(names)} trigger(s) not run and not copied: {', '.join(map(repr, names[:5]))}")


def copy_blobs(zf: MainZip) -> Iterator[OutMember]:
    """Every blob as it is; ``zf.chunks`` re-hashes each one on the way (``MainZip.chunks``)."""
    for key in zf.keys:
        name = REPO_PREFIX + key
        yield OutMember(name, size=zf.size(name), chunks=zf.chunks(name))


# the blob keys of every node's repository tree: the "k" members that are not objects (a file
# named "k" is an object under "o"); json_tree walks them in C, one pass over that column
_REFERENCED_KEYS = (
    "SELECT n.id, j.value FROM db_dbnode n, json_tree(n.repository_metadata) j"
    " WHERE j.key = 'k' AND j.type <> 'object' ORDER BY n.id"
)


def check_blobs_present(zf: MainZip, db: Path) -> None:
    """Refuse a main archive whose nodes refer to a blob that is not in ``repo/``.

    A main output copies the blobs as they are, so nothing else would notice
    one missing: the output would be an archive no reader can use."""
    keys = set(zf.keys)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for pk, key in conn.execute(_REFERENCED_KEYS):
            if key not in keys:
                raise BadInputError(zf.path, f"db_dbnode[{pk}].repository_metadata: a file refers to blob {key!r}, which is not in the archive", REPO_PREFIX + str(key))
    except sqlite3.OperationalError as exc:  # "malformed JSON" from json_tree: find the row to name
        (pk,) = conn.execute("SELECT id FROM db_dbnode WHERE NOT json_valid(repository_metadata) ORDER BY id").fetchone() or ("?",)
        raise BadInputError(zf.path, f"db_dbnode[{pk}].repository_metadata: cannot be read ({exc})", DB_NAME) from None
    finally:
        conn.close()


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


def read_batched(conn: sqlite3.Connection, query: str, file: str) -> Iterator[tuple]:
    """The rows of ``query``, 2,000 at a time; a stored value that cannot be read is bad input."""
    cursor = conn.execute(query)
    while True:
        try:
            rows = cursor.fetchmany(2000)
        except sqlite3.OperationalError as exc:  # "Could not decode to UTF-8 column ...": a value, not our SQL
            raise BadInputError(file, f"cannot be read: {exc}", DB_NAME) from None
        if not rows:
            return
        yield from rows
