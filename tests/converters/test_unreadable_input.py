"""An input that cannot be read while an archive is written is "input missing" (66), naming that
input; only a failure to write the output is an I/O error (74).

Unreadable files need a process without CAP_DAC_OVERRIDE (``tests.unprivileged``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from converters.containers import OutMember, write_archive
from converters.errors import InputMissingError
from tests.converters import builders as b
from tests.invariants import assert_no_staging_left, assert_one_error_line, tree_digest
from tests.unprivileged import run_cli_unprivileged


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        yield fh.read()


@pytest.mark.parametrize("fmt", ["zip", "tar.gz", "tar.zst"])
def test_a_member_whose_input_is_gone_is_input_missing_naming_it(tmp_path: Path, fmt: str):
    gone = tmp_path / "gone.bin"
    members = [OutMember("a.txt", data=b"a"), OutMember("b.bin", size=3, chunks=_file_chunks(gone))]
    with pytest.raises(InputMissingError) as caught:
        write_archive(tmp_path / "out", fmt, members)
    assert caught.value.file == str(gone) and "No such file" in caught.value.reason
    assert not (tmp_path / "out").exists()
    assert_no_staging_left(tmp_path)


def test_a_members_generator_that_cannot_read_is_input_missing(tmp_path: Path):
    def members() -> Iterator[OutMember]:
        yield OutMember("a.txt", data=b"a")
        yield OutMember("b.txt", data=(tmp_path / "gone.txt").read_bytes())

    with pytest.raises(InputMissingError) as caught:
        write_archive(tmp_path / "out.zip", "zip", members())
    assert caught.value.file == str(tmp_path / "gone.txt")
    assert_no_staging_left(tmp_path)


def test_an_unreadable_file_of_a_folder_archive_exits_66(tmp_path: Path):
    src = b.write_container(tmp_path / "in", b.build_members("0.13"), "folder")
    locked = next(p for p in sorted(src.rglob("*")) if p.is_file() and "nodes" in p.parts)
    os.chmod(locked, 0)
    before = tree_digest(src)
    try:
        run = run_cli_unprivileged("archive", "migrate", src, tmp_path / "out.aiida")
    finally:
        os.chmod(locked, 0o644)
    assert_one_error_line(run, 66, "permission denied", str(locked))
    assert not (tmp_path / "out.aiida").exists()
    assert_no_staging_left(tmp_path)
    os.chmod(locked, 0)
    assert tree_digest(src) == before
    os.chmod(locked, 0o644)
