"""Containers of export archives: zip, tar (plain, gzip, zstd) and an unpacked folder.

The only module that knows one container from another.  Everything above it
sees an ``Archive``: a checked listing of members plus streamed reads, and
``write_archive`` for the three output formats.

Reading is defensive because archives come from elsewhere (security reference
section 1): the container is detected by its magic bytes, every name is
checked against the allowlist of the two known layouts (legacy and main_XXXX)
before any member is read,
links, devices, duplicates and case/Unicode collisions are refused, and every
decompressed byte is counted against a budget.  Tar is parsed here rather than
with ``tarfile`` so that the end-of-archive marker, checksums and negative
sizes are checked, nothing is cached per member, and reads are large.

Writing is deterministic: sorted members (input order for tar streams, which
cannot be re-read out of order), fixed timestamps, modes and owners, gzip
mtime 0, and the file appears under its name only once complete.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import struct
import tarfile
import tempfile
import threading
import unicodedata
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import zstandard
from zlib_ng import zlib_ng

from converters import interrupts, progress
from converters.errors import BadInputError, InputMissingError, OutputError, UsageError, WriteError
from converters.workdirs import check_folder_writable, disk_failure, hold_claim, remove_stale, rename_no_replace, staging_file

KiB, MiB, GiB = 1024, 1024**2, 1024**3
CHUNK = 1 * MiB
FORMATS = ("zip", "tar.gz", "tar.zst")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Limits:
    """Budgets that bound reading whatever the archive declares (all overridable)."""

    max_total_bytes: int = 32 * GiB  # decompressed bytes over one pass
    max_ratio: float = 200.0  # per member (zip) or per member's share of the stream (tar)
    # Smaller members are not ratio-checked: an honest HDF5 file or array of zeros compresses 1000:1, and
    # reportgen's own export must pass its own validate; a bomb is still stopped after 256 MiB of output.
    ratio_min_bytes: int = 256 * MiB
    max_entries: int = 2_000_000
    max_zstd_window: int = 128 * MiB
    max_json_bytes: int = 8 * GiB  # metadata.json / data.json are parsed in memory
    max_name_bytes: int = 1024
    max_segment_bytes: int = 255
    strict_names: bool = False  # unknown member names: error instead of warning


@dataclass(frozen=True)
class Member:
    """An allowed member: ``name`` normalised (no ``./``, no trailing ``/``)."""

    name: str
    is_dir: bool
    size: int  # declared size; 0 for directories


@dataclass(frozen=True)
class Listing:
    container: str  # "zip" | "tar" | "tar.gz" | "tar.zst" | "folder"
    members: tuple[Member, ...]  # allowed members in archive order
    warnings: tuple[str, ...]  # ignored junk and unknown names, one sentence each
    layout: str = "legacy"  # "legacy" (data.json, nodes/) or "main" (db.sqlite3, repo/<sha256>)
    ignored: tuple[str, ...] = ()  # names of ignored members that are not macOS junk


# ---------------------------------------------------------------- names
# DOTALL: a repository file name may hold any character but "/" and NUL, a newline or a tab too
# (POSIX and AiiDA allow them; the security reference refuses none of them, and names are shown
# with repr()).  Without it ``.+`` stopped at a newline and such a file was ignored, silently lost
# by every migration that read it; and ``con.a\nb`` was no device name.
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?\Z", re.IGNORECASE | re.DOTALL)
_DRIVE = re.compile(r"^[A-Za-z]:")
_NODE_DIR = re.compile(r"^nodes(/[0-9a-fA-F]{2}(/[0-9a-fA-F]{2}(/[0-9a-fA-F-]{20,40}(/(path|raw_input)(/.+)?)?)?)?)?\Z", re.DOTALL)
_NODE_FILE = re.compile(r"^nodes/[0-9a-fA-F]{2}/[0-9a-fA-F]{2}/[0-9a-fA-F-]{20,40}/(path|raw_input)/.+\Z", re.DOTALL)
TOP_FILES = ("metadata.json", "data.json")
# The AiiDA 2.x (main_XXXX) layout: a second known layout, chosen when db.sqlite3 is present.
_MAIN_BLOB = re.compile(r"^repo/[0-9a-f]{64}\Z")
REPO_PREFIXES = {"legacy": "nodes/", "main": "repo/"}


def check_member_name(file: Path, raw: str, is_dir: bool, limits: Limits) -> str | None:
    """The normalised name, or None for the archive root entry; raises on an unsafe name."""
    name = raw
    while name.startswith("./"):
        name = name[2:]
    if is_dir and name.strip("/") in ("", "."):
        return None  # the archive root: aiida's own 0.2 tar exports list it as "/", GNU tar as "./"
    if is_dir or name.endswith("/"):
        name = name.rstrip("/") if name not in ("", "/") else name
    if name in ("", "."):
        return None
    unsafe = (
        "\x00" in name
        or "\\" in name
        or name.startswith("/")
        or _DRIVE.match(name) is not None
        or len(name.encode("utf-8", "surrogatepass")) > limits.max_name_bytes
    )
    for segment in name.split("/"):
        if segment in ("", ".", "..") or len(segment.encode("utf-8", "surrogatepass")) > limits.max_segment_bytes:
            unsafe = True
        elif _WINDOWS_RESERVED.match(segment):
            unsafe = True
    if unsafe:
        raise BadInputError(file, "unsafe member name", repr(raw)[1:-1])
    return name


def classify_name(name: str, is_dir: bool) -> str:
    """"ok" (both layouts), "legacy" or "main" (one layout), "junk" (macOS litter) or "unknown"."""
    segments = name.split("/")
    if segments[0] == "__MACOSX" or ".DS_Store" in segments:
        return "junk"
    if is_dir:
        if _NODE_DIR.match(name):
            return "legacy"
        return "main" if name == "repo" else "unknown"
    if name == "metadata.json":
        return "ok"
    if name == "data.json" or _NODE_FILE.match(name):
        return "legacy"
    if name == "db.sqlite3" or _MAIN_BLOB.match(name):
        return "main"
    return "unknown"


def _in_layout(kind: str, layout: str) -> bool:
    return kind == "ok" or kind == layout


class _ListingBuilder:
    """Collects members, refusing duplicates, collisions and too many entries.

    Names of both known layouts are collected; ``build`` keeps the layout the
    archive has (main when ``db.sqlite3`` is present without ``data.json``)
    and ignores the other layout's names like any unexpected member.
    """

    def __init__(self, file: Path, container: str, limits: Limits) -> None:
        self.file, self.container, self.limits = file, container, limits
        self.members: list[tuple[Member, str]] = []
        self.warnings: list[str] = []
        self.ignored: list[str] = []
        self.keys: dict[str, tuple[str, bool]] = {}
        self.folders: dict[str, str] = {}  # implied folders: NFC-casefolded -> the first spelling
        self.checked: set[str] = set()  # implied folders, as spelt, checked with their parents
        self.entries = 0

    def add(self, raw: str, is_dir: bool, size: int) -> Member | None:
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise BadInputError(self.file, f"too many entries (more than {self.limits.max_entries})")
        name = check_member_name(self.file, raw, is_dir, self.limits)
        if name is None:
            return None
        self._check_collision(name, is_dir)
        self._check_folders(name)
        kind = classify_name(name, is_dir)
        if kind in ("junk", "unknown"):
            self._ignore(name, kind)
            return None
        member = Member(name, is_dir, 0 if is_dir else size)
        self.members.append((member, kind))
        return member

    def _ignore(self, name: str, kind: str) -> None:
        if kind != "junk" and self.limits.strict_names:
            raise BadInputError(self.file, "unexpected member name", name)
        if kind != "junk":
            self.ignored.append(name)
        self.warnings.append(f"{name!r}: {'macOS junk' if kind == 'junk' else 'unexpected member'}, ignored")

    def _check_collision(self, name: str, is_dir: bool) -> None:
        key = unicodedata.normalize("NFC", name).casefold()
        seen = self.keys.get(key)
        if seen is None:
            self.keys[key] = (name, is_dir)
            self._same_spelling(self.folders.get(key, name), name)
        elif seen == (name, True) and is_dir:
            return  # a directory listed twice is harmless
        elif seen[0] == name:
            raise BadInputError(self.file, f"duplicate member {name}", name)
        else:
            self._same_spelling(seen[0], name)

    def _same_spelling(self, seen: str, name: str) -> None:
        """Refuse ``name`` when it is ``seen`` in another spelling: one name on a disk that folds case
        or Unicode forms."""
        if seen == name:
            return
        if seen.casefold() == name.casefold():
            raise BadInputError(self.file, f"names collide (differ only in case): {seen!r} and {name!r}", name)
        # escaped: the two forms of one accented letter look alike on a terminal
        raise BadInputError(self.file, f"names collide (same text in another Unicode form): {seen!a} and {name!a}", name)

    def _check_folders(self, name: str) -> None:
        """The folders a member name implies (``nodes/ab`` of ``nodes/ab/cd/x``) collide like named
        ones: ``nodes/ab/…`` beside ``nodes/AB/…`` is one folder on a case-insensitive disk, as an
        extracted folder input shows.  A folder spelt the same as a file is not a collision here
        (the repository's file-beside-folder rule)."""
        end = name.rfind("/")
        while end > 0:
            folder = name[:end]
            if folder in self.checked:
                return  # checked before, with its own parents
            key = unicodedata.normalize("NFC", folder).casefold()
            spelt, named = self.folders.setdefault(key, folder), self.keys.get(key)
            if spelt != folder:  # rare, as the next: no call for a folder spelt one way
                self._same_spelling(spelt, folder)
            if named is not None and named[0] != folder:
                self._same_spelling(named[0], folder)
            self.checked.add(folder)
            end = name.rfind("/", 0, end)

    def build(self) -> Listing:
        names = {m.name for m, _ in self.members}
        layout = "main" if "db.sqlite3" in names and "data.json" not in names else "legacy"
        kept = []
        for member, kind in self.members:
            if _in_layout(kind, layout):
                kept.append(member)
            else:
                self._ignore(member.name, "unknown")
        return Listing(self.container, tuple(kept), tuple(self.warnings), layout, tuple(self.ignored))


MemberNames = _ListingBuilder  # the listing's name policy, for writers whose output must read back


# ---------------------------------------------------------------- byte sources
class _Budget:
    """Counts decompressed bytes of one pass against ``max_total_bytes``."""

    def __init__(self, file: Path, limits: Limits) -> None:
        self.file, self.limits, self.total = file, limits, 0

    def spend(self, n: int, member: str = "") -> None:
        self.total += n
        if self.total > self.limits.max_total_bytes:
            raise BadInputError(self.file, f"exceeds size budget ({self.limits.max_total_bytes} bytes)", member)

    def check_ratio(self, out: int, compressed: int, member: str) -> None:
        if out >= self.limits.ratio_min_bytes and out > self.limits.max_ratio * max(compressed, 1):
            raise BadInputError(
                self.file, f"exceeds size budget: compression ratio over {self.limits.max_ratio:g} (a bomb guard; "
                "honest data can compress this well: --max-ratio raises it)", member
            )


class _CountingFile(io.RawIOBase):
    """A read-only file that counts the raw (compressed) bytes handed out."""

    def __init__(self, fh) -> None:
        self.fh, self.count = fh, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.count += len(data)
        return data

    def readinto(self, buf) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)


