"""What every step works on: the raw metadata and data dicts, and a repository view.

Steps edit the JSON dicts in place (no deep copies: the 200,000-node
benchmark depends on it) and may read or delete repository files through
``RepoView``; deletions are applied when the output is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from converters.errors import BadInputError


class RepoView:
    """Read and delete files of a node's repository (``nodes/aa/bb/rest/path/<rel>``)."""

    def __init__(self, reader: Callable[[set[str]], dict[str, bytes]], names: Iterable[str], file: str) -> None:
        self._reader = reader
        self._names = set(names)
        self.file = file
        self.deleted: set[str] = set()

    @staticmethod
    def member(uuid: str, rel: str, section: str = "path") -> str:
        return f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}/{section}/{rel}"

    def read_files(self, members: Iterable[str]) -> dict[str, bytes]:
        """The existing ones among ``members``, read in one go."""
        wanted = {m for m in members if m in self._names}
        return self._reader(wanted) if wanted else {}

    def delete(self, member: str) -> None:
        self.deleted.add(member)


@dataclass
class Draft:
    """The mutable state of one migration run (not a record: steps edit it in place)."""

    file: str
    metadata: dict[str, Any]
    data: dict[str, Any]
    repo: RepoView
    notes: list[str] = field(default_factory=list)  # what the steps did that a user should know


# ---------------------------------------------------------------- small shared edits
def fields_info(draft: Draft) -> dict[str, Any]:
    return draft.metadata.setdefault("all_fields_info", {})


def entities(draft: Draft, name: str) -> dict[str, dict[str, Any]]:
    """``export_data[name]`` (``{}`` when the archive has none)."""
    found = draft.data.get("export_data", {}).get(name)
    return found if isinstance(found, dict) else {}


def rename_field(draft: Draft, entity: str, old: str, new: str) -> None:
    """A field renamed in every row and in ``all_fields_info``."""
    for row in entities(draft, entity).values():
        if old in row:
            row[new] = row.pop(old)
    info = fields_info(draft).get(entity)
    if isinstance(info, dict) and old in info:
        info[new] = info.pop(old)


def drop_fields(draft: Draft, entity: str, names: Iterable[str]) -> None:
    names = tuple(names)
    for row in entities(draft, entity).values():
        for name in names:
            row.pop(name, None)
    info = fields_info(draft).get(entity)
    if isinstance(info, dict):
        for name in names:
            info.pop(name, None)


def map_values(draft: Draft, entity: str, name: str, mapping: dict[str, str]) -> None:
    for row in entities(draft, entity).values():
        value = row.get(name)
        if isinstance(value, str) and value in mapping:
            row[name] = mapping[value]


def rename_entities(draft: Draft, rename: Callable[[str], str]) -> None:
    """Entity names renamed in export_data, unique_identifiers, all_fields_info and ``requires``."""
    data, metadata = draft.data, draft.metadata
    if isinstance(data.get("export_data"), dict):
        data["export_data"] = {rename(k): v for k, v in data["export_data"].items()}
    for key in ("unique_identifiers", "all_fields_info"):
        if isinstance(metadata.get(key), dict):
            metadata[key] = {rename(k): v for k, v in metadata[key].items()}
    _rename_requires(metadata.get("all_fields_info"), rename)


def _rename_requires(tree: Any, rename: Callable[[str], str]) -> None:
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == "requires" and isinstance(value, str):
                tree[key] = rename(value)
            else:
                _rename_requires(value, rename)
    elif isinstance(tree, list):
        for value in tree:
            _rename_requires(value, rename)


def refuse(draft: Draft, reason: str, member: str = "data.json") -> BadInputError:
    return BadInputError(draft.file, reason, member)
