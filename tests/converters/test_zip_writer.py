"""The zip writer writes what zipfile writes, byte for byte, and what it writes reads back.

``containers._ZipWriter`` replaced ``zipfile.ZipFile`` for speed; the
reference here is the zipfile-based writer it replaced.  Deflate itself is
zlib-ng's (``containers.DEFLATE``), whose bytes are not zlib's, so the
byte-for-byte comparisons set the standard zlib there: what they compare is
every record the writer makes.  The archives written with zlib-ng are checked
by reading them back, with zipfile and with Info-ZIP's ``unzip -t``.
"""

from __future__ import annotations

import os
import struct
import subprocess
import zipfile
from pathlib import Path

import zlib

import pytest

import converters.containers as containers
from converters.containers import (
    DEFLATE_BLOCK,
    DEFLATE_LEVEL,
    GiB,
    ZIP_EPOCH,
    OutMember,
    ParallelDeflate,
    _deflate_pool,
    _local_header,
    write_archive,
)


def zipfile_reference(path: Path, members: list[OutMember]) -> None:
    """The writer as it was: zipfile, with ParallelDeflate swapped in for members of a block or more."""
    with (
        open(path, "wb") as fh,
        _deflate_pool() as pool,
        zipfile.ZipFile(
            fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=DEFLATE_LEVEL, allowZip64=True
        ) as zf,
    ):
        for member in members:
            info = zipfile.ZipInfo(member.name + ("/" if member.is_dir else ""), date_time=ZIP_EPOCH)
            info.create_system = 3
            if member.is_dir:
                info.external_attr = (0o40755 << 16) | 0x10
                zf.writestr(info, b"")
                continue
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.file_size = member.length
            with zf.open(info, "w", force_zip64=member.length > 2 * GiB - 1) as out:
                if member.length >= DEFLATE_BLOCK:
                    out._compressor = ParallelDeflate(pool)
                for chunk in member.chunks if member.chunks is not None else [member.data or b""]:
                    out.write(chunk)