class _GzipStream:
    """Streamed gunzip with bounded output per call; truncation and trailing junk are errors."""

    def __init__(self, file: Path, raw: _CountingFile) -> None:
        self.file, self.raw = file, raw
        self.d = zlib.decompressobj(31)
        self.input = b""

    def read_all(self, n: int) -> bytes:
        while True:
            if not self.input:
                self.input = self.raw.read(256 * KiB)
                if not self.input:
                    if self.d.eof:
                        return b""
                    raise BadInputError(self.file, "truncated archive (gzip stream ends early)")
            if self.d.eof:
                self._start_next_member()
            try:
                out = self.d.decompress(self.input, n)
            except zlib.error as exc:
                raise BadInputError(self.file, f"not a valid archive: corrupt gzip data ({exc})") from None
            self.input = self.d.unused_data if self.d.eof else self.d.unconsumed_tail
            if out:
                return out

    def _start_next_member(self) -> None:
        """Bytes after a finished gzip member must be another member (concatenated gzip)."""
        if len(self.input) < 2:
            self.input += self.raw.read(256 * KiB)
        if self.input[:2] != b"\x1f\x8b":
            raise BadInputError(self.file, "not a valid archive: trailing bytes after the gzip stream")
        self.d = zlib.decompressobj(31)


class _ZstdStream:
    """Streamed zstd with a bounded window; the frames were walked beforehand (truncation).

    ``truncated``: the walk's reason when the file is cut.  The readable part is still read, so
    that the tar reader can name the member the cut falls in; where the library then reports a
    clean end (or a cut block), the cut is raised instead."""

    def __init__(self, file: Path, raw: _CountingFile, limits: Limits, truncated: str = "") -> None:
        self.file, self.truncated = file, truncated
        dctx = zstandard.ZstdDecompressor(max_window_size=limits.max_zstd_window)
        self.reader = dctx.stream_reader(raw, read_size=256 * KiB, read_across_frames=True)

    def read_all(self, n: int) -> bytes:
        try:
            out = self.reader.read(n)
        except zstandard.ZstdError as exc:
            raise BadInputError(self.file, self.truncated or f"not a valid archive: corrupt zstd data ({exc})") from None
        if not out and self.truncated:
            raise BadInputError(self.file, self.truncated)
        return out


class _PlainStream:
    def __init__(self, raw: _CountingFile) -> None:
        self.raw = raw

    def read_all(self, n: int) -> bytes:
        return self.raw.read(n)


def _human(n: int) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} B"


def check_zstd_frames(file: Path, fh, limits: Limits) -> None:
    """Walk every zstd frame's block headers: truncation, trailing junk, window and declared size.

    ``stream_reader`` returns a clean EOF on a cut frame (security reference,
    V), so completeness is checked here without decompressing anything.
    """
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    pos = 0
    while pos < end:
        fh.seek(pos)
        head = fh.read(18)
        magic = int.from_bytes(head[:4], "little") if len(head) >= 4 else 0
        if 0x184D2A50 <= magic <= 0x184D2A5F and len(head) >= 8:  # skippable frame
            pos += 8 + int.from_bytes(head[4:8], "little")
            continue
        if magic != 0xFD2FB528:
            raise BadInputError(file, "not a valid archive: trailing bytes after the zstd stream")
        pos = _check_zstd_frame(file, fh, pos, head, limits)
    if pos > end:
        raise BadInputError(file, "truncated archive (zstd frame ends early)")


def _check_zstd_frame(file: Path, fh, pos: int, head: bytes, limits: Limits) -> int:
    try:
        params = zstandard.get_frame_parameters(head)
    except zstandard.ZstdError:
        raise BadInputError(file, "truncated archive (zstd frame header cut)") from None
    if params.window_size > limits.max_zstd_window:
        raise BadInputError(
            file, f"zstd window {_human(params.window_size)} > limit {_human(limits.max_zstd_window)}"
        )
    if params.content_size not in (0, zstandard.CONTENTSIZE_UNKNOWN) and params.content_size > limits.max_total_bytes:
        raise BadInputError(file, f"exceeds size budget: zstd frame declares {_human(params.content_size)}")
    fhd = head[4]
    single = (fhd >> 5) & 1
    fcs_size = {0: single, 1: 2, 2: 4, 3: 8}[fhd >> 6]
    pos += 4 + 1 + (0 if single else 1) + (0, 1, 2, 4)[fhd & 3] + fcs_size
    while True:
        fh.seek(pos)
        block = fh.read(3)
        if len(block) < 3:
            raise BadInputError(file, "truncated archive (zstd frame ends early)")
        value = int.from_bytes(block, "little")
        kind, size = (value >> 1) & 3, value >> 3
        if kind == 3:
            raise BadInputError(file, "not a valid archive: corrupt zstd block")
        pos += 3 + (1 if kind == 1 else size)
        if value & 1:
            return pos + (4 if (fhd >> 2) & 1 else 0)


# ---------------------------------------------------------------- tar parsing
_ZERO_BLOCK = bytes(512)


@dataclass
class _TarEntry:
    name: str
    kind: str  # "file" | "dir"
    size: int


def _tar_number(file: Path, field_bytes: bytes) -> int:
    if field_bytes[:1] and field_bytes[0] & 0x80:
        if field_bytes[0] == 0xFF:
            raise BadInputError(file, "malformed tar: negative number in header")
        return int.from_bytes(bytes([field_bytes[0] & 0x7F]) + field_bytes[1:], "big")
    text = field_bytes.split(b"\x00", 1)[0].strip(b" \x00")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise BadInputError(file, "malformed tar: bad number in header") from None


def _decode_name(file: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        shown = raw.decode("utf-8", "backslashreplace")
        raise BadInputError(file, "name is not UTF-8", shown) from None


def _parse_pax(file: Path, data: bytes) -> dict[str, bytes]:
    records: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        try:
            length = int(data[pos:space])
        except ValueError:
            raise BadInputError(file, "malformed tar: bad pax header") from None
        if length <= 0 or space < 0:
            raise BadInputError(file, "malformed tar: bad pax header")
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "replace")] = value
        pos += length
    return records


