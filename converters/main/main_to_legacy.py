"""main_0000 -> 0.13: the inverse of ``legacy_to_main``, streamed.

``data.json`` is written section by section from SQLite rows (bounded
memory) to a work file; each node's ``repository_metadata`` tree is expanded
back into ``nodes/aa/bb/rest/<section>/<rel>`` members whose bytes are streamed
from ``repo/<sha256>``.  The section is the one AiiDA 1.x reads the node's
files from (``Node._repository_base_path``): ``raw_input/`` for a CalcJobNode
(its input files were invisible to AiiDA 1.x under ``path/``), ``path/`` for
every other node.  The way up merges the two again.

What 0.13 cannot hold is declared as ``Loss`` and refused unless allowed:
authinfos (no legacy entity), database tables the legacy format has no place
for (``db_dbsetting`` of ``verdi archive create``), repository blobs no node
refers to, nodes whose attributes or extras are null (they become ``{}``),
node files named like macOS litter (``.DS_Store``): a legacy reader's name
policy (``containers.classify_name``, reportgen's own) drops them, so they are
not written, and a round trip would lose them without a word otherwise; and
node files whose names that policy refuses (``legacynames``: a Windows device
name such as ``aux/`` or ``CON``, a backslash, a segment over 255 bytes, two
names equal but for case or Unicode form).  Those are named, the first 20 and
a count, in the refusal; under ``--allow-loss`` they are left out, one note each.

Before anything is written, the input is refused if ``archive validate``
finds it invalid by SQL alone (``refuse_invalid``, which runs validate's own
``check_structure``): a key format other than sha256, a database revision
that is not the metadata's, a null where the input's revision requires a
value, a uuid of any table that is not a UUID, an id that is not a unique
integer, a link type that is none.

What 0.13 cannot hold *safely* is refused outright, before anything is
written, by the same pass that counts the unreferenced blobs: a node uuid
that is not a UUID (it becomes a member name), a repository tree that is not
one (a name in it that is empty, ``.``, ``..`` or holds ``/`` included), and a
file whose blob is missing.  So is a row naming a user,
computer or node that is not there (``check_references``); a link or group
member whose end is missing is reported and left out (refused with
``--strict``), as the way up does.  Values of the wrong kind (a ctime that is
no datetime, attributes that are no JSON or no object, a repeated key, text
that is not UTF-8) are refused where they are
written, naming table, row and column, with validate's words: written, they
would change.  Checking them first would parse every value twice (a third of
the downgrade's time); the output is a temporary file until the end, so a
refusal there leaves nothing behind either.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from converters.containers import OutMember
from converters.errors import BadInputError
from converters.main import legacynames
from converters.main.jsonvalue import JsonValueError, is_json_number, read_json_value
from converters.main.legacy_to_main import ENTITY_TABLES, Staged
from converters.main.legacynames import Unholdable, is_litter, node_folder
from converters.main.problems import ProblemLog, shown
from converters.main.reader import read_batched, read_db_revision
from converters.main.records import Loss
from converters.main.references import check_references
from converters.main.schema import (
    DB_NAME,
    META_NAME,
    REPO_PREFIX,
    TABLES,
    UUID_GLOB,
    column_names,
    format_legacy_datetime,
)
from converters.main.validate import check_structure, locate_bad_text
from converters.streaming import ENTITIES, JsonObjectWriter
from converters.workfile import WorkFile

STEP = "main_0000 -> 0.13"
DATE = {"convert_type": "date"}
JSONB = {"convert_type": "jsonb"}


def legacy_fields_info() -> dict:
    """``all_fields_info`` of a 0.13 archive (the fields legacy_to_main reads back)."""

    def fk(entity: str, related: str) -> dict:
        return {"requires": entity, "related_name": related}

    return {
        "Node": {"uuid": {}, "node_type": {}, "process_type": {}, "label": {}, "description": {}, "ctime": DATE,
                 "mtime": DATE, "user": fk("User", "dbnodes"), "dbcomputer": fk("Computer", "dbnodes"),
                 "attributes": JSONB, "extras": JSONB},
        "User": {"email": {}, "first_name": {}, "last_name": {}, "institution": {}},
        "Computer": {"uuid": {}, "label": {}, "hostname": {}, "description": {}, "scheduler_type": {},
                     "transport_type": {}, "metadata": {}},
        "Group": {"uuid": {}, "label": {}, "type_string": {}, "time": DATE, "description": {}, "extras": JSONB,
                  "user": fk("User", "dbgroups")},
        "Log": {"uuid": {}, "time": DATE, "loggername": {}, "levelname": {}, "message": {}, "metadata": {},
                "dbnode": fk("Node", "dblogs")},
        "Comment": {"uuid": {}, "ctime": DATE, "mtime": DATE, "content": {}, "dbnode": fk("Node", "dbcomments"),
                    "user": fk("User", "dbcomments")},
    }


def build_legacy_metadata(main: dict) -> dict:
    metadata = {k: v for k, v in main.items() if k not in ("creation_parameters", "key_format", "compression")}
    if main.get("creation_parameters"):
        metadata["export_parameters"] = main["creation_parameters"]
    metadata["unique_identifiers"] = {k: "uuid" for k in ("Node", "Group", "Computer", "Log", "Comment")} | {"User": "email"}
    metadata["all_fields_info"] = legacy_fields_info()
    return metadata


# ---------------------------------------------------------------- losses
def find_losses(staged: Staged) -> list[Loss]:
    """What 0.13 would lose; first refuses what it cannot hold safely (``check_repository``)."""
    conn = sqlite3.connect(f"file:{staged.db}?mode=ro", uri=True)
    try:
        # the node folders first: a node's uuid or file name that would make an unsafe member is
        # refused saying so, rather than as validate's mere "not a 36-character UUID"
        unused, litter, unholdable = check_repository(conn, staged)
        refuse_invalid(conn, staged)
        check_references(conn, staged, "0.13", skipped=("db_dbauthinfo",))  # 0.13 has no authinfos
        losses = []
        count = conn.execute("SELECT COUNT(*) FROM db_dbauthinfo").fetchone()[0]
        if count:
            losses.append(Loss(STEP, "authinfos (computer credentials of users): 0.13 has no AuthInfo entity", count))
        extra = [
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
            if name not in TABLES and name != "alembic_version" and not name.startswith("_")
        ]
        for name in extra:
            rows = conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
            if rows:
                losses.append(Loss(STEP, f"table {name}: the legacy format has no place for it", rows))
        for column in ("attributes", "extras"):
            count = conn.execute(f"SELECT COUNT(*) FROM db_dbnode WHERE {column} IS NULL").fetchone()[0]
            if count:
                losses.append(Loss(STEP, f"nodes with null {column} (written as {{}})", count))
        if unused:
            losses.append(Loss(STEP, "repository blobs that no node refers to", unused))
        if litter:
            losses.append(Loss(STEP, "node files named .DS_Store or inside a folder of that name (legacy readers drop them as macOS litter)", litter))
        if unholdable.count:
            losses.append(Loss(STEP, f"node files whose names {legacynames.WHY}", unholdable.count,
                               tuple(legacynames.listed(unholdable.shown, unholdable.count))))
        staged.unholdable = unholdable.paths  # left out when written (--allow-loss)
        return losses
    finally:
        conn.close()


def refuse_invalid(conn: sqlite3.Connection, staged: Staged) -> None:
    """Refuse, before any member is written, an input that ``archive validate`` finds invalid
    by SQL alone (``validate.check_structure``: key format, revision, NOT NULL, UUIDs, ids, link
    types), with the words validate uses.  Written as they are, some would make a 0.13 archive
    that fails its own validate (a group's uuid that is none, ``Log["None"]``, a repeated key)."""
    found = ProblemLog(staged.file)
    metadata = staged.metadata | {"export_version": staged.input_revision or staged.metadata["export_version"]}
    check_structure(conn, metadata, read_db_revision(staged.db), found)
    errors = [p for p in found.kept if p.severity == "error"]
    if not errors:
        return
    first, others = errors[0], sum(found.counts.values()) - 1
    member, where = (first.path.split(":", 1) if first.path.startswith((META_NAME + ":", DB_NAME + ":")) else (DB_NAME, first.path))
    more = f" (and {others} more error{'s' if others > 1 else ''})" if others else ""
    raise BadInputError(staged.file, f"{where}: {first.message}{more}; not a valid {metadata['export_version']} archive, "
                                     "refused before writing (archive validate lists every error)", member)


class UnholdableNames:
    """The node files a legacy archive cannot hold (``legacynames``): the first few to name,
    how many, and every one's place, to leave out when writing (``--allow-loss``)."""

    def __init__(self) -> None:
        self.shown: list[Unholdable] = []
        self.count = 0
        self.paths: dict[int, frozenset[str]] = {}  # node pk -> tree paths left out

    def add(self, pk: int, found: list[Unholdable]) -> None:
        self.shown += found[: legacynames.SHOWN - len(self.shown)]
        self.count += len(found)
        self.paths[pk] = frozenset(u.rel for u in found)


def check_repository(conn: sqlite3.Connection, staged: Staged) -> tuple[int, int, UnholdableNames]:
    """Refuse, before anything is written, nodes whose uuid or tree would make unsafe or
    missing members; returns how many blobs no node refers to, how many node files are
    litter a legacy reader drops (``is_litter``), and the files whose names the legacy
    reading policy refuses (``legacynames``: a loss, named).

    One pass in which SQL skips the nodes that have no files and a well-formed
    uuid (most of them), so Python sees only the trees."""
    _check_unique_uuids(conn, staged.file)
    keys = set(staged.source.keys) if hasattr(staged, "source") else set()  # type: ignore[attr-defined]
    unused, litter, unholdable = set(keys), 0, UnholdableNames()
    query = (
        "SELECT id, uuid, repository_metadata, node_type FROM db_dbnode WHERE repository_metadata IS NOT '{}'"
        f" OR typeof(uuid) <> 'text' OR uuid NOT GLOB '{UUID_GLOB}' ORDER BY id"
    )
    for pk, uuid, tree, node_type in read_batched(conn, query, staged.file):
        found: list[Unholdable] = []
        for name, key in node_members(staged.file, pk, uuid, tree, node_type=node_type, unholdable=found):
            if key is not None and key not in keys:
                raise BadInputError(staged.file, f"db_dbnode[{pk}].repository_metadata: node {uuid}: file {name.split('/', 5)[5]!r} refers to a blob that is not in the archive", REPO_PREFIX + key)
            unused.discard(key)
            litter += is_litter(name)
        if found:
            unholdable.add(pk, found)
            unused -= {item.key for item in found}  # their loss is the names', not the blobs'
    return len(unused), litter, unholdable


def _check_unique_uuids(conn: sqlite3.Connection, file: str) -> None:
    """Two nodes with one uuid would write one folder twice; the main schema's UNIQUE index
    rules that out, so only a database without it is searched."""
    for _, index, unique, _, partial in conn.execute("PRAGMA index_list(db_dbnode)"):
        quoted = index.replace("'", "''")  # the name comes from the input
        if unique and not partial and [row[2] for row in conn.execute(f"PRAGMA index_info('{quoted}')")] == ["uuid"]:
            return
    found = conn.execute("SELECT uuid, MIN(id), MAX(id) FROM db_dbnode GROUP BY uuid HAVING COUNT(*) > 1 LIMIT 1").fetchone()
    if found:
        raise BadInputError(file, f"db_dbnode[{found[2]}].uuid: {found[0]!r} is also the uuid of db_dbnode[{found[1]}]; a legacy archive names node folders by uuid", DB_NAME)


# ---------------------------------------------------------------- member names
def node_members(file: str, pk: int, uuid: object, raw_tree: object, policy: bool = True, node_type: object = None,
                 unholdable: list[Unholdable] | None = None, skip: frozenset[str] = frozenset()) -> list[tuple[str, str | None]]:
    """``legacynames.node_members`` of a node's stored ``repository_metadata`` (``raw_tree``, the
    column's value): parsed as the way down parses every JSON value, unless it is the empty tree
    of most nodes (no parse at all)."""
    if raw_tree is None or raw_tree == "{}":
        return [(node_folder(file, pk, uuid, node_type), None)]
    tree = _legacy_value(file, "db_dbnode", pk, "repository_metadata", "json", raw_tree)
    return legacynames.node_members(file, pk, uuid, tree, policy, node_type, unholdable, skip)


# ---------------------------------------------------------------- data.json
# what each kind of column holds as SQLite returns it, and how 0.13 writes it
_STORED = {"text": str, "int": int, "bool": int, "datetime": str, "json": str}
_CONVERT = {"text": None, "int": None, "bool": bool, "datetime": format_legacy_datetime, "json": read_json_value}
_KIND_NAMES = {"text": "text", "int": "an integer", "bool": "an integer (a boolean)", "datetime": "datetime text", "json": "JSON text"}


def write_data_json(db: Path, out: BinaryIO | WorkFile, file: str = "") -> bool:
    """data.json of 0.13 from the database rows into ``out``, one row in memory at a time; returns
    whether it holds an integer beyond 64 bits (read it back with ``jsonio.loads(..., exact=True)``).

    ``file``: the input archive, named by the error raised for a value of the wrong kind."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        writer = JsonObjectWriter(out)
        writer.open_object()
        writer.open_object("export_data")
        for entity in ENTITIES:
            _write_entity(conn, writer, entity, file)
        writer.close_object()
        for column, section in (("attributes", "node_attributes"), ("extras", "node_extras")):
            writer.open_object(section)
            for pk, value in _read_rows(conn, f"SELECT id, {column} FROM db_dbnode ORDER BY id", file, "db_dbnode", [column]):
                try:
                    parsed = read_json_value(value) if value is not None else {}
                except (ValueError, TypeError):  # not JSON text: the slow path names the row and why
                    parsed = _legacy_value(file, "db_dbnode", pk, column, "json", value)
                if type(parsed) is not dict:  # 0.13 holds a node's attributes and extras as an object
                    raise BadInputError(file, f"db_dbnode[{pk}].{column}: {shown(value)} is not an object, and a legacy archive holds a node's {column} as one", DB_NAME)
                writer.item(parsed, key=str(pk))
            writer.close_object()
        _write_links(conn, writer, file)
        _write_groups(conn, writer, file)
        writer.close_object()
        return writer.exact
    finally:
        conn.close()


def _read_rows(conn: sqlite3.Connection, query: str, file: str, table: str, columns: list[str]) -> Iterator[tuple]:
    """``read_batched``, but a value that is not UTF-8 is named as validate names it (table, row,
    column), found by validate's own search once sqlite3 has failed to decode it."""
    try:
        yield from read_batched(conn, query, file)
    except BadInputError:
        found = ProblemLog(file)
        locate_bad_text(conn, table, columns, found)
        if not found.kept:
            raise
        raise BadInputError(file, f"{found.kept[0].path}: {found.kept[0].message}", DB_NAME) from None


def _legacy_value(file: str, table: str, pk: object, column: str, kind: str, value: object) -> object:
    """One stored value as 0.13 writes it; a value of the wrong kind is refused, naming its row."""
    if value is None:
        return None
    if kind == "json" and table != "db_dbnode" and is_json_number(value):  # a node's hold objects, never one
        return value
    if type(value) is not _STORED[kind]:
        raise BadInputError(file, f"{table}[{pk}].{column}: {shown(value)} is not {_KIND_NAMES[kind]}", DB_NAME)
    convert = _CONVERT[kind]
    try:
        return value if convert is None else convert(value)
    except JsonValueError as exc:  # JSON, but it cannot be kept as it is (a big integer, a repeated key)
        raise BadInputError(file, f"{table}[{pk}].{column}: {exc}: {shown(value)}", DB_NAME) from None
    except ValueError as exc:  # orjson's JSONDecodeError is one; fromisoformat raises it too
        raise BadInputError(file, f"{table}[{pk}].{column}: not {'JSON' if kind == 'json' else 'a datetime'} ({exc}): {shown(value)}", DB_NAME) from None


def _write_entity(conn: sqlite3.Connection, writer: JsonObjectWriter, entity: str, file: str) -> None:
    table, renames = ENTITY_TABLES[entity]
    back = {column: field for field, column in renames.items()}
    node_only = ("attributes", "extras", "repository_metadata") if table == "db_dbnode" else ()
    cols = [c for c in TABLES[table] if c.name != "id" and c.name not in node_only]
    plan = [(back.get(c.name, c.name), c.name, c.kind, _STORED[c.kind], _CONVERT[c.kind]) for c in cols]
    writer.open_object(entity)
    names = ", ".join(c.name for c in cols)
    text = [c.name for c in cols if c.kind in ("text", "json")]
    for row in _read_rows(conn, f"SELECT id, {names} FROM {table} ORDER BY id", file, table, text):
        fields = {}
        for (field, column, kind, stored, convert), value in zip(plan, row[1:]):
            # inline, as millions of values pass here; a bad one goes to _legacy_value, which raises
            if value is not None:
                if type(value) is not stored:
                    _legacy_value(file, table, row[0], column, kind, value)
                elif convert is not None:
                    try:
                        value = convert(value)
                    except ValueError:
                        _legacy_value(file, table, row[0], column, kind, value)
            fields[field] = value
        writer.item(fields, key=str(row[0]))
    writer.close_object()


def _write_links(conn: sqlite3.Connection, writer: JsonObjectWriter, file: str) -> None:
    writer.open_array("links_uuid")
    query = (
        "SELECT l.id, i.uuid, o.uuid, l.label, l.type FROM db_dblink l"
        " JOIN db_dbnode i ON i.id = l.input_id JOIN db_dbnode o ON o.id = l.output_id ORDER BY l.id"
    )
    for pk, inp, out, label, kind in _read_rows(conn, query, file, "db_dblink", ["label", "type"]):
        for column, value in (("label", label), ("type", kind)):
            if type(value) is not str:
                raise BadInputError(file, f"db_dblink[{pk}].{column}: {shown(value)} is not text", DB_NAME)
        writer.item({"input": inp, "output": out, "label": label, "type": kind})
    writer.close_array()


def _write_groups(conn: sqlite3.Connection, writer: JsonObjectWriter, file: str) -> None:
    writer.open_object("groups_uuid")
    query = (
        "SELECT g.uuid, n.uuid FROM db_dbgroup_dbnodes m JOIN db_dbgroup g ON g.id = m.dbgroup_id"
        " JOIN db_dbnode n ON n.id = m.dbnode_id ORDER BY g.id, m.id"
    )
    current, members = None, []
    for group, node in read_batched(conn, query, file):
        if group != current and current is not None:
            writer.item(members, key=current)
            members = []
        current = group
        members.append(node)
    if current is not None:
        writer.item(members, key=current)
    writer.close_object()


# ---------------------------------------------------------------- repository
def iter_repository(db: Path, blob_chunks, blob_size, file: str = "", skip: dict[int, frozenset[str]] | None = None
                    ) -> Iterator[OutMember]:  # fmt: skip
    """``nodes/aa/bb/rest/(path|raw_input)/...`` members of every node, in node id order (an empty one a folder).

    ``file``: the input archive, for errors.  The name policy was applied by
    ``check_repository`` (``find_losses``) before anything was written, so it
    is not applied twice; what makes the names safe to write (uuid, segments)
    is checked again here, where they become members.  ``skip``: per node pk, the
    tree paths whose names the policy refused, left out (declared lost under --allow-loss)."""
    skip = skip or {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        query = "SELECT id, uuid, repository_metadata, node_type FROM db_dbnode ORDER BY id"
        for pk, uuid, tree, node_type in read_batched(conn, query, file):
            written = False
            members = node_members(file, pk, uuid, tree, policy=False, node_type=node_type, skip=skip.get(pk, frozenset()))
            for name, key in members:
                if is_litter(name):
                    continue  # declared lost (find_losses): written, it would be dropped when read
                written = True
                if key is None:
                    yield OutMember(name, is_dir=True)
                else:
                    yield OutMember(name, size=blob_size(key), chunks=blob_chunks(key))
            if not written:  # only litter: the node still needs its folder (AiiDA 1.x's import wants one)
                yield OutMember(node_folder(file, pk, uuid, node_type), is_dir=True)
    finally:
        conn.close()


def legacy_members(staged: Staged, workdir: Path) -> Iterator[OutMember]:
    """Every member of the 0.13 archive: metadata, data.json (from a work file), nodes/."""
    from converters.main.writer import render_metadata

    zf = staged.source  # type: ignore[attr-defined]
    data = WorkFile(workdir)
    write_data_json(staged.db, data, staged.file)
    meta = render_metadata(build_legacy_metadata(staged.metadata))
    yield OutMember("metadata.json", data=meta, size=len(meta))
    yield OutMember("data.json", size=data.size, chunks=data.chunks())
    yield from iter_repository(
        staged.db, lambda key: zf.chunks(REPO_PREFIX + key), lambda key: _blob_size(zf, key), staged.file,
        staged.unholdable,
    )


def _blob_size(zf, key: str) -> int:
    name = REPO_PREFIX + key
    if not zf.has(name):
        raise BadInputError(zf.path, f"repository blob {key} is missing", name)
    return zf.size(name)


__all__ = ["find_losses", "legacy_members", "build_legacy_metadata", "column_names"]
