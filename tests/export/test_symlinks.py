"""Symlinks in a data_store: export records every one it leaves out (in the archive and in the
summary), and restore remakes them, each pointing where it pointed, never followed; an archive
whose list puts a path inside a symlink is refused, so nothing is ever written through one."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from tests.export.archives import read_data_json
from tests.export.helpers import assert_same_store
from tests.export.test_audit_fixes import write_store
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli


# ---------------------------------------------------------------- export records the symlinks it leaves out
def add_symlinks(store: Path) -> None:
    os.symlink("proj", store / "alias_project")  # a folder link at the top
    os.symlink("nonexistent", store / "dangling")
    os.symlink(b"caf\xe9", os.fsencode(store / "latin1"))  # a target that is not UTF-8
    os.symlink("/etc/hostname", store / "proj" / "j1" / "link.log")  # in a job's log folder


def symlinks_recorded(archive: Path) -> list[dict]:
    data = read_data_json(archive)
    [other] = [a for a in data["node_attributes"].values() if a.get("entropy_role") == "other-files"]
    return other["entropy_symlinks"]


def test_every_symlink_left_out_is_recorded_and_counted(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store)
    add_symlinks(store)
    first, second = tmp_path / "a.aiida", tmp_path / "b.aiida"
    run = run_cli("export", store, "-o", first)
    assert run.code == 0, run.stderr
    assert "; 4 symlinks recorded (not followed)" in run.stdout
    assert symlinks_recorded(first) == [
        {"path": "alias_project", "target": "proj"},
        {"path": "dangling", "target": "nonexistent"},
        {"path": "latin1", "target": "caf\ufffd", "target_hex": "636166e9"},
        {"path": "proj/j1/link.log", "target": "/etc/hostname"},
    ]
    assert run_cli("archive", "validate", "--strict", first).code == 0
    assert run_cli("export", store, "-o", second).code == 0
    assert first.read_bytes() == second.read_bytes()  # still deterministic


def test_store_without_symlinks_says_nothing_of_them(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store)
    run = run_cli("export", store, "-o", tmp_path / "a.aiida")
    assert run.code == 0, run.stderr
    assert "symlinks recorded" not in run.stdout
    assert symlinks_recorded(tmp_path / "a.aiida") == []


# ---------------------------------------------------------------- restore remakes them
def links_under(root: Path) -> dict[bytes, bytes]:
    """Every symlink under ``root`` (path -> target, as bytes), found without following any."""
    found = {}
    for top, dirs, files in os.walk(os.fsencode(root)):
        for name in dirs + files:
            path = os.path.join(top, name)
            if os.path.islink(path):
                found[os.path.relpath(path, os.fsencode(root))] = os.readlink(path)
    return found


def test_restore_remakes_every_recorded_symlink(tmp_path: Path) -> None:
    store, archive, restored = tmp_path / "data_store", tmp_path / "a.aiida", tmp_path / "restored"
    write_store(store)
    add_symlinks(store)
    assert run_cli("export", store, "-o", archive).code == 0
    run = run_cli("restore", archive, "-o", restored)
    assert run.code == 0, run.stderr
    assert ", 4 symlinks" in run.stdout
    assert links_under(restored) == links_under(store) == {
        b"alias_project": b"proj", b"dangling": b"nonexistent", b"latin1": b"caf\xe9",
        b"proj/j1/link.log": b"/etc/hostname",
    }
    assert_same_store(store, restored)


def test_a_store_without_symlinks_restores_none(tmp_path: Path) -> None:
    store, archive, restored = tmp_path / "data_store", tmp_path / "a.aiida", tmp_path / "restored"
    write_store(store)
    assert run_cli("export", store, "-o", archive).code == 0
    run = run_cli("restore", archive, "-o", restored)
    assert run.code == 0 and " symlinks" not in run.stdout, run.stdout + run.stderr
    assert links_under(restored) == {}


def rewrite_symlinks(archive: Path, out: Path, symlinks: list[dict]) -> None:
    """``archive`` with its "other files" node's symlink list replaced (a crafted archive)."""
    with zipfile.ZipFile(archive) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "data.json":
                doc = json.loads(data)
                for attrs in doc["node_attributes"].values():
                    if attrs.get("entropy_role") == "other-files":
                        attrs["entropy_symlinks"] = symlinks
                data = json.dumps(doc).encode()
            zout.writestr(info, data)


def test_a_file_listed_inside_a_symlink_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """``proj`` as a link to /tmp, and the job files listed under ``proj/``: writing them would
    go through the link, out of the data_store."""
    store, archive, crafted = tmp_path / "data_store", tmp_path / "a.aiida", tmp_path / "crafted.aiida"
    write_store(store)
    assert run_cli("export", store, "-o", archive).code == 0
    rewrite_symlinks(archive, crafted, [{"path": "proj", "target": str(tmp_path / "elsewhere")}])
    (tmp_path / "elsewhere").mkdir()
    run = run_cli("restore", crafted, "-o", tmp_path / "restored")
    assert_one_error_line(run, 65, "which the archive lists as a symlink", "crafted.aiida")
    assert not (tmp_path / "restored").exists() and list((tmp_path / "elsewhere").iterdir()) == []
    assert_no_staging_left(tmp_path)


def test_a_symlink_without_a_target_is_one_line(tmp_path: Path) -> None:
    store, archive, crafted = tmp_path / "data_store", tmp_path / "a.aiida", tmp_path / "crafted.aiida"
    write_store(store)
    assert run_cli("export", store, "-o", archive).code == 0
    for bad in ({"path": "x"}, {"path": "x", "target": ""}, {"path": "x", "target_hex": "zz"}, {"path": "../x", "target": "y"}):
        rewrite_symlinks(archive, crafted, [bad])
        run = run_cli("restore", crafted, "-o", tmp_path / "restored")
        assert run.code == 65 and "Traceback" not in run.stderr, (bad, run.stderr)
        assert not (tmp_path / "restored").exists()
