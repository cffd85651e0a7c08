"""Reading a main_XXXX zip (``metadata.json``, ``db.sqlite3``, ``repo/<sha256>``).

A thin view over ``converters.containers.Archive``, which knows the main
layout as its second known layout and applies every safety check (names,
links, duplicates, overlap, budgets, CRC).  Tar is refused, as aiida-core
refuses it, and so is anything else that is not exactly that layout (a
folder, members outside it, data.json beside db.sqlite3): reportgen writes
only what it could read back, so it reads only what is one.  Each blob is
hashed while it streams: its name is its sha256, and a blob that does not
match is refused where it ends, before a copy of it is kept anywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from converters import progress
from converters.containers import Archive, Limits, detect_container, open_archive
from converters.errors import BadInputError
from converters.main.schema import REPO_PREFIX

LAYOUT = "metadata.json, db.sqlite3 and repo/<sha256 in lowercase hex>"


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
            refuse_container(self.path, container)  # before listing: a tar costs a whole pass
        self.archive = archive if archive is not None else open_archive(self.path, limits)
        main = self.archive.layout == "main"
        if main:
            check_main_zip(self.archive)
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

    def chunks(self, name: str, verify: bool = True) -> Iterator[bytes]:
        """The bytes of one member, checked against the size budget, ratio and CRC.

        A blob is also hashed on the way and refused at its end unless its
        sha256 is its name; ``verify=False`` is for ``validate``, which
        reports a mismatch instead."""
        if name not in self.files:
            raise BadInputError(self.path, "member missing", name)
        chunks = self.archive.iter_bytes(name)
        if verify and name.startswith(REPO_PREFIX):
            return _hash_checked(self.path, name, chunks)
        return chunks

    def read_bytes(self, name: str) -> bytes:
        return b"".join(self.chunks(name))

    def extract_to(self, name: str, target: Path) -> None:
        with open(target, "wb") as out:
            for chunk in progress.counted(self.chunks(name), f"extracting {name}", self.size(name), "B", len):
                out.write(chunk)


def _hash_checked(file: Path, name: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
    # the writer consumes the generator to its end before it finishes the member, so a
    # tampered blob stops the archive being written (and its staging file is removed)
    if digest.hexdigest() != name[len(REPO_PREFIX) :]:
        raise BadInputError(file, f"blob content hashes to {digest.hexdigest()}, not to its name (tampered or corrupt)", name)


def refuse_container(file: Path, container: str, version: str = "main_XXXX") -> None:
    """A main archive is a zip; say what this is instead."""
    if container == "folder":
        raise BadInputError(file, f"a folder is not a {version} archive: that is a zip file holding {LAYOUT}")
    raise BadInputError(file, f"Tar files are not supported for this format ({version} is zip only)")


def check_main_zip(archive: Archive, version: str = "main_XXXX") -> None:
    """Refuse, naming the real problem, an archive that claims ``version`` but is not a clean main zip.

    ``version``: what metadata.json says, for the message.  The listing put
    every name outside the layout the archive has into ``ignored``, so a main
    archive with any of them is refused: reportgen would drop them silently."""
    ignored = archive.listing.ignored
    if "db.sqlite3" in ignored:  # both layouts: the listing chose legacy because data.json is there
        raise BadInputError(archive.path, f"mixed layout: data.json (legacy) beside db.sqlite3 ({version}); an archive holds one or the other", "data.json")
    if archive.layout != "main":
        raise BadInputError(archive.path, f"metadata.json says {version} but the archive has the legacy layout (data.json, nodes/); a {version} archive is a zip holding {LAYOUT}", "metadata.json")
    if archive.container != "zip":
        refuse_container(archive.path, archive.container, version)
    if ignored:
        raise BadInputError(archive.path, f"unexpected member in a {version} archive, which holds only {LAYOUT}", ignored[0])