class _TarReader:
    """Streamed tar walk: ``entries()`` yields headers, ``read_data`` the current member."""

    def __init__(self, file: Path, stream, budget: _Budget, raw: _CountingFile) -> None:
        self.file, self.stream, self.budget, self.raw = file, stream, budget, raw
        self.buf = bytearray()
        self.remaining = 0  # unread data bytes of the current member
        self.padding = 0
        self.current = ""  # name of the current member, for error messages

    def _fill(self, n: int) -> None:
        while len(self.buf) < n:
            try:
                chunk = self.stream.read_all(max(n - len(self.buf), CHUNK))
            except BadInputError as exc:
                raise self._at_current(exc) from None
            if not chunk:
                break
            self.buf += chunk

    def _at_current(self, exc: BadInputError) -> BadInputError:
        """A compressed stream that ends early (a cut copy or download) names the member it ends in,
        or the last whole one before it: how far the copy got."""
        if exc.member or not self.current or not exc.reason.startswith("truncated archive ("):
            return exc
        where = "in this member's data" if self.remaining else "after this member"
        return BadInputError(exc.file, f"{exc.reason[:-1]}, {where})", self.current)

    def _take(self, n: int) -> bytes:
        self._fill(n)
        if len(self.buf) < n:
            raise BadInputError(self.file, "truncated archive (tar data ends early)")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_data(self, member: str) -> Iterator[bytes]:
        """The current member's bytes, counted against the budget and ratio."""
        start_raw, out = self.raw.count, 0
        while self.remaining:
            self._fill(min(self.remaining, CHUNK))
            n = min(self.remaining, len(self.buf), CHUNK)
            if n == 0:
                raise BadInputError(self.file, "truncated archive (member data cut)", member)
            chunk = bytes(self.buf[:n])
            del self.buf[:n]
            self.remaining -= n
            out += n
            self.budget.spend(n, member)
            self.budget.check_ratio(out, self.raw.count - start_raw, member)
            yield chunk

    def _skip_rest(self) -> None:
        for _ in self.read_data(self.current):
            pass
        if self.padding:
            self._take(self.padding)
            self.padding = 0

    def entries(self) -> Iterator[_TarEntry]:
        overrides: dict[str, bytes] = {}
        while True:
            self._skip_rest()
            header = self._take_header()
            if header is None:
                return
            entry, overrides = self._entry(header, overrides)
            if entry is not None:
                yield entry

    def _take_header(self) -> bytes | None:
        self._fill(512)
        if len(self.buf) < 512:
            raise BadInputError(self.file, "truncated archive (no tar end-of-archive marker)")
        header = self._take(512)
        if header == _ZERO_BLOCK:
            self._fill(512)
            if len(self.buf) < 512:
                raise BadInputError(self.file, "truncated archive (tar end-of-archive marker cut)")
            self._drain()
            return None
        stored = _tar_number(self.file, header[148:156])
        unsigned = sum(header[:148]) + 256 + sum(header[156:])
        if stored != unsigned:
            raise BadInputError(self.file, "malformed tar: header checksum mismatch")
        return header

    def _drain(self) -> None:
        """Read to the end so gzip/zstd trailing checks run; after the marker only zero padding
        (to the writer's record size) may follow, as any bytes after a zip, gzip or zstd end."""
        rest = bytes(self.buf)
        self.buf.clear()
        while rest is not None:
            if rest.strip(b"\0"):
                raise BadInputError(self.file, "not a valid archive: trailing bytes after the tar end-of-archive marker")
            rest = self.stream.read_all(CHUNK) or None

    def _entry(self, header: bytes, overrides: dict[str, bytes]) -> tuple[_TarEntry | None, dict[str, bytes]]:
        typeflag = header[156:157]
        size = _tar_number(self.file, header[124:136])
        if "size" in overrides:
            if not overrides["size"].isdigit():
                raise BadInputError(self.file, "malformed tar: bad pax size")
            size = int(overrides["size"])
        self.remaining, self.padding = size, (-size) % 512
        if typeflag in (b"x", b"g", b"L"):
            if size > MiB:
                raise BadInputError(self.file, "malformed tar: extended header too large")
            data = b"".join(self.read_data(""))
            self._take(self.padding)
            self.padding = 0
            if typeflag == b"g":
                return None, overrides
            if typeflag == b"L":
                return None, {**overrides, "path": data.rstrip(b"\x00")}
            return None, {**overrides, **_parse_pax(self.file, data)}
        raw_name = overrides.get("path") or self._header_name(header)
        name = self.current = _decode_name(self.file, raw_name)
        if any(key.startswith("GNU.sparse.") for key in overrides):
            # GNU tar --sparse in posix format: the stored bytes are the data blocks only (the
            # holes and, for 1.0, the map are elsewhere); read as they are, they are not the file
            real = overrides.get("GNU.sparse.name")  # 0.1 and 1.0 store it under GNUSparseFile.PID/
            raise BadInputError(self.file, "sparse member not supported (GNU.sparse pax headers; "
                                "create the tar without --sparse)", _decode_name(self.file, real) if real else name)
        if typeflag in (b"1", b"2", b"K"):
            raise BadInputError(self.file, "link members not allowed", name)
        if typeflag in (b"3", b"4", b"6"):
            raise BadInputError(self.file, "special file (device or FIFO) not allowed", name)
        if typeflag == b"5":
            return _TarEntry(name, "dir", 0), {}
        if typeflag in (b"0", b"\x00", b"7"):
            return _TarEntry(name, "file", size), {}
        raise BadInputError(self.file, f"malformed tar: unsupported member type {typeflag!r}", name)

    @staticmethod
    def _header_name(header: bytes) -> bytes:
        name = header[:100].split(b"\x00", 1)[0]
        if header[257:262] == b"ustar":
            prefix = header[345:500].split(b"\x00", 1)[0]
            if prefix:
                name = prefix + b"/" + name
        return name


# ---------------------------------------------------------------- the archive
def detect_container(path: Path) -> str:
    """"zip", "tar", "tar.gz", "tar.zst" or "folder", by content."""
    if not path.exists() and not path.is_symlink():
        raise InputMissingError(path, "no such file or directory")
    if path.is_dir():
        return "folder"
    head = _read_head(path)
    if not head:  # the most common trace of a failed copy or download
        raise BadInputError(path, "empty file (0 bytes), not an archive")
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "tar.gz"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "tar.zst"
    if len(head) == 512 and head[257:262] == b"ustar":
        return "tar"
    raise BadInputError(path, "not a valid archive (neither zip, tar, tar.gz nor tar.zst)")


