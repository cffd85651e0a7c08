"""Inspect an archive: version, container, counts, types, groups, repository, history."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from converters.containers import Limits, open_archive
from converters.errors import BadInputError
from converters.jsonio import gc_paused, json_kind
from converters.versions import (
    conversion_history,
    entity_names,
    history_warnings,
    node_type_field,
    read_data,
    read_metadata,
)

JSON_FORMAT = "reportgen-archive-inspect/1"  # changes when a key of the JSON summary changes meaning or goes away
ENTITIES = ("User", "Computer", "Group", "Node", "Log", "Comment")


@dataclass(frozen=True)
class GroupSummary:
    label: str
    type_string: str
    nodes: int


@dataclass(frozen=True)
class ArchiveSummary:
    path: str
    container: str
    export_version: str
    aiida_version: str
    entities: dict[str, int]
    links: int
    node_types: dict[str, int]
    link_types: dict[str, int]
    groups: tuple[GroupSummary, ...]
    repository_files: int
    repository_bytes: int
    conversion_info: tuple[str, ...]
    warnings: tuple[str, ...]


def _shaped(value: Any, kind: type, where: str, file: object) -> Any:
    """``value`` if it is a ``kind`` (a missing or null one counts as empty), else the one error line:
    a summary of a document without its version's shape would count nothing or crash."""
    if value is None:
        return kind()
    if not isinstance(value, kind):
        wanted = "an object" if kind is dict else "a list"
        raise BadInputError(file, f"{where}: must be {wanted}, not {json_kind(value)}", "data.json")
    return value


def _each_object(items: Any, where: str, file: object) -> None:
    """Every row or link an object: unlike a missing section, a null row is no empty one (validate
    reports it as an error), and counting its fields would fail on it."""
    for key, item in items:
        if not isinstance(item, dict):
            raise BadInputError(file, f"{where}[{key!r}]: must be an object, not {json_kind(item)}", "data.json")


def _rows(export: dict[str, Any], version: str, short: str, file: object = "") -> dict[str, Any]:
    """The rows of one entity, each an object."""
    for name in entity_names(version, short):
        if name in export:
            rows = _shaped(export[name], dict, f"$.export_data.{name}", file)
            _each_object(rows.items(), f"$.export_data.{name}", file)
            return rows
    return {}


def _group_row(row: dict[str, Any]) -> tuple[str, str]:
    """A group's label and kind, under the names of any version (``name``/``type`` before 0.4's renames)."""
    return str(row.get("label", row.get("name", ""))), str(row.get("type_string", row.get("type", "")))


def _sorted_groups(found: list[GroupSummary]) -> tuple[GroupSummary, ...]:
    return tuple(sorted(found, key=lambda g: (g.label, g.type_string)))


def _groups(export: dict[str, Any], data: dict[str, Any], version: str, file: object = "") -> tuple[GroupSummary, ...]:
    members = _shaped(data.get("groups_uuid"), dict, "$.groups_uuid", file)
    found = []
    for row in _rows(export, version, "Group", file).values():
        uuid = row.get("uuid")
        nodes = _shaped(members.get(uuid), list, f"$.groups_uuid[{uuid!r}]", file) if isinstance(uuid, str) else []
        found.append(GroupSummary(*_group_row(row), len(nodes)))
    return _sorted_groups(found)


class RowTally:
    """The counts of ``inspect``, gathered batch by batch from the rows as the input holds them
    (``inspect --stream``: ``tally.add`` watches the staging pass, before any migration step,
    so the summary describes the archive on disk as the in-memory ``inspect`` does)."""

    def __init__(self, version: str) -> None:
        self.type_field = node_type_field(version)
        self.sections = {f"export_data.{entity_names(version, short)[0]}": short for short in ENTITIES}
        self.entities = dict.fromkeys(ENTITIES, 0)
        self.node_types: Counter[str] = Counter()
        self.link_types: Counter[str] = Counter()
        self.links = 0
        self.group_rows: list[tuple[str, str, Any]] = []  # label, kind, uuid
        self.members: dict[str, int] = {}  # group UUID -> its number of nodes

    def add(self, section: str, rows: Any) -> None:
        short = self.sections.get(section)
        if short is not None:
            self.entities[short] += len(rows)
            if short == "Node":
                self.node_types.update(str(r.get(self.type_field)) for r in rows.values() if isinstance(r, dict))
            elif short == "Group":
                self.group_rows += [(*_group_row(r), r.get("uuid")) for r in rows.values() if isinstance(r, dict)]
        elif section == "links_uuid":
            self.links += len(rows)
            self.link_types.update(str(link.get("type", "(none)")) for link in rows if isinstance(link, dict))
        elif section == "groups_uuid":
            self.members.update((uuid, len(nodes)) for uuid, nodes in rows.items() if isinstance(nodes, list))

    def groups(self) -> tuple[GroupSummary, ...]:
        return _sorted_groups([GroupSummary(label, kind, self.members.get(uuid, 0) if isinstance(uuid, str) else 0)
                               for label, kind, uuid in self.group_rows])  # fmt: skip


