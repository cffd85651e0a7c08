"""The SQLite schema of AiiDA 2.x archives (``main_0000`` ... ``main_0001``).

Learnt from aiida-core's ``sqlite_zip/migrations/versions/main_000*.py``: the
PostgreSQL schema with ``UUID`` -> ``CHAR(32)`` (holding the 36-character
hyphenated string), ``JSONB`` -> ``JSON`` (text) and datetimes as text
``YYYY-MM-DD HH:MM:SS.ffffff`` (SQLAlchemy's SQLite format: naive UTC, no
offset).  ``main_0000`` leaves the columns that legacy data may lack nullable;
``main_0000a`` fills them, ``main_0000b`` makes them NOT NULL, ``main_0001``
changes nothing.  One table of columns drives the DDL of every revision, the
canonical copy and the readers, so the column lists live in exactly one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

MAIN_REVISIONS: tuple[str, ...] = ("main_0000", "main_0000a", "main_0000b", "main_0001")
HEAD = "main_0001"
DB_NAME = "db.sqlite3"
META_NAME = "metadata.json"
REPO_PREFIX = "repo/"
PAGE_SIZE = 4096  # fixed so that the same rows give the same file on every machine
# The stored forms of a UUID (36 characters, lowercase, as aiida-core writes it) and of a blob key.
UUID_FORM = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
# UUID_FORM as SQL: GLOB is case-sensitive and each class is one character
UUID_GLOB = "-".join("[0-9a-f]" * n for n in (8, 4, 4, 4, 12))
KEY_FORM = re.compile(r"^[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class Column:
    name: str
    sql: str  # type and constraints except NOT NULL
    nullable_until_b: bool = False  # nullable in main_0000 and main_0000a only
    nullable: bool = False  # nullable in every revision
    default: object = None  # what main_0000a puts in place of a null (None: the row is deleted)
    kind: str = "text"  # text | int | json | datetime | bool


def _c(name: str, sql: str, kind: str = "text", **kw: object) -> Column:
    return Column(name, sql, kind=kind, **kw)  # type: ignore[arg-type]


# Insert order: every table after the tables its foreign keys point at.
TABLES: dict[str, tuple[Column, ...]] = {
    "db_dbuser": (
        _c("id", "INTEGER", "int"),
        _c("email", "VARCHAR(254)"),
        _c("first_name", "VARCHAR(254)", nullable_until_b=True, default=""),
        _c("last_name", "VARCHAR(254)", nullable_until_b=True, default=""),
        _c("institution", "VARCHAR(254)", nullable_until_b=True, default=""),
    ),
    "db_dbcomputer": (
        _c("id", "INTEGER", "int"),
        _c("uuid", "CHAR(32)"),
        _c("label", "VARCHAR(255)"),
        _c("hostname", "VARCHAR(255)", nullable_until_b=True, default=""),
        _c("description", "TEXT", nullable_until_b=True, default=""),
        _c("scheduler_type", "VARCHAR(255)", nullable_until_b=True, default=""),
        _c("transport_type", "VARCHAR(255)", nullable_until_b=True, default=""),
        _c("metadata", "JSON", "json", nullable_until_b=True, default={}),
    ),
    "db_dbauthinfo": (
        _c("id", "INTEGER", "int"),
        _c("aiidauser_id", "INTEGER", "int", nullable_until_b=True),
        _c("dbcomputer_id", "INTEGER", "int", nullable_until_b=True),
        _c("metadata", "JSON", "json", nullable_until_b=True, default={}),
        _c("auth_params", "JSON", "json", nullable_until_b=True, default={}),
        _c("enabled", "BOOLEAN", "bool", nullable_until_b=True, default=True),
    ),
    "db_dbgroup": (
        _c("id", "INTEGER", "int"),
        _c("uuid", "CHAR(32)"),
        _c("label", "VARCHAR(255)"),
        _c("type_string", "VARCHAR(255)", nullable_until_b=True, default="core"),
        _c("time", "DATETIME", "datetime", nullable_until_b=True, default="<epoch>"),
        _c("description", "TEXT", nullable_until_b=True, default=""),
        _c("extras", "JSON", "json", default={}),
        _c("user_id", "INTEGER", "int"),
    ),
    "db_dbnode": (
        _c("id", "INTEGER", "int"),
        _c("uuid", "CHAR(32)"),
        _c("node_type", "VARCHAR(255)"),
        _c("process_type", "VARCHAR(255)", nullable=True),
        _c("label", "VARCHAR(255)", nullable_until_b=True, default=""),
        _c("description", "TEXT", nullable_until_b=True, default=""),
        _c("ctime", "DATETIME", "datetime", nullable_until_b=True, default="<epoch>"),
        _c("mtime", "DATETIME", "datetime", nullable_until_b=True, default="<ctime>"),
        _c("attributes", "JSON", "json", nullable=True),
        _c("extras", "JSON", "json", nullable=True),
        _c("repository_metadata", "JSON DEFAULT '{}'", "json"),  # always set: {} when the node has no files
        _c("dbcomputer_id", "INTEGER", "int", nullable=True),
        _c("user_id", "INTEGER", "int"),
    ),
    "db_dbcomment": (
        _c("id", "INTEGER", "int"),
        _c("uuid", "CHAR(32)"),
        _c("dbnode_id", "INTEGER", "int", nullable_until_b=True),
        _c("ctime", "DATETIME", "datetime", nullable_until_b=True, default="<epoch>"),
        _c("mtime", "DATETIME", "datetime", nullable_until_b=True, default="<ctime>"),
        _c("user_id", "INTEGER", "int", nullable_until_b=True),
        _c("content", "TEXT", nullable_until_b=True, default=""),
    ),
    "db_dbgroup_dbnodes": (
        _c("id", "INTEGER", "int"),
        _c("dbnode_id", "INTEGER", "int"),
        _c("dbgroup_id", "INTEGER", "int"),
    ),
    "db_dblink": (
        _c("id", "INTEGER", "int"),
        _c("input_id", "INTEGER", "int"),
        _c("output_id", "INTEGER", "int"),
        _c("label", "VARCHAR(255)"),
        _c("type", "VARCHAR(255)"),
    ),
    "db_dblog": (
        _c("id", "INTEGER", "int"),
        _c("uuid", "CHAR(32)"),
        _c("time", "DATETIME", "datetime", nullable_until_b=True, default="<epoch>"),
        _c("loggername", "VARCHAR(255)", nullable_until_b=True, default=""),
        _c("levelname", "VARCHAR(50)", nullable_until_b=True, default=""),
        _c("dbnode_id", "INTEGER", "int"),
        _c("message", "TEXT", nullable_until_b=True, default=""),
        _c("metadata", "JSON", "json", nullable_until_b=True, default={}),
    ),
}

# The indexes aiida-core declares (index=True columns), named as SQLAlchemy names them there
# (``ix_<table>_<table>_<column>``: aiida-core's naming convention repeats the table name).
INDEXED: dict[str, tuple[str, ...]] = {
    "db_dbauthinfo": ("aiidauser_id", "dbcomputer_id"),
    "db_dbgroup": ("label", "type_string", "user_id"),
    "db_dbnode": ("node_type", "process_type", "label", "ctime", "mtime", "dbcomputer_id", "user_id"),
    "db_dbcomment": ("dbnode_id", "user_id"),
    "db_dbgroup_dbnodes": ("dbnode_id", "dbgroup_id"),
    "db_dblink": ("input_id", "output_id", "label", "type"),
    "db_dblog": ("loggername", "levelname", "dbnode_id"),
}

# The table constraints, written as aiida-core 2.9.4 writes them, so that a later aiida-core
# migration that drops or alters a constraint by name finds it.  Keys: ``pk``,
# ``uq:<col>[,<col>]`` and ``fk:<col>``.  Two layouts, in aiida-core's order:
# - main_0000 and main_0000a: the tables as the legacy conversion creates them
#   (``v1_db_schema.ArchiveV1Base.metadata.create_all``);
# - main_0000b and main_0001: the seven tables main_0000b rebuilds with ``batch_alter_table``
#   get a quoted name, upper-case ON DELETE and the constraint order of aiida-core's rebuild
#   (that order follows Python's string hashing, so it varies between aiida-core runs; the
#   order here is the one of ``verdi archive migrate`` 0.13 -> main_0001 in the audit); the
#   two tables it leaves alone (links, group members) keep the main_0000 text.
UNIQUE: dict[str, tuple[tuple[str, ...], ...]] = {
    "db_dbuser": (("email",),),
    "db_dbcomputer": (("uuid",), ("label",)),
    "db_dbauthinfo": (("aiidauser_id", "dbcomputer_id"),),
    "db_dbgroup": (("uuid",), ("label", "type_string")),
    "db_dbnode": (("uuid",),),
    "db_dbcomment": (("uuid",),),
    "db_dbgroup_dbnodes": (("dbgroup_id", "dbnode_id"),),
    "db_dblog": (("uuid",),),
}
# (table, column) -> ON DELETE as main_0000 spells it ("" for none)
ON_DELETE: dict[tuple[str, str], str] = {
    ("db_dbauthinfo", "aiidauser_id"): "CASCADE",
    ("db_dbauthinfo", "dbcomputer_id"): "CASCADE",
    ("db_dbgroup", "user_id"): "CASCADE",
    ("db_dbnode", "dbcomputer_id"): "RESTRICT",
    ("db_dbnode", "user_id"): "restrict",
    ("db_dbcomment", "dbnode_id"): "CASCADE",
    ("db_dbcomment", "user_id"): "CASCADE",
    ("db_dbgroup_dbnodes", "dbnode_id"): "",
    ("db_dbgroup_dbnodes", "dbgroup_id"): "",
    ("db_dblink", "input_id"): "",
    ("db_dblink", "output_id"): "CASCADE",
    ("db_dblog", "dbnode_id"): "CASCADE",
}
CONSTRAINT_ORDER: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    # table: (main_0000 order, main_0000b order or None when main_0000b leaves the table alone)
    "db_dbuser": (("pk", "uq:email"), ("pk", "uq:email")),
    "db_dbcomputer": (("pk", "uq:uuid", "uq:label"), ("pk", "uq:uuid", "uq:label")),
    "db_dbauthinfo": (
        ("pk", "uq:aiidauser_id,dbcomputer_id", "fk:aiidauser_id", "fk:dbcomputer_id"),
        ("pk", "fk:dbcomputer_id", "fk:aiidauser_id", "uq:aiidauser_id,dbcomputer_id"),
    ),
    "db_dbgroup": (
        ("pk", "uq:label,type_string", "uq:uuid", "fk:user_id"),
        ("pk", "uq:uuid", "uq:label,type_string", "fk:user_id"),
    ),
    "db_dbnode": (
        ("pk", "uq:uuid", "fk:dbcomputer_id", "fk:user_id"),
        ("pk", "fk:user_id", "fk:dbcomputer_id", "uq:uuid"),
    ),
    "db_dbcomment": (
        ("pk", "uq:uuid", "fk:dbnode_id", "fk:user_id"),
        ("pk", "fk:dbnode_id", "uq:uuid", "fk:user_id"),
    ),
    "db_dbgroup_dbnodes": (("pk", "uq:dbgroup_id,dbnode_id", "fk:dbnode_id", "fk:dbgroup_id"), None),
    "db_dblink": (("pk", "fk:input_id", "fk:output_id"), None),
    "db_dblog": (("pk", "uq:uuid", "fk:dbnode_id"), ("pk", "fk:dbnode_id", "uq:uuid")),
}
ALEMBIC_VERSION_DDL = (
    "CREATE TABLE alembic_version (\n\tversion_num VARCHAR(32) NOT NULL, \n"
    "\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)"
)


# (table, column, target table, nullable): every reference between rows
FOREIGN_KEYS = (
    ("db_dbnode", "user_id", "db_dbuser", False),
    ("db_dbnode", "dbcomputer_id", "db_dbcomputer", True),
    ("db_dbgroup", "user_id", "db_dbuser", False),
    ("db_dblink", "input_id", "db_dbnode", False),
    ("db_dblink", "output_id", "db_dbnode", False),
    ("db_dbgroup_dbnodes", "dbnode_id", "db_dbnode", False),
    ("db_dbgroup_dbnodes", "dbgroup_id", "db_dbgroup", False),
    ("db_dblog", "dbnode_id", "db_dbnode", False),
    ("db_dbcomment", "dbnode_id", "db_dbnode", False),
    ("db_dbcomment", "user_id", "db_dbuser", False),
    ("db_dbauthinfo", "aiidauser_id", "db_dbuser", False),
    ("db_dbauthinfo", "dbcomputer_id", "db_dbcomputer", False),
)


def dangling_sql(table: str, column: str, target: str) -> str:
    """``(id, value)`` of the rows of ``table`` whose ``column`` names no row of ``target``, in id order."""
    return (
        f"SELECT t.id, t.{column} FROM {table} t LEFT JOIN {target} r ON r.id = t.{column}"
        f" WHERE r.id IS NULL AND t.{column} IS NOT NULL ORDER BY t.id"
    )


# what names a row of a table independently of its pk (link and group-member rows have nothing)
NATURAL_KEYS: dict[str, str] = {"db_dbuser": "email", **{t: "uuid" for t in TABLES if any(c.name == "uuid" for c in TABLES[t])}}


def column_names(table: str) -> tuple[str, ...]:
    return tuple(col.name for col in TABLES[table])


def is_nullable(col: Column, revision: str) -> bool:
    if col.nullable:
        return True
    return col.nullable_until_b and revision in ("main_0000", "main_0000a")


def _rebuilt(table: str, revision: str) -> bool:
    """Whether aiida-core's main_0000b has rebuilt ``table`` by ``revision``."""
    return revision not in ("main_0000", "main_0000a") and CONSTRAINT_ORDER[table][1] is not None