def _read_head(path: Path) -> bytes:
    """The first 512 bytes of a regular file.  Anything else is refused unread: a FIFO would block
    the open until a writer came (forever), and a pipe or a device gives bytes that cannot be read
    again when the archive is opened for its listing.  Opened without blocking, then asked
    (``fstat``), so a FIFO put in the file's place after a check is refused too."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise BadInputError(path, "not a regular file (a FIFO, pipe, socket or device); an archive is a file or a folder")
        os.set_blocking(fd, True)
        return os.read(fd, 512)
    finally:
        os.close(fd)


class Archive:
    """An opened, fully listed and checked archive.  Use ``open_archive``."""

    def __init__(self, path: Path, container: str, limits: Limits) -> None:
        self.path, self.container, self.limits = path, container, limits
        self.captured: dict[str, bytes | bytearray] = {}
        self.spooled: dict[str, _Spool] = {}  # tar data.json, zstd-compressed while listing
        self._zip_infos: dict[str, zipfile.ZipInfo] = {}
        self._zf: zipfile.ZipFile | None = None
        self._raw: BinaryIO | None = None  # the file itself, for small members (_read_small_zip_member)
        self.listing = self._list()
        self.layout = self.listing.layout
        self.files = {m.name: m for m in self.listing.members if not m.is_dir}
        self._names = {m.name for m in self.listing.members}

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- listing
    def _list(self) -> Listing:
        builder = _ListingBuilder(self.path, self.container, self.limits)
        if self.container == "zip":
            self._list_zip(builder)
        elif self.container == "folder":
            self._list_folder(builder)
        else:
            self._walk_tar(builder, capture={"metadata.json"}, visit=self._spool)
        return builder.build()

    def _list_zip(self, builder: _ListingBuilder) -> None:
        with self._zipfile() as zf:
            infos = zf.infolist()
            if len(infos) > self.limits.max_entries:
                raise BadInputError(self.path, f"too many entries (more than {self.limits.max_entries})")
            for info in infos:
                self._check_zip_info(info)
                # not info.is_dir(): it indexes the name's last character, and a '' entry has none
                member = builder.add(info.filename, info.filename.endswith("/"), info.file_size)
                if member is not None and not member.is_dir:
                    self._zip_infos[member.name] = info
            check_zip_layout(self.path, zf)

    def _check_zip_info(self, info: zipfile.ZipInfo) -> None:
        if not info.flag_bits & 0x800 and not info.orig_filename.isascii():
            raw = info.orig_filename.encode("cp437", "replace")
            try:  # Info-ZIP on Linux writes UTF-8 names without the flag: say so, not "not UTF-8"
                shown = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise BadInputError(self.path, "name is not UTF-8", raw.decode("utf-8", "backslashreplace")) from None
            raise BadInputError(self.path, "name is not UTF-8 by the zip's own flag (bit 11 clear, which means cp437, "
                                "though the bytes read as UTF-8); re-create the zip with a tool that sets the flag, "
                                "such as 7-Zip or Python's zipfile", shown)
        if "\x00" in info.orig_filename:
            raise BadInputError(self.path, "unsafe member name", repr(info.orig_filename)[1:-1])
        unix_mode = info.external_attr >> 16
        if info.create_system == 3 and (unix_mode & 0o170000) == 0o120000:
            raise BadInputError(self.path, "link members not allowed", info.filename)
        if info.flag_bits & 0x1:
            raise BadInputError(self.path, "encrypted members not supported", info.filename)

    def _list_folder(self, builder: _ListingBuilder) -> None:
        stack = [""]
        while stack:
            rel = stack.pop()
            with os.scandir(self.path / rel if rel else self.path) as it:
                for entry in sorted(it, key=lambda e: e.name):
                    name = f"{rel}{entry.name}"
                    if entry.is_symlink():
                        raise BadInputError(self.path, "link members not allowed", name)
                    if entry.is_dir(follow_symlinks=False):
                        builder.add(name + "/", True, 0)
                        stack.append(name + "/")
                    elif entry.is_file(follow_symlinks=False):
                        builder.add(name, False, entry.stat(follow_symlinks=False).st_size)
                    else:
                        raise BadInputError(self.path, "special file (device or FIFO) not allowed", name)

    @contextmanager
    def _zipfile(self):
        """The one ZipFile of this archive, parsed once (re-parsing per member is quadratic)."""
        try:
            if self._zf is None:  # one open file for zipfile and the small members' reads (zipfile seeks first)
                self._zf = zipfile.ZipFile(self._raw_zip_file())
            yield self._zf
        except zipfile.BadZipFile as exc:
            if not _has_zip_end(self._raw_zip_file()):  # zipfile says "File is not a zip file" of a cut one
                raise BadInputError(self.path, NO_ZIP_END) from None
            raise BadInputError(self.path, f"not a valid archive (corrupt zip: {exc})") from None
        except UnicodeDecodeError as exc:  # zipfile decodes a name flagged UTF-8 while it parses
            shown = bytes(exc.object).decode("utf-8", "backslashreplace")
            raise BadInputError(self.path, "name is not UTF-8 (though flagged UTF-8)", shown) from None
        except (zipfile.LargeZipFile, NotImplementedError) as exc:
            raise BadInputError(self.path, f"not a valid archive ({exc})") from None

    def close(self) -> None:
        if self._zf is not None:
            self._zf.close()
            self._zf = None
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    @contextmanager
    def _tar_stream(self):
        with open(self.path, "rb") as fh:
            truncated = ""
            if self.container == "tar.zst":
                try:
                    check_zstd_frames(self.path, fh, self.limits)
                except BadInputError as exc:  # a cut file: read up to the cut, to name the member there
                    if not exc.reason.startswith("truncated archive ("):
                        raise
                    truncated = exc.reason
                fh.seek(0)
            raw = _CountingFile(fh)
            if self.container == "tar.gz":
                stream = _GzipStream(self.path, raw)
            elif self.container == "tar.zst":
                stream = _ZstdStream(self.path, raw, self.limits, truncated)
            else:
                stream = _PlainStream(raw)
            yield _TarReader(self.path, stream, _Budget(self.path, self.limits), raw)

    def _walk_tar(self, builder: _ListingBuilder | None, capture: set[str], visit: Callable | None) -> None:
        """One pass over a tar stream: list (builder), keep ``capture`` members, or hand files to ``visit``."""
        with self._tar_stream() as reader:
            for entry in reader.entries():
                if builder is not None:
                    member = builder.add(entry.name, entry.kind == "dir", entry.size)
                else:
                    member = self._known_member(entry)
                if member is None:
                    continue
                if member.name in capture and not member.is_dir:
                    self.captured[member.name] = self._bounded_join(reader.read_data(member.name), member.name)
                elif visit is not None and not member.is_dir:
                    visit(member, reader.read_data(member.name))

    def _spool(self, member: Member, chunks: Iterator[bytes]) -> None:
        """While listing a tar, keep data.json zstd-compressed (about 5x smaller), never whole."""
        if member.name == "data.json":
            self.spooled[member.name] = _Spool.fill(self.path, member.name, chunks, self.limits)

    def _known_member(self, entry: _TarEntry) -> Member | None:
        name = check_member_name(self.path, entry.name, entry.kind == "dir", self.limits)
        if name is None or name not in self._names:
            return None
        return Member(name, entry.kind == "dir", entry.size)

    def _bounded_join(self, chunks: Iterable[bytes], name: str) -> bytearray:
        """One member in memory; a bytearray, so no second copy is made (and a parser may clear it)."""
        out = bytearray()
        for chunk in chunks:
            out += chunk
            if len(out) > self.limits.max_json_bytes:
                raise BadInputError(self.path, f"exceeds size budget ({self.limits.max_json_bytes} bytes)", name)
        return out

    # ---- reading
    def has(self, name: str) -> bool:
        return name in self.files

    def repository_prefix(self) -> str:
        """``nodes/`` for the legacy layout, ``repo/`` for main_XXXX."""
        return REPO_PREFIXES[self.layout]

    def read_bytes(self, name: str) -> bytes | bytearray:
        """The whole of one (small) member, e.g. metadata.json."""
        if name in self.captured:
            return self.captured[name]
        if name in self.spooled:
            return self.spooled[name].read_all()
        found = self.read_many({name})
        return found[name]

    def take_bytes(self, name: str) -> bytes | bytearray:
        """Like ``read_bytes`` but forgets a kept copy, so only the caller holds it."""
        data = self.read_bytes(name)
        self.captured.pop(name, None)
        self.spooled.pop(name, None)
        return data

    def read_many(self, names: set[str]) -> dict[str, bytes | bytearray]:
        """Several members at once (one pass for a tar stream)."""
        self._check_present(names)
        if self.container in ("zip", "folder"):
            return {n: self._bounded_join(self._read_random(n), n) for n in sorted(names)}
        found: dict[str, bytes | bytearray] = {}

        def keep(member: Member, chunks: Iterator[bytes]) -> None:
            if member.name in names:
                found[member.name] = self._bounded_join(chunks, member.name)

        self._walk_tar(None, capture=set(), visit=keep)
        return found

    def _check_present(self, names: Iterable[str]) -> None:
        missing = sorted(n for n in names if n not in self.files)
        if missing:
            raise BadInputError(self.path, f"missing {missing[0]}", missing[0])

    def open_member(self, name: str) -> io.BufferedReader:
        """A fresh binary stream of one member, every byte counted against the budgets.

        Cheap to call again (a zip member, a folder file, or a tar's spooled
        data.json); any other tar member costs one pass over the tar stream.
        Read it to the end or close it before the next tar pass.
        """
        chunks = progress.counted(self.iter_bytes(name), f"reading {name}", self._size_of(name), "B", len)
        return io.BufferedReader(_ChunkReader(chunks), CHUNK)

    def _size_of(self, name: str) -> int | None:
        member = self.files.get(name)
        return member.size if member is not None else None

    def iter_bytes(self, name: str) -> Iterator[bytes]:
        """The chunks of one member; see ``open_member``."""
        self._check_present([name])
        if name in self.captured:
            return iter([bytes(self.captured[name])])
        if name in self.spooled:
            return self.spooled[name].chunks()
        if self.container in ("zip", "folder"):
            return self._read_random(name)
        return self._tar_member(name)

    def _tar_member(self, name: str) -> Iterator[bytes]:
        with self._tar_stream() as reader:
            for entry in reader.entries():
                member = self._known_member(entry)
                if member is not None and member.name == name:
                    yield from reader.read_data(name)
                    return

    def _read_random(self, name: str) -> Iterator[bytes]:
        budget = _Budget(self.path, self.limits)
        if self.container == "folder":
            yield from self._read_folder_file(name, budget)
            return
        yield from self._read_zip_member(name, budget)

    def _read_folder_file(self, name: str, budget: _Budget) -> Iterator[bytes]:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(self.path / name, flags)
        with os.fdopen(fd, "rb") as fh:
            while chunk := fh.read(CHUNK):
                budget.spend(len(chunk), name)
                yield chunk

    def _read_zip_member(self, name: str, budget: _Budget) -> Iterator[bytes]:
        """Through the archive's one ZipFile: no re-parse of the central directory per member."""
        info = self._zip_infos[name]
        if _is_small(info):
            data = self._read_small_zip_member(info, name)
            budget.spend(len(data), name)
            budget.check_ratio(len(data), info.compress_size, name)
            if data:
                yield data
            return
        out = 0
        with self._zipfile() as zf:
            try:
                with zf.open(info) as fh:
                    while chunk := fh.read(CHUNK):
                        out += len(chunk)
                        budget.spend(len(chunk), name)
                        budget.check_ratio(out, info.compress_size, name)
                        yield chunk
                _check_read_size(self.path, info, out, name)
            except zipfile.BadZipFile as exc:
                reason = "corrupt member (CRC)" if "CRC" in str(exc) else f"corrupt member ({exc})"
                raise BadInputError(self.path, reason, name) from None
            except (zlib.error, EOFError) as exc:
                raise BadInputError(self.path, f"corrupt member ({exc})", name) from None

    def _read_small_zip_member(self, info: zipfile.ZipInfo, name: str) -> bytes:
        """A small member read whole from its local header: zipfile's per-member objects cost
        seven times the read itself for the tiny files of a repository (20,000 files: 0.28 s
        against 0.04 s).  The checks are zipfile's: the local header's name must be the
        central directory's, and the size and CRC must come out as recorded."""
        fh = self._raw_zip_file()
        fh.seek(info.header_offset)
        head = fh.read(_LOCAL_HEADER.size)
        if len(head) < _LOCAL_HEADER.size or head[:4] != b"PK\x03\x04":
            raise BadInputError(self.path, "corrupt member (bad local header)", name)
        flags, name_length, extra_length = _LOCAL_HEADER.unpack(head)
        raw_name = fh.read(name_length)
        local_name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        if local_name != info.orig_filename:
            raise BadInputError(self.path, f"corrupt member (local header names {local_name!r})", name)
        fh.seek(extra_length, os.SEEK_CUR)
        raw = fh.read(info.compress_size)
        if len(raw) < info.compress_size:
            raise BadInputError(self.path, "corrupt member (truncated)", name)
        stored = info.compress_type == zipfile.ZIP_STORED
        data = raw if stored else _inflate_exactly(self.path, raw, info.file_size, name)
        _check_read_size(self.path, info, len(data), name)
        if zlib.crc32(data) != info.CRC:
            raise BadInputError(self.path, "corrupt member (CRC)", name)
        return data

    def _raw_zip_file(self) -> BinaryIO:
        if self._raw is None:
            self._raw = open(self.path, "rb")
        return self._raw

    def iter_members(self) -> Iterator[tuple[Member, Iterator[bytes] | None]]:
        """Every repository member (``nodes/...`` or ``repo/...``) with a chunk iterator (None for directories).

        Sorted by name when the container allows random access (zip, folder);
        in archive order for tar streams.  Each iterator must be consumed
        before the next item is requested.
        """
        prefix = self.repository_prefix().rstrip("/")
        repo = [m for m in self.listing.members if m.name.startswith(prefix)]
        yield from progress.counted(self._iter_repo(prefix, repo), "repository", len(repo), "entry")

    def _iter_repo(self, prefix: str, repo: list[Member]) -> Iterator[tuple[Member, Iterator[bytes] | None]]:
        if self.container in ("zip", "folder"):
            for member in sorted(repo, key=lambda m: m.name):
                yield member, (None if member.is_dir else self._read_random(member.name))
            return
        yield from self._iter_tar_members(prefix)

    def _iter_tar_members(self, prefix: str) -> Iterator[tuple[Member, Iterator[bytes] | None]]:
        with self._tar_stream() as reader:
            for entry in reader.entries():
                member = self._known_member(entry)
                if member is None or not member.name.startswith(prefix):
                    continue
                yield member, (None if member.is_dir else reader.read_data(member.name))


