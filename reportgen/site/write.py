"""Everything that touches the output: lock, staging folder, files, the atomic swap.

The site is built in ``.SITE.staging-<pid>`` next to ``SITE`` and swapped in
by two renames (``SITE`` -> ``.SITE.old-<pid>``, staging -> ``SITE``), so a
reader sees the old complete site or the new one, never a mix.  Any failure
before the swap leaves the previous site untouched and removes the staging
folder.  ``SITE.lock`` (flock) keeps two builds off one output; after the
holder's pid it keeps the stat records of the files the last build wrote
(``Lock.state``), which must not be inside the site: see ``manifest.py``.

An incremental build writes only what changed into staging and then moves
each rebuilt job (page and folder) into the live site by rename, the catalogs
and home page after them and the manifest last (``build.apply_changes``).  A
file written again with the live file's bytes is published as the live file
(``keep_unchanged``), so it keeps its inode and mtime.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from converters.containers import fsync_dir, replace_atomically  # noqa: F401  (fsync_dir: also write.fsync_dir for build.py)
from converters.workdirs import sibling, temp_stem
from reportgen.errors import LockedError, OutputError, WriteError
from reportgen.outdir import FULL_DISK, remove_stale_staging, replace_dir  # noqa: F401  (also write.remove_stale_staging for build.py)


def raise_write_error(exc: OSError, path: Path | str) -> None:
    """Turn a disk-full OSError into a WriteError naming the path (exit 74); re-raise others."""
    if exc.errno in FULL_DISK:
        raise WriteError(exc.filename or path, "no space left on device") from exc
    raise exc


def write_file(path: Path, data: bytes | str) -> int:
    """Write a new file of the staging folder; return the byte count.

    Staging is private, fresh and discarded on any failure, so a file is written
    in place (no temporary name: a rename per file is a measurable share of a build).
    Its sha256 is kept (``take_digests``): the manifest then needs no read of it.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        _ensure_dir(path.parent)
        with open(path, "wb") as handle:
            handle.write(raw)
    except OSError as exc:
        raise_write_error(exc, path)
    _digests[str(path)] = hashlib.sha256(raw).digest()
    return len(raw)


# The sha256 of each file ``write_file`` wrote in this process, by path.  Why: the manifest hashes
# every file a build writes; read back in the parent alone that was the longest serial part of a
# build (0.5 s of 2,000 jobs).  A worker hashes the bytes it still holds, on its own core, and
# sends the digests with the job's result (``take_digests``); the parent adds them to its own.
_digests: dict[str, bytes] = {}


def take_digests() -> dict[str, bytes]:
    """The digests recorded since the last call (a worker's, for one job), forgotten here."""
    global _digests
    taken, _digests = _digests, {}
    return taken


def add_digests(digests: dict[str, bytes]) -> None:
    """Digests of files a worker wrote, for ``known_digest`` in this process."""
    _digests.update(digests)


def known_digest(path: Path) -> bytes | None:
    """The sha256 of ``path`` as this build wrote it, or None (not written by ``write_file``)."""
    return _digests.get(str(path))


def forget_digests() -> None:
    """At the start of a build: a staging path of an earlier build in this process may come again."""
    _digests.clear()


_made_dirs: set[Path] = set()


def _ensure_dir(folder: Path) -> None:
    if folder not in _made_dirs:
        folder.mkdir(parents=True, exist_ok=True)
        if len(_made_dirs) > 10_000:
            _made_dirs.clear()
        _made_dirs.add(folder)


def copy_file(source: Path, target: Path, limit: int) -> tuple[int, bool]:
    """Copy at most ``limit`` bytes of ``source``; return (bytes copied, truncated)."""
    copied, truncated = 0, False
    _digests.pop(str(target), None)  # not hashed here: the manifest reads the copy
    try:
        _ensure_dir(target.parent)
        with open(source, "rb") as src, open(target, "wb") as dst:
            while copied < limit:
                chunk = src.read(min(1 << 20, limit - copied))
                if not chunk:
                    break
                dst.write(chunk)
                copied += len(chunk)
            truncated = bool(src.read(1))
    except OSError as exc:
        raise_write_error(exc, target)
    return copied, truncated