def _foreign_key_target(table: str, column: str) -> str:
    return next(target for t, c, target, _ in FOREIGN_KEYS if (t, c) == (table, column))


def _constraint_ddl(table: str, key: str, rebuilt: bool) -> str:
    kind, _, cols = key.partition(":")
    if kind == "pk":
        return f"CONSTRAINT {table}_pkey PRIMARY KEY (id)"
    if kind == "uq":
        names = cols.split(",")
        return f"CONSTRAINT uq_{table}_{'_'.join(names)} UNIQUE ({', '.join(names)})"
    target = _foreign_key_target(table, cols)
    on_delete = ON_DELETE[(table, cols)]
    on_delete = f" ON DELETE {on_delete.upper() if rebuilt else on_delete}" if on_delete else ""
    return (
        f"CONSTRAINT fk_{table}_{cols}_{target} FOREIGN KEY({cols}) REFERENCES {target} (id)"
        f"{on_delete} DEFERRABLE INITIALLY DEFERRED"
    )


def render_table_ddl(table: str, revision: str) -> str:
    """CREATE TABLE of ``table`` as aiida-core 2.9.4 leaves it at ``revision`` (same text).

    ``id INTEGER NOT NULL`` with a single-column ``PRIMARY KEY (id)`` constraint is still
    SQLite's rowid alias, so the canonical copy is as fast as with ``INTEGER PRIMARY KEY``.
    """
    rebuilt = _rebuilt(table, revision)
    parts = []
    for col in TABLES[table]:
        null = "" if is_nullable(col, revision) else " NOT NULL"
        parts.append(f"{col.name} {col.sql}{null}")
    order = CONSTRAINT_ORDER[table][1 if rebuilt else 0]
    assert order is not None
    parts.extend(_constraint_ddl(table, key, rebuilt) for key in order)
    name = f'"{table}"' if rebuilt else table
    return f"CREATE TABLE {name} (\n\t" + ", \n\t".join(parts) + "\n)"