# a local file header: flags, then the name's and the extra field's lengths (the rest is in the
# central directory, which zipfile has read)
_LOCAL_HEADER = struct.Struct("<4x2xH18xHH")
SMALL_MEMBER = 1 * MiB  # read whole by _read_small_zip_member; larger ones stream through zipfile


def _is_small(info: zipfile.ZipInfo) -> bool:
    return (
        info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        and info.file_size <= SMALL_MEMBER
        and info.compress_size <= SMALL_MEMBER
        and not info.flag_bits & 0x61  # encrypted, patched or strongly encrypted: zipfile refuses them
    )


def _check_read_size(file: Path, info: zipfile.ZipInfo, read: int, name: str) -> None:
    """Refuse a member whose data ended before the size its headers declare.  zipfile stops at the
    declared size when there is more (and the CRC then fails), but not when there is less: the CRC
    of the shorter data can be right, and a writer that trusts the declared size (a tar header)
    would fail on the output instead of naming the input."""
    if read != info.file_size:
        raise BadInputError(file, f"corrupt member (holds {read} bytes, not {info.file_size})", name)


def _inflate_exactly(file: Path, raw: bytes, size: int, name: str) -> bytes:
    """A raw deflate stream that must end exactly at the end of ``raw``; never more than
    ``size + 1`` bytes are made, so a bomb is stopped before it is built."""
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        data = inflate.decompress(raw, size + 1)
    except zlib.error as exc:
        raise BadInputError(file, f"corrupt member ({exc})", name) from None
    if not inflate.eof and len(data) <= size:
        raise BadInputError(file, "corrupt member (deflate stream cut short)", name)
    return data


class _Spool:
    """One member kept zstd-compressed in memory (level 1: ~500 MB/s, ~5x smaller for JSON)."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size = data, size

    @classmethod
    def fill(cls, file: Path, name: str, chunks: Iterator[bytes], limits: Limits) -> _Spool:
        sink = io.BytesIO()
        total = 0
        with zstandard.ZstdCompressor(level=1).stream_writer(sink, closefd=False) as writer:
            for chunk in chunks:
                total += len(chunk)
                if total > limits.max_json_bytes:
                    raise BadInputError(file, f"exceeds size budget ({limits.max_json_bytes} bytes)", name)
                writer.write(chunk)
        return cls(sink.getvalue(), total)

    def _reader(self):
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(self.data), read_across_frames=True)

    def chunks(self) -> Iterator[bytes]:
        with self._reader() as reader:
            while chunk := reader.read(CHUNK):
                yield chunk

    def read_all(self) -> bytearray:
        """Decompressed into one preallocated bytearray: no second copy at the peak."""
        out = bytearray(self.size)
        view = memoryview(out)
        done = 0
        with self._reader() as reader:
            while done < self.size and (n := reader.readinto(view[done:])):
                done += n
        view.release()
        return out


def check_zip_layout(file: Path, zf: zipfile.ZipFile) -> None:
    """Refuse overlapping entries and trailing bytes (Fifield bombs, CVE-2024-0450)."""
    fp = zf.fp
    ranges = []
    for info in sorted(zf.infolist(), key=lambda i: i.header_offset):
        if not 0 <= info.header_offset < zf.start_dir:  # zipfile subtracts a shift it guessed: it can go negative
            raise BadInputError(file, f"not a valid archive: bad local header offset ({info.header_offset})", info.filename)
        fp.seek(info.header_offset)
        head = fp.read(30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise BadInputError(file, "not a valid archive: bad local header", info.filename)
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        end = info.header_offset + 30 + name_len + extra_len + info.compress_size
        if info.flag_bits & 0x8:
            fp.seek(end)
            end += 16 if fp.read(4) == b"PK\x07\x08" else 12
        ranges.append((info.header_offset, end, info.filename))
    previous_end, previous = 0, ""
    for start, end, name in ranges:
        if start < previous_end:
            raise BadInputError(file, f"overlapping entries ({previous!r} and {name!r})", name)
        previous_end, previous = end, name
    if previous_end > zf.start_dir:
        raise BadInputError(file, "overlapping entries (data runs into the central directory)", previous)
    _check_zip_end(file, fp)


NO_ZIP_END = "truncated archive (no zip end record)"


def _zip_tail(fp) -> tuple[bytes, int]:
    """The last bytes that can hold a zip's end record (its 22 bytes and a comment), and where
    the record's signature is in them (-1: none whole)."""
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    tail_len = min(size, 65535 + 22)
    fp.seek(size - tail_len)
    tail = fp.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    return tail, (at if at >= 0 and at + 22 <= len(tail) else -1)