def write_file_durable(path: Path, data: bytes | str) -> None:
    """An atomic, fsynced replacement of one file inside a live site (no-change builds)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    part = path.with_name(path.name + ".part")
    try:
        # a .part left by a build killed with SIGKILL is removed (the lock is ours), never opened:
        # whoever can write the site could have planted it as a symlink or a hard link of a file
        # elsewhere, and "wb" would write through it; "xb" (O_EXCL) refuses a link in its place
        part.unlink(missing_ok=True)
        with replace_atomically(path, part, "xb", replace=True) as handle:
            handle.write(raw)
    except OSError as exc:
        raise_write_error(exc, path)


# ----------------------------------------------------------------- lock and staging
def lock_path(site: Path) -> Path:
    return site.with_name(temp_stem(site) + ".lock")


_held_locks: set[int] = set()  # descriptors of the locks this process holds


def _close_held_locks() -> None:
    """In a forked child (a page worker): drop the inherited lock descriptors, so that only
    the building process holds the flock and a worker outliving it cannot keep the site locked."""
    for fd in _held_locks:
        try:
            os.close(fd)
        except OSError:
            pass
    _held_locks.clear()


os.register_at_fork(after_in_child=_close_held_locks)


PID_FIELD = 12  # the lock file starts with the holder's pid, padded to this many bytes with its newline


@dataclass
class Lock:
    """A held ``SITE.lock``; ``state`` is what the last build saved after the pid field (b"" if none).

    The lock file is the one file of ours beside the site that every build opens anyway and
    that is never published (an rsync of ``SITE/`` leaves it behind), so it carries the
    private, non-deterministic state of the last build: the stat records of its files.
    """

    fd: int
    state: bytes

    def save(self, data: bytes) -> None:
        """Replace the state.  Not atomic: truncated first, so a crash leaves none or a
        partial one that does not parse, and the next build checks the files by content."""
        try:
            os.ftruncate(self.fd, PID_FIELD)
            os.pwrite(self.fd, data, PID_FIELD)
        except OSError:
            pass  # only a cache (a partial one does not parse): the site itself is complete


@contextmanager
def hold_lock(site: Path, marker: str = "") -> Iterator[Lock]:
    """An exclusive flock on ``SITE.lock``; exit 75 'locked by pid N' when another build has it.

    When the run ends without a site (``SITE/marker`` is not a file: the build
    failed or was refused before the first swap), the lock file is removed too,
    while still held; a waiting run that opened the removed file notices and retries.
    """
    path = lock_path(site)
    fd = _take_lock(path, site)
    _held_locks.add(fd)
    try:
        state = _read_state(fd)
        os.pwrite(fd, f"{os.getpid()}".ljust(PID_FIELD - 1).encode() + b"\n", 0)  # the state after it stays
        yield Lock(fd, state)
    finally:
        if marker and not (site / marker).is_file():
            _unlink_quietly(path)
        _held_locks.discard(fd)
        os.close(fd)  # closing releases the flock


def _read_state(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    if size <= PID_FIELD:
        return b""
    head = os.pread(fd, PID_FIELD, 0)
    return os.pread(fd, size - PID_FIELD, PID_FIELD) if head.endswith(b"\n") else b""


def _take_lock(path: Path, site: Path) -> int:
    """Open and flock ``path``; retry when another run removed the file between our open and flock."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(path, f"cannot create the lock file ({exc.strerror})") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, PID_FIELD, 0).split(b"\n")[0].decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise LockedError(site, f"locked by pid {holder}") from None
        if _same_file(fd, path):
            return fd
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def staging_path(site: Path) -> Path:
    return sibling(site, "staging")


def create_staging(site: Path) -> Path:
    staging = staging_path(site)
    _made_dirs.clear()  # folders of an earlier build in this process are gone
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
    except OSError as exc:
        raise_write_error(exc, staging)
        raise OutputError(staging, f"cannot create the staging folder ({exc.strerror})") from exc
    return staging


def swap_in(staging: Path, site: Path) -> None:
    """Publish staging as ``site``: flush, then the one swap of finished trees, with the old
    site renamed to ``.SITE.old-<pid>`` (the name the stale-folder cleanup knows)."""
    os.sync()  # the pages were written without per-file fsync; make them durable before they show
    replace_dir(staging, site)


def move_aside(path: Path, trash: Path) -> None:
    """Rename ``path`` into the ``trash`` folder (same file system), if it exists."""
    if not (path.exists() or path.is_symlink()):
        return
    trash.mkdir(parents=True, exist_ok=True)
    os.rename(path, trash / path.name)


