"""Validate and inspect main_XXXX archives in bounded memory (SQL over the extracted database).

Checks, each reported with a path like ``db_dbnode[12].ctime``: that SQLite's
``PRAGMA quick_check`` finds the database sound (if not, that is the one problem
reported), the metadata (version, ``key_format``), the table and column set,
NOT NULL per revision, 36-character UUIDs, datetimes (the rule the way down
uses), JSON columns (parsed as strictly as the way down parses them; a node's
attributes and extras are objects), every foreign key (links, group members,
node users and computers, logs, comments, authinfos), every node's
``repository_metadata`` tree (shape, names, and that each key is a blob in
``repo/``), blobs no node refers to, and that each blob's sha256 is its name.
A file name that POSIX and AiiDA allow but a legacy archive cannot hold
(``legacynames``: ``aux/out.dat``, ``CON``, ``a\\b``, ``A.txt`` beside ``a.txt``) is
a warning naming the node and the file: the archive is valid, and the way
down refuses it unless ``--allow-loss`` leaves the file out.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from converters import progress
from converters.containers import Archive, Limits
from converters.errors import BadInputError
from converters.inspect import ArchiveSummary, GroupSummary
from converters.jsonio import read_json
from converters.main import legacynames
from converters.main.problems import ProblemLog, shown
from converters.main.jsonvalue import JsonValueError, is_json_number, read_json_value
from converters.main.reader import extract_db, find_schema_gaps, input_db_errors, quick_check, read_db_revision, read_main_metadata
from converters.main.records import Problem
from converters.main.schema import (
    DB_NAME,
    FOREIGN_KEYS,
    KEY_FORM,
    MAIN_REVISIONS,
    REPO_PREFIX,
    STORED_DATETIME_FORM,
    TABLES,
    UUID_GLOB,
    dangling_sql,
    is_nullable,
    read_stored_datetime,
)
from converters.main.zipread import MainZip, check_main_zip
from converters.validate import LINK_TYPES_04
from converters.versions import HISTORY_NOT_LIST, conversion_history, history_warnings
from converters.workdirs import temp_folder


def is_main(archive: Archive) -> bool:
    """True for an opened main zip, False for a legacy archive.

    Anything else that has the main layout or whose metadata.json says
    main_XXXX (a folder, a tar, the legacy layout, both layouts mixed, members
    outside the layout) is refused here, naming the real problem, so that
    ``validate``, ``inspect`` and ``migrate`` refuse the same archives alike."""
    claimed = _claimed_main_version(archive)
    if archive.layout != "main" and claimed is None:
        return False
    check_main_zip(archive, claimed or "main_XXXX")
    return True


def _claimed_main_version(archive: Archive) -> str | None:
    """The main_XXXX revision metadata.json names, if it names one (parsed as the readers parse it)."""
    if not archive.has("metadata.json"):
        return None
    metadata = read_json(archive.path, "metadata.json", archive.read_bytes("metadata.json"))
    version = metadata.get("export_version") if isinstance(metadata, dict) else None
    return version if isinstance(version, str) and version in MAIN_REVISIONS else None


def validate_main(path: Path | str, check_blobs: bool = True, archive: Archive | None = None) -> list[Problem]:
    """Every problem of the main archive at ``path`` (raises only when it cannot be read).

    ``archive``: the file already opened by the caller."""
    path = Path(path)
    log = ProblemLog(path)
    with MainZip(path, archive=archive) as zf, temp_folder(f"extracting db.sqlite3 of {path.name}") as tmp:
        metadata = read_main_metadata(zf)
        for name in zf.unknown:
            log.add("warning", "unknown-member", name, "not part of the main layout; ignored")
        _check_metadata(metadata, log)
        db = extract_db(zf, Path(tmp) / "db.sqlite3", check=False)
        damage = quick_check(path, db)
        if damage:  # nothing else can be trusted, or even read, in it
            log.add("error", "damaged-db", DB_NAME, damage)
            return list(log.summary())
        with input_db_errors(path):
            _check_db(zf, db, metadata, log, check_blobs)
    return list(log.summary())


def _check_db(zf: MainZip, db: Path, metadata: dict, log: ProblemLog, check_blobs: bool) -> None:
    _check_revision(read_db_revision(db), metadata, log)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        if _check_tables(conn, log):
            check_rows(conn, metadata["export_version"], log)
            referenced = check_repository(conn, set(zf.keys), log)
            _check_blobs(zf, referenced, log, check_blobs)
    finally:
        conn.close()


def check_structure(conn: sqlite3.Connection, metadata: dict, db_revision: str | None, log: ProblemLog) -> None:
    """The errors of ``validate_main`` that SQL finds alone, about one scan per table and no
    value parsed in Python: the metadata's key format, the database's revision against the
    metadata's, NOT NULL at that revision, UUIDs, ids and link types (``check_values`` with
    ``parsed``).  Cheap enough for a conversion to run before it writes anything
    (``main_to_legacy.refuse_invalid``); the values themselves (datetimes, text, JSON) are
    checked there as they are written, and the blobs as they are copied."""
    _check_key_format(metadata, log)
    _check_revision(db_revision, metadata, log)
    check_values(conn, metadata["export_version"], log, parsed=True)


def _check_metadata(metadata: dict, log: ProblemLog) -> None:
    if conversion_history(metadata) is None:
        log.add("warning", "metadata", "metadata.json:conversion_info", HISTORY_NOT_LIST)
    _check_key_format(metadata, log)


def _check_key_format(metadata: dict, log: ProblemLog) -> None:
    if metadata.get("key_format", "sha256") != "sha256":
        log.add("error", "key-format", "metadata.json:key_format", f"{metadata.get('key_format')!r}; only sha256 is defined")


def _check_revision(db_revision: str | None, metadata: dict, log: ProblemLog) -> None:
    """The database's alembic_version, when it has one, is the revision metadata.json names."""
    if db_revision not in (None, metadata["export_version"]):
        log.add("error", "revision-mismatch", "db.sqlite3:alembic_version", f"{db_revision!r} but metadata says {metadata['export_version']!r}")


