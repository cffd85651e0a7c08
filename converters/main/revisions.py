"""The main_XXXX revisions as steps: main_0000 -> main_0000a -> main_0000b -> main_0001.

Each step works on a ``Staged`` archive (a working SQLite file plus
metadata); ``converters.migrations.run_step`` checks and stamps versions; the
schema itself (which columns may be null) is applied when the archive is
written, by ``writer.copy_canonical`` at the target revision.

``main_0000a`` replaces nulls.  aiida-core uses now() for null times, which
makes every run differ; here a null ``ctime``/``time`` becomes the Unix epoch
``1970-01-01 00:00:00.000000`` and a null ``mtime`` becomes the row's
``ctime``: deterministic, visibly artificial, and reported per column.
"""

from __future__ import annotations

import sqlite3

from converters.main.schema import EPOCH, TABLES, Column, is_nullable

def _default_sql(col: Column) -> tuple[str, tuple]:
    if col.default == "<epoch>":
        return "?", (EPOCH,)
    if col.default == "<ctime>":
        return "COALESCE(ctime, ?)", (EPOCH,)
    if col.kind == "json":
        return "?", ("{}" if col.default == {} else str(col.default),)
    if col.kind == "bool":
        return "?", (1 if col.default else 0,)
    return "?", (col.default,)


def fill_nulls(conn: sqlite3.Connection, log, revision: str) -> None:
    """Give every column that ``revision`` requires, and that has a default, its default."""
    for table, cols in TABLES.items():
        for col in cols:
            if is_nullable(col, revision) or col.default is None:
                continue
            expr, params = _default_sql(col)
            count = conn.execute(f"UPDATE {table} SET {col.name} = {expr} WHERE {col.name} IS NULL", params).rowcount
            if count:
                shown = {"<epoch>": EPOCH, "<ctime>": "the row's ctime"}.get(str(col.default), repr(col.default))
                log.add("warning", "null-replaced", f"{table}.{col.name}", f"{count} null value(s) set to {shown}")


def delete_orphan_rows(conn: sqlite3.Connection, log) -> None:
    """main_0000a drops authinfos and comments whose user, computer or node is null."""
    for table, fks in (("db_dbauthinfo", ("aiidauser_id", "dbcomputer_id")), ("db_dbcomment", ("dbnode_id", "user_id"))):
        for fk in fks:
            count = conn.execute(f"DELETE FROM {table} WHERE {fk} IS NULL").rowcount
            if count:
                log.add("warning", "row-dropped", f"{table}.{fk}", f"{count} row(s) with a null {fk} dropped")


# labels main_XXXX requires but gives no default (aiida-core writes ''); docs/archives-main.md
NULL_LABELS = (("db_dbcomputer", "label"), ("db_dbgroup", "label"), ("db_dblink", "label"))


def fill_null_labels(conn: sqlite3.Connection, log) -> None:
    """A null computer, group or link label becomes '', reported as fill_nulls reports its columns."""
    for table, column in NULL_LABELS:
        count = conn.execute(f"UPDATE {table} SET {column} = '' WHERE {column} IS NULL").rowcount
        if count:
            log.add("warning", "null-replaced", f"{table}.{column}", f"{count} null value(s) set to ''")


def _with_db(staged, action) -> None:
    conn = sqlite3.connect(staged.db, isolation_level=None)
    try:
        conn.execute("BEGIN")
        action(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()


def up_0000_to_0000a(staged) -> None:

    def action(conn: sqlite3.Connection) -> None:
        delete_orphan_rows(conn, staged.log)
        fill_nulls(conn, staged.log, "main_0000b")

    _with_db(staged, action)


def up_0000a_to_0000b(staged) -> None:
    """Columns become NOT NULL; enforced when the database is written at this revision."""
    _with_db(staged, lambda conn: fill_nulls(conn, staged.log, "main_0000b"))


def up_0000b_to_0001(staged) -> None:
    """No change of data ("bring inline with psql_dos main_0001")."""
    del staged


def down_0001_to_0000b(staged) -> None:
    """Nothing changes; main_0001 was a no-op."""
    del staged


def down_0000b_to_0000a(staged) -> None:
    """Columns become nullable again; no data changes."""
    del staged


def down_0000a_to_0000(staged) -> None:
    """The defaults main_0000a put in place of nulls stay: they are valid main_0000 values.

    Nothing is lost; a null that main_0000a replaced cannot be told apart from
    a real default, so it is not turned back into a null.
    """
    del staged


def legacy_0_13_to_main_0000_fill(staged) -> None:
    """The part of 0.13 -> main_0000 that main_0000's own NOT NULL columns need (deterministic)."""
    def fill(conn) -> None:
        fill_nulls(conn, staged.log, "main_0000")
        fill_null_labels(conn, staged.log)  # every main revision requires labels and has no default

    _with_db(staged, fill)