def _has_zip_end(fp) -> bool:
    return _zip_tail(fp)[1] >= 0


def _check_zip_end(file: Path, fp) -> None:
    tail, at = _zip_tail(fp)
    if at < 0:
        raise BadInputError(file, NO_ZIP_END)
    comment_len = struct.unpack("<H", tail[at + 20 : at + 22])[0]
    if at + 22 + comment_len != len(tail):
        raise BadInputError(file, "not a valid archive: trailing bytes after the zip end record")


def open_archive(path: Path | str, limits: Limits | None = None) -> Archive:
    """Detect, list and check an archive; raises ``BadInputError`` on anything unsafe."""
    path = Path(path)
    limits = limits or Limits()
    try:
        return Archive(path, detect_container(path), limits)
    except PermissionError:
        raise InputMissingError(path, "permission denied") from None


# ---------------------------------------------------------------- writing
@dataclass(frozen=True)
class OutMember:
    """One member to write: bytes, a chunk iterator of ``size`` bytes, or a directory."""

    name: str
    size: int = 0
    data: bytes | None = None
    chunks: Iterator[bytes] | None = field(default=None, compare=False)
    is_dir: bool = False
    ahead: DeflateAhead | None = field(default=None, compare=False)  # blocks of a zip member deflated already

    @property
    def length(self) -> int:
        return len(self.data) if self.data is not None else self.size


# names that promise a container we do not write: plain tar, or a compressor without tar
_UNWRITTEN_SUFFIXES = (".tar", ".zst", ".zstd", ".gz", ".tar.zstd", ".tar.bz2", ".tbz2", ".bz2", ".tar.xz", ".txz", ".xz")


def guess_format(path: Path) -> str:
    """Output format from the file name when ``--format`` is not given: ``.tar.zst``/``.tzst``,
    ``.tar.gz``/``.tgz``, else zip (``.aiida``, ``.zip`` and any other name), except a name that
    promises another container (``x.tar``, ``x.tar.zstd``, ``x.gz``): a zip there would be a
    lie, so that is a usage error."""
    name = path.name.lower()
    if name.endswith((".tar.zst", ".tzst")):
        return "tar.zst"
    if name.endswith((".tar.gz", ".tgz")):
        return "tar.gz"
    if name.endswith(_UNWRITTEN_SUFFIXES):
        raise UsageError(path, "plain tar and bare compressors are not written; name the output .tar.gz, .tar.zst, "
                               ".zip or .aiida, or give --format")  # fmt: skip
    return "zip"


def check_output(dst: Path, sources: Iterable[Path], force: bool) -> None:
    """Refuse an output that is an input, lies inside a folder input, is a symlink, or exists,
    or whose folder cannot be written (first: in an unsearchable folder, nothing else can be asked)."""
    check_folder_writable(dst)
    dst_abs = Path(os.path.abspath(dst))
    for src in sources:
        src_abs = Path(os.path.abspath(src))
        if dst_abs == src_abs or (dst.exists() and src.exists() and os.path.samefile(dst, src)):
            raise OutputError(dst, "output is the input; choose another name")
        if src.is_dir() and src_abs in dst_abs.parents:
            raise OutputError(dst, "output overlaps input")
    if dst.is_symlink():
        raise OutputError(dst, "output is a symlink; refusing to write through it")
    if dst.exists() and dst.is_dir():
        raise OutputError(dst, "output is a directory")
    if dst.exists() and not dst.is_file():  # a device or a FIFO: --force must never replace /dev/null
        raise OutputError(dst, "output exists and is not a regular file")
    if dst.exists() and not force:
        raise OutputError(dst, "output exists (use --force to replace it)")
    check_parent_exists(dst)


def check_parent_exists(dst: Path) -> None:
    """Refuse (73) an output whose folder is missing, naming that folder: outputs are never made
    with their parents (a typo in the path would scatter folders), so the user makes it."""
    parent = Path(os.path.abspath(dst)).parent
    if parent.is_dir():
        return
    if parent.exists():  # a file where the folder should be: creating it would not help
        raise OutputError(dst, f"output folder {str(dst.parent)!r} is not a folder")
    raise OutputError(dst, f"output folder {str(dst.parent)!r} does not exist; create it first")