def _check_tables(conn: sqlite3.Connection, log: ProblemLog) -> bool:
    gaps = find_schema_gaps(conn)  # the same rule that stage_main refuses a conversion by
    for where, what in gaps:
        log.add("error", "missing-column" if "." in where else "missing-table", f"db.sqlite3:{where}", what)
    return not gaps


def check_rows(conn: sqlite3.Connection, revision: str | None, log: ProblemLog) -> None:
    """NOT NULL (unless ``revision`` is None), UUIDs, datetimes and foreign keys, row by row where SQL cannot say it."""
    check_values(conn, revision, log)
    for table, column, target, _ in FOREIGN_KEYS:
        for pk, value in conn.execute(dangling_sql(table, column, target)):
            log.add("error", "dangling-reference", f"{table}[{pk}].{column}", f"{value} is not in {target}")


def check_values(conn: sqlite3.Connection, revision: str | None, log: ProblemLog, parsed: bool = False) -> None:
    """Each value on its own: NOT NULL (unless ``revision`` is None), UUIDs, datetimes, text and JSON.

    ``parsed``: the rows were written from parsed legacy values (legacy -> main),
    whose datetimes were formatted and whose JSON was dumped on the way in, so
    only the UUIDs are left to check; or the values are parsed as they are written
    (main -> legacy, ``check_structure``).

    Text that is not UTF-8 is read with its bytes kept (``_lenient_text``): a uuid, a datetime
    or a JSON value made of such bytes is reported as what it fails to be (``_check_text`` says
    it is not UTF-8), instead of stopping the check when sqlite3 cannot decode it."""
    with _lenient_text(conn):
        _check_values(conn, revision, log, parsed)
        check_keys(conn, log)
    if parsed:
        return
    for table, cols in TABLES.items():
        _check_text(conn, table, [c.name for c in cols if c.kind in ("text", "json")], log)
        with _lenient_text(conn):
            _check_json(conn, table, [c.name for c in cols if c.kind == "json" and c.name != "repository_metadata"], log)


@contextmanager
def _lenient_text(conn: sqlite3.Connection) -> Iterator[None]:
    conn.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
    try:
        yield
    finally:
        conn.text_factory = str


