"""Repository names with control characters, and members a migration leaves out (review s24, F02, F03).

F02: a file name holding a newline is legal on POSIX and in AiiDA.  The legacy
reader's patterns stopped at the newline, so such a file was an "unexpected
member": main -> 0.13 -> main lost it with exit 0 and no word.  It is now read
and migrated like any other name, in every container and both directions.

F03: an unexpected member (a README.txt beside data.json) or macOS junk is
never copied into a migrated archive; docs/archives.md promises a warning,
which only the same-version path gave.  Every path now says it in a note.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

import converters
from converters.containers import open_archive
from converters.main import convert
from tests.converters import builders as b
from tests.converters_main.helpers import rows
from tests.invariants import run_cli

NODE = b.node_dir(b.U["4"])
ODD = {"nl\nname.txt": b"newline", "tab\tname.txt": b"tab", "cr\rname.txt": b"cr", "sub\ndir/inner.txt": b"inner"}


def _odd_archive(tmp_path: Path, container: str = "zip", version: str = "0.13") -> Path:
    members = b.build_members(version)
    members.update({f"{NODE}/path/{name}": data for name, data in ODD.items()})
    return b.write_container(tmp_path / f"odd{b.SUFFIX[container]}", members, container)


def _node_files(path: Path) -> dict[str, bytes]:
    with open_archive(path) as archive:
        prefix = f"{NODE}/path/"
        return {m.name[len(prefix):]: archive.read_bytes(m.name) for m in archive.listing.members
                if m.name.startswith(prefix) and not m.is_dir}  # fmt: skip


# ---------------------------------------------------------------- F02: names with a newline
@pytest.mark.parametrize("container", ["zip", "tar.gz", "tar.zst", "folder"])
def test_a_newline_in_a_file_name_is_read_not_ignored(tmp_path, container):
    src = _odd_archive(tmp_path, container)
    with open_archive(src) as archive:
        assert archive.listing.warnings == ()
    assert _node_files(src) == ODD
    assert not [p for p in converters.validate(src) if p.severity == "error" or "unexpected" in p.message]
    assert converters.inspect(src).repository_files == len(b.repository("0.13")) + len(ODD)


@pytest.mark.parametrize("fmt", ["zip", "tar.gz", "tar.zst"])
def test_main_to_0_13_to_main_keeps_the_file(tmp_path, fmt):
    """The review's round trip: before, the way up dropped ``nl\\nname.txt`` with exit 0."""
    main = tmp_path / "main.aiida"
    convert(_odd_archive(tmp_path), main)
    tree = json.loads(rows(main, "SELECT repository_metadata FROM db_dbnode WHERE id = 4")[0][0])
    assert {"nl\nname.txt", "tab\tname.txt", "cr\rname.txt", "sub\ndir"} <= set(tree["o"])
    down = tmp_path / f"down.{fmt}"
    run = run_cli("archive", "migrate", main, down, "--to", "0.13", "--format", fmt)
    assert run.code == 0, run.stderr
    assert _node_files(down) == ODD
    up = tmp_path / "up.aiida"
    run = run_cli("archive", "migrate", down, up, "--to", "main_0001")
    assert run.code == 0 and run.stderr == "", run.stderr
    assert rows(up, "SELECT repository_metadata FROM db_dbnode WHERE id = 4") == rows(main, "SELECT repository_metadata FROM db_dbnode WHERE id = 4")


def test_legacy_steps_carry_the_file(tmp_path):
    src = _odd_archive(tmp_path, "tar.gz", version="0.4")
    converters.migrate(src, tmp_path / "out.zip", to_version="0.13")
    assert _node_files(tmp_path / "out.zip") == ODD


def test_a_windows_device_name_with_a_newline_is_still_refused(tmp_path):
    """``con.a\\nb`` is a device name too (DOTALL in the device pattern as well)."""
    members = b.build_members("0.13")
    members[f"{NODE}/path/con.a\nb"] = b"x"
    src = b.write_container(tmp_path / "dev.zip", members, "zip")
    run = run_cli("archive", "inspect", src)
    assert run.code == 65 and "unsafe member name" in run.stderr, run.stderr


# ---------------------------------------------------------------- F03: what a migration leaves out is named
@pytest.fixture()
def with_readme(tmp_path: Path) -> Path:
    members = b.build_members("0.13")
    members["README.txt"] = b"notes of the exporting user\n"
    members["__MACOSX/._data.json"] = b"junk"
    return b.write_container(tmp_path / "readme.zip", members, "zip")


@pytest.mark.parametrize(("to", "out"), [("main_0001", "m.aiida"), ("0.12", "l12.zip"), ("0.13", "l13.tar.gz"), ("0.4", "l4.tar.gz")])
def test_every_migration_names_the_members_it_leaves_out(tmp_path, with_readme, to, out):
    run = run_cli("archive", "migrate", with_readme, tmp_path / out, "--to", to, "--allow-loss")
    assert run.code == 0, run.stderr
    assert "note: 'README.txt': unexpected member, ignored" in run.stdout, run.stdout
    assert "note: '__MACOSX/._data.json': macOS junk, ignored" in run.stdout, run.stdout
    with open_archive(tmp_path / out) as archive:
        assert not archive.has("README.txt")


def test_a_main_archive_with_macos_junk_says_so_on_the_way_down(tmp_path):
    main = tmp_path / "main.aiida"
    convert(b.build_archive(tmp_path, "0.13"), main)
    with zipfile.ZipFile(main, "a") as zf:
        zf.writestr("__MACOSX/._db.sqlite3", b"junk")
    result = convert(main, tmp_path / "down.zip", to_version="0.13")
    assert "'__MACOSX/._db.sqlite3': macOS junk, ignored" in result.notes

