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


def replace_dir(staging: Path, output: Path) -> None:
    """Swap the finished ``staging`` folder in as ``output``."""
    interrupts.check()
    old = None
    if output.exists():
        old = output.with_name(f".{output.name}.old-{os.getpid()}")
        os.replace(output, old)
    os.replace(staging, output)
    fsync_dir(output.parent)
    if old is not None:
        shutil.rmtree(old, onerror=_force_remove)


def _force_remove(func, path, _exc) -> None:
    """Restored trees may hold read-only folders (git objects): make the parent writable, retry."""
    os.chmod(os.path.dirname(path), 0o700)
    func(path)
