"""A temporary folder that is small or full is not a property of the repository: a small TMPDIR
does not change the export, and a full one (ENOSPC) is an I/O error (74), never "this repository
cannot be bundled" (which silently carried the repositories as plain files)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.export.test_audit_fixes import write_store
from tests.invariants import run_cli


@pytest.fixture
def tiny_tmpfs(tmp_path: Path, request: pytest.FixtureRequest):
    """A small tmpfs (64 KiB, or the size given by indirect parametrization; root only: skipped
    elsewhere), unmounted afterwards."""
    size = getattr(request, "param", "64k")
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                                           capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount a small tmpfs (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def big_store(store: Path, size: int = 256 * 1024) -> None:
    """A store whose parameters repository holds ``size`` bytes that do not compress (more than the tmpfs)."""
    write_store(store)
    from tests.export.test_audit_fixes import git

    params = store / "git" / "proj" / "params.git"
    blob = git(params, "hash-object", "-w", "--stdin", stdin=os.urandom(size))
    tree = git(params, "mktree", stdin=f"100644 blob {blob}\tnoise.bin\n".encode())
    git(params, "update-ref", "refs/heads/noise", git(params, "commit-tree", tree, "-m", "noise"))


def test_small_tmpdir_does_not_change_the_export(tmp_path: Path, tiny_tmpfs: Path):
    store = tmp_path / "data_store"
    big_store(store)
    assert run_cli("export", store, "-o", tmp_path / "plain.aiida").code == 0
    run = run_cli("export", store, "-o", tmp_path / "small.aiida", env={"TMPDIR": str(tiny_tmpfs)})
    assert run.code == 0, run.stderr
    assert (tmp_path / "small.aiida").read_bytes() == (tmp_path / "plain.aiida").read_bytes()
    assert not list(tiny_tmpfs.iterdir())


@pytest.mark.parametrize("tiny_tmpfs", ["1m"], indirect=True)  # room for ``git init``, not for the pack
def test_full_disk_while_fetching_a_bundle_is_a_write_error(tmp_path: Path, tiny_tmpfs: Path):
    from reportgen.errors import WriteError
    from reportgen.readers.git import read_bundle, write_repo_from_bundle

    store = tmp_path / "data_store"
    big_store(store, 2 * 1024 * 1024)
    bundle = tmp_path / "params.bundle"
    bundle.write_bytes(read_bundle(store / "git" / "proj" / "params.git") or b"")
    with pytest.raises(WriteError, match="No space left"):
        write_repo_from_bundle(tiny_tmpfs / "params.git", bundle, "")
