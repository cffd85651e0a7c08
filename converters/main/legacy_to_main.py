"""0.13 -> main_0000: the legacy JSON archive into SQLite and a content-addressed repository.

What aiida-core's ``legacy_to_main.py`` does (format reference 2.4), done in
bounded memory and deterministically:

1. Repository, pass 1: every ``nodes/aa/bb/rest/(raw_input|path)/<rel>``
   member is hashed (sha256) and recorded as (node uuid, path, key);
   ``raw_input/`` and ``path/`` merge into one tree.  Nothing is written yet.
2. ``data.json`` is read in one pass, row by row (``converters.jsonrows``),
   into a staging SQLite file whose columns all accept null;
   attributes, extras, links and group members go to staging tables.
   The reader is as strict as the legacy stream (``legacy_stream.checked_outline``:
   duplicate keys, lone surrogates; integers beyond 64 bits are kept exactly), and what a row
   needs is checked where the row is built: a section of the wrong container,
   a text column given a number, a pk reference that is not an integer, an
   attributes row that is not an object is refused with its JSON path,
   never stored as garbage nor dropped without a word.
3. Links and group members are resolved by uuid with SQL joins; the ones
   naming unknown nodes are reported (aiida-core aborts on the first dangling
   link and drops unknown members with a log line), or raise with strict.
4. Each node's ``repository_metadata`` tree is built from its sorted paths.
5. Repository, pass 2 (when writing): each distinct blob is streamed once
   from its first member into ``repo/<sha256>``, re-hashed on the way, in the
   order of the smallest member name holding it, whatever the container: zip
   and folder inputs are read again in name order; a tar's blobs were kept
   in pass 1 (``converters.main.blobspool``), as a stream has its own order.

Nulls in columns that main_0000 requires are filled here (see
``revisions.fill_nulls``), never with now(): times take the Unix epoch; a
null computer, group or link label becomes '' (``revisions.fill_null_labels``), each
reported.  A row the output still refuses (a null node type, a label twice)
is named by its place in data.json (``legacy_row_name``), not by the work file.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
import sqlite3
from contextlib import closing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from converters import progress
from converters.containers import Archive, OutMember
from converters.errors import BadInputError, WriteError
from converters.main import rowsink
from converters.main.blobspool import BlobSpool, read_spooled
from converters.main.jsonvalue import MAX_DEPTH, JsonValueError, check_depth
from converters.main.problems import ProblemLog
from converters.main.schema import TABLES, column_names, format_datetime, is_nullable
from converters.main.writer import connect
from converters.jsonio import dumps as dump_bytes
from converters.jsonio import json_kind
from converters.legacy_stream import checked_outline
from converters.streaming import ENTITIES
from converters.validate import DATE
from converters.workdirs import sqlite_failure

Put = Callable[[str, str, list], None]  # (what the rows are, SQL, rows): rowsink stores them

# legacy entity -> (table, legacy field -> column) ; fields not listed keep their name
ENTITY_TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "User": ("db_dbuser", {}),
    "Computer": ("db_dbcomputer", {}),
    "Group": ("db_dbgroup", {"user": "user_id"}),
    "Node": ("db_dbnode", {"dbcomputer": "dbcomputer_id", "user": "user_id"}),
    "Log": ("db_dblog", {"dbnode": "dbnode_id"}),
    "Comment": ("db_dbcomment", {"dbnode": "dbnode_id", "user": "user_id"}),
}
STAGING_TABLES = (
    "CREATE TABLE _attributes (id INTEGER PRIMARY KEY, value JSON)",
    "CREATE TABLE _extras (id INTEGER PRIMARY KEY, value JSON)",
    "CREATE TABLE _links (seq INTEGER PRIMARY KEY, input TEXT, output TEXT, label TEXT, type TEXT)",
    "CREATE TABLE _members (seq INTEGER PRIMARY KEY, group_uuid TEXT, node_uuid TEXT)",
    # origin: 0 for raw_input/, 1 for path/ (path/ is read last: its copy of a name is kept)
    "CREATE TABLE _repo (uuid TEXT, path TEXT, key TEXT, origin INTEGER)",
    "CREATE TABLE _repo_meta (uuid TEXT PRIMARY KEY, value JSON)",
    # in its own small file, so the staging database can go before the zip is written
    # seq: the member's place among the repository files, the same in both passes; member: the
    # smallest name holding the key (the order of repo/ in the output); at, packed: where a tar's
    # blob is kept (``blobspool``), null for zip and folder inputs, which are read again
    "CREATE TABLE blobs._blob_first (seq INTEGER PRIMARY KEY, member TEXT, key TEXT UNIQUE, size INTEGER,"
    " at INTEGER, packed INTEGER)",
)
BATCH = 2000
# {"o": {name: {"o": ...}}}: two levels a path segment, and the tree itself; deeper paths would make a
# repository_metadata that validate refuses (converters.main.jsonvalue.MAX_DEPTH).
MAX_REPO_LEVELS = (MAX_DEPTH - 1) // 2


def dumps(value: object) -> str:
    """JSON text of a column: orjson's; the rare value it refuses (an integer beyond 64 bits) goes
    to ``jsonio.dumps``, which writes it exactly (and refuses anything else orjson refuses)."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError:
        return dump_bytes(value).decode("utf-8")


