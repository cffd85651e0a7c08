"""Validate an archive: the structure of its version plus referential integrity.

Every problem is collected (not just the first), each with a JSON path such
as ``$.export_data.Node["12"].ctime`` or a member name for the repository.
Severity ``error`` makes the archive invalid; ``warning`` does not:

- a node without a repository folder is a warning: AiiDA omits the folder of
  a node that has no files, so it is legitimate, but worth seeing;
- junk members (``__MACOSX/``, ``.DS_Store``) and unknown names are warnings
  and are never copied by ``migrate``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from converters.containers import Archive, Limits, Member, open_archive
from converters.errors import BadInputError
from converters.jsonio import gc_paused, json_kind
from converters.main.schema import read_stored_datetime
from converters.versions import (
    HISTORY_NOT_LIST,
    conversion_history,
    entity_names,
    node_type_field,
    read_data,
    read_metadata,
    version_index,
)

JSON_FORMAT = "reportgen-archive-validate/1"  # changes when a key of the JSON report changes meaning or goes away
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
# ASCII digits ([0-9]: \d takes any script's); a value of this shape is then read as a date (is_date)
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([+-][0-9]{2}:[0-9]{2}|Z)?\Z")
# a row key that is an integer: ASCII digits (str.isdigit() also takes "١" and "²", which no reader keys a row by)
INTEGER_KEY = re.compile(r"-?[0-9]+")
LINK_TYPES_03 = {"inputlink", "createlink", "returnlink", "calllink", "unspecified"}
LINK_TYPES_04 = {"input_calc", "input_work", "create", "return", "call_calc", "call_work"}
# the top-level sections whose container kind is checked (what every reader of them assumes)
SECTION_KINDS = (
    ("links_uuid", list), ("export_data", dict), ("groups_uuid", dict), ("node_attributes", dict), ("node_extras", dict)
)  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """One finding: ``path`` is a JSON path into data/metadata or a member name."""

    severity: str  # "error" | "warning"
    code: str
    path: str
    message: str

    def describe(self) -> str:
        return f"{self.severity}: {self.path}: {self.message}"


def _is_str(value: object) -> bool:
    """A uuid or link type to look up: anything else (a list is not even hashable) matches nothing."""
    return isinstance(value, str)


def _key(pk: str) -> str:
    return f'["{pk}"]'


def top_level_keys(version: str) -> tuple[str, ...]:
    keys = ["links_uuid", "export_data", "groups_uuid", "node_attributes"]
    v = version_index(version)
    if v <= version_index("0.5"):
        keys.append("node_attributes_conversion")
    if v >= version_index("0.4"):
        keys.append("node_extras")
    if version_index("0.4") <= v <= version_index("0.5"):
        keys.append("node_extras_conversion")
    return tuple(keys)


def is_date(value: object, shape: re.Pattern[str] = DATE) -> bool:
    """A legacy ``date`` field's value: ISO 8601 of the ``shape`` aiida-core writes, and a real
    moment (2020-02-30 or 24:00 is the shape, but no date a reader can parse), also in UTC, where
    the conversions put it (0001-01-01T00:00:00+01:00 is before year 1 there: the way up reports it)."""
    if not (isinstance(value, str) and shape.match(value)):
        return False
    try:
        read_stored_datetime(value)  # the one parse (and UTC conversion) of the main format's readers
    except ValueError:
        return False
    return True


class _Checker:
    """Walks one archive's metadata and data, collecting problems."""

    def __init__(self, archive: Archive, metadata: dict[str, Any], data: dict[str, Any]) -> None:
        self.archive, self.metadata, self.data = archive, metadata, data
        self.version: str = metadata["export_version"]
        self.problems: list[Problem] = []
        self.export = data.get("export_data") if isinstance(data.get("export_data"), dict) else {}

    def add(self, code: str, path: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(severity, code, path, message))

    def entity(self, short: str) -> tuple[str, dict[str, Any]]:
        for name in entity_names(self.version, short):
            rows = self.export.get(name)
            if isinstance(rows, dict):
                return name, rows
        return entity_names(self.version, short)[0], {}

    def rows_of(self, name: str) -> dict[str, Any]:
        """The rows of section ``name`` to look a foreign key up in: none when the section is missing,
        and none either when it is not an object (``check_rows`` reports that once, as an error)."""
        rows = self.export.get(name)
        return rows if isinstance(rows, dict) else {}

    # ---- structure
    def check_metadata(self) -> None:
        for key in ("unique_identifiers", "all_fields_info"):
            if not isinstance(self.metadata.get(key), dict):
                self.add("metadata", f"$metadata.{key}", "missing or not an object")
        if conversion_history(self.metadata) is None:
            self.add("metadata", "$metadata.conversion_info", HISTORY_NOT_LIST, "warning")

    def check_top_level(self) -> None:
        expected = top_level_keys(self.version)
        for key in expected:
            if key not in self.data:
                self.add("structure", f"$.{key}", f"missing (export version {self.version} has it)")
        for key in self.data:
            if key not in expected:
                self.add("structure", f"$.{key}", f"not part of export version {self.version}", "warning")
        for key, kind in SECTION_KINDS:
            if key in self.data and not isinstance(self.data[key], kind):
                self.add("structure", f"$.{key}", f"must be a {'list' if kind is list else 'object'}")

    def check_rows(self) -> None:
        fields_info = self.metadata.get("all_fields_info") or {}
        for name, rows in self.export.items():
            if not isinstance(rows, dict):
                self.add("structure", f"$.export_data.{name}", "must be an object of rows keyed by pk")
                continue
            info = fields_info.get(name) if isinstance(fields_info, dict) else None
            for pk, row in rows.items():
                self.check_row(name, pk, row, info if isinstance(info, dict) else {})

    def check_row(self, name: str, pk: str, row: Any, info: dict[str, Any]) -> None:
        path = f"$.export_data.{name}{_key(pk)}"
        if not isinstance(row, dict):
            self.add("structure", path, "row must be an object")
            return
        if not INTEGER_KEY.fullmatch(pk):
            self.add("structure", path, "primary key is not an integer")
        if "uuid" in row and not (isinstance(row["uuid"], str) and UUID.match(row["uuid"])):
            self.add("uuid", f"{path}.uuid", f"malformed UUID {row['uuid']!r}")
        for field, spec in info.items():
            if not isinstance(spec, dict) or field not in row or row[field] is None:
                continue
            if spec.get("convert_type") == "date" and not is_date(row[field]):
                self.add("date", f"{path}.{field}", f"malformed date {row[field]!r}")
            target = spec.get("requires")
            if isinstance(target, str) and str(row[field]) not in self.rows_of(target):
                self.add("foreign-key", f"{path}.{field}", f"refers to {target} {row[field]!r}, which is not in the archive")

    # ---- references
    def node_uuids(self) -> dict[str, str]:
        _, nodes = self.entity("Node")
        return {row["uuid"]: pk for pk, row in nodes.items() if isinstance(row, dict) and _is_str(row.get("uuid"))}

    def check_nodes(self) -> None:
        name, nodes = self.entity("Node")
        type_field = node_type_field(self.version)
        for pk, row in nodes.items():
            if isinstance(row, dict) and not isinstance(row.get(type_field), str):
                self.add("structure", f"$.export_data.{name}{_key(pk)}.{type_field}", "missing node type")
        for section in ("node_attributes", "node_extras", "node_attributes_conversion", "node_extras_conversion"):
            values = self.data.get(section)
            if not isinstance(values, dict):
                continue
            for pk, value in values.items():
                if pk not in nodes:
                    self.add("orphan", f"$.{section}{_key(pk)}", f"belongs to node {pk}, which is not in the archive")
                if section in ("node_attributes", "node_extras") and not isinstance(value, dict | None):
                    self.add("structure", f"$.{section}{_key(pk)}", "must be an object")
                elif section in ("node_attributes", "node_extras") and value is None:  # tolerated, as aiida-core does
                    self.add("null-entry", f"$.{section}{_key(pk)}", "null; a migration to main_XXXX stores {}", "warning")

    def check_links(self, uuids: dict[str, str]) -> None:
        allowed = LINK_TYPES_03 if self.version == "0.3" else LINK_TYPES_04
        links = self.data.get("links_uuid")
        for index, link in enumerate(links if isinstance(links, list) else []):  # not a list: reported above
            path = f"$.links_uuid[{index}]"
            if not isinstance(link, dict):
                self.add("structure", path, "link must be an object")
                continue
            for end in ("input", "output"):
                if not _is_str(link.get(end)) or link[end] not in uuids:
                    self.add("dangling-link", f"{path}.{end}", f"dangling link: node {link.get(end)!r} is not in the archive")
            if version_index(self.version) >= version_index("0.3") and not (_is_str(link.get("type")) and link["type"] in allowed):
                self.add("link-type", f"{path}.type", f"link type {link.get('type')!r} is not one of version {self.version}")

    def check_links_beyond_0_3(self) -> None:
        """Warn, in a 0.1 ... 0.3 archive, of each link a migration to 0.4 or later drops because no
        0.4 link type fits it (``v0_3_to_v0_4`` 6e): valid in its own version, it is not lost unsaid."""
        # imported here: the migrations import this module
        from converters.migrations.v0_2_to_v0_3 import classify, link_type
        from converters.migrations.v0_3_to_v0_4 import LINK_TYPES_04, link_type_at_0_4

        if version_index(self.version) > version_index("0.3") or not isinstance(self.data.get("links_uuid"), list):
            return
        _, nodes = self.entity("Node")
        type_field, attributes = node_type_field(self.version), self.data.get("node_attributes")
        by_uuid = {row["uuid"]: (pk, row.get(type_field)) for pk, row in nodes.items()
                   if isinstance(row, dict) and _is_str(row.get("uuid")) and _is_str(row.get(type_field))}  # fmt: skip
        for index, link in enumerate(self.data["links_uuid"]):
            ends = (link.get("input"), link.get("output")) if isinstance(link, dict) else (None, None)
            if not all(_is_str(end) and end in by_uuid for end in ends):
                continue  # reported by check_links
            (_, source), (target_pk, target) = by_uuid[ends[0]], by_uuid[ends[1]]
            old = link.get("type") if self.version == "0.3" else link_type(classify(source), classify(target))
            attrs = attributes.get(target_pk) if isinstance(attributes, dict) else None
            new = link_type_at_0_4(old, source, target, attrs if isinstance(attrs, dict) else {}) if _is_str(old) else None
            if new is not None and new not in LINK_TYPES_04:
                self.add("link-type", f"$.links_uuid[{index}]", f"a link from a {source!r} node to a {target!r} node: no link type of 0.4 "
                         f"and later fits it ({new!r}); a migration to 0.4 or later drops it", "warning")  # fmt: skip

    def check_groups(self, uuids: dict[str, str]) -> None:
        _, groups = self.entity("Group")
        group_uuids = {row.get("uuid") for row in groups.values() if isinstance(row, dict) and _is_str(row.get("uuid"))}
        listed = self.data.get("groups_uuid")
        for group, members in (listed if isinstance(listed, dict) else {}).items():  # not an object: reported above
            path = f"$.groups_uuid{_key(group)}"
            if group not in group_uuids:
                self.add("orphan", path, "group is not in export_data")
            if not isinstance(members, list):  # every reader iterates it as a list of node UUIDs
                self.add("group-member", path, f"group members must be a list of node UUIDs, not {json_kind(members)}")
            for index, member in enumerate(members if isinstance(members, list) else []):
                if not _is_str(member) or member not in uuids:
                    self.add("group-member", f"{path}[{index}]", f"group member {member!r} is not a node of the archive")

    def check_repository(self, uuids: dict[str, str]) -> None:
        folders: dict[str, str] = {}  # node UUID -> its folder member name
        for member in self.archive.listing.members:
            parts = member.name.split("/")
            if len(parts) >= 4:
                folders.setdefault(parts[1] + parts[2] + parts[3], "/".join(parts[:4]))
        for uuid, folder in sorted(folders.items()):
            if uuid not in uuids:
                self.add("orphan", folder, "orphan repository folder: no node has this UUID")
        for uuid, pk in uuids.items():
            if isinstance(uuid, str) and uuid not in folders:
                self.add("no-repository", f"$.export_data.Node{_key(pk)}", "node has no repository folder (no files)", "warning")
        for file, inside in files_used_as_folders(self.archive.listing.members):
            self.add("file-beside-folder", file, f"a file, and also the folder of {inside!r}: no file system holds both")

    def check_member_bytes(self) -> None:
        """Read every repository file of a zip through the reader's checks (CRC, declared size,
        ratio), as a migration would: each member that cannot be read is an error (all of them,
        as ``unzip -t`` lists them), and makes the archive invalid.
        A tar was read whole while it was listed; a folder's files are plain."""
        if self.archive.container != "zip":
            return
        for member, chunks in self.archive.iter_members():
            try:
                for _ in chunks or ():
                    pass
            except BadInputError as exc:  # a zip reads each member on its own: report it and go on to the next
                self.add("unreadable-member", exc.member or member.name, exc.reason)

    def run(self) -> list[Problem]:
        for warning in self.archive.listing.warnings:
            self.add("member", warning.split(":", 1)[0], warning.split(": ", 1)[-1], "warning")
        self.check_metadata()
        self.check_top_level()
        self.check_rows()
        self.check_nodes()
        uuids = self.node_uuids()
        self.check_links(uuids)
        self.check_links_beyond_0_3()
        self.check_groups(uuids)
        self.check_repository(uuids)
        self.check_member_bytes()
        return self.problems