def _links(data: dict[str, Any], file: object) -> list[dict[str, Any]]:
    links = _shaped(data.get("links_uuid"), list, "$.links_uuid", file)
    _each_object(enumerate(links), "$.links_uuid", file)
    return links


def inspect(path: Path | str, limits: Limits | None = None) -> ArchiveSummary:
    """A summary of the archive at ``path`` (legacy or main_XXXX)."""
    from converters.main.validate import inspect_main, is_main  # main imports this module

    archive = open_archive(path, limits)  # listed once, whichever layout it has
    if is_main(archive):
        return inspect_main(path, archive=archive)
    metadata = read_metadata(archive)
    version = metadata["export_version"]
    with gc_paused():
        data = read_data(archive)
        export = _shaped(data.get("export_data"), dict, "$.export_data", path)
        type_field = node_type_field(version)
        nodes = _rows(export, version, "Node", path)
        links = _links(data, path)
        files = [m for m in archive.listing.members if not m.is_dir and m.name.startswith("nodes/")]
        return ArchiveSummary(
            path=str(path),
            container=archive.container,
            export_version=version,
            aiida_version=str(metadata.get("aiida_version", "")),
            entities={short: len(_rows(export, version, short, path)) for short in ENTITIES},
            links=len(links),
            node_types=dict(sorted(Counter(str(r.get(type_field)) for r in nodes.values()).items())),
            link_types=dict(sorted(Counter(str(link.get("type", "(none)")) for link in links).items())),
            groups=_groups(export, data, version, path),
            repository_files=len(files),
            repository_bytes=sum(m.size for m in files),
            conversion_info=conversion_history(metadata) or (),
            warnings=archive.listing.warnings + history_warnings(metadata),
        )


def _repository_unit(summary: ArchiveSummary) -> str:
    """A main archive stores each distinct content once (``repo/<sha256>``); a legacy one, every
    file of every node: the same data counts differently, so the unit says which."""
    return "distinct files (blobs)" if summary.export_version.startswith("main_") else "files"


def render_summary(summary: ArchiveSummary, as_json: bool = False) -> str:
    if as_json:
        return orjson.dumps({"format": JSON_FORMAT, **asdict(summary)}, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
    lines = [
        f"archive:        {summary.path}",
        f"container:      {summary.container}",
        # the metadata's aiida_version, named as what it is: reportgen's conversions keep it (docs/archives.md),
        # so "written by AiiDA 2.9.4" would be untrue of a 0.13 that only a migration makes
        f"export version: {summary.export_version} (metadata.json: aiida_version {summary.aiida_version or '?'})",
        "entities:       " + ", ".join(f"{k} {v}" for k, v in summary.entities.items()),
        f"links:          {summary.links}",
        f"repository:     {summary.repository_files} {_repository_unit(summary)}, {summary.repository_bytes} bytes",
    ]
    lines += _section("node types", summary.node_types)
    lines += _section("link types", summary.link_types)
    lines += _listed("groups", [f"  {g.label} ({g.type_string}): {g.nodes} nodes" for g in summary.groups])
    lines += _listed("conversion history", [f"  {c}" for c in summary.conversion_info])
    lines += [f"warning: {w}" for w in summary.warnings]
    return "\n".join(lines) + "\n"


def _section(title: str, counts: dict[str, int]) -> list[str]:
    return _listed(title, [f"  {count:>8}  {name}" for name, count in counts.items()])


def _listed(title: str, lines: list[str]) -> list[str]:
    """A heading and its lines; an empty list says so (a bare heading reads as cut short)."""
    return [f"{title}:", *(lines or ["  (none)"])]