def index_name(table: str, column: str) -> str:
    return f"ix_{table}_{table}_{column}"


def render_index_ddl(table: str) -> list[str]:
    return [f"CREATE INDEX {index_name(table, col)} ON {table} ({col})" for col in INDEXED.get(table, ())]


def render_schema(revision: str) -> list[str]:
    """Every statement that creates an empty database at ``revision`` (indexes separately)."""
    statements = [render_table_ddl(table, revision) for table in TABLES]
    statements.append(ALEMBIC_VERSION_DDL)
    return statements


def format_datetime(value: str | None) -> str | None:
    """A legacy or ISO datetime string -> the stored ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC, naive).

    Accepts strings without microseconds and with an offset (aiida-core's
    ``strptime`` fails on the first); an aware value is converted to UTC.
    Raises ValueError on anything else.
    """
    if value is None:
        return None
    if _LEGACY_FORM.match(value):
        return value[:10] + " " + value[11:]  # the common legacy form: only the separator changes
    # "YYYY-MM-DD HH:MM:SS.ffffff"; isoformat, not strftime: four-digit years below 1000 too
    return read_stored_datetime(value).isoformat(" ", "microseconds")


def read_stored_datetime(value: str) -> datetime:
    """A stored datetime as naive UTC; the one rule of what is valid, for ``validate`` and the
    way down alike.  Raises ValueError (TypeError for a value that is no text).

    What aiida-core 2.9.4 reads: SQLAlchemy's SQLite dialect parses with
    ``datetime.fromisoformat`` (``2020-01-01T10:00:00`` and ``2020-01-01`` too);
    an aware value is converted to UTC, as ``format_datetime`` does on the way up."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01 00:00+01:00 is a legal text for a time before year 1
            raise ValueError(f"{value!r} in UTC is out of the years 1 to 9999") from None
    return parsed


def format_legacy_datetime(value: str | None) -> str | None:
    """The stored form -> the legacy ``YYYY-MM-DDTHH:MM:SS.ffffff`` (naive UTC)."""
    if value is None:
        return None
    # isoformat, not strftime: the same text, and the year keeps four digits below 1000 (%Y drops them)
    return read_stored_datetime(value).isoformat(timespec="microseconds")


STORED_DATETIME_FORM = "an ISO 8601 datetime such as 2020-01-01 10:00:00.000000"


EPOCH = "1970-01-01 00:00:00.000000"
# The common legacy form, rewritten without parsing.  Only what is surely a datetime takes this
# path: ASCII digits ([0-9]; \d would take any script's, and '٢٠٢٠' is no year a reader parses),
# no year 0000 and no day past 28 (2020-02-30 is no day); the rest is parsed by read_stored_datetime.
_LEGACY_FORM = re.compile(
    r"(?!0000)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}\Z"
)
