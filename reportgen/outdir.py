"""Putting a finished output folder in place: the one atomic swap of export restore and bundles.

The finished tree is built in a staging folder next to the output, then
renamed over it; a replaced output is moved aside first and removed only after
the new one is in place, so a failure at any point leaves one complete tree.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from converters import interrupts
from converters.containers import fsync_dir


def replace_dir(staging: Path, output: Path, aside: str | None = None) -> None:
    """Swap the finished ``staging`` folder in as ``output``.

    A replaced output is renamed to ``aside`` (default ``.NAME.old-PID``) first,
    put back if ``staging`` cannot take its place, and removed only once the new
    tree is in place.
    """
    interrupts.check()
    old = output.with_name(aside or f".{output.name}.old-{os.getpid()}")
    replacing = output.exists() or output.is_symlink()
    if replacing:
        os.replace(output, old)
    try:
        os.replace(staging, output)
    except OSError:
        if replacing:
            os.replace(old, output)  # the previous output stays whole
        raise
    fsync_dir(output.parent)
    if replacing:
        _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, onerror=_force_remove)
    else:
        path.unlink()


def _force_remove(func, path, _exc) -> None:
    """Restored trees may hold read-only folders (git objects): make the parent writable, retry."""
    os.chmod(os.path.dirname(path), 0o700)
    func(path)