def files_used_as_folders(members: tuple[Member, ...]) -> Iterator[tuple[str, str]]:
    """``(file, a member inside it)`` for every file whose name is also a folder of other members
    (``path/x`` and ``path/x/y``): the first one extracted would block the other.  A search in
    the sorted names: no implied folder is kept, so memory is one list of the names."""
    ordered = sorted(m.name for m in members)
    for member in members:
        if not member.is_dir:
            at = bisect.bisect_left(ordered, member.name + "/")
            if at < len(ordered) and ordered[at].startswith(member.name + "/"):
                yield member.name, ordered[at]


def validate_archive(archive: Archive) -> list[Problem]:
    """Every problem of an opened archive (raises only when it cannot be read at all)."""
    metadata = read_metadata(archive)
    data = read_data(archive)
    with gc_paused():
        return _Checker(archive, metadata, data).run()


def validate(path: Path | str, limits: Limits | None = None) -> list[Problem]:
    """Every problem of the archive at ``path`` (legacy or main_XXXX); valid when none is an error."""
    from converters.main.validate import is_main, validate_main  # main imports this module

    try:
        archive = open_archive(path, limits)  # listed once, whichever layout it has
    except BadInputError as exc:
        return unreadable_repository_file(exc)
    if is_main(archive):
        return validate_main(path, archive=archive)
    return validate_archive(archive)


