"""The repositories' fingerprint depends on the repositories only.

A folder's own size and mtime depend on the file system (4096 on ext4, a few
hundred bytes on tmpfs; an ext4 folder that once held many entries stays
large), so the same store copied elsewhere used to get other fingerprints,
and so another site manifest and bundle.  Every change git makes to a
repository (a commit, a new object, a repack) must still change it: the
incremental site build relies on that.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from reportgen.readers.datastore import repo_fingerprint
from tests.readers.builders import git, make_repo

REPO = "git/proj/workflow.git"


def make_store(root: Path) -> Path:
    make_repo(root / REPO, [("first", {"workflow.py": "print(1)\n"}), ("second", {"workflow.py": "print(2)\n"})])
    return root / REPO


def grow_folder(folder: Path) -> None:
    """Make the folder itself larger (entries added and removed), then give it back its mtime."""
    st = folder.stat()
    for i in range(300):
        (folder / f"{'x' * 100}{i}").touch()
    for i in range(300):
        (folder / f"{'x' * 100}{i}").unlink()
    os.utime(folder, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_fingerprint_ignores_the_size_of_folders(tmp_path: Path):
    repo = make_store(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b", symlinks=True)  # copy2: same file mtimes
    copied = tmp_path / "b" / REPO
    for sub in ("refs", "refs/heads", "objects", "objects/pack"):
        os.utime(copied / sub, ns=((repo / sub).stat().st_atime_ns, (repo / sub).stat().st_mtime_ns))
    before = {sub: (copied / sub).stat().st_size for sub in ("refs", "objects")}
    grow_folder(copied / "refs")
    grow_folder(copied / "objects")
    if before == {sub: (copied / sub).stat().st_size for sub in ("refs", "objects")}:
        pytest.skip("this file system does not grow folders")
    assert repo_fingerprint(tmp_path / "b", [REPO]) == repo_fingerprint(tmp_path / "a", [REPO])


def test_fingerprint_changes_with_every_change_git_makes(tmp_path: Path):
    root = tmp_path / "store"
    repo = make_store(root)
    seen = [repo_fingerprint(root, [REPO])]
    tree = git("--git-dir", str(repo), "rev-parse", "main^{tree}")
    commit = git("--git-dir", str(repo), "commit-tree", tree, "-p", "main", "-m", "third")  # a loose object only
    seen.append(repo_fingerprint(root, [REPO]))
    git("--git-dir", str(repo), "update-ref", "refs/heads/main", commit)  # the ref moves
    seen.append(repo_fingerprint(root, [REPO]))
    git("--git-dir", str(repo), "repack", "-a", "-d", "-q")  # the loose object goes into a new pack
    seen.append(repo_fingerprint(root, [REPO]))
    assert len(set(seen)) == len(seen), seen
    assert repo_fingerprint(root, [REPO]) == seen[-1]  # and nothing else moves it
