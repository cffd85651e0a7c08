"""Reading a main_XXXX zip (``metadata.json``, ``db.sqlite3``, ``repo/<sha256>``).

STOP-GAP, clearly marked (issue-5 report): ``converters.containers`` allows
only the legacy member names (``metadata.json``, ``data.json``, ``nodes/...``)
and would drop ``db.sqlite3`` and ``repo/*`` as unknown.  Until it learns the
main layout, this module opens main zips itself, reusing the container's own
safety checks (``check_member_name``, ``check_zip_layout``) so that the rules
stay in one place.  Tar is refused, as aiida-core refuses it.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from converters.containers import CHUNK, Limits, check_member_name, check_zip_layout, detect_container
from converters.errors import BadInputError
from converters.main.schema import DB_NAME, META_NAME, REPO_PREFIX

_BLOB = re.compile(r"^repo/[0-9a-f]{64}$")


class MainZip:
    """A checked main zip; ``keys`` are the repository blob names (sha256 hex)."""

    def __init__(self, path: Path, limits: Limits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or Limits()
        container = detect_container(self.path)
        if container != "zip":
            raise BadInputError(self.path, "Tar files are not supported for this format (main_XXXX is zip only)")
        try:
            self._zf = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as exc:
            raise BadInputError(self.path, f"not a valid archive (truncated or corrupt zip: {exc})") from None
        check_zip_layout(self.path, self._zf)
        self.infos: dict[str, zipfile.ZipInfo] = {}
        self.unknown: list[str] = []
        for info in self._zf.infolist():
            name = check_member_name(self.path, info.filename, info.is_dir(), self.limits)
            if name is None or info.is_dir():
                continue
            if name in (META_NAME, DB_NAME) or _BLOB.match(name):
                self.infos[name] = info
            else:
                self.unknown.append(name)

    def close(self) -> None:
        self._zf.close()

    def __enter__(self) -> MainZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def keys(self) -> list[str]:
        return sorted(name[len(REPO_PREFIX) :] for name in self.infos if name.startswith(REPO_PREFIX))

    def has(self, name: str) -> bool:
        return name in self.infos

    def size(self, name: str) -> int:
        return self.infos[name].file_size

    def chunks(self, name: str) -> Iterator[bytes]:
        """The bytes of one member, checked against the size budget and ratio."""
        info = self.infos.get(name)
        if info is None:
            raise BadInputError(self.path, "member missing", name)
        return _member_chunks(self.path, self._zf, info, name, self.limits)

    def read_bytes(self, name: str) -> bytes:
        return b"".join(self.chunks(name))

    def extract_to(self, name: str, target: Path) -> None:
        with open(target, "wb") as out:
            for chunk in self.chunks(name):
                out.write(chunk)


def iter_repository_members(archive):
    """``archive.iter_members()`` with one open zip for the whole pass.

    STOP-GAP (issue-5 report): ``Archive._read_random`` opens a new ZipFile,
    re-reading the whole central directory, for every member, which makes a
    pass over a zip with n members O(n^2) (20,000 files: minutes).  Until
    containers.py keeps its ZipFile open, zip archives are read here with the
    same listing (``archive.listing``), the same budgets and ratio checks.
    """
    if archive.container != "zip":
        yield from archive.iter_members()
        return
    limits = archive.limits
    repo = sorted((m for m in archive.listing.members if m.name.startswith("nodes")), key=lambda m: m.name)
    with zipfile.ZipFile(archive.path) as zf:
        for member in repo:
            if member.is_dir:
                yield member, None
                continue
            info = archive._zip_infos[member.name]
            yield member, _member_chunks(archive.path, zf, info, member.name, limits)


def _member_chunks(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits) -> Iterator[bytes]:
    out = 0
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(CHUNK):
                out += len(chunk)
                if out > limits.max_total_bytes or (
                    out >= limits.ratio_min_bytes and out > limits.max_ratio * max(info.compress_size, 1)
                ):
                    raise BadInputError(path, "exceeds size budget", name)
                yield chunk
    except (zipfile.BadZipFile, EOFError) as exc:
        raise BadInputError(path, f"corrupt member ({exc})", name) from None