@dataclass
class Staged:
    """A main archive in the making: a staging database, metadata and how to emit the blobs."""

    db: Path
    metadata: dict
    log: ProblemLog
    emit_blobs: object = None  # () -> Iterator[OutMember]
    selects: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    allow_loss: bool = False
    # (staging connection, table, id, columns) -> where the input holds that row, for an error
    # line; None: the input is a database too, and the row is named as validate_main names it
    name_row: Callable[[sqlite3.Connection, str, int, list[str]], str] | None = None
    member: str = "db.sqlite3"  # the member of the input the rows come from
    # the rows were written from parsed legacy values: datetimes formatted and JSON dumped on the way in
    parsed: bool = False
    # a main input's own revision (stage_main), whose NOT NULL its rows answer to; the steps
    # stamp metadata["export_version"] as they go, so the way down to legacy needs it kept
    input_revision: str = ""
    # node pk -> tree paths of its files whose names a legacy archive cannot hold: found by
    # main_to_legacy.find_losses, left out when the way down writes (--allow-loss)
    unholdable: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return str(self.log.file)

    def where(self, conn: sqlite3.Connection, table: str, pk: int, columns: list[str]) -> str:
        """A row of the staging database as an error line names it: where the input holds it."""
        return self.name_row(conn, table, pk, columns) if self.name_row else f"{table}[{pk}].{'/'.join(columns)}"


def index_uuids(conn: sqlite3.Connection, log: ProblemLog) -> None:
    """The uuid indexes the link and member joins use, built once after the rows are in.

    Why not at table creation: keeping a unique index ordered through 200,000
    inserts cost more than sorting once; a duplicate uuid fails here instead.
    """
    for name, table in (("_node_uuid", "db_dbnode"), ("_group_uuid", "db_dbgroup")):
        try:
            conn.execute(f"CREATE UNIQUE INDEX {name} ON {table} (uuid)")
        except sqlite3.IntegrityError as exc:
            raise BadInputError(log.file, f"$.export_data: {table}: {exc} (duplicate uuid)", "data.json") from None


def blob_plan_path(staging: Path) -> Path:
    return staging.with_name("blobs.sqlite3")


def blob_spool_path(staging: Path) -> Path:
    return staging.with_name("blobs.spool")


def create_staging_db(path: Path) -> sqlite3.Connection:
    """Every main table with every column nullable, plus the staging tables."""
    conn = connect(path)
    conn.execute("ATTACH DATABASE ? AS blobs", (str(blob_plan_path(path)),))
    for table, cols in TABLES.items():
        conn.execute(f"CREATE TABLE {table} ({', '.join(c.name + (' INTEGER PRIMARY KEY' if c.name == 'id' else '') for c in cols)})")
    for statement in STAGING_TABLES:
        conn.execute(statement)
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    return conn


# ---------------------------------------------------------------- data.json sources
def data_json_opener(archive: Archive):
    """Re-openable stream of data.json: a zip member, a folder file, or a tar's spooled copy."""
    return lambda: archive.open_member("data.json")


# ---------------------------------------------------------------- repository, pass 1
_ORIGINS = ("raw_input", "path")


def _node_path(name: str) -> tuple[str, str, int] | None:
    """``nodes/aa/bb/rest/path/x/y`` -> (uuid, "x/y", origin); None for anything else."""
    parts = name.split("/")
    if len(parts) < 5 or parts[0] != "nodes" or parts[4] not in _ORIGINS:
        return None
    return parts[1] + parts[2] + parts[3], "/".join(parts[5:]), _ORIGINS.index(parts[4])


def stage_repository(archive: Archive, conn: sqlite3.Connection, spool: BlobSpool | None = None) -> None:
    """Hash every repository file; remember each key's first member for pass 2 (and keep
    each distinct blob in ``spool``, for a tar input)."""
    rows: list[tuple[str, str, str | None, int]] = []
    firsts: list[tuple[int, str, str, int, int | None, int]] = []
    conn.execute("BEGIN")
    for seq, (member, chunks) in enumerate(archive.iter_members()):
        found = _node_path(member.name)
        if found is None:
            continue
        uuid, rel, origin = found
        if chunks is None:
            if rel:
                rows.append((uuid, rel, None, origin))
            continue
        key, size, at, packed = _hash(chunks) if spool is None else spool.add(chunks)
        rows.append((uuid, rel, key, origin))
        firsts.append((seq, member.name, key, size, at, packed))
        if len(rows) >= BATCH:
            _stage_paths(conn, rows, firsts)
    _stage_paths(conn, rows, firsts)
    conn.execute("COMMIT")


