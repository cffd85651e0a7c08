"""Putting a finished output folder in place: the one atomic swap of export restore and bundles.

The finished tree is built in a staging folder next to the output, then
swapped with it in one step (Linux ``renameat2(RENAME_EXCHANGE)``): a reader,
or a crash, sees the old tree or the new one, never no tree.  Where the file
system cannot swap, a replaced output is moved aside first and removed only
after the new one is in place, so a failure at any point leaves one complete
tree (a crash between the two renames leaves it as ``.NAME.old-PID``).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from converters import interrupts
from converters.containers import fsync_dir
from converters.errors import OutputError
from converters.workdirs import FULL_DISK, check_folder_writable, check_writable_dir, claimed, exchange_paths, remove_path, rename_no_replace, sibling  # FULL_DISK: errno -> reason, the write failures that mean "no room"
# The one sweep of what a killed writer left beside an output (its staging tree, the output it had
# moved aside, a converter's work files), under the name the folder-output writers call it by.
from converters.workdirs import remove_stale as remove_stale_staging  # noqa: F401

_LIBHDF5_FULL_DISK = re.compile(rf"errno = ({'|'.join(str(code) for code in FULL_DISK)})\b")


def is_disk_full(exc: BaseException) -> bool:
    """A write failed for lack of room: an OSError with a full-disk errno, or libhdf5's
    write-failure text (h5py raises it as OSError or RuntimeError without an errno)."""
    if isinstance(exc, OSError) and exc.errno in FULL_DISK:
        return True
    return isinstance(exc, (OSError, RuntimeError)) and bool(_LIBHDF5_FULL_DISK.search(str(exc)))


def check_output_path(output: Path) -> None:
    """Refuse (73) an output that is ``.``, ``..``, ends in one of them, or holds the current folder,
    or whose folder this process cannot create files in (``check_folder_writable``).

    Replacing such a folder would rename the tree this process and the user's
    shell are sitting in (their working folder would then be the moved-aside,
    deleted copy), and it has no name to put staging folders and the lock
    next to.  Name a new or existing folder instead; call this before anything
    is created next to the output.
    """
    raw = os.fspath(output).rstrip("/")
    if not raw or raw.rsplit("/", 1)[-1] in (".", ".."):
        raise OutputError(output, "output must name a folder, not '.', '..' or '/'")
    here, target = Path(os.getcwd()), Path(os.path.realpath(output))
    if target == here or target in here.parents:
        raise OutputError(output, "output is the current folder or contains it; name a new folder")
    if os.path.ismount(target):  # a volume, an NFS export: a rename cannot move it, so the swap would fail at the end
        raise OutputError(output, f"output is a mount point, and the finished tree is swapped in by renaming; "
                                  f"name a folder inside it (-o {os.path.join(raw, 'site')})")
    check_folder_writable(output)  # where the staging tree, the moved-aside tree and the lock go


def check_inner_writable(folder: Path, subtree: bool = False) -> None:
    """Refuse (73), naming it, a folder inside an existing output that a run must change but
    cannot (``check_writable_dir``: ``chattr +i``/``+a``, another user's, a read-only mount); with
    ``subtree``, every folder below it too, for a tree that is moved aside and deleted.

    For the up-front check of an update in place (``reportgen build`` over its last site): the
    output folder itself passes ``check_output_path``, but one project folder made immutable
    failed only while publishing, after all the work, with a raw ``Operation not permitted``.
    A folder that is not there passes (it is made inside one that was checked); symlinks are
    not followed (a link is renamed, never written through).
    """
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return
    except FileNotFoundError:
        return
    except OSError as exc:  # a folder on the way that cannot be searched
        raise OutputError(folder, f"cannot create files in this folder ({exc.strerror})") from None
    check_writable_dir(folder)
    if subtree:
        try:
            with os.scandir(folder) as entries:
                inner = [Path(entry.path) for entry in entries if entry.is_dir(follow_symlinks=False)]
        except OSError as exc:
            raise OutputError(folder, f"cannot list this folder ({exc.strerror})") from None
        for path in sorted(inner):
            check_inner_writable(path, subtree=True)


def replace_dir(staging: Path, output: Path, may_replace: bool = True) -> None:
    """Swap the finished ``staging`` folder in as ``output``.

    An existing output is swapped with ``staging`` in one step (``exchange_paths``), so
    ``output`` never goes missing, and the old tree, now under the staging name, is removed.
    Where the file system cannot swap, the output is renamed to ``.NAME.old-PID``
    (``sibling``) first, put back if ``staging`` cannot take its place, and removed only
    once the new tree is in place.  With ``may_replace=False`` (no ``--force``: the output was
    absent or an empty folder when the run checked it) only an empty folder is
    replaced; an output another run wrote meanwhile is refused (73), never replaced.
    """
    interrupts.check()
    if not may_replace:
        publish_new_dir(staging, output)
        return
    old = sibling(output, "old")
    if os.path.lexists(old):
        remove_path(old)  # our own pid's: an earlier run in this process (the sweep skips our pid)
    replacing = output.exists() or output.is_symlink()
    with claimed(output):  # taken before the rename: the moved-aside tree is never unclaimed
        if replacing and exchange_paths(staging, output):
            aside = staging  # the old tree now sits under the staging name
        else:
            _replace_in_two_renames(staging, output, old, replacing)
            aside = old
        _crash_point("publish")
        fsync_dir(output.parent)
        if replacing:
            remove_path(aside)


def _replace_in_two_renames(staging: Path, output: Path, old: Path, replacing: bool) -> None:
    """The fallback where the file system cannot swap: ``output`` aside to ``old``, then
    ``staging`` in; between the two there is no ``output`` (a crash there leaves ``old``)."""
    if replacing:
        os.replace(output, old)
    try:
        os.replace(staging, output)
    except OSError:
        if replacing:
            os.replace(old, output)  # the previous output stays whole
        raise


def _crash_point(where: str) -> None:
    """``REPORTGEN_CRASH_AT=publish``: SIGKILL this process right after the publishing rename,
    before the replaced tree is removed, so that tests can check what a crash there leaves:
    a whole output, and a leftover the next run sweeps."""
    if os.environ.get("REPORTGEN_CRASH_AT") == where:
        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def staging_tree(output: Path) -> Iterator[Path]:
    """A new, empty staging folder ``.NAME.staging-PID`` beside ``output`` (``sibling``), claimed
    while inside (``claimed``: no sweep anywhere removes it) and removed when the body fails.
    The body builds the tree and publishes it with ``replace_dir``."""
    staging = sibling(output, "staging")
    shutil.rmtree(staging, ignore_errors=True)  # our own pid's: an earlier run in this process
    try:  # entered before the folder exists: a signal right after mkdir still removes it
        staging.mkdir()
        with claimed(staging):
            yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def publish_new_dir(staging: Path, output: Path) -> None:
    """Rename ``staging`` to ``output`` where ``output`` is absent or an empty folder, atomically."""
    if output.is_dir() and not output.is_symlink():
        try:
            output.rmdir()
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            raise OutputError(output, "output appeared while writing (another run?); nothing was replaced") from exc
    rename_no_replace(staging, output)
    fsync_dir(output.parent)