def write_archive(dst: Path, fmt: str, members: Iterable[OutMember], replace: bool = False) -> None:
    """Write members into ``dst`` atomically (``replace_atomically``).  An existing ``dst`` is
    replaced only with ``replace`` (``--force``); without it, a ``dst`` that another run wrote
    while this one worked is refused (73) and kept."""
    if fmt not in FORMATS:
        raise OutputError(dst, f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    remove_stale(dst)  # a killed run's staging file of this output
    stream = _read_errors(members)
    try:
        # "xb" and the pid: never write through a name someone else made (a planted symlink)
        with (
            replace_atomically(dst, staging_file(dst), "xb", replace=replace) as fh,
            progress.stage(f"writing {dst.name}", None, progress.UNCOMPRESSED) as advance,
        ):
            if fmt == "zip":
                _write_zip(fh, stream, advance)
            else:
                _write_tar(fh, fmt, stream, advance)
    except _ReadFailed as failed:
        raise _read_error(failed.error, failed.member, dst) from None
    except OSError as exc:
        raise WriteError(exc.filename or dst, exc.strerror or str(exc)) from None
    finally:
        # A write that stopped early leaves the members' generators suspended, holding what they
        # opened (a SQLite connection): closed here, in this thread, and not by a later garbage
        # collection in whichever thread runs it, where sqlite3 refuses to close a connection.
        stream.close()


class _ReadFailed(Exception):
    """An ``OSError`` raised while the members' bytes were read (an input), not while writing."""

    def __init__(self, error: OSError, member: str = "") -> None:
        super().__init__(error, member)
        self.error, self.member = error, member


def _read_errors(members: Iterable[OutMember]) -> Iterator[OutMember]:
    """The members, an ``OSError`` of the generator making them marked as a read's (``_ReadFailed``)."""
    try:
        yield from members
    except OSError as exc:
        raise _ReadFailed(exc) from None


def _read_error(exc: OSError, member: str, dst: Path) -> WriteError | InputMissingError:
    """A read that failed: an input that cannot be read (66), unless it failed for lack of space
    (a generator may write work files on the way: that is the output's disk, 74)."""
    full = disk_failure(exc)
    if full is not None:
        return WriteError(exc.filename or dst, full)
    return InputMissingError(exc.filename or dst, f"cannot read input: {exc.strerror or exc}", "" if exc.filename else member)


@contextmanager
def replace_atomically(dst: Path, tmp: Path, mode: str, *, replace: bool) -> Iterator[BinaryIO]:
    """A file written at ``tmp`` that becomes ``dst`` only when complete: fsync, rename, fsync
    of the folder.  On any failure, an interrupt included, ``tmp`` is removed and ``dst`` is
    untouched.  ``replace=False`` refuses (73) a ``dst`` that exists by then.  The one atomic
    writer of the project (archives, and files of a live site)."""
    try:
        with open(tmp, mode) as fh:
            hold_claim(fh.fileno())  # a sweep in another PID namespace must see this run alive
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        interrupts.check()
        if replace:
            _replace_file(tmp, dst)
        else:
            rename_no_replace(tmp, dst)
        fsync_dir(dst.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _replace_file(tmp: Path, dst: Path) -> None:
    """``os.replace``; a folder that took the output's name meanwhile is another run's, never
    replaced (73, naming the output: the checks before the work saw a file or nothing there)."""
    try:
        os.replace(tmp, dst)
    except OSError as exc:
        if exc.errno not in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR) or not dst.is_dir():
            raise
        raise OutputError(dst, "a folder appeared at the output while writing (another run?); nothing was replaced") from None


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable: an atomic rename alone is not (file systems differ)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _member_chunks(member: OutMember, advance: Callable[[int], None]) -> Iterator[bytes]:
    if member.data is not None:
        advance(len(member.data))
        yield member.data
    elif member.chunks is not None:
        try:  # only the chunks' source runs in here: the writer's own errors stay in the writer
            for chunk in member.chunks:
                advance(len(chunk))
                yield chunk
        except OSError as exc:
            raise _ReadFailed(exc, member.name) from None


# ---------------------------------------------------------------- deflate on every core
DEFLATE_LEVEL = 6
# Every deflate stream is zlib-ng's: zlib's format and levels at about three times its speed
# (a 98 MB database at level 6: 1.18 s against 0.39 s, sizes within 1 %).  Its bytes are not
# zlib's, so an output is byte-identical from run to run with the same zlib-ng; the tests set
# the standard zlib here to compare the zip writer's records with zipfile's, byte for byte.
DEFLATE = zlib_ng
DEFLATE_BLOCK = 1 * MiB  # a member this large or larger is deflated in blocks on a thread pool
_WINDOW = 32 * 1024  # deflate's window: each block is primed with the 32 KiB before it


class ParallelDeflate:
    """A stand-in for ``zlib.compressobj(level, DEFLATED, -15)`` (``compress``/``flush``) that
    deflates 1 MiB blocks on a thread pool, the way pigz does.

    Each block is compressed on its own, primed with the 32 KiB before it as a
    preset dictionary (so the ratio is that of one stream, within 0.1 %), and
    ends with a sync flush (byte-aligned, not final); the last block ends the
    stream.  The blocks' outputs, concatenated in order, are one valid raw
    deflate stream.  zlib-ng releases the GIL while it deflates, so two cores
    deflate about twice as fast.  The output depends only on the data, the
    level and the block size, never on thread timing: deterministic.
    """

    def __init__(
        self, pool: ThreadPoolExecutor, level: int = DEFLATE_LEVEL, block: int = DEFLATE_BLOCK, ahead: DeflateAhead | None = None
    ) -> None:
        self._pool, self._level, self._block, self._ahead = pool, level, block, ahead
        self._buf = bytearray()
        self._window = b""
        self._pending: deque[Future[bytes]] = deque()
        self._depth = 2 * _deflate_workers()  # blocks in flight: bounds memory
        self._index = 0  # of the next block

    def compress(self, data) -> bytes:
        self._buf += data
        while len(self._buf) > self._block:  # the last block is kept back: only flush knows it is last
            self._submit(bytes(self._buf[: self._block]), final=False)
            del self._buf[: self._block]
        done = []
        while self._pending and (self._pending[0].done() or len(self._pending) > self._depth):
            done.append(self._pending.popleft().result())
        return b"".join(done)

    def flush(self, mode: int = zlib.Z_FINISH) -> bytes:
        """Everything so far; ``Z_FINISH`` (the default) ends the stream, any other mode
        syncs it (``GzipFile.flush`` asks for ``Z_SYNC_FLUSH``), as zlib's own object does."""
        final = mode == zlib.Z_FINISH
        if final or self._buf:
            self._submit(bytes(self._buf), final=final)
        self._buf.clear()
        out = b"".join(future.result() for future in self._pending)
        self._pending.clear()
        return out

    def _submit(self, block: bytes, final: bool) -> None:
        done = None if self._ahead is None or final else self._ahead.take(self._index, self._window, block, self._level)
        if done is None:
            self._pending.append(self._pool.submit(_deflate_block, block, self._window, self._level, final))
        else:
            self._pending.append(Future())
            self._pending[-1].set_result(done)
        self._window = (self._window + block)[-_WINDOW:]
        self._index += 1


class DeflateAhead:
    """The blocks ``ParallelDeflate`` will make of a file that becomes a zip member, made ahead
    of the writer, on one thread, while the file's end is still being written.

    The database of a main archive gets its indexes after its tables: SQLite
    builds them on one core for most of a second (200,000 nodes), in which the
    other core deflates the tables' pages, which the indexes do not touch.  The
    first block (the header and schema pages, which they do change) is never
    made ahead, and every block made ahead is used only if the writer reads the
    very same bytes, with the same window and level before it (a CRC-32 of
    both); else it is deflated again.  So the output is the same bytes either
    way (deterministic), only sooner.  Memory: the deflated blocks, about an
    eighth of the file.
    """

    def __init__(self, path: Path, level: int = DEFLATE_LEVEL, block: int = DEFLATE_BLOCK) -> None:
        self._level, self._block = level, block
        self._made: dict[int, tuple[int, bytes]] = {}  # block index -> (CRC of window and block, deflated)
        self._stop = threading.Event()
        blocks = path.stat().st_size // block  # wholly written now; the last of them may yet be final: not made
        self._thread = threading.Thread(target=self._run, args=(path, blocks - 1), name="deflate-ahead", daemon=True)
        self._thread.start()

    def _run(self, path: Path, blocks: int) -> None:
        window = b""
        try:
            with open(path, "rb") as fh:
                for index in range(blocks):
                    data = fh.read(self._block)
                    if self._stop.is_set() or len(data) < self._block:
                        return
                    if index > 0:
                        made = _deflate_block(data, window, self._level, final=False)
                        self._made[index] = (zlib_ng.crc32(data, zlib_ng.crc32(window)), made)
                    window = data[-_WINDOW:]
        except OSError:  # the file went away (the run stopped): the writer deflates what it needs itself
            return

    def take(self, index: int, window: bytes, block: bytes, level: int) -> bytes | None:
        """Block ``index`` deflated, if it was made ahead from these bytes; else None.  The
        writer's first call stops the thread: what it has not made by then, the pool makes."""
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join()  # at most the block in hand
        found = self._made.pop(index, None)
        if found is None or level != self._level or len(block) != self._block:
            return None
        crc, made = found
        return made if crc == zlib_ng.crc32(block, zlib_ng.crc32(window)) else None

    def stop(self) -> None:
        """Stop making blocks and drop those made (also a run that ends before its zip is written)."""
        self._stop.set()
        self._thread.join()
        self._made.clear()


def _deflate_block(block: bytes, window: bytes, level: int, final: bool) -> bytes:
    """Raw deflate of ``block`` primed with ``window`` (a small zip member: no window, final)."""
    args = {"zdict": window} if window else {}
    deflate = DEFLATE.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, **args)
    return deflate.compress(block) + deflate.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


def _deflate_workers() -> int:
    """The cores this process may use (affinity on Linux; macOS has no such call), up to four."""
    affinity = getattr(os, "sched_getaffinity", None)
    cores = len(affinity(0)) if affinity else os.cpu_count() or 1
    return max(1, min(4, cores))


def _deflate_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=_deflate_workers(), thread_name_prefix="deflate")


def _write_zip(fh, members: Iterable[OutMember], advance: Callable[[int], None]) -> None:
    with _deflate_pool() as pool:
        writer = _ZipWriter(fh, pool)
        for member in members:
            if member.is_dir:
                writer.directory(member.name)
            else:
                writer.file(member, advance)
        writer.finish()


# The zip records, as zipfile (CPython 3.11) writes them; zipfile's names in the comments
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # structFileHeader
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # structCentralDir
_END = struct.Struct("<4s4H2LH")  # structEndArchive
_END64 = struct.Struct("<4sQ2H2L4Q")  # structEndArchive64
_END64_LOCATOR = struct.Struct("<4sLQL")  # structEndArchive64Locator
_ZIP64_LIMIT = (1 << 31) - 1  # past it, sizes and offsets go to a zip64 extra field
_ZIP_COUNT_LIMIT = 0xFFFF
_VERSION, _ZIP64_VERSION = 20, 45
_UTF8_NAME = 0x800
_DOS_TIME = ZIP_EPOCH[3] << 11 | ZIP_EPOCH[4] << 5 | ZIP_EPOCH[5] // 2
_DOS_DATE = (ZIP_EPOCH[0] - 1980) << 9 | ZIP_EPOCH[1] << 5 | ZIP_EPOCH[2]
_FILE_ATTR = 0o100644 << 16
_DIR_ATTR = (0o40755 << 16) | 0x10  # and the MS-DOS directory flag
_CENTRAL_IN_MEMORY = 32 * MiB  # a larger central directory (~300,000 entries) waits on disk


