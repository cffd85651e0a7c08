"""Walk between versions where a main_XXXX revision is involved.

The plan is a list of versions; each adjacent pair is one step of the
registry (``converters.main.steps``).  Work items change form at the
legacy/main border: a legacy ``Archive`` becomes a ``Staged`` database at
``0.13 -> main_0000``; a ``Staged`` database becomes a legacy ``Draft`` at
``main_0000 -> 0.13``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from converters.main.legacy_to_main import Staged
from converters.main.schema import MAIN_REVISIONS
from converters.main.writer import copy_canonical, write_main


def write_staged(staged: Staged, dst: Path, workdir: Path) -> None:
    """Canonical database at the staged revision, then the zip (atomic)."""
    revision = staged.metadata["export_version"]
    assert revision in MAIN_REVISIONS
    final = workdir / "db.sqlite3"
    final.unlink(missing_ok=True)
    copy_canonical(staged.db, final, revision, staged.selects)
    staged.db.unlink()  # a working copy: free its disk before the zip is written
    staged.db = final
    write_main(dst, staged.metadata, final, staged.emit_blobs())


def workdir_for(dst: Path):
    """A private work folder next to the output (same file system, removed afterwards)."""
    return tempfile.TemporaryDirectory(prefix=f".{dst.name}.work-", dir=dst.parent)
