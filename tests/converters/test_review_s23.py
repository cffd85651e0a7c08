"""The data steward's review, session 23 (findings 1, 9, 10, 11, 12): damage in a legacy zip is
listed member by member, a cut tar.gz/tar.zst names the member the copy got to, and an empty
file, a cut zip and a tar.zst output are each said in the user's terms."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from converters.validate import validate
from tests.converters import builders as b
from tests.invariants import assert_one_error_line, run_cli, tree_digest

DAMAGED = [f"{b.node_dir(b.U['3'])}/path/part{i}.dat" for i in range(3)]


def _stored_zip(path: Path, members: dict[str, bytes]) -> Path:
    """Members stored uncompressed, so a byte of a file's data can be found and changed."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


# ---------------------------------------------------------------- finding 1
def test_every_damaged_member_of_a_legacy_zip_is_reported(tmp_path: Path):
    members = b.build_members("0.13")
    members.update({name: bytes([65 + i]) * 300 for i, name in enumerate(DAMAGED)})
    src = _stored_zip(tmp_path / "three-damaged.zip", members)
    raw = bytearray(src.read_bytes())
    for i in range(3):  # one byte inside each file's data: its CRC no longer matches
        at = raw.index(bytes([65 + i]) * 300)
        raw[at + 150] ^= 0x10
    src.write_bytes(bytes(raw))
    before = tree_digest(tmp_path)
    unreadable = [p for p in validate(src) if p.code == "unreadable-member"]
    assert sorted(p.path for p in unreadable) == sorted(DAMAGED)
    assert all(p.severity == "error" and p.message == "corrupt member (CRC)" for p in unreadable)
    run = run_cli("archive", "validate", src)
    assert run.code == 65 and run.stderr == "", run.stderr
    assert [line.split(": ")[1] for line in run.stdout.splitlines() if line.startswith("error: ")] == sorted(DAMAGED)
    assert run.stdout.splitlines()[-1].startswith(f"{src}: INVALID (3 errors, ")
    assert tree_digest(tmp_path) == before


# ---------------------------------------------------------------- finding 9
BIG = f"{b.node_dir(b.U['3'])}/path/big.bin"


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A 0.13 archive whose middle is one incompressible 2 MiB file, as tar.gz and tar.zst."""
    folder = tmp_path_factory.mktemp("cut")
    members = b.build_members("0.13")
    members[BIG] = os.urandom(2 << 20)
    return {c: b.write_container(folder / f"a.{c}", members, c).read_bytes() for c in ("tar.gz", "tar.zst")}


@pytest.mark.parametrize(("container", "stream"), [("tar.gz", "gzip stream"), ("tar.zst", "zstd frame")])
def test_a_byte_truncated_tar_names_the_member_the_copy_ends_in(exports, tmp_path: Path, container: str, stream: str):
    whole = exports[container]
    src = tmp_path / f"cut.{container}"
    src.write_bytes(whole[: len(whole) // 2])  # inside big.bin's data
    before = tree_digest(tmp_path)
    for extra in ((), ("--stream",)):
        run = run_cli("archive", "validate", src, *extra)
        line = assert_one_error_line(run, 65, f"truncated archive ({stream} ends early, in this member's data)")
        assert line.startswith(f"reportgen: error: {str(src)!r}:{BIG!r}: "), line
        assert run.stdout == ""
    migrate = run_cli("archive", "migrate", src, tmp_path / "out.zip")
    assert_one_error_line(migrate, 65, f"{stream} ends early", BIG)
    assert tree_digest(tmp_path) == before


def test_a_tar_zst_cut_between_members_names_the_last_whole_one(tmp_path: Path):
    import zstandard

    members = b.build_members("0.13")
    members[BIG] = os.urandom(300_000)
    tar = b.write_container(tmp_path / "a.tar", members, "tar").read_bytes()
    end = tar.index(members[BIG]) + 300_000 + (-300_000 % 512)  # the next header starts here
    src = tmp_path / "cut.tar.zst"  # a frame per piece: the cut falls right after big.bin
    rest = zstandard.ZstdCompressor().compress(tar[end:])  # the end-of-archive blocks: a tiny frame
    src.write_bytes(zstandard.ZstdCompressor().compress(tar[:end]) + rest[: len(rest) // 2])
    run = run_cli("archive", "validate", src)
    assert_one_error_line(run, 65, "truncated archive (zstd frame", BIG)
    assert "after this member)" in run.stderr


# ---------------------------------------------------------------- findings 10 and 11
def test_an_empty_file_is_called_empty(tmp_path: Path):
    src = tmp_path / "empty.aiida"
    src.write_bytes(b"")
    for command in (("validate",), ("inspect",), ("migrate",)):
        args = (tmp_path / "out.zip",) if command == ("migrate",) else ()
        assert_one_error_line(run_cli("archive", *command, src, *args), 65, "empty file (0 bytes)", "empty.aiida")
    assert not (tmp_path / "out.zip").exists()


def test_a_cut_zip_is_a_truncated_archive_not_zipfile_jargon(tmp_path: Path):
    whole = b.build_archive(tmp_path, "0.13", "zip").read_bytes()
    src = tmp_path / "cut.zip"
    src.write_bytes(whole[: len(whole) // 2])
    line = assert_one_error_line(run_cli("archive", "validate", src), 65, "truncated archive (no zip end record)", "cut.zip")
    assert "File is not a zip file" not in line


# ---------------------------------------------------------------- finding 12
def test_writing_a_tar_zst_says_no_aiida_reads_it(tmp_path: Path):
    src = b.build_archive(tmp_path, "0.13", "zip")
    run = run_cli("archive", "migrate", src, tmp_path / "for-colleague.tar.zst")
    assert run.code == 0, run.stderr
    assert "note: no AiiDA (1.x or 2.x) reads tar.zst" in run.stdout
    plain = run_cli("archive", "migrate", src, tmp_path / "for-colleague.tar.gz")
    assert plain.code == 0 and "note:" not in plain.stdout
    for command in (("archive", "migrate"), ("export",)):
        text = " ".join(run_cli(*command, "--help").stdout.split())
        assert "No AiiDA (1.x or 2.x) reads tar.zst" in text, command