def move_files(staging: Path, site: Path, last: str) -> None:
    """``os.replace`` every file left in staging onto the same path in the site; ``last`` at the end.

    A staging file that ``keep_unchanged`` made a hard link of the live file is already in place:
    it is unlinked here (a rename between two links of one file does nothing and would leave it,
    and removing it after the stat records are taken would change the live file's ctime)."""
    files = sorted(p for p in staging.rglob("*") if p.is_file() and p.name != last)
    for path in [*files, staging / last]:
        target = site / path.relative_to(staging)
        if _same_file_at(path, target):
            path.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)


def _same_file_at(path: Path, target: Path) -> bool:
    try:
        return os.path.samestat(os.lstat(path), os.lstat(target))
    except OSError:
        return False


def keep_unchanged(staging: Path, site: Path, names: Iterable[str]) -> int:
    """Make each staging file whose bytes equal the live file at the same path a hard link of that
    live file; return how many.  Why: publishing then keeps the live file (its inode, so its
    mtime), and rsync's size-and-mtime check skips it; the pages of a rebuilt job, its downloads,
    a catalog written again with the same rows were all new files with the same bytes before.

    The live file is compared by its bytes, never trusted: sizes first, then the live file is hashed
    against the digest ``write_file`` kept (or read beside the staging copy).  Only a regular
    file reached through real folders of the site counts (a folder replaced by a symlink could
    point anywhere); a link that fails (another file system, a file we may not link) keeps the
    staging copy, as before.  Staging stays a complete tree, so each job is still published by
    one rename of its folder."""
    folders: dict[Path, bool] = {}
    kept = 0
    for name in names:
        staged, live = staging / name, site / name
        try:
            new, old = os.lstat(staged), os.lstat(live)
        except OSError:
            continue
        if not (stat.S_ISREG(old.st_mode) and old.st_size == new.st_size and _real_folders(site, live.parent, folders)):
            continue
        try:
            if not _same_bytes(staged, live):
                continue
            linked = staged.with_name(staged.name + ".link")
            os.link(live, linked, follow_symlinks=False)
            os.replace(linked, staged)
        except OSError:
            continue
        kept += 1
    return kept


def _same_bytes(staged: Path, live: Path) -> bool:
    """The live file holds exactly the staged bytes (both are known to be the same size)."""
    digest = known_digest(staged)
    if digest is None:
        with open(staged, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").digest()
    with open(live, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").digest() == digest


def _real_folders(site: Path, folder: Path, seen: dict[Path, bool]) -> bool:
    """``folder`` and each folder above it up to ``site`` is a folder, not a symlink to one."""
    if folder == site:
        return True
    if folder not in seen:
        try:
            seen[folder] = stat.S_ISDIR(os.lstat(folder).st_mode) and _real_folders(site, folder.parent, seen)
        except OSError:
            seen[folder] = False
    return seen[folder]


@contextmanager
def blocked_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the live site is being changed; they arrive right after."""
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def discard_staging(staging: Path | None) -> None:
    _made_dirs.clear()
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)


# ----------------------------------------------------------------- output checks
def check_overlap(data_store: Path, site: Path) -> None:
    """Refuse (73) an output that overlaps the input or is a symlink, before anything is created."""
    store, out = data_store.resolve(), site.resolve()
    if out == store or store in out.parents or out in store.parents:
        raise OutputError(site, f"output overlaps input {str(data_store)!r}")
    if site.is_symlink():
        raise OutputError(site, "output is a symlink")


def check_existing(site: Path, is_site: bool, force: bool) -> None:
    """Refuse (73) an existing output that is not a reportgen site, unless --force; and, even with
    --force, one that looks like a data_store (``build SITE -o STORE``: the arguments swapped)."""
    from reportgen.readers.datastore import data_store_evidence

    if site.is_dir() and not is_site and (evidence := data_store_evidence(site)):
        raise OutputError(site, f"output looks like a data_store ({evidence}); never replaced, even with --force "
                                "(are DATA_STORE and -o swapped?)")
    if site.exists() and not site.is_dir():
        if not force:
            raise OutputError(site, "output exists and is not a folder (use --force to replace it)")
    elif site.exists() and not is_site and any(site.iterdir()) and not force:
        raise OutputError(site, "output exists and is not a reportgen site (use --force to replace it)")