def _members(spec: list[tuple]) -> list[OutMember]:
    """``(name, bytes)`` for a member in one piece, ``(name, bytes, n)`` for n chunks, ``(name,)`` for a folder."""
    out = []
    for item in spec:
        if len(item) == 1:
            out.append(OutMember(item[0], is_dir=True))
        elif len(item) == 2:
            out.append(OutMember(item[0], data=item[1], size=len(item[1])))
        else:
            name, data, n = item
            step = max(1, len(data) // n)
            pieces = [data[i : i + step] for i in range(0, len(data), step)]
            out.append(OutMember(name, size=len(data), chunks=iter(pieces)))
    return out


def _pseudo_text(n: int, seed: int = 7) -> bytes:
    """Compressible but not trivial bytes (a deflate stream with real matches and literals)."""
    words = [b"alpha", b"beta", b"gamma", b"delta", b"\x00\x01", b"\xff", b"epsilon ", b"\n"]
    out, x = bytearray(), seed
    while len(out) < n:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out += words[x % len(words)] + str(x % 997).encode()
    return bytes(out[:n])


CASES = {
    "empty": [],
    "one empty file": [("a", b"")],
    "folders and files": [
        ("nodes",),
        ("nodes/aa",),
        ("nodes/aa/f.txt", b"hello\n"),
        ("metadata.json", b"{}"),
    ],
    "non-ASCII names": [("nodes/é/ü.txt", "ßtraße".encode()), ("日本/語", b"x" * 100)],
    "a small member in many chunks": [("data.json", _pseudo_text(300_000), 37)],
    "members of a block and more": [
        ("big.bin", _pseudo_text(DEFLATE_BLOCK), 5),
        ("bigger.bin", _pseudo_text(3 * DEFLATE_BLOCK + 11, 3), 9),
    ],
    "just under a block": [
        ("edge.bin", _pseudo_text(DEFLATE_BLOCK - 1), 2),
        ("random.bin", os.urandom(5000)),
    ],
}


@pytest.fixture
def stdlib_zlib(monkeypatch):
    """zipfile's own deflate (the standard zlib) in the writer, so the two can be compared byte for byte."""
    monkeypatch.setattr(containers, "DEFLATE", zlib)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_writer_writes_what_zipfile_wrote(tmp_path, case, stdlib_zlib):
    ours, theirs = tmp_path / "ours.zip", tmp_path / "theirs.zip"
    write_archive(ours, "zip", _members(CASES[case]))
    zipfile_reference(theirs, _members(CASES[case]))
    assert ours.read_bytes() == theirs.read_bytes()


@pytest.mark.slow  # about 4 s: 70,000 entries, past the 65,535 of a plain end record
def test_more_than_65535_entries_as_zipfile_wrote_them(tmp_path, stdlib_zlib):
    spec = [(f"nodes/{i:06d}", b"%d" % i) for i in range(70_000)]
    ours, theirs = tmp_path / "ours.zip", tmp_path / "theirs.zip"
    write_archive(ours, "zip", _members(spec))
    zipfile_reference(theirs, _members(spec))
    assert ours.read_bytes() == theirs.read_bytes()
    with zipfile.ZipFile(ours) as zf:
        assert len(zf.infolist()) == 70_000
        assert zf.read("nodes/069999") == b"69999"


@pytest.mark.parametrize("case", sorted(CASES))
def test_with_zlib_ng_it_reads_back_whole(tmp_path, case):
    """The default deflate: zipfile (the standard zlib) inflates every member, CRCs checked,
    to the bytes given, and the names and sizes are those of the zipfile-written archive."""
    ours, theirs = tmp_path / "ours.zip", tmp_path / "theirs.zip"
    write_archive(ours, "zip", _members(CASES[case]))
    zipfile_reference(theirs, _members(CASES[case]))
    with zipfile.ZipFile(ours) as mine, zipfile.ZipFile(theirs) as reference:
        assert mine.testzip() is None
        assert [(i.filename, i.file_size, i.CRC) for i in mine.infolist()] == [
            (i.filename, i.file_size, i.CRC) for i in reference.infolist()
        ]
        for info in reference.infolist():
            assert mine.read(info.filename) == reference.read(info.filename)


def test_the_zip64_local_header_is_zipfiles(tmp_path):
    """A member past 2 GiB is too slow to write in a test; its header is compared on its own."""
    info = zipfile.ZipInfo("huge.bin", date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.CRC, info.compress_size, info.file_size = 0x12345678, 3 * GiB, 5 * GiB
    assert _local_header(
        b"huge.bin", 0, info.CRC, info.compress_size, info.file_size, zip64=True
    ) == info.FileHeader(zip64=True)
    small = zipfile.ZipInfo("s", date_time=ZIP_EPOCH)
    small.compress_type = zipfile.ZIP_DEFLATED
    small.CRC, small.compress_size, small.file_size = 1, 2, 3
    assert _local_header(b"s", 0, 1, 2, 3, zip64=False) == small.FileHeader(zip64=False)


def test_what_it_writes_passes_unzip(tmp_path):
    """Another reader than Python's: Info-ZIP's ``unzip -t`` checks every CRC."""
    if not any((Path(d) / "unzip").exists() for d in os.environ.get("PATH", "").split(os.pathsep)):
        pytest.skip("unzip is not installed")
    path = tmp_path / "a.zip"
    write_archive(
        path,
        "zip",
        _members(
            CASES["folders and files"] + CASES["members of a block and more"] + CASES["non-ASCII names"]
        ),
    )
    run = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No errors detected" in run.stdout


def test_the_central_directory_waits_on_disk_past_its_budget(tmp_path, monkeypatch, stdlib_zlib):
    """Memory stays flat with the number of members: the packed records spill to a file."""
    monkeypatch.setattr(containers, "_CENTRAL_IN_MEMORY", 4096)
    spec = [(f"nodes/{i:05d}", b"x") for i in range(500)]
    ours, theirs = tmp_path / "ours.zip", tmp_path / "theirs.zip"
    write_archive(ours, "zip", _members(spec))
    zipfile_reference(theirs, _members(spec))
    assert ours.read_bytes() == theirs.read_bytes()
    end = ours.read_bytes()[-22:]
    assert struct.unpack("<4s4H2LH", end)[3] == 500
