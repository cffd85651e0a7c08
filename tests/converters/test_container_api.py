"""The container API other modules build on: one zip parse, streamed members, both layouts, spooled tar JSON.

The quadratic-zip regression is caught by counting how often the archive file
is opened (a Python audit hook sees every ``open``): a pass over every member
of a zip must not reopen it, whatever the number of members.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from converters import open_archive
from converters.migrations import plan
from converters.versions import KNOWN_VERSIONS, read_version
from tests.converters import builders as b

_OPENS: dict[str, int] = {}


def _count_opens(event: str, args: tuple) -> None:
    if event == "open" and args and isinstance(args[0], (str, Path)):
        path = str(args[0])
        if path in _OPENS:
            _OPENS[path] += 1


sys.addaudithook(_count_opens)  # audit hooks cannot be removed; this one only counts watched paths


def _many_files_zip(path: Path, count: int) -> Path:
    members = b.build_members("0.13")
    node = b.node_dir(json.loads(members["data.json"])["export_data"]["Node"]["1"]["uuid"])
    for i in range(count):
        members[f"{node}/path/f{i:05d}.txt"] = f"file {i}\n".encode()
    return b.write_container(path, members, "zip")


@pytest.mark.parametrize("count", [20, 600])
def test_reading_every_zip_member_opens_the_file_once(tmp_path, count):
    path = _many_files_zip(tmp_path / "many.zip", count)
    _OPENS[str(path)] = 0
    with open_archive(path) as archive:
        read = sum(1 for _, chunks in archive.iter_members() if chunks is not None and b"".join(chunks))
        archive.read_bytes("data.json")
        archive.open_member("metadata.json").read()
    opens = _OPENS.pop(str(path))
    assert read >= count
    assert opens <= 2, f"{opens} opens for {read} members: the zip is re-parsed per member"


@pytest.mark.parametrize("container", ["zip", "folder", "tar", "tar.gz", "tar.zst"])
def test_open_member_streams_the_same_bytes_as_the_input(tmp_path, container):
    members = b.build_members("0.13")
    path = b.write_container(tmp_path / f"a.{container}", members, container)
    archive = open_archive(path)
    for name in ("data.json", "metadata.json", sorted(n for n in members if n.startswith("nodes/"))[0]):
        with archive.open_member(name) as fh:
            assert fh.read() == members[name], name
        with archive.open_member(name) as fh:  # re-openable
            assert hashlib.sha256(fh.read()).digest() == hashlib.sha256(members[name]).digest()


@pytest.mark.parametrize("container", ["tar", "tar.gz", "tar.zst"])
def test_tar_listing_keeps_data_json_compressed_not_whole(tmp_path, container):
    members = b.build_members("0.13")
    members["data.json"] = json.dumps({**json.loads(members["data.json"]), "pad": ["x" * 40] * 20000}).encode()
    archive = open_archive(b.write_container(tmp_path / f"a.{container}", members, container))
    assert "data.json" not in archive.captured
    assert len(archive.spooled["data.json"].data) < len(members["data.json"]) // 5
    assert archive.take_bytes("data.json") == members["data.json"]
    assert "data.json" not in archive.spooled


def _main_members() -> dict[str, bytes]:
    blob = b"hello"
    return {
        "metadata.json": json.dumps({"export_version": "main_0001"}).encode(),
        "db.sqlite3": b"SQLite format 3\x00",
        f"repo/{hashlib.sha256(blob).hexdigest()}": blob,
        "notes.txt": b"stray",
    }


def test_main_layout_is_the_second_known_layout(tmp_path):
    archive = open_archive(b.write_container(tmp_path / "m.zip", _main_members(), "zip"))
    assert archive.layout == "main"
    assert archive.has("db.sqlite3") and not archive.has("notes.txt")
    assert archive.listing.ignored == ("notes.txt",)
    assert [m.name[:5] for m, _ in archive.iter_members()] == ["repo/"]


def test_a_legacy_archive_ignores_main_names(tmp_path):
    members = {**b.build_members("0.13"), "db.sqlite3": b"x", "repo/" + "0" * 64: b"y"}
    archive = open_archive(b.write_container(tmp_path / "l.zip", members, "zip"))
    assert archive.layout == "legacy"
    assert set(archive.listing.ignored) == {"db.sqlite3", "repo/" + "0" * 64}
    assert all(m.name.startswith("nodes/") for m, _ in archive.iter_members())


def test_main_versions_are_known_on_import(tmp_path):
    assert "main_0001" in KNOWN_VERSIONS
    assert plan("main_0001", "0.13")[0] == ("main_0001", "main_0000b")
    path = b.write_container(tmp_path / "m.zip", _main_members(), "zip")
    assert read_version(path) == "main_0001"


def test_migrate_reaches_main_and_back_down(tmp_path):
    from converters import migrate

    src = b.build_archive(tmp_path, "0.13")
    up = migrate(src, tmp_path / "up.aiida", to_version="main_0001")
    assert up.version == "main_0001" and read_version(tmp_path / "up.aiida") == "main_0001"
    down = migrate(tmp_path / "up.aiida", tmp_path / "down.zip", to_version="0.13")
    assert read_version(tmp_path / "down.zip") == "0.13" and down.steps[0] == "main_0001 -> main_0000b"


# ---------------------------------------------------------------- deflate on every core
def _noise(size: int, seed: int) -> bytes:
    """Half-compressible bytes: text-like runs with random digits, so blocks really reference each other."""
    import random

    rng = random.Random(seed)
    words = [b"node", b"uuid", b"attributes", b'":{"', b"0", b"ecutwfc", b"\n"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + str(rng.randrange(10**6)).encode()
    return bytes(out[:size])


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 3 * 4096 + 5])
def test_parallel_deflate_is_one_raw_deflate_stream_of_the_input(size):
    import zlib
    from concurrent.futures import ThreadPoolExecutor

    from converters.containers import ParallelDeflate

    data = _noise(size, size)
    with ThreadPoolExecutor(2) as pool:
        deflate = ParallelDeflate(pool, block=4096)
        pieces = [deflate.compress(data[i : i + 1000]) for i in range(0, len(data), 1000)]
        synced = b"".join(pieces) + deflate.flush(zlib.Z_SYNC_FLUSH)  # what GzipFile.flush() asks for
        assert zlib.decompressobj(-zlib.MAX_WBITS).decompress(synced) == data  # all of it out, stream not ended
        stream = synced + deflate.flush()
    assert zlib.decompress(stream, -zlib.MAX_WBITS) == data
    single = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    # each block primed with the window before it: the ratio of one stream, plus a 5-byte sync marker per block
    assert len(stream) <= len(single.compress(data) + single.flush()) * 1.02 + 5 * (size // 4096) + 8


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_a_large_member_is_deflated_in_blocks_that_other_tools_read(tmp_path, fmt):
    """A member past one block goes through the thread pool; unzip and gzip check every CRC."""
    import shutil
    import subprocess

    from converters.containers import DEFLATE_BLOCK, OutMember, write_archive

    big = _noise(3 * DEFLATE_BLOCK + 12345, 7)
    out = tmp_path / f"a.{fmt}"
    members = lambda: [OutMember("big.bin", data=big, size=len(big)), OutMember("small.txt", data=b"x", size=1)]  # noqa: E731
    write_archive(out, fmt, members())
    again = tmp_path / f"b.{fmt}"
    write_archive(again, fmt, members())
    assert out.read_bytes() == again.read_bytes()  # thread timing never shows in the bytes
    if fmt == "zip":
        import zipfile

        with zipfile.ZipFile(out) as zf:
            assert zf.read("big.bin") == big  # the CRC is checked on read
    else:
        import tarfile

        with tarfile.open(out) as tf:
            assert tf.extractfile("big.bin").read() == big
    tool = ["unzip", "-tq", str(out)] if fmt == "zip" else ["gzip", "-t", str(out)]
    if shutil.which(tool[0]):
        subprocess.run(tool, check=True, capture_output=True)
