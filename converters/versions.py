"""The export versions reportgen knows, and reading an archive's version.

Legacy versions 0.1 to 0.13 are JSON archives (``metadata.json``,
``data.json``, ``nodes/``).  The ordered tuple ``KNOWN_VERSIONS`` is the one
place that says which versions exist; a later version family (AiiDA 2.x
``main_0001``) is added by appending to it and registering its steps in
``converters.migrations``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from converters.containers import Archive, open_archive
from converters.errors import BadInputError
from converters.jsonio import json_kind, read_json

LEGACY_VERSIONS: tuple[str, ...] = tuple(f"0.{n}" for n in range(1, 14))
KNOWN_VERSIONS: list[str] = list(LEGACY_VERSIONS)  # extended by later format families
LATEST_LEGACY = "0.13"

# Entity names in export_data, by version (section 1.4 of the format reference).
_ENTITY_PREFIX = {"0.1": "aiida.djsite.db.models.Db", "0.2": "aiida.backends.djsite.db.models.Db"}


def version_index(version: str) -> int:
    return KNOWN_VERSIONS.index(version)


def is_legacy(version: str) -> bool:
    return version in LEGACY_VERSIONS


def entity_name(version: str, short: str) -> str:
    """``Node`` -> ``aiida.backends.djsite.db.models.DbNode`` at 0.2, and so on."""
    prefix = _ENTITY_PREFIX.get(version)
    return prefix + short if prefix else short


def entity_names(version: str, short: str) -> tuple[str, ...]:
    """Names an entity may carry: 0.1 archives exist with either old prefix (reference 1.5)."""
    if version == "0.1":
        return (entity_name("0.1", short), entity_name("0.2", short))
    return (entity_name(version, short),)


def node_type_field(version: str) -> str:
    return "type" if version_index(version) <= version_index("0.3") else "node_type"


def supported_sentence() -> str:
    return f"supported: {KNOWN_VERSIONS[0]} ... {KNOWN_VERSIONS[-1]}"


def check_version(file: Path | str, value: Any) -> str:
    """The export version as a known string, or a BadInputError naming it."""
    if not isinstance(value, str):
        raise BadInputError(
            file, f"unsupported export version {value!r} (not a string; {supported_sentence()})", "metadata.json"
        )
    if value not in KNOWN_VERSIONS:
        raise BadInputError(file, f"unsupported export version {value!r} ({supported_sentence()})", "metadata.json")
    return value


def read_metadata(archive: Archive) -> dict[str, Any]:
    """metadata.json of an opened archive, checked to be an object with a known version."""
    if not archive.has("metadata.json"):
        raise BadInputError(archive.path, "missing metadata.json (not an AiiDA export archive)")
    metadata = read_json(archive.path, "metadata.json", archive.read_bytes("metadata.json"))
    if not isinstance(metadata, dict):
        raise BadInputError(archive.path, "metadata.json is not a JSON object", "metadata.json")
    check_version(archive.path, metadata.get("export_version"))
    return metadata


def read_data(archive: Archive) -> dict[str, Any]:
    """data.json of an opened archive, parsed once; the raw bytes are not kept."""
    if not archive.has("data.json"):
        raise BadInputError(archive.path, "missing data.json")
    data = read_json(archive.path, "data.json", archive.take_bytes("data.json"), consume=True)
    if not isinstance(data, dict):
        raise BadInputError(archive.path, "data.json is not a JSON object", "data.json")
    return data


HISTORY_NOT_LIST = "must be a list of strings; not shown by inspect, and replaced by a new history when migrated"


def conversion_history(metadata: dict[str, Any]) -> tuple[str, ...] | None:
    """``metadata.conversion_info`` as the lines of history it should be, or None when it is not a list
    of strings (a number cannot be listed; a string would be listed character by character).
    Such a value is tolerated, with a warning: no reader needs the history."""
    history = metadata.get("conversion_info", [])
    if isinstance(history, list) and all(isinstance(line, str) for line in history):
        return tuple(history)
    return None


def history_warnings(metadata: dict[str, Any]) -> tuple[str, ...]:
    """The warning ``inspect`` shows for a conversion history it cannot show."""
    return () if conversion_history(metadata) is not None else (f"metadata.json: conversion_info: {HISTORY_NOT_LIST}",)


# What a legacy data.json section must be, in every version: True an object, False a list.
# A section of another shape would go through the steps untouched, or lose its rows, without a word.
_SECTION_SHAPES = {"export_data": True, "links_uuid": False, "groups_uuid": True, "node_attributes": True,
                   "node_extras": True, "node_attributes_conversion": True, "node_extras_conversion": True}  # fmt: skip


_ENTITIES = frozenset({"User", "Computer", "Group", "Node", "Log", "Comment"})


def section_shape(path: tuple[str, ...]) -> bool | None:
    """True if the section at ``path`` must be an object, False a list, None if either may do
    (the rows of a known entity are an object; an unknown section passes through untouched)."""
    if len(path) == 1:
        return _SECTION_SHAPES.get(path[0])
    if len(path) == 2 and path[0] == "export_data":
        short = path[1].rpartition(".Db")[2]  # aiida.backends.djsite.db.models.DbNode at 0.1 ... 0.2
        return True if short in _ENTITIES else None
    return None


def shape_refusal(file: Path | str, path: tuple[str, ...], found: str) -> BadInputError:
    """The one line for a section of the wrong shape; ``found`` says what it is ("a list", ``json_kind``)."""
    wanted = "an object" if section_shape(path) else "a list"
    return BadInputError(file, f"$.{'.'.join(path)}: must be {wanted}, not {found}", "data.json")


def check_sections(file: Path | str, data: dict[str, Any]) -> None:
    """Refuse a parsed legacy data.json whose sections are not the containers their rows need."""
    for key, value in data.items():
        shape = section_shape((key,))
        if shape is not None and not isinstance(value, dict if shape else list):
            raise shape_refusal(file, (key,), json_kind(value))
    for entity, rows in data.get("export_data", {}).items():
        if section_shape(("export_data", entity)) and not isinstance(rows, dict):
            raise shape_refusal(file, ("export_data", entity), json_kind(rows))


def read_version(path: Path | str) -> str:
    """The export version of the archive at ``path`` (e.g. ``"0.4"``)."""
    return read_metadata(open_archive(path))["export_version"]


def steps_text(count: int) -> str:
    """``1 step``, ``10 steps``: the count in a migrate summary line."""
    return f"{count} step" if count == 1 else f"{count} steps"
