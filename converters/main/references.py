"""The foreign keys of a staged database, handled alike whichever version it is written as.

A link or group member whose end is missing is reported (``dangling-link``,
``unknown-group-member``) and left out, or refused with ``--strict``, as
legacy -> main has always done with ``links_uuid`` and ``groups_uuid``.  Any other
row naming a missing user, computer, node or group is refused: written as it
is, the output would be invalid (our ``validate`` and aiida-core's importer
both refuse it), and there is no right row to put in its place.
"""

from __future__ import annotations

import sqlite3

from converters.errors import BadInputError
from converters.main.legacy_to_main import ENTITY_TABLES, Staged
from converters.main.problems import shown
from converters.main.reader import read_batched
from converters.main.schema import FOREIGN_KEYS, dangling_sql

LEFT_OUT = ("db_dblink", "db_dbgroup_dbnodes")  # rows that are reported and left out
_DANGLING_LINKS = (
    "SELECT l.id, l.input_id, l.output_id FROM db_dblink l LEFT JOIN db_dbnode i ON i.id = l.input_id"
    " LEFT JOIN db_dbnode o ON o.id = l.output_id WHERE i.id IS NULL OR o.id IS NULL ORDER BY l.id"
)
_UNKNOWN_MEMBERS = (
    "SELECT m.id, m.dbgroup_id, m.dbnode_id FROM db_dbgroup_dbnodes m LEFT JOIN db_dbnode n ON n.id = m.dbnode_id"
    " LEFT JOIN db_dbgroup g ON g.id = m.dbgroup_id WHERE n.id IS NULL OR g.id IS NULL ORDER BY m.id"
)


def check_references(conn: sqlite3.Connection, staged: Staged, target: str, skipped: tuple[str, ...] = ()) -> bool:
    """Refuse a row naming a missing row, and report the links and members to leave out
    (the module docstring); ``skipped``: tables the ``target`` version does not write.
    Returns whether any are to be left out."""
    for table, column, referred, _ in FOREIGN_KEYS:
        if table in LEFT_OUT or table in skipped:
            continue
        found = conn.execute(dangling_sql(table, column, referred) + " LIMIT 1").fetchone()
        if found:
            where = staged.where(conn, table, found[0], [column])
            place = _legacy_section(referred) if staged.parsed else referred
            raise BadInputError(
                staged.file,
                f"{where}: {shown(found[1])} is not in {place}; the {target} archive would name a row it does not hold",
                staged.member,
            )
    left_out = False
    for pk, inp, out in read_batched(conn, _DANGLING_LINKS, staged.file):
        staged.log.add("error", "dangling-link", f"db_dblink[{pk}]", f"link {shown(inp)} -> {shown(out)} names a node not in db_dbnode; dropped", staged.member)
        left_out = True
    for pk, group, node in read_batched(conn, _UNKNOWN_MEMBERS, staged.file):
        staged.log.add("error", "unknown-group-member", f"db_dbgroup_dbnodes[{pk}]", f"member {shown(node)} of group {shown(group)} is not a node (or the group is unknown); dropped", staged.member)
        left_out = True
    return left_out


def drop_left_out(conn: sqlite3.Connection) -> None:
    """Delete the links and members ``check_references`` reported, from a staged database that
    is copied whole into the output (legacy -> main resolved its links by join: none are left,
    and this is not called)."""
    conn.execute(f"DELETE FROM db_dblink WHERE id IN (SELECT id FROM ({_DANGLING_LINKS}))")
    conn.execute(f"DELETE FROM db_dbgroup_dbnodes WHERE id IN (SELECT id FROM ({_UNKNOWN_MEMBERS}))")


def _legacy_section(table: str) -> str:
    """Where a legacy archive holds the rows of ``table``: ``$.export_data.User``."""
    return next(f"$.export_data.{entity}" for entity, (name, _) in ENTITY_TABLES.items() if name == table)