class _ZipWriter:
    """Writes, byte for byte, what ``zipfile`` writes for the same members (a test compares
    them), without its cost per member.

    zipfile makes a ZipInfo, a writer and a compressor for every member, then
    seeks back to rewrite the local header, and each seek flushes the buffered
    file: 20,000 small files took 0.34 s against 0.08 s here.  So a member below
    one deflate block is read whole and compressed before its header is
    written; only a larger, streamed one has its header rewritten in place.
    zipfile also keeps a ZipInfo per member (about 400 bytes) until the end; the
    central directory is kept here as its packed records, on disk past 32 MiB,
    so memory stays flat whatever the number of members.
    """

    def __init__(self, fh: BinaryIO, pool: ThreadPoolExecutor) -> None:
        self._fh, self._pool = fh, pool
        self._at = fh.tell()
        self._central = tempfile.SpooledTemporaryFile(_CENTRAL_IN_MEMORY)
        self._count = 0

    def directory(self, name: str) -> None:
        raw_name, flags = _zip_name(name + "/")
        self._fh.write(_local_header(raw_name, flags, 0, 0, 0, zip64=False, method=zipfile.ZIP_STORED))
        self._record(raw_name, flags, zipfile.ZIP_STORED, 0, 0, 0, self._at, _DIR_ATTR, _VERSION)
        self._at = self._fh.tell()

    def file(self, member: OutMember, advance: Callable[[int], None]) -> None:
        raw_name, flags = _zip_name(member.name)
        # zipfile's choice, made on the announced length: a zip64 local header past ~1.9 GiB
        # (the old force_zip64 past 2 GiB falls inside it)
        zip64 = member.length * 1.05 > _ZIP64_LIMIT
        if member.length < DEFLATE_BLOCK:
            data = b"".join(_member_chunks(member, advance))
            packed = _deflate_block(data, b"", DEFLATE_LEVEL, final=True)  # one whole stream, zipfile's settings
            crc, size, packed_size = zlib_ng.crc32(data), len(data), len(packed)
            self._fh.write(_local_header(raw_name, flags, crc, packed_size, size, zip64) + packed)
        else:
            crc, size, packed_size = self._stream(member, raw_name, flags, zip64, advance)
        version = _ZIP64_VERSION if zip64 else _VERSION
        self._record(raw_name, flags, zipfile.ZIP_DEFLATED, crc, packed_size, size, self._at, _FILE_ATTR, version)
        self._at = self._fh.tell()

    def _stream(self, member: OutMember, raw_name: bytes, flags: int, zip64: bool, advance) -> tuple[int, ...]:
        """A member of a block or more: a header of the final length first, the chunks deflated
        on the pool, then the header again with the CRC and sizes (one seek back per member)."""
        self._fh.write(_local_header(raw_name, flags, 0, 0, member.length, zip64))
        deflate = ParallelDeflate(self._pool, ahead=member.ahead)
        crc = size = packed_size = 0
        for chunk in _member_chunks(member, advance):
            crc, size = zlib_ng.crc32(chunk, crc), size + len(chunk)
            out = deflate.compress(chunk)
            packed_size += len(out)
            self._fh.write(out)
        out = deflate.flush()
        packed_size += len(out)
        self._fh.write(out)
        if not zip64 and max(size, packed_size) > _ZIP64_LIMIT:
            # a bug of ours (a member longer than announced), not bad input
            raise ValueError(f"{member.name}: announced {member.length} bytes, wrote {size}")
        end = self._fh.tell()
        self._fh.seek(self._at)
        self._fh.write(_local_header(raw_name, flags, crc, packed_size, size, zip64))
        self._fh.seek(end)
        return crc, size, packed_size

    def _record(
        self, raw_name: bytes, flags: int, method: int, crc: int, packed: int, size: int, offset: int, attr: int, version: int
    ) -> None:
        extra = []
        if size > _ZIP64_LIMIT or packed > _ZIP64_LIMIT:
            extra += [size, packed]
            size = packed = 0xFFFFFFFF
        if offset > _ZIP64_LIMIT:
            extra.append(offset)
            offset = 0xFFFFFFFF
        extra_data = struct.pack(f"<HH{len(extra)}Q", 1, 8 * len(extra), *extra) if extra else b""
        version = _ZIP64_VERSION if extra else version
        self._central.write(
            _CENTRAL.pack(
                b"PK\x01\x02", version, 3, version, 0, flags, method, _DOS_TIME, _DOS_DATE,
                crc, packed, size, len(raw_name), len(extra_data), 0, 0, 0, attr, offset,
            ) + raw_name + extra_data
        )  # fmt: skip
        self._count += 1

    def finish(self) -> None:
        """The central directory and the end records (zip64 ones past 65,535 entries or 2 GiB)."""
        start = self._at
        self._central.seek(0)
        while chunk := self._central.read(CHUNK):
            self._fh.write(chunk)
        self._central.close()
        end = self._fh.tell()
        count, size, offset = self._count, end - start, start
        if count > _ZIP_COUNT_LIMIT or offset > _ZIP64_LIMIT or size > _ZIP64_LIMIT:
            self._fh.write(_END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, offset))
            self._fh.write(_END64_LOCATOR.pack(b"PK\x06\x07", 0, end, 1))
            count, size, offset = min(count, 0xFFFF), min(size, 0xFFFFFFFF), min(offset, 0xFFFFFFFF)
        self._fh.write(_END.pack(b"PK\x05\x06", 0, 0, count, count, size, offset, 0))


def _zip_name(name: str) -> tuple[bytes, int]:
    """The name's bytes and flags: ASCII as is, anything else UTF-8 with the flag that says so."""
    if name.isascii():
        return name.encode("ascii"), 0
    return name.encode("utf-8"), _UTF8_NAME


def _local_header(
    raw_name: bytes, flags: int, crc: int, packed: int, size: int, zip64: bool, method: int = zipfile.ZIP_DEFLATED
) -> bytes:
    """A local file header as zipfile writes it; a zip64 one carries the sizes in its extra field."""
    version, extra = _VERSION, b""
    if zip64:
        version, extra = _ZIP64_VERSION, struct.pack("<HHQQ", 1, 16, size, packed)
        packed = size = 0xFFFFFFFF
    head = _LOCAL.pack(
        b"PK\x03\x04", version, 0, flags, method, _DOS_TIME, _DOS_DATE, crc, packed, size, len(raw_name), len(extra)
    )
    return head + raw_name + extra


class _ChunkReader(io.RawIOBase):
    """A file-like view of a chunk iterator, for ``TarFile.addfile``.

    The current chunk is consumed through a memoryview and an offset: slicing the bytes
    themselves copied the rest of the chunk at every read, which made one large chunk (a
    data.json of a few hundred MB handed over whole) quadratic in its size."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.buf, self.at = chunks, memoryview(b""), 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while self.at >= len(self.buf):
            try:
                self.buf, self.at = memoryview(next(self.chunks)), 0
            except StopIteration:
                self.buf, self.at = memoryview(b""), 0
                return 0
        n = min(len(b), len(self.buf) - self.at)
        b[:n] = self.buf[self.at:self.at + n]
        self.at += n
        return n


# Tar members carry this fixed mtime: 1980-01-02 00:00 UTC, not 0.  aiida-core 2.x upgrades a
# legacy tar by rewriting it as a zip with the members' mtimes, and zip cannot hold a date before
# 1980 in local time ("ZIP does not support timestamps before 1980"): one day past the zip epoch
# is 1980 in every time zone.
TAR_MTIME = 315_619_200


TAR_MTIME_LIMIT = 8**11  # a ustar header holds 11 octal digits; a later time needs a pax header


def source_date_epoch() -> int | None:
    """``SOURCE_DATE_EPOCH`` (reproducible-builds.org) as seconds, None when unset or empty.

    ASCII digits only (``str.isdigit`` also takes "²" or "٣", which ``int`` then refuses or
    reads), and below ``TAR_MTIME_LIMIT``: a later time would need pax timestamps, which the
    outputs promise not to have.  Anything else is a usage error naming the variable."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not value:
        return None
    if re.fullmatch("[0-9]+", value) is None or int(value) >= TAR_MTIME_LIMIT:
        raise UsageError("SOURCE_DATE_EPOCH", f"{value!r} is not a number of seconds from 0 to {TAR_MTIME_LIMIT - 1} (ASCII digits)")
    return int(value)


def _tar_mtime() -> int:
    epoch = source_date_epoch()
    return TAR_MTIME if epoch is None else max(epoch, TAR_MTIME)


def _write_tar(fh, fmt: str, members: Iterable[OutMember], advance: Callable[[int], None]) -> None:
    with _deflate_pool() as pool, _compressing(fh, fmt, pool) as compressed:
        _write_tar_stream(compressed, members, advance)


def _compressing(fh, fmt: str, pool: ThreadPoolExecutor):
    """A writable stream compressing into ``fh`` (gzip with mtime 0, or zstandard with its checksum)."""
    if fmt == "tar.gz":
        import gzip

        compressed = gzip.GzipFile(filename="", fileobj=fh, mode="wb", compresslevel=DEFLATE_LEVEL, mtime=0)
        compressed.compress = ParallelDeflate(pool)  # GzipFile's raw deflate object: only compress() and flush() are called
        return compressed
    return zstandard.ZstdCompressor(level=3, write_checksum=True, threads=2).stream_writer(fh, closefd=False)


def _write_tar_stream(compressed, members: Iterable[OutMember], advance: Callable[[int], None]) -> None:
    mtime = _tar_mtime()
    with tarfile.open(fileobj=compressed, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
            if member.is_dir:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
            else:
                info.mode, info.size = 0o644, member.length
                tf.addfile(info, io.BufferedReader(_ChunkReader(_member_chunks(member, advance)), CHUNK))
            tf.members.clear()  # TarFile keeps every TarInfo it wrote: memory per member, of no use to a stream
