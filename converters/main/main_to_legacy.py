"""main_0000 -> 0.13: the inverse of ``legacy_to_main``, streamed.

``data.json`` is written section by section from SQLite rows (bounded
memory) to a work file; each node's ``repository_metadata`` tree is expanded
back into ``nodes/aa/bb/rest/path/<rel>`` members whose bytes are streamed
from ``repo/<sha256>``.  ``raw_input/`` and ``path/`` were merged on the way
up, so everything comes back under ``path/`` (aiida-core >= 1.0 reads only
``path/``).

What 0.13 cannot hold is declared as ``Loss`` and refused unless allowed:
authinfos (no legacy entity), database tables the legacy format has no place
for (``db_dbsetting`` of ``verdi archive create``), repository blobs no node
refers to, and nodes whose attributes or extras are null (they become ``{}``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import orjson

from converters.containers import OutMember
from converters.errors import BadInputError
from converters.main.legacy_to_main import ENTITY_TABLES, Staged
from converters.main.records import Loss
from converters.main.schema import REPO_PREFIX, TABLES, column_names, format_legacy_datetime
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
    conn = sqlite3.connect(f"file:{staged.db}?mode=ro", uri=True)
    try:
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
        unused = _unreferenced_blobs(conn, staged)
        if unused:
            losses.append(Loss(STEP, "repository blobs that no node refers to", unused))
        return losses
    finally:
        conn.close()


def _unreferenced_blobs(conn: sqlite3.Connection, staged: Staged) -> int:
    keys = set(getattr(staged, "source").keys) if hasattr(staged, "source") else set()
    if not keys:
        return 0
    for (tree,) in conn.execute("SELECT repository_metadata FROM db_dbnode"):
        _discard_keys(orjson.loads(tree or "{}"), keys)
        if not keys:
            break
    return len(keys)


def _discard_keys(tree: dict, keys: set) -> None:
    if "k" in tree:
        keys.discard(tree["k"])
    for child in tree.get("o", {}).values():
        _discard_keys(child, keys)


# ---------------------------------------------------------------- data.json
def write_data_json(db: Path, out: BinaryIO | WorkFile) -> None:
    """data.json of 0.13 from the database rows into ``out``, one row in memory at a time."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        writer = JsonObjectWriter(out, orjson.dumps)
        writer.open_object()
        writer.open_object("export_data")
        for entity in ENTITIES:
            _write_entity(conn, writer, entity)
        writer.close_object()
        for column, section in (("attributes", "node_attributes"), ("extras", "node_extras")):
            writer.open_object(section)
            for pk, value in _batched(conn, f"SELECT id, {column} FROM db_dbnode ORDER BY id"):
                writer.item(orjson.loads(value) if value is not None else {}, key=str(pk))
            writer.close_object()
        _write_links(conn, writer)
        _write_groups(conn, writer)
        writer.close_object()
    finally:
        conn.close()


def _batched(conn: sqlite3.Connection, query: str) -> Iterator[tuple]:
    cursor = conn.execute(query)
    while rows := cursor.fetchmany(2000):
        yield from rows


def _write_entity(conn: sqlite3.Connection, writer: JsonObjectWriter, entity: str) -> None:
    table, renames = ENTITY_TABLES[entity]
    back = {column: field for field, column in renames.items()}
    node_only = ("attributes", "extras", "repository_metadata") if table == "db_dbnode" else ()
    cols = [c for c in TABLES[table] if c.name != "id" and c.name not in node_only]
    writer.open_object(entity)
    names = ", ".join(c.name for c in cols)
    for row in _batched(conn, f"SELECT id, {names} FROM {table} ORDER BY id"):
        fields = {}
        for col, value in zip(cols, row[1:]):
            if col.kind == "datetime":
                value = format_legacy_datetime(value)
            elif col.kind == "json" and value is not None:
                value = orjson.loads(value)
            elif col.kind == "bool" and value is not None:
                value = bool(value)
            fields[back.get(col.name, col.name)] = value
        writer.item(fields, key=str(row[0]))
    writer.close_object()


def _write_links(conn: sqlite3.Connection, writer: JsonObjectWriter) -> None:
    writer.open_array("links_uuid")
    query = (
        "SELECT i.uuid, o.uuid, l.label, l.type FROM db_dblink l"
        " JOIN db_dbnode i ON i.id = l.input_id JOIN db_dbnode o ON o.id = l.output_id ORDER BY l.id"
    )
    for inp, out, label, kind in _batched(conn, query):
        writer.item({"input": inp, "output": out, "label": label, "type": kind})
    writer.close_array()


def _write_groups(conn: sqlite3.Connection, writer: JsonObjectWriter) -> None:
    writer.open_object("groups_uuid")
    query = (
        "SELECT g.uuid, n.uuid FROM db_dbgroup_dbnodes m JOIN db_dbgroup g ON g.id = m.dbgroup_id"
        " JOIN db_dbnode n ON n.id = m.dbnode_id ORDER BY g.id, m.id"
    )
    current, members = None, []
    for group, node in _batched(conn, query):
        if group != current and current is not None:
            writer.item(members, key=current)
            members = []
        current = group
        members.append(node)
    if current is not None:
        writer.item(members, key=current)
    writer.close_object()


# ---------------------------------------------------------------- repository
def iter_repository(db: Path, blob_chunks, blob_size) -> Iterator[OutMember]:
    """``nodes/aa/bb/rest/path/...`` members of every node, in node id order (an empty one a folder)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for uuid, tree in _batched(conn, "SELECT uuid, repository_metadata FROM db_dbnode ORDER BY id"):
            base = f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}/path"
            # a node without files still gets its folder: AiiDA 1.x's import refuses an archive
            # that lacks any node's folder ("Unable to find the repository folder for Node")
            yield from _expand(base, orjson.loads(tree or "{}"), blob_chunks, blob_size)
    finally:
        conn.close()


def _expand(prefix: str, tree: dict, blob_chunks, blob_size) -> Iterator[OutMember]:
    children = tree.get("o")
    if not children:
        yield OutMember(prefix, is_dir=True)
        return
    for name in sorted(children):
        child = children[name]
        if "/" in name or name in ("", ".", ".."):
            raise BadInputError("", f"unsafe name {name!r} in repository_metadata", "db.sqlite3")
        path = f"{prefix}/{name}"
        if "k" in child:
            key = child["k"]
            yield OutMember(path, size=blob_size(key), chunks=blob_chunks(key))
        else:
            yield from _expand(path, child, blob_chunks, blob_size)


def legacy_members(staged: Staged, workdir: Path) -> Iterator[OutMember]:
    """Every member of the 0.13 archive: metadata, data.json (from a work file), nodes/."""
    from converters.main.writer import render_metadata

    zf = staged.source  # type: ignore[attr-defined]
    data = WorkFile(workdir)
    write_data_json(staged.db, data)
    meta = render_metadata(build_legacy_metadata(staged.metadata))
    yield OutMember("metadata.json", data=meta, size=len(meta))
    yield OutMember("data.json", size=data.size, chunks=data.chunks())
    yield from iter_repository(
        staged.db, lambda key: zf.chunks(REPO_PREFIX + key), lambda key: _blob_size(zf, key)
    )


def _blob_size(zf, key: str) -> int:
    name = REPO_PREFIX + key
    if not zf.has(name):
        raise BadInputError(zf.path, f"repository blob {key} is missing", name)
    return zf.size(name)


__all__ = ["find_losses", "legacy_members", "build_legacy_metadata", "column_names"]
