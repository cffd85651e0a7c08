"""Reading a main_XXXX zip (``metadata.json``, ``db.sqlite3``, ``repo/<sha256>``).

A thin view over ``converters.containers.Archive``, which knows the main
layout as its second known layout and applies every safety check (names,
links, duplicates, overlap, budgets, CRC).  Tar is refused, as aiida-core
refuses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from converters import progress
from converters.containers import Archive, Limits, detect_container, open_archive
from converters.errors import BadInputError
from converters.main.schema import REPO_PREFIX


class MainZip:
    """A checked main zip; ``keys`` are the repository blob names (sha256 hex).

    On a zip of the legacy layout nothing of the main layout is present
    (``has("db.sqlite3")`` is false) and the legacy names are ``unknown``.
    """

    def __init__(self, path: Path, limits: Limits | None = None, archive: Archive | None = None) -> None:
        """``archive``: the same file already opened (listing a large zip twice is not free)."""
        self.path = Path(path)
        container = archive.container if archive is not None else detect_container(self.path)
        if container != "zip":
            raise BadInputError(self.path, "Tar files are not supported for this format (main_XXXX is zip only)")
        self.archive = archive if archive is not None else open_archive(self.path, limits)
        main = self.archive.layout == "main"
        self.files = self.archive.files if main else {}
        legacy = [] if main else [m.name for m in self.archive.listing.members if not m.is_dir]
        self.unknown: list[str] = legacy + list(self.archive.listing.ignored)

    def close(self) -> None:
        self.archive.close()

    def __enter__(self) -> MainZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def keys(self) -> list[str]:
        return sorted(name[len(REPO_PREFIX) :] for name in self.files if name.startswith(REPO_PREFIX))

    def has(self, name: str) -> bool:
        return name in self.files

    def size(self, name: str) -> int:
        return self.files[name].size

    def chunks(self, name: str) -> Iterator[bytes]:
        """The bytes of one member, checked against the size budget, ratio and CRC."""
        if name not in self.files:
            raise BadInputError(self.path, "member missing", name)
        return self.archive.iter_bytes(name)

    def read_bytes(self, name: str) -> bytes:
        return b"".join(self.chunks(name))

    def extract_to(self, name: str, target: Path) -> None:
        with open(target, "wb") as out:
            for chunk in progress.counted(self.chunks(name), f"extracting {name}", self.size(name), "B", len):
                out.write(chunk)