REPOSITORY_MEMBERS = ("nodes/", "repo/")  # legacy node folders, main_XXXX blobs
BYTE_FAULTS = ("exceeds size budget", "corrupt member")  # a file's bytes; a bad name or header is the container's


def unreadable_repository_file(exc: BadInputError) -> list[Problem]:
    """A repository file that cannot be read (corrupt, not its declared size, over a bomb guard) is a
    finding of validate in every container, as ``check_member_bytes`` and the main blob check report
    it in a zip.  A tar is read as one stream while it is listed (and ``--stream`` reads the files in
    turn): the reading stops at that member, so it is the one finding.  Anything else that stops the reading (the container, metadata.json,
    data.json, db.sqlite3, a member's name or header) is raised again: one error line, as every
    command refuses it."""
    if not (exc.member.startswith(REPOSITORY_MEMBERS) and exc.reason.startswith(BYTE_FAULTS)):
        raise exc
    return [Problem("error", "unreadable-member", exc.member,
                    f"{exc.reason}; validate stopped at this member, nothing after it was checked")]


def is_valid(problems: list[Problem], strict: bool = False) -> bool:
    return not any(p.severity == "error" or strict for p in problems)


def iter_errors(problems: list[Problem]) -> Iterator[Problem]:
    return (p for p in problems if p.severity == "error")


def render_problems(path: Path | str, problems: list[Problem], as_json: bool = False) -> str:
    """One line per problem and a verdict, or a JSON document."""
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if as_json:
        import orjson

        doc = {"format": JSON_FORMAT, "archive": str(path), "valid": errors == 0, "errors": errors, "warnings": warnings,
               "problems": [p.__dict__ for p in problems]}  # fmt: skip
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"
    lines = [p.describe() for p in problems]
    verdict = "valid" if errors == 0 else "INVALID"
    lines.append(f"{path}: {verdict} ({errors} errors, {warnings} warnings)")
    return "\n".join(lines) + "\n"