def _hash(chunks: Iterable[bytes]) -> tuple[str, int, None, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size, None, 0


def _stage_paths(conn: sqlite3.Connection, rows: list, firsts: list) -> None:
    conn.executemany("INSERT INTO _repo VALUES (?, ?, ?, ?)", rows)
    # the smallest member name of a key is its place in the output; the blob kept is the first one
    conn.executemany(
        "INSERT INTO _blob_first VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET member = excluded.member WHERE excluded.member < member",
        firsts,
    )
    rows.clear()
    firsts.clear()


def emit_blobs(archive: Archive, plan: Path, spool: Path | None = None) -> Iterator[OutMember]:
    """Pass 2: each distinct blob from its first member, re-hashed while copied, in the order
    of the smallest member name holding it (the same for every container).

    Zip and folder members come in name order, the same as in pass 1, so the
    plan is read in ``seq`` order alongside them (a merge, not a query per
    member).  A tar's blobs come from ``spool``, in name order.
    """
    if spool is not None:
        yield from _spooled_blobs(plan, spool)
        return
    conn = sqlite3.connect(plan)
    try:
        wanted = conn.execute("SELECT seq, member, key, size FROM _blob_first ORDER BY seq")
        upcoming = wanted.fetchone()
        for seq, (member, chunks) in enumerate(archive.iter_members()):
            if chunks is None:
                continue
            if upcoming is None or upcoming[0] != seq:
                for _ in chunks:  # tar streams must be read through
                    pass
                continue
            if upcoming[1] != member.name:
                raise BadInputError(archive.path, f"member order changed between two reads (expected {upcoming[1]!r})", member.name)
            key, size = upcoming[2], upcoming[3]
            upcoming = wanted.fetchone()
            yield OutMember(f"repo/{key}", size=size, chunks=_verified(archive, member.name, chunks, key))
    finally:
        conn.close()


def _spooled_blobs(plan: Path, spool: Path) -> Iterator[OutMember]:
    conn = sqlite3.connect(plan)
    try:
        for key, size, at, packed in conn.execute("SELECT key, size, at, packed FROM _blob_first ORDER BY member"):
            yield OutMember(f"repo/{key}", size=size, chunks=read_spooled(spool, at, packed))
    finally:
        conn.close()


def _verified(archive: Archive, name: str, chunks: Iterator[bytes], key: str) -> Iterator[bytes]:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != key:
        raise BadInputError(archive.path, "member changed while being read", name)


def build_repository_metadata(conn: sqlite3.Connection, log: ProblemLog) -> None:
    """One JSON tree per node: {"o": {name: child}}, {} for an empty dir, {"k": key} for a file.

    ``raw_input/`` and ``path/`` merge into one tree, so the two can disagree: the same name
    with other bytes (``path/``'s copy is kept), or a file where the other holds a folder
    (the folder is kept, unless it is empty).  Each is an error of the problem log (reported,
    or refused with ``--strict``), never a silent choice; a blob that no kept file refers to
    is not written."""
    batch: list[tuple[str, str]] = []
    lost: Counter[str] = Counter()  # blob key -> references a conflict took away
    # folder entries that met a file: reported once the node's tree is complete, unless a path
    # inside the folder took the file's place meanwhile (that conflict is reported itself)
    unmade: list[tuple[str, str, str]] = []  # (where, reason, path in the tree)
    # folders of no node: every file of theirs is left out (counted whole, below, not per conflict)
    orphans = [uuid for (uuid,) in conn.execute(f"SELECT DISTINCT uuid FROM _repo WHERE {_NO_NODE} ORDER BY uuid")]
    unknown = set(orphans)
    lost_here = lost  # where this node's conflicts count: nowhere for an orphan's
    current, tree = None, {}
    conn.execute("BEGIN")
    for uuid, path, key, origin in _rows(conn):
        if uuid != current:
            if current is not None:
                batch.append((current, dumps(tree)))
                _report_unmade(log, tree, unmade)
            current, tree = uuid, {}
            lost_here = Counter() if uuid in unknown else lost
        parts = path.split("/")
        if len(parts) > MAX_REPO_LEVELS:
            log.add("error", "repository-too-deep", f"{_node_folder(uuid)}/{_ORIGINS[origin]}/{path}",
                    f"{len(parts)} levels deep: repository_metadata nests two levels a folder, and a JSON value "
                    f"holds at most {MAX_DEPTH}; the {'file' if key else 'folder'} is left out")
            lost_here.update([key] if key else [])
            continue
        conflict = _insert_path(tree, parts, key)
        if conflict is not None:
            reason, lost_key = conflict
            where = f"{_node_folder(uuid)}/{_ORIGINS[origin]}/{path}"
            if key is None:
                unmade.append((where, reason, path))
            else:
                log.add("error", "repository-conflict", where, reason)
            lost_here.update([lost_key] if lost_key else [])
        if len(batch) >= BATCH:
            conn.executemany("INSERT INTO _repo_meta VALUES (?, ?)", batch)
            batch.clear()
    if current is not None:
        batch.append((current, dumps(tree)))
        _report_unmade(log, tree, unmade)
    conn.executemany("INSERT INTO _repo_meta VALUES (?, ?)", batch)
    lost.update(_orphan_places(conn))  # a blob only an unknown node's folder held is not written either
    if lost:
        _forget_unreferenced_blobs(conn, lost)
    conn.execute("COMMIT")
    for uuid in orphans:
        log.add("warning", "repository-without-node", _node_folder(uuid), "repository folder of an unknown node, left out")


_NO_NODE = "uuid NOT IN (SELECT uuid FROM db_dbnode WHERE uuid IS NOT NULL)"  # a repository folder of no node


def _orphan_places(conn: sqlite3.Connection) -> Counter[str]:
    """Each blob key's places (files) in the folders of no node, which the output leaves out:
    one grouped scan (``_repo`` has no index on uuid: a query per folder would scan it each time)."""
    query = f"SELECT key, COUNT(DISTINCT uuid || '/' || path) FROM _repo WHERE key IS NOT NULL AND {_NO_NODE} GROUP BY key"
    return Counter(dict(conn.execute(query)))


def _report_unmade(log: ProblemLog, tree: dict, unmade: list[tuple[str, str, str]]) -> None:
    for where, reason, path in unmade:
        node = tree
        for part in path.split("/"):
            node = node.get("o", {}).get(part, {})
        if "k" in node:  # still a file: the folder entry was left out
            log.add("error", "repository-conflict", where, reason)
    unmade.clear()


def _node_folder(uuid: str) -> str:
    return f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}"