def _check_values(conn: sqlite3.Connection, revision: str | None, log: ProblemLog, parsed: bool) -> None:
    for table, cols in TABLES.items():
        for col in cols:
            if revision and col.name != "id" and not is_nullable(col, revision):
                for (pk,) in conn.execute(f"SELECT id FROM {table} WHERE {col.name} IS NULL ORDER BY id"):
                    log.add("error", "null", f"{table}[{pk}].{col.name}", f"null, but {revision} requires a value")
        for col in cols:
            if col.name == "uuid":  # UUID_FORM in SQL: no Python for the good ones (most of them)
                query = f"SELECT id, uuid FROM {table} WHERE typeof(uuid) NOT IN ('text', 'null') OR uuid NOT GLOB '{UUID_GLOB}' ORDER BY id"
                for pk, value in _batched(conn, query):
                    log.add("error", "bad-uuid", f"{table}[{pk}].uuid", f"not a 36-character UUID: {value!r}")
            elif col.kind == "datetime" and not parsed:
                for pk, value in _batched(conn, f"SELECT id, {col.name} FROM {table} ORDER BY id"):
                    if value is not None and not _is_datetime(value):
                        log.add("error", "bad-datetime", f"{table}[{pk}].{col.name}", f"not a datetime ({STORED_DATETIME_FORM}): {value!r}")


def check_keys(conn: sqlite3.Connection, log: ProblemLog) -> None:
    """What the main schema's constraints promise, checked where a database lacks them (a table
    rebuilt by ``CREATE TABLE ... AS SELECT`` keeps no PRIMARY KEY): every id an integer and
    unique, since it becomes a legacy row's key (``Log["None"]`` is none, and a key written twice
    is a repeated JSON key); and every link type one of AiiDA's, which the way down writes as it
    is and every legacy version from 0.4 checks.  SQL alone: nothing per row for a sound database."""
    for table in TABLES:
        for (pk,) in conn.execute(f"SELECT id FROM {table} WHERE typeof(id) <> 'integer' ORDER BY id"):
            log.add("error", "bad-id", f"{table}[{shown(pk)}].id", f"not an integer: {shown(pk)}")
        for (pk,) in conn.execute(f"SELECT id FROM {table} WHERE typeof(id) = 'integer' GROUP BY id HAVING COUNT(*) > 1 ORDER BY id"):
            log.add("error", "bad-id", f"{table}[{pk}].id", f"{pk} is the id of more than one row")
    allowed = ", ".join(f"'{name}'" for name in sorted(LINK_TYPES_04))
    query = f"SELECT id, type FROM db_dblink WHERE type IS NOT NULL AND (typeof(type) <> 'text' OR type NOT IN ({allowed})) ORDER BY id"
    for pk, value in conn.execute(query):
        log.add("error", "bad-link-type", f"db_dblink[{pk}].type", f"{shown(value)} is not a link type (one of {', '.join(sorted(LINK_TYPES_04))})")


def _check_text(conn: sqlite3.Connection, table: str, columns: list[str], log: ProblemLog) -> None:
    """Text that is not UTF-8 (SQLite stores any bytes as text; every reader, a migration
    included, fails on it).  sqlite3 decodes each value in C while the rows are fetched, so
    the common case is one pass with no Python per value; a failure is then located."""
    if not columns:
        return
    try:
        for _ in _batched(conn, f"SELECT {', '.join(columns)} FROM {table}"):
            pass
    except sqlite3.OperationalError as exc:
        if "decode" not in str(exc):
            raise
        locate_bad_text(conn, table, columns, log)


def locate_bad_text(conn: sqlite3.Connection, table: str, columns: list[str], log: ProblemLog) -> None:
    """Report each value of ``columns`` that is not UTF-8, by row (also where a reader met one)."""
    conn.text_factory = bytes  # the raw bytes, for this search only
    try:
        for column in columns:
            for pk, value in _batched(conn, f"SELECT id, {column} FROM {table} ORDER BY id"):
                if isinstance(value, bytes):
                    try:
                        value.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        log.add("error", "not-utf8", f"{table}[{pk}].{column}", f"text is not UTF-8 (byte {exc.start}): {value[:40]!r}")
    finally:
        conn.text_factory = str


