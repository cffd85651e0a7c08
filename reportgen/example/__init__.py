"""``reportgen example DIR``: a deterministic example data_store.

The faithful part (``store.py``) writes only what Entropy Hub and Flame
write; ``--edge-cases`` (``edge.py``) adds every row of the generator table of
the layout reference, and ``edge_case_manifest()`` lists them for tests.  The
tree is built in a staging directory next to DIR and renamed into place when
complete; every file and directory gets a fixed modification time, so the same
seed gives a byte-identical tree with identical mtimes.
"""

from __future__ import annotations

import os
from pathlib import Path

from reportgen.errors import OutputError, UsageError, WriteError
from reportgen.example.edge import EdgeCase, edge_case_manifest, write_edge_cases
from reportgen.example.store import EPOCH, PROJECTS, Mtimes, write_faithful_store
from reportgen.outdir import check_output_path, is_disk_full, remove_stale_staging, replace_dir, staging_tree
from reportgen.readers.git import require_git

__all__ = ["EdgeCase", "edge_case_manifest", "write_example"]


def _check_target(target: Path, force: bool) -> None:
    check_output_path(target)
    if target.is_symlink():  # replaced, it would lose the link; written through, another folder changes
        raise OutputError(target, "output is a symlink; refusing to write through it")
    if target.exists() and not target.is_dir():
        raise OutputError(target, "exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise OutputError(target, "exists and is not empty; use --force to replace it")


def write_mtimes(root: Path, mtimes: Mtimes) -> None:
    """Stamp every path, deepest first so a directory's own time sticks."""
    paths = sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True) + [root]
    default = EPOCH.timestamp()
    for path in paths:
        when = mtimes.get(path, default)
        os.utime(path, (when, when), follow_symlinks=False)


def write_example(
    directory: str | Path,
    *,
    seed: int = 0,
    jobs_per_project: int = 12,
    edge_cases: bool = False,
    huge: bool = False,
    force: bool = False,
) -> str:
    """Write the example data_store into ``directory``; returns a summary line.

    Raises ``OutputError`` (exit 73) when ``directory`` exists and is not
    empty, unless ``force``; ``UsageError`` for impossible options.
    """
    target = Path(directory)
    if jobs_per_project < 1:
        raise UsageError("--jobs", f"must be at least 1 (got {jobs_per_project})")
    if huge and not edge_cases:
        raise UsageError("--huge", "needs --edge-cases")
    _check_target(target, force)
    require_git()  # the example's repositories are made with git: say so before any work (69), as the readers do
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(target)  # what a run killed with SIGKILL left behind
    try:
        with staging_tree(target) as staging:
            mtimes = Mtimes()
            jobs = write_faithful_store(staging, seed, jobs_per_project, mtimes)
            cases = write_edge_cases(staging, seed, huge, mtimes) if edge_cases else 0
            write_mtimes(staging, mtimes)
            replace_dir(staging, target, may_replace=force)  # the one swap of finished trees (restore and bundles too)
    except BaseException as exc:
        if is_disk_full(exc):  # libhdf5 says so in a multi-line message naming the staging file
            raise WriteError(target, "no space left on device") from exc
        raise
    extra = f" and {cases} edge cases" if edge_cases else ""
    return f"wrote {jobs} jobs in {len(PROJECTS)} projects{extra} to {target}"
