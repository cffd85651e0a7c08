"""What the export tests compare: file contents outside the git repositories, and git refs."""

from __future__ import annotations

from pathlib import Path

from reportgen.readers.git import read_head, read_refs
from tests.invariants import tree_digest


def git_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.git") if p.is_dir() and (p / "HEAD").is_file())


def contents(root: Path) -> dict[str, str]:
    """sha256 of every file and "" for every directory (no mtimes, no modes); bundled repos left out."""
    repos = [str(p.relative_to(root)) for p in git_dirs(root) if read_refs(p)]
    return {
        path: digest
        for path, (digest, _mtime, _mode) in tree_digest(root).items()
        if not any(path == r or path.startswith(r + "/") for r in repos)
    }


def commits(root: Path) -> dict[str, tuple[dict[str, str], str]]:
    return {str(p.relative_to(root)): (read_refs(p), read_head(p)) for p in git_dirs(root)}


def assert_same_store(original: Path, restored: Path) -> None:
    assert contents(restored) == contents(original)
    assert commits(restored) == commits(original)
    assert any(refs for refs, _head in commits(original).values()), "the store had no commits to compare"