def _rows(conn: sqlite3.Connection) -> Iterator[tuple[str, str, str | None, int]]:
    """The staged paths in (uuid, path, origin) order, read through a second cursor so writes
    can interleave."""
    cursor = conn.cursor()
    cursor.execute("SELECT uuid, path, key, origin FROM _repo ORDER BY uuid, path, origin")
    while rows := cursor.fetchmany(BATCH):
        yield from rows


def _insert_path(tree: dict, parts: list[str], key: str | None) -> tuple[str, str | None] | None:
    """Put one path (a file when ``key`` is given) in the tree.  On a clash with what is there:
    the reason, and the blob key that lost its place (None when no file was left out).  Paths
    come sorted, so a file ``x`` always arrives before anything inside a folder ``x``."""
    node, conflict = tree, None
    for depth, part in enumerate(parts[:-1]):
        children = node.setdefault("o", {})
        there = children.get(part, {})
        if "k" in there:  # a file where this path needs a folder: the folder wins
            conflict = (f"{'/'.join(parts[: depth + 1])} is a file in one copy and a folder in the other; "
                        "the file is left out", there["k"])
            children[part] = {}
        node = children.setdefault(part, {})
    children, leaf = node.setdefault("o", {}), parts[-1]
    there = children.get(leaf)
    if there is None or (key is not None and there.get("k") == key) or (key is None and "k" not in there):
        children[leaf] = {"k": key} if key is not None else there or {}
        return conflict
    if key is None:  # an empty folder entry where the other copy has a file: the file stays
        return conflict or ("a folder in one copy and a file in the other; the empty folder is left out", None)
    if "k" in there:  # the same name with other bytes: path/ (read last) wins
        children[leaf] = {"k": key}
        return conflict or ("raw_input/ and path/ hold other bytes under this name; path/'s copy is kept", there["k"])
    if there.get("o"):
        return conflict or ("a file in one copy and a folder in the other; the file is left out", key)
    children[leaf] = {"k": key}  # an empty folder entry gives way to a file of the same name
    return conflict or ("a file in one copy and an empty folder in the other; the folder is left out", None)