def _check_json(conn: sqlite3.Connection, table: str, columns: list[str], log: ProblemLog) -> None:
    """Each JSON value parsed as strictly as the way down parses it (``jsonvalue``: no NaN,
    byte-order mark or repeated key; an integer beyond 64 bits is kept); a node's attributes and extras
    must be objects, as a legacy archive holds them.  (repository_metadata: ``check_repository``.)"""
    for column in columns:
        objects_only = table == "db_dbnode"
        for pk, value in _batched(conn, f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY id"):
            reason = _json_problem(value, objects_only)
            if reason:
                log.add("error", "bad-json", f"{table}[{pk}].{column}", reason)


def _json_problem(value: object, objects_only: bool) -> str:
    return _parsed_json(value, objects_only)[1]


def _parsed_json(value: object, objects_only: bool) -> tuple[object, str]:
    """``(value parsed, "")``, or ``(None, what is wrong with it)``."""
    if is_json_number(value) and not objects_only:  # as the way down reads it (``_legacy_value``)
        parsed = value
    elif not isinstance(value, str):  # a blob, or a number JSON cannot write: _check_text decoded text only
        return None, f"not JSON text: {shown(value)}"
    else:
        try:
            parsed = read_json_value(value)
        except JsonValueError as exc:  # JSON, but not a value a reader keeps as it is
            return None, f"{exc}: {shown(value)}"
        except ValueError as exc:
            return None, f"not JSON ({exc}): {shown(value)}"
    if objects_only and type(parsed) is not dict:
        return None, f"not an object: {shown(value)}"
    return parsed, ""


def _is_datetime(value: object) -> bool:
    try:
        read_stored_datetime(value)  # type: ignore[arg-type]
        return True
    except (ValueError, TypeError):  # TypeError: not text at all (a number or a blob)
        return False


def _batched(conn: sqlite3.Connection, query: str) -> Iterator[tuple]:
    cursor = conn.execute(query)
    while rows := cursor.fetchmany(2000):
        yield from rows


def check_repository(conn: sqlite3.Connection, blobs: set[str], log: ProblemLog) -> set[str]:
    """Each node's tree well formed and pointing at existing blobs; returns the keys referenced.
    Names a legacy archive cannot hold are warnings (``_legacy_names``)."""
    referenced: set[str] = set()
    with _lenient_text(conn):  # text that is not UTF-8 is read, to be skipped below, not stop the check
        for pk, raw, uuid, node_type in _batched(conn, "SELECT id, repository_metadata, uuid, node_type FROM db_dbnode ORDER BY id"):
            where = f"db_dbnode[{pk}].repository_metadata"
            tree = _read_tree(raw, where, log)
            if tree is not None:
                errors = log.counts["bad-repository-tree"]
                referenced |= _tree_keys(tree, blobs, where, log)
                if tree and log.counts["bad-repository-tree"] == errors:  # a sound tree with files
                    _legacy_names(log, pk, uuid, tree, node_type)
    return referenced


def _legacy_names(log: ProblemLog, pk: int, uuid: object, tree: object, node_type: object) -> None:
    """Warn of each file whose name a legacy archive cannot hold: ``migrate --to 0.13`` names
    the same files in its refusal (and leaves them out with ``--allow-loss``)."""
    found: list[legacynames.Unholdable] = []
    try:
        legacynames.node_members(str(log.file), pk, uuid, tree, node_type=node_type, unholdable=found)
    except BadInputError:  # a uuid or a name no folder can be made of: an error reported elsewhere
        return
    for item in found:
        log.add("warning", "legacy-unholdable-name", item.where,
                f"node {item.uuid}: {item.reason}; a name {legacynames.WHY}: `migrate --to 0.13` (or older) "
                "refuses the archive, or leaves the file out with --allow-loss")


def _read_tree(raw: object, where: str, log: ProblemLog) -> object:
    """A node's repository tree, parsed as the way down parses it (``read_json_value``: a tree too
    deep to write is refused there), or None when it is not such JSON (reported here) or not
    UTF-8 (``_check_text`` reported that already: once is enough)."""
    if raw is None:
        return {}
    if isinstance(raw, str) and not _is_utf8(raw):
        return None
    tree, reason = _parsed_json(raw, objects_only=False)
    if reason:
        log.add("error", "bad-json", where, reason)
    return tree


def _is_utf8(text: str) -> bool:
    """False for text read by ``_lenient_text`` from bytes that are not UTF-8 (kept as surrogates)."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _tree_keys(tree: object, blobs: set[str], where: str, log: ProblemLog) -> set[str]:
    """The blob keys of one repository tree that are in the archive; every other problem reported."""
    referenced: set[str] = set()
    for problem, key in _walk_tree(tree, ""):
        if problem:
            log.add("error", "bad-repository-tree", where, problem)
        elif key not in blobs:
            log.add("error", "missing-blob", where, f"file refers to repo/{key}, which is not in the archive")
        else:
            referenced.add(key)
    return referenced


def _walk_tree(tree: object, path: str) -> Iterator[tuple[str, str]]:
    """(problem, "") or ("", key) for every file of a repository tree."""
    if not isinstance(tree, dict) or (set(tree) - {"o", "k"}) or ("o" in tree and "k" in tree):
        yield f"{path or '/'}: not a directory or file object", ""
        return
    if "k" in tree:
        key = tree["k"]
        yield ("", key) if isinstance(key, str) and KEY_FORM.match(key) else (f"{path}: bad key {key!r}", "")
        return
    children = tree.get("o", {})
    if not isinstance(children, dict):
        yield f"{path or '/'}: 'o' is not an object", ""
        return
    for name, child in children.items():
        if not name or "/" in name or name in (".", ".."):
            yield f"{path}/{name}: unsafe name", ""
            continue
        yield from _walk_tree(child, f"{path}/{name}")


def _check_blobs(zf: MainZip, referenced: set[str], log: ProblemLog, check_content: bool) -> None:
    keys = zf.keys
    for key in progress.counted(keys, "checking blobs", len(keys), "blob"):
        if key not in referenced:
            log.add("warning", "unreferenced-blob", REPO_PREFIX + key, "no node refers to this blob")
        if check_content:
            digest = hashlib.sha256()
            try:
                for chunk in zf.chunks(REPO_PREFIX + key, verify=False):  # hashed here, to report rather than refuse
                    digest.update(chunk)
            except BadInputError as exc:  # corrupt, not its declared size, over a bomb guard: a finding, as in a legacy zip
                log.add("error", "unreadable-member", REPO_PREFIX + key, exc.reason)
                continue
            if digest.hexdigest() != key:
                log.add("error", "blob-hash", REPO_PREFIX + key, f"content hashes to {digest.hexdigest()}")


# ---------------------------------------------------------------- inspect
def inspect_main(path: Path | str, archive: Archive | None = None) -> ArchiveSummary:
    """The summary ``reportgen archive inspect`` prints, from SQL counts (bounded memory)."""
    path = Path(path)
    with MainZip(path, archive=archive) as zf, temp_folder(f"extracting db.sqlite3 of {path.name}") as tmp:
        metadata = read_main_metadata(zf)
        db = extract_db(zf, Path(tmp) / "db.sqlite3")
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            with input_db_errors(path):
                summary = summarize_db(conn, str(path), metadata)
        except sqlite3.OperationalError as exc:
            raise BadInputError(path, f"db.sqlite3 does not have the main schema ({exc})", "db.sqlite3") from None
        finally:
            conn.close()
        files = zf.keys
        size = sum(zf.size(REPO_PREFIX + k) for k in files)
    return _replace(summary, repository_files=len(files), repository_bytes=size,
                    warnings=summary.warnings + tuple(f"{n!r}: unexpected member, ignored" for n in zf.unknown))  # fmt: skip


def summarize_db(conn: sqlite3.Connection, path: str, metadata: dict, container: str = "zip") -> ArchiveSummary:
    def count(table: str) -> int:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def counter(query: str) -> dict[str, int]:
        return dict(sorted((str(k), n) for k, n in conn.execute(query)))

    groups = tuple(
        GroupSummary(str(label), str(kind), n)
        for label, kind, n in conn.execute(
            "SELECT g.label, g.type_string, COUNT(m.id) FROM db_dbgroup g"
            " LEFT JOIN db_dbgroup_dbnodes m ON m.dbgroup_id = g.id GROUP BY g.id ORDER BY g.label, g.type_string"
        )
    )
    tables = {"User": "db_dbuser", "Computer": "db_dbcomputer", "Group": "db_dbgroup", "Node": "db_dbnode",
              "Log": "db_dblog", "Comment": "db_dbcomment", "AuthInfo": "db_dbauthinfo"}  # fmt: skip
    return ArchiveSummary(
        path=path, container=container, export_version=str(metadata.get("export_version")),
        aiida_version=str(metadata.get("aiida_version", "")),
        entities={name: count(table) for name, table in tables.items()}, links=count("db_dblink"),
        node_types=counter("SELECT node_type, COUNT(*) FROM db_dbnode GROUP BY node_type"),
        link_types=counter("SELECT type, COUNT(*) FROM db_dblink GROUP BY type"),
        groups=groups, repository_files=0, repository_bytes=0,
        conversion_info=conversion_history(metadata) or (), warnings=history_warnings(metadata),
    )  # fmt: skip


def _replace(summary: ArchiveSummary, **changes) -> ArchiveSummary:
    from dataclasses import replace

    return replace(summary, **changes)


__all__ = ["validate_main", "inspect_main", "is_main", "check_structure"]


# ---------------------------------------------------------------- legacy archives, streamed
def _stage_for_reading(archive: Archive, workdir: Path, observe=None):
    """A legacy archive from 0.4, already opened, streamed into a staging database (its problems
    recorded); ``observe(section, batch)`` sees the input's rows before the steps to 0.13."""
    from converters.legacy_stream import streams
    from converters.main.streamsteps import stage_migrating
    from converters.migrations import plan
    from converters.versions import read_metadata

    metadata = read_metadata(archive)
    version = metadata["export_version"]
    steps = plan(version, "0.13")
    if not streams(version, steps):
        raise BadInputError(archive.path, f"streaming reads 0.4 ... 0.13 archives; migrate this {version} archive first")
    return metadata, stage_migrating(archive, metadata, steps, workdir, strict=False, tool="read-only", keep_blobs=False,
                                     observe=observe)  # fmt: skip


def validate_legacy_streaming(path: Path | str, limits: Limits | None = None) -> list[Problem]:
    """References of a large legacy archive, in bounded memory (``archive validate --stream``).

    Checks links and group members against the nodes, nodes without attributes
    or extras, repository folders without a node, datetimes, UUIDs and foreign
    keys; the per-field structure checks of ``converters.validate`` need the
    whole document and are not repeated here.  A main_XXXX archive is already
    read from SQLite in bounded memory: it gets the full ``validate_main``.
    The archive is listed once, whichever it is.
    """
    from converters.containers import open_archive
    from converters.validate import unreadable_repository_file

    path = Path(path)
    try:
        archive = open_archive(path, limits)
    except BadInputError as exc:
        return unreadable_repository_file(exc)
    with archive, temp_folder(f"staging {path.name}") as tmp:
        if is_main(archive):
            return validate_main(path, archive=archive)
        try:
            _, staged = _stage_for_reading(archive, Path(tmp))
        except BadInputError as exc:  # staging reads each repository file in turn
            return unreadable_repository_file(exc)
        log = staged.log
        conn = sqlite3.connect(staged.db)
        try:
            check_rows(conn, None, log)  # legacy nulls are filled by the conversion, not errors
        finally:
            conn.close()
    # What a conversion reads or leaves out with a warning, but a legacy reader cannot take
    # (validate calls it an error, with or without --stream): a datetime that is ISO 8601 but
    # no legacy date, and a repository folder of an unknown node.
    return [replace(p, severity="error") if p.code in LEGACY_ERRORS else p for p in log.summary()]


LEGACY_ERRORS = frozenset({"datetime-form", "repository-without-node"})


def inspect_legacy_streaming(path: Path | str, limits: Limits | None = None) -> ArchiveSummary:
    """The summary of a large legacy archive in bounded memory (``archive inspect --stream``): the
    same as ``inspect`` gives, counted from the input's rows while they stream past (the staging,
    with the steps to 0.13, is what checks them as strictly as a migration would)."""
    from converters.containers import open_archive
    from converters.inspect import RowTally
    from converters.versions import read_metadata

    path = Path(path)
    with open_archive(path, limits) as archive, temp_folder(f"staging {path.name}") as tmp:
        if is_main(archive):
            return inspect_main(path, archive=archive)
        metadata = read_metadata(archive)
        tally = RowTally(metadata["export_version"])
        _stage_for_reading(archive, Path(tmp), observe=tally.add)
    files = [m for m in archive.listing.members if not m.is_dir and m.name.startswith("nodes/")]
    return ArchiveSummary(
        path=str(path), container=archive.container, export_version=metadata["export_version"],
        aiida_version=str(metadata.get("aiida_version", "")), entities=tally.entities, links=tally.links,
        node_types=dict(sorted(tally.node_types.items())), link_types=dict(sorted(tally.link_types.items())),
        groups=tally.groups(), repository_files=len(files), repository_bytes=sum(m.size for m in files),
        conversion_info=conversion_history(metadata) or (), warnings=archive.listing.warnings + history_warnings(metadata),
    )  # fmt: skip