def _forget_unreferenced_blobs(conn: sqlite3.Connection, lost: Counter[str]) -> None:
    """Drop from the blob plan each key whose every place a conflict took away (a blob shared
    with any kept file stays)."""
    keys = sorted(lost)
    for start in range(0, len(keys), 500):  # SQLite's bound on variables per statement
        chunk = keys[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        places = conn.execute(f"SELECT key, COUNT(DISTINCT uuid || '/' || path) FROM _repo WHERE key IN ({marks})"
                              " GROUP BY key", chunk).fetchall()  # fmt: skip
        for key, count in places:
            if count <= lost[key]:
                conn.execute("DELETE FROM blobs._blob_first WHERE key = ?", (key,))


# ---------------------------------------------------------------- data.json
def _identity(section: str, batch):
    return batch


# the sections whose rows are staged; any other section of data.json is read past, a batch at a time
ROW_SECTIONS = frozenset({f"export_data.{e}" for e in ENTITIES} | {"node_attributes", "node_extras", "links_uuid", "groups_uuid"})
_STAGED = {tuple(s.split(".")): s for s in ROW_SECTIONS}
# staged into tables keyed by pk: SQLite refuses a pk repeated in a later batch ("duplicate pk")
ENTITY_SECTIONS = frozenset(("export_data", e) for e in ENTITIES)
_SQLITE_INT = (-(2**63), 2**63 - 1)


def stage_data_json(
    opener, conn: sqlite3.Connection, log: ProblemLog, transform=_identity, db: Path | None = None, size: int = 0
) -> None:
    """Every row of data.json into the staging tables, in one pass (``converters.jsonrows``), as
    strict as the legacy stream (``legacy_stream.checked_outline``): a duplicate key or a lone
    surrogate is refused with its place."""
    outline = checked_outline(str(log.file), opener, BATCH, keys_checked_elsewhere=ENTITY_SECTIONS)
    batches = staged_sections(outline)
    stage_batches(((s, transform(s, b)) for s, b in batches), conn, log, db, size)


def staged_sections(events: Iterable[tuple]) -> Iterator[tuple[str, Any]]:
    """``(section, batch)`` of the staged sections from outline events (``checked_outline``, or
    ``legacy_stream.migrated_events`` which reads through it: a section of the wrong shape,
    which the stagers would read past, is refused there)."""
    for event in events:
        if event[0] == "rows":
            section = _STAGED.get(event[1])
            if section is not None:
                yield section, event[2]


def stage_batches(
    batches: Iterable[tuple[str, Any]], conn: sqlite3.Connection, log: ProblemLog, db: Path | None = None, size: int = 0
) -> None:
    """Batches of rows ``(section, dict or list)`` into the staging tables; sections in any order.

    The rows are built here and stored by ``rowsink``: for a data.json of ``size``
    bytes or more, by a second process writing ``db`` (the file of ``conn``)."""
    links = 0  # links staged so far: where a batch's links sit in $.links_uuid
    try:
        with rowsink.sink(conn, db, size) as sink:
            for section, batch in batches:
                if section == "links_uuid":
                    _insert_links(sink.put, batch, log, links)
                    links += len(batch)
                elif section == "groups_uuid":
                    _insert_members(sink.put, batch, log)
                elif section in ("node_attributes", "node_extras"):
                    _insert_node_json(sink.put, section, batch, log)
                elif section in ROW_SECTIONS:
                    _insert_entities(sink.put, section.split(".")[1], batch, log)
    except rowsink.Refused as exc:
        raise BadInputError(log.file, f"{exc.tag}: {exc.reason} (duplicate pk)", "data.json") from None
    except rowsink.StoreFailed as exc:
        raise WriteError(db or log.file, sqlite_failure(str(exc)) or str(exc)) from None


def _pk(pk: object, section: str, log: ProblemLog) -> int:
    """A row's key as the integer pk it must be (ASCII digits: ``int`` would also take "٣" or " 3"),
    within SQLite's integers."""
    if not (isinstance(pk, str) and pk.isascii() and pk.isdigit()):
        raise BadInputError(log.file, f"{section}[{pk!r}]: not an integer pk", "data.json")
    if len(pk) > 18 and int(pk) > _SQLITE_INT[1]:
        raise BadInputError(log.file, f"{section}[{pk!r}]: pk out of the 64-bit range", "data.json")
    return int(pk)


def _insert_entities(put: Put, entity: str, batch: dict, log: ProblemLog) -> None:
    table, _ = ENTITY_TABLES[entity]
    make_row = _row_maker(entity)
    rows = [make_row(pk, fields, log) for pk, fields in batch.items()]
    if rows:
        put(f"$.export_data: {table}", f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)


@functools.cache  # one per entity for the whole run, so the slot cache lasts across batches
def _row_maker(entity: str):
    """``(pk, fields, log) -> row``: a row in column order, each field's slot and kind looked up once per name."""
    table, renames = ENTITY_TABLES[entity]
    cols = column_names(table)
    kinds = {c.name: c.kind for c in TABLES[table]}
    id_slot = cols.index("id")
    blank = _absent_row(table)
    slots: dict[str, tuple[int, str | None] | None] = {}
    low, high = _SQLITE_INT

    def slot(key: str) -> tuple[int, str | None] | None:
        """The field's column and kind (None for text, the common case: one test per value)."""
        column = renames.get(key, key)
        found = None if column not in kinds or column == "id" else (cols.index(column), _kind_of(kinds[column]))
        slots[key] = found
        return found

    def make_row(pk, fields, log: ProblemLog) -> list:
        if not isinstance(fields, dict):
            raise BadInputError(log.file, f"$.export_data.{entity}[{pk!r}]: not an entity row", "data.json")
        row: list = blank.copy()
        row[id_slot] = _pk(pk, f"$.export_data.{entity}", log)
        for key, value in fields.items():
            found = slots[key] if key in slots else slot(key)
            if found is None:
                where = f"$.export_data.{entity}[{pk!r}].{key}"
                log.add("warning", "unknown-field", where, "field main_XXXX has no column for, dropped")
                continue
            column, kind = found
            if kind is None:  # text: a string or null, stored as it is
                if value.__class__ is not str and value is not None:
                    raise _wrong_type(log, f"$.export_data.{entity}[{pk!r}].{key}", "a string", value)
            elif value is not None:
                if kind == "datetime":
                    value = _datetime(value, entity, pk, key, log)
                elif kind == "json":
                    if value.__class__ is int and not low <= value <= high:
                        raise _bare_big_integer(log, f"$.export_data.{entity}[{pk!r}].{key}", value)
                    value = _not_too_deep(dumps(value), value, f"$.export_data.{entity}[{pk!r}].{key}", log)
                elif value.__class__ is not int or not low <= value <= high:  # a pk reference
                    raise _wrong_type(log, f"$.export_data.{entity}[{pk!r}].{key}", "an integer pk", value)
            row[column] = value
        return row

    return make_row


def _absent_row(table: str) -> list:
    """A row before its fields are read: None in each column, except a JSON object column that
    main_0000 requires (a group's ``extras``, which versions before 0.10 and many writers leave
    out): a field the input does not have at all takes its default ``{}`` here, silently, as the
    version's shape; only a field that *is* null is replaced later and reported (``fill_nulls``)."""
    return [
        "{}" if col.kind == "json" and col.default == {} and not is_nullable(col, "main_0000") else None
        for col in TABLES[table]
    ]


def _kind_of(kind: str) -> str | None:
    return None if kind == "text" else kind


def _wrong_type(log: ProblemLog, where: str, wanted: str, value: object) -> BadInputError:
    """A value the column cannot hold: refused (stored, it would be garbage in the database)."""
    return BadInputError(log.file, f"{where}: {json_kind(value)} ({value!r:.60}) where {wanted} is expected", "data.json")


def _bare_big_integer(log: ProblemLog, where: str, value: int) -> BadInputError:
    """A JSON column that is one integer beyond SQLite's: the column's NUMERIC affinity would store
    its text as a float (aiida-core's writer too), so main_XXXX cannot hold it exactly.  Inside an
    object or a list (every value aiida-core writes there) it stays text, and exact."""
    return BadInputError(log.file, f"{where}: the integer {value} is the whole value, and SQLite stores a JSON "
                                   "column holding only an integer beyond 64 bits as a float (it would lose precision); "
                                   "main_XXXX cannot hold it", "data.json")


def _datetime(value: object, entity: str, pk: str, key: str, log: ProblemLog) -> str | None:
    """The stored form of a datetime; a bad one is reported and becomes null (its path is
    made only then: two f-strings per node cost more than every type check of a row).  One that
    is ISO 8601 but not a legacy date (``2020-01-01``, a space for the ``T``, seven digits of
    fraction, cut to six) is stored as read, with a warning: legacy ``validate`` refuses it."""
    try:
        stored = format_datetime(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        where = f"$.export_data.{entity}[{pk!r}].{key}"
        log.add("error", "bad-datetime", where, f"not a datetime: {value!r}; treated as null")
        return None
    # the common case, cheaply: only the separator changed (a slice compare, not a second regex)
    if stored is not None and not (value[10:11] == "T" and stored[11:] == value[11:] and stored[:10] == value[:10]):  # type: ignore[index]
        if not DATE.match(value):  # type: ignore[arg-type]
            where = f"$.export_data.{entity}[{pk!r}].{key}"
            log.add("warning", "datetime-form", where, f"{value!r} is not a legacy date (YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM]); read as {stored!r}")
    return stored


_OBJECT_OR_NULL = frozenset({dict, type(None)})
_STRING_OR_NULL = frozenset({str, type(None)})
LINK_FIELDS = ("input", "output", "label", "type")


def _only(values: Iterable, types: frozenset) -> bool:
    """Whether every value has one of ``types`` exactly: one C-level pass, no Python per value."""
    return set(map(type, values)) <= types


def _insert_node_json(put: Put, section: str, batch: dict, log: ProblemLog) -> None:
    table = "_attributes" if section == "node_attributes" else "_extras"
    if not _only(batch.values(), _OBJECT_OR_NULL):  # a node's attributes are a dict (null: reported later as {})
        pk, value = next((pk, v) for pk, v in batch.items() if type(v) not in _OBJECT_OR_NULL)
        raise _wrong_type(log, f"$.{section}[{pk!r}]", "an object", value)
    rows = [(_pk(pk, f"$.{section}", log), dumps(value) if value is not None else _null_entry(section, pk, log))
            for pk, value in batch.items()]
    texts = [text for _, text in rows]
    brackets = map(operator.add, map(str.count, texts, itertools.repeat("[")), map(str.count, texts, itertools.repeat("{")))
    for (pk, value), text, count in zip(batch.items(), texts, brackets):  # C-level counts; a walk only past MAX_DEPTH
        if count > MAX_DEPTH:
            _not_too_deep(text, value, f"$.{section}[{pk!r}]", log)
    put(f"$.{section}", f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", rows)


def _not_too_deep(text: str, value: object, where: str, log: ProblemLog) -> str:
    """``text`` (the column's JSON), unless ``value`` nests more than MAX_DEPTH levels: refused, as
    the main archive's ``validate`` refuses it and the way down cannot write it (orjson writes 254
    levels from the top of data.json, where such a column sits up to four levels down)."""
    try:
        check_depth(text, value)
    except JsonValueError as exc:
        raise BadInputError(log.file, f"{where}: {exc}; main_XXXX cannot hold it", "data.json") from None
    return text


def _null_entry(section: str, pk: str, log: ProblemLog) -> str:
    """A node's null attributes or extras, stored as ``{}``: main_XXXX holds them as an object (its
    validate refuses 'null'), and an empty one is what a node without any has; said, not silent."""
    log.add("warning", f"null-{section}", f"$.{section}[{pk!r}]", "null; stored as {}")
    return "{}"


def _insert_links(put: Put, links: list, log: ProblemLog, offset: int = 0) -> None:
    """``offset``: the index of the batch's first link in ``$.links_uuid``, to name a bad one."""
    try:
        rows = [(link.get("input"), link.get("output"), link.get("label"), link.get("type")) for link in links]
    except AttributeError:
        bad = next(link for link in links if not isinstance(link, dict))
        raise BadInputError(log.file, f"$.links_uuid: a link that is not an object: {bad!r:.80}", "data.json") from None
    if not _only(itertools.chain.from_iterable(rows), _STRING_OR_NULL):
        index, field, value = next(
            (i, f, v) for i, row in enumerate(rows) for f, v in zip(LINK_FIELDS, row) if type(v) not in _STRING_OR_NULL
        )
        raise _wrong_type(log, f"$.links_uuid[{offset + index}].{field}", "a string", value)
    put("$.links_uuid", "INSERT INTO _links (input, output, label, type) VALUES (?, ?, ?, ?)", rows)


def _insert_members(put: Put, groups: dict, log: ProblemLog) -> None:
    for group_uuid, node_uuids in groups.items():  # a group at a time: one group may hold every node
        if not isinstance(node_uuids, list | None):
            raise BadInputError(log.file, f"$.groups_uuid[{group_uuid!r}]: not a list of node uuids", "data.json")
        if node_uuids and not _only(node_uuids, _STRING_OR_NULL):
            index = next(i for i, n in enumerate(node_uuids) if type(n) not in _STRING_OR_NULL)
            raise _wrong_type(log, f"$.groups_uuid[{group_uuid!r}][{index}]", "a node uuid", node_uuids[index])
        rows = [(group_uuid, n) for n in (node_uuids or [])]
        put("$.groups_uuid", "INSERT INTO _members (group_uuid, node_uuid) VALUES (?, ?)", rows)


def resolve_links_and_members(conn: sqlite3.Connection, log: ProblemLog) -> None:
    """Links and group members by uuid; the unknown ones are reported and left out."""
    for seq, inp, out in conn.execute(
        "SELECT l.seq, l.input, l.output FROM _links l"
        " LEFT JOIN db_dbnode i ON i.uuid = l.input LEFT JOIN db_dbnode o ON o.uuid = l.output"
        " WHERE i.id IS NULL OR o.id IS NULL ORDER BY l.seq"
    ):
        log.add("error", "dangling-link", f"$.links_uuid[{seq - 1}]", f"link {inp} -> {out} names a node not in the archive; dropped")
    conn.execute(
        "INSERT INTO db_dblink (input_id, output_id, label, type)"
        " SELECT i.id, o.id, l.label, l.type FROM _links l"
        " JOIN db_dbnode i ON i.uuid = l.input JOIN db_dbnode o ON o.uuid = l.output ORDER BY l.seq"
    )
    for group_uuid, node_uuid in conn.execute(
        "SELECT m.group_uuid, m.node_uuid FROM _members m LEFT JOIN db_dbnode n ON n.uuid = m.node_uuid"
        " LEFT JOIN db_dbgroup g ON g.uuid = m.group_uuid WHERE n.id IS NULL OR g.id IS NULL ORDER BY m.seq"
    ):
        log.add("error", "unknown-group-member", f"$.groups_uuid[{group_uuid!r}]", f"member {node_uuid!r} is not a node (or the group is unknown); dropped")
    conn.execute(
        "INSERT INTO db_dbgroup_dbnodes (dbnode_id, dbgroup_id)"
        " SELECT n.id, g.id FROM _members m JOIN db_dbnode n ON n.uuid = m.node_uuid"
        " JOIN db_dbgroup g ON g.uuid = m.group_uuid GROUP BY g.id, n.id ORDER BY MIN(m.seq)"
    )


def check_node_json(conn: sqlite3.Connection, log: ProblemLog) -> None:
    """aiida-core raises CorruptStorage for a node without attributes or extras; we report and use {}."""
    for table, section in (("_attributes", "node_attributes"), ("_extras", "node_extras")):
        for (pk,) in conn.execute(f"SELECT id FROM db_dbnode WHERE id NOT IN (SELECT id FROM {table}) ORDER BY id"):
            log.add("error", f"missing-{section}", f"$.{section}[{str(pk)!r}]", "node has no entry; {} used")


NODE_SELECT = (
    "SELECT n.id, n.uuid, n.node_type, n.process_type, n.label, n.description, n.ctime, n.mtime,"
    " COALESCE(a.value, n.attributes, '{}'), COALESCE(e.value, n.extras, '{}'),"
    " COALESCE(r.value, n.repository_metadata, '{}'), n.dbcomputer_id, n.user_id"
    " FROM src.db_dbnode n LEFT JOIN src._attributes a ON a.id = n.id LEFT JOIN src._extras e ON e.id = n.id"
    " LEFT JOIN src._repo_meta r ON r.uuid = n.uuid ORDER BY n.id"
)


# the resolved links in db_dblink's id order (see resolve_links_and_members): the n-th is $.links_uuid[seq - 1]
_RESOLVED_LINKS = (
    "SELECT l.seq FROM _links l JOIN db_dbnode i ON i.uuid = l.input JOIN db_dbnode o ON o.uuid = l.output"
    " ORDER BY l.seq LIMIT 1 OFFSET ?"
)


def legacy_row_name(conn: sqlite3.Connection, table: str, pk: int, columns: list[str]) -> str:
    """Where a row of the staging database stood in data.json: ``$.export_data.Computer['2'].label``."""
    for entity, (name, renames) in ENTITY_TABLES.items():
        if name == table:
            fields = [next((k for k, v in renames.items() if v == c), c) for c in columns]
            return f"$.export_data.{entity}[{str(pk)!r}]" + _fields(fields)
    if table == "db_dblink":
        found = conn.execute(_RESOLVED_LINKS, (pk - 1,)).fetchone()
        return (f"$.links_uuid[{found[0] - 1}]" if found else "$.links_uuid") + _fields(columns)
    if table == "db_dbgroup_dbnodes":
        return "$.groups_uuid"
    return f"{table}[{pk}]" + _fields(columns)


def _fields(names: list[str]) -> str:
    return f".{names[0]}" if len(names) == 1 else f".({', '.join(names)})"


def build_main_metadata(legacy: dict) -> dict:
    """Legacy metadata -> main: drop the JSON-schema keys, rename export_parameters (reference 2.4)."""
    metadata = {k: v for k, v in legacy.items() if k not in ("unique_identifiers", "all_fields_info", "export_parameters")}
    metadata["creation_parameters"] = legacy.get("export_parameters") or {}
    metadata["key_format"] = "sha256"
    metadata["compression"] = 6
    return metadata


def stage_legacy(
    archive: Archive, legacy_metadata: dict, workdir: Path, strict: bool, transform=_identity, events=None,
    file: object = None, keep_blobs: bool = True,
) -> Staged:  # fmt: skip
    """The whole 0.13 -> main_0000 conversion into a staging database (see the module docstring).

    ``transform(section, batch)`` applies local legacy steps to each batch of
    rows first (``converters.main.streamsteps``), so 0.7 ... 0.12 stream too.
    ``events(opener)``, when given, supplies the rows instead: the outline events
    of an earlier version migrated on the way (``legacy_stream.migrated_events``).
    ``file``: the input to name in errors and problems when ``archive`` is a work
    copy of it (0.1 ... 0.3, migrated to 0.13 in memory first).  ``keep_blobs``: keep a tar's
    blobs for pass 2 (``blobspool``); False when nothing will be written (validate, inspect).
    """
    db = workdir / "staging.sqlite3"
    log = ProblemLog(archive.path if file is None else file, strict)
    # a tar is read once: its blobs are kept for pass 2; zip and folder inputs are read again
    spooled = blob_spool_path(db) if keep_blobs and archive.container not in ("zip", "folder") else None
    conn = create_staging_db(db)
    try:
        opener = data_json_opener(archive)
        if spooled is None:
            stage_repository(archive, conn)
        else:
            with closing(BlobSpool(spooled)) as spool:
                stage_repository(archive, conn, spool)
        size = archive.files["data.json"].size if "data.json" in archive.files else 0
        if events is None:
            stage_data_json(opener, conn, log, transform, db, size)
        else:
            stage_batches(staged_sections(events(opener)), conn, log, db, size)
        with progress.stage("links, groups and repository trees", 4, "step") as advance:
            for finish in (index_uuids, resolve_links_and_members, check_node_json, build_repository_metadata):
                finish(conn, log)
                advance(1)
    finally:
        conn.close()
    staged = Staged(
        db, dict(legacy_metadata), log, selects={"db_dbnode": NODE_SELECT}, name_row=legacy_row_name, member="data.json",
        parsed=True,
    )
    staged.emit_blobs = lambda: emit_blobs(archive, blob_plan_path(db), spooled)
    return staged
