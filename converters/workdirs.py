"""Work folders, and what a full disk under them means.

A conversion keeps its work files (SQLite staging databases, work files, an
extracted ``db.sqlite3``) in a private folder: next to the output, so that
the disk that must hold the output also holds them, or in ``TMPDIR`` when
there is no output (``archive validate``).  When that disk fills, SQLite says
"database or disk is full" and an anonymous work file's ``write`` raises an
``OSError`` without a file name; neither names anything a user can act on.
``disk_errors`` turns both into one ``WriteError`` (exit 74) naming the folder.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import os
import re
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from converters.errors import BadInputError, InputMissingError, OutputError, WriteError

# errors only a write can cause: an input being read never fills a disk
FULL_DISK = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
             errno.EFBIG: "file too large (over the file size limit, ulimit -f)"}


def disk_failure(exc: BaseException) -> str | None:
    """The reason to show when ``exc`` says the disk failed under a write; None for anything else."""
    if isinstance(exc, sqlite3.OperationalError):
        return sqlite_failure(str(exc), getattr(exc, "sqlite_errorname", "") or "")
    if isinstance(exc, OSError) and exc.errno in FULL_DISK:
        return FULL_DISK[exc.errno]
    return None


def sqlite_failure(text: str, name: str = "") -> str | None:
    """SQLite's message (and error name, when known) as the reason for a full or failing disk;
    None when SQLite failed for another reason.  The staging child reports only the text."""
    if name == "SQLITE_FULL" or "disk is full" in text:
        return f"no space left on device (SQLite: {text})"
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:
        return f"I/O error (SQLite: {text})"
    return None


@contextmanager
def disk_errors(where: Path | str, what: str) -> Iterator[None]:
    """Inside: a full disk (SQLite's or an ``OSError``'s) becomes ``WriteError(where, ...)``;
    ``what`` says what was being done (``"writing work files of m.aiida"``).  An ``OSError`` that
    names its own file keeps that name."""
    try:
        yield
    except (sqlite3.OperationalError, OSError) as exc:
        reason = disk_failure(exc)
        if reason is None:
            raise
        raise WriteError(getattr(exc, "filename", None) or where, f"{reason} while {what}") from None


@contextmanager
def temp_folder(what: str) -> Iterator[Path]:
    """A private folder in ``TMPDIR`` (removed afterwards); a full disk there names the folder."""
    where = Path(tempfile.gettempdir())
    what = f"{what} into TMPDIR (set TMPDIR to a folder with more space)"
    with disk_errors(where, what):
        with tempfile.TemporaryDirectory(dir=where) as tmp:
            with disk_errors(tmp, what):
                yield Path(tmp)


NAME_KEPT = 180  # bytes of an output's name kept in its temporary names (NAME_MAX is 255)


def temp_stem(dst: Path) -> str:
    """``dst``'s name as the stem of its temporary names (``.STEM.staging-PID.tmp``,
    ``.STEM.work-XXXX``): the name itself, or when that would leave no room under NAME_MAX
    for the affixes, its first bytes and a hash of the whole (distinct outputs stay distinct)."""
    raw = dst.name.encode("utf-8", "surrogateescape")
    if len(raw) <= NAME_KEPT:
        return dst.name
    head = raw[:NAME_KEPT].decode("utf-8", "ignore")  # never half a character
    return f"{head}~{hashlib.sha256(raw).hexdigest()[:12]}"


def work_prefix(dst: Path) -> str:
    """What the name of every work folder of this process for ``dst`` starts with (and so the
    name of every file in one): ``DIR/.STEM.work-PID-``."""
    return str(dst.parent / f".{temp_stem(dst)}.work-{os.getpid()}-")


@contextmanager
def work_folder(dst: Path) -> Iterator[Path]:
    """A private work folder next to the output ``dst`` (same file system, removed afterwards);
    a full disk while it is in use names the folder and the output."""
    what = f"writing work files of {dst.name}"
    remove_stale(dst)
    with disk_errors(dst.parent, what):
        with tempfile.TemporaryDirectory(prefix=Path(work_prefix(dst)).name, dir=dst.parent) as tmp:
            with claimed(Path(tmp)), disk_errors(tmp, what):
                yield Path(tmp)


@contextmanager
def work_copies_named(dst: Path, src: Path | str) -> Iterator[None]:
    """Inside: a bad-input error about a work copy of the input (a file in a work folder of ``dst``,
    such as the 0.13 archive a multi-step conversion spills) names the input it was copied from:
    the work copy is gone when the line is read.  The work copy's member goes into the reason
    ("its 0.13 conversion, data.json: ..."), not the member place: the input may have no such
    member (a main archive holds ``db.sqlite3``, not ``data.json``).  A full disk keeps naming
    the work folder (``disk_errors``): that is where the space ran out."""
    try:
        yield
    except (BadInputError, InputMissingError) as exc:
        if not exc.file.startswith(work_prefix(dst)) or exc.file == str(src):
            raise  # not a work copy; or the input itself (export converts its own 0.13 work file, and names it)
        if not exc.member:
            raise type(exc)(src, exc.reason, "") from None
        raise type(exc)(src, f"{work_copy_label(exc.file)}, {exc.member}: {exc.reason}", "") from None


def work_copy_label(path: str) -> str:
    """How an error names a work copy it no longer names by path: "its 0.13 conversion" for the
    ``legacy-0.13.zip`` a multi-step conversion spills (a version in the name), else "its work copy"."""
    found = re.search(r"-(\d+\.\d+)\.[a-z.]+$", os.path.basename(path))
    return f"its {found.group(1)} conversion" if found else "its work copy"


def sibling(dst: Path, kind: str) -> Path:
    """A name next to ``dst`` for one of this run's own trees or files: ``.STEM.KIND-PID``
    (``staging``, ``old``); ``remove_stale`` knows every one of them.  Always hidden: the sweep
    removes only hidden names, never a user's ``runs.aiida.old-2024`` or ``site.old-3``."""
    return dst.with_name(f".{temp_stem(dst)}.{kind}-{os.getpid()}")


def check_folder_writable(dst: Path) -> None:
    """Refuse (73) an output whose folder (or, when that is still to be made, its nearest
    existing ancestor) this process cannot create and remove files in: one line naming that
    folder, before anything is written, whichever command it is (each would otherwise fail at
    its own first work file, with its own exit code, or after all its work)."""
    folder = _nearest_folder(Path(os.path.realpath(Path(os.path.abspath(dst)).parent)))
    check_writable_dir(folder)
    check_not_sticky_other(folder / dst.name)
    probe_create(folder, staging_file(folder / dst.name).name)  # last: the checks above touch nothing


def probe_create(folder: Path, name: str) -> None:
    """Refuse (73) a folder where creating a file fails although every flag and permission
    says it may not: a pseudo file system (``/proc``, ``/sys``; root passes ``access`` there),
    an NFS export that squashes root, an LSM policy.

    The probe is an unnamed file (``O_TMPFILE``), which leaves the folder as it was, its mtime
    included: a run refused later must not have touched it.  Where the file system has no
    unnamed files, one empty file is made and removed at once, under the run's own staging
    name (the sweep knows it, should a kill land between).  A full disk is left to the first
    real write, which names it (exit 74)."""
    if not folder.is_dir():
        return  # not a folder: the caller's own checks say what it is
    try:
        os.close(os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o600))
        return
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):  # else: no unnamed files here
            _refuse_probe(folder, exc)
            return
    probe = folder / name
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return  # this run's own name is there already: the folder takes files
    except OSError as exc:
        _refuse_probe(folder, exc)
        return
    os.close(fd)
    os.unlink(probe)


def _refuse_probe(folder: Path, exc: OSError) -> None:
    if exc.errno in FULL_DISK:
        return
    raise OutputError(folder, f"cannot create files in this folder (a test file was refused: {os.strerror(exc.errno or 0).lower()})") from None


def check_not_sticky_other(dst: Path) -> None:
    """Refuse (73) an existing output that this process could never rename over or remove:
    in a sticky folder (``/tmp``, a shared drop folder), only the owner of a file or of the
    folder, or a process with CAP_FOWNER, may.  Without this check, ``--force`` did all the
    work and then failed at the last rename, naming the temporary file."""
    try:
        here, folder = os.lstat(dst), os.stat(dst.parent)
    except OSError:
        return  # nothing to replace (or nothing that can be asked): the other checks speak
    if not folder.st_mode & stat.S_ISVTX or os.geteuid() in (here.st_uid, folder.st_uid) or _has_fowner():
        return
    raise OutputError(dst, "exists and belongs to another user in a sticky folder; it cannot be replaced here")


_CAP_FOWNER = 3  # <linux/capability.h>


def _has_fowner() -> bool:
    """Whether this process may act on files it does not own (CAP_FOWNER; root elsewhere)."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"CapEff:"):
                    return bool(int(line.split()[1], 16) >> _CAP_FOWNER & 1)
    except (OSError, ValueError, IndexError):
        pass
    return os.geteuid() == 0


def check_writable_dir(folder: Path) -> None:
    """Refuse (73) a folder this process cannot create and remove files in: permissions (ACLs
    included: ``access`` asks the kernel), a read-only file system, or the ``chattr`` flags
    ``+i`` and ``+a`` (an append-only folder lets files be made but never removed or renamed,
    so staging and work files could not be cleaned up)."""
    if not folder.is_dir():
        return  # not a folder: the caller's own checks say what it is
    reason = ""
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        reason = "read-only file system"
    elif _inode_flags(folder) & (_FS_IMMUTABLE_FL | _FS_APPEND_FL):
        reason = "the folder is immutable or append-only (chattr +i / +a)"
    elif not os.access(folder, os.W_OK | os.X_OK, effective_ids=os.access in os.supports_effective_ids):
        reason = "permission denied"
    if reason:
        raise OutputError(folder, f"cannot create files in this folder ({reason})")


def _nearest_folder(folder: Path) -> Path:
    """``folder``, or its nearest existing ancestor when it is still to be made; a folder on the
    way that cannot be searched (no x permission) is refused here, naming it."""
    while True:
        try:
            os.stat(folder)
            return folder
        except FileNotFoundError:
            if folder == folder.parent:
                return folder
            folder = folder.parent
        except PermissionError:
            raise OutputError(folder.parent, "cannot create files in this folder (permission denied)") from None
        except OSError:
            return folder  # not a folder (ENOTDIR, a loop): the caller's own checks name it


_FS_IOC_GETFLAGS = 0x80086601  # <linux/fs.h>, _IOR('f', 1, long)
_FS_IMMUTABLE_FL, _FS_APPEND_FL = 0x10, 0x20


def _inode_flags(folder: Path) -> int:
    """The folder's inode flags (``lsattr``); 0 where the file system or system has none."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return 0
    try:
        buf = bytearray(8)
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, buf)
        return int.from_bytes(buf[:4], "little")
    except OSError:
        return 0
    finally:
        os.close(fd)


def staging_file(dst: Path) -> Path:
    """The name ``dst`` is written under until it is complete (the pid: see ``remove_stale``)."""
    staging = sibling(dst, "staging")
    return staging.with_name(staging.name + ".tmp")


def remove_stale(dst: Path) -> list[str]:
    """Remove what a run killed with SIGKILL (no cleanup) left next to ``dst``, where no process
    PID is alive (a concurrent run's are never touched); the names removed, sorted.

    The one sweep for every output: a file output's staging file ``.STEM.staging-PID.tmp``
    and work folders ``.STEM.work-PID-*`` (here), and a folder output's staging and
    moved-aside trees ``.STEM.staging-PID`` and ``.STEM.old-PID`` (``sibling``: builds,
    example, restore, bundles).  Only hidden names with a number that can be a pid are
    removed: a user's own ``site.old-2023`` or ``.runs.aiida.old-20240601`` is never touched.

    A pid is only known dead in this PID namespace, so a leftover is removed only when,
    besides, no process holds its claim (``claimed``): a run in another container, whose pid
    means nothing here, keeps its files while it works.  Where the file system has no
    ``flock`` for them (folders over NFS), the pid alone decides.
    """
    stem = re.escape(temp_stem(dst))
    # [0-9], not \d: a pid is ASCII digits, and \d takes any script's (int() reads "١٢" as 12)
    pattern = re.compile(rf"\.{stem}\.staging-([0-9]+)\.tmp|\.{stem}\.work-([0-9]+)-.*|\.{stem}\.(?:staging|old)-([0-9]+)", re.DOTALL)
    try:
        found = sorted((e.name, m) for e in os.scandir(dst.parent) if (m := pattern.fullmatch(e.name)))
    except OSError:  # no folder yet: nothing left behind
        return []
    removed = []
    for leftover, match in found:
        pid = int(next(g for g in match.groups() if g))
        if 0 < pid <= _pid_max() and pid != os.getpid() and not pid_alive(pid) and not is_claimed(dst.parent / leftover):
            try:
                remove_path(dst.parent / leftover)
            except OSError:
                continue  # not ours to fight over (permissions): leave it, the run goes on
            removed.append(leftover)
    return removed


@contextmanager
def claimed(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the file or folder ``path`` (this run's own staging or
    work tree) while inside, so that ``remove_stale`` in any other process, in any PID
    namespace, leaves it alone.  The lock follows the inode through renames and goes with the
    process: a killed run's trees are free again at once.  Where the file system cannot lock
    it, nothing is held (the pid in the name is then the only sign of life)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        fd = -1
    if fd >= 0 and not hold_claim(fd):
        os.close(fd)
        fd = -1
    try:
        yield
    finally:
        if fd >= 0:
            os.close(fd)  # closing releases the lock


def hold_claim(fd: int) -> bool:
    """Take the claim on an open file (released when it is closed); False where the file
    system has no ``flock`` for it (NFS folders, some FUSE mounts)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def is_claimed(path: Path) -> bool:
    """True when a live process holds ``path``'s claim (``claimed``), wherever it runs.  Only
    regular files and folders are asked: opening a FIFO or a device planted under a leftover's
    name could block or act on hardware."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False  # cannot be asked (permissions): the pid decides, as the removal will
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # a lock taken here is released with it
    return False


def remove_path(path: Path) -> None:
    """A file, or a whole tree even with read-only folders in it (git leaves its objects so)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, onerror=_force_remove)
    else:
        path.unlink()


def _force_remove(func, path, _exc) -> None:
    """Make the parent writable and retry."""
    os.chmod(os.path.dirname(path), 0o700)
    func(path)


def _pid_max() -> int:
    """The largest pid this system hands out (Linux; 2**22, the largest it allows, elsewhere)."""
    try:
        with open("/proc/sys/kernel/pid_max", "rb") as fh:
            return int(fh.read())
    except (OSError, ValueError):
        return 4194304


def pid_alive(pid: int) -> bool:
    """True when a process ``pid`` runs (even one this process may not signal).

    A killed writer whose parent has not yet reaped it is a zombie: it still
    answers ``kill(pid, 0)`` but will never touch its files again, so it
    counts as gone (Linux ``/proc``; elsewhere only ``kill`` is asked)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return False
    # "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ")"
    state_at = stat.rfind(b")") + 2
    return stat[state_at : state_at + 1] == b"Z"


_RENAME_NOREPLACE = 1  # <linux/fs.h>
_AT_FDCWD = -100
_APPEARED = "output appeared while writing (another run?); nothing was replaced"


def rename_no_replace(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` only if ``target`` does not exist (Linux ``renameat2``);
    an existing ``target`` is refused (73) and left as it is.

    A plain rename silently replaces a file or an empty folder: a second run
    that wrote the same output meanwhile would be overwritten without a word.
    Where the system or file system lacks ``RENAME_NOREPLACE``, a file is
    published by ``link`` (which refuses an existing name) and ``unlink``;
    where that fails too, by a rename after a last look.
    """
    renameat2 = _renameat2()
    if renameat2 is not None:
        if renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), _RENAME_NOREPLACE) == 0:
            return
        code = ctypes.get_errno()
        if code == errno.EEXIST:
            raise OutputError(target, _APPEARED)
        if code not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(code, os.strerror(code), str(target))
    if not source.is_dir():
        try:
            os.link(source, target)
        except FileExistsError:
            raise OutputError(target, _APPEARED) from None
        except OSError:
            pass  # no hard links here (some FUSE and SMB mounts): the rename below
        else:
            source.unlink()
            return
    if os.path.lexists(target) and not target.is_dir():
        raise OutputError(target, _APPEARED)
    os.rename(source, target)


_RENAME_EXCHANGE = 2  # <linux/fs.h>
NO_EXCHANGE_ENV = "REPORTGEN_NO_RENAME_EXCHANGE"  # tests: "1" forces the two-rename fallback


def exchange_paths(first: Path, second: Path) -> bool:
    """Swap two existing names in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False, with
    nothing changed, where the system or the file system cannot (ENOSYS, EINVAL: old kernels,
    some network and FUSE file systems) or ``REPORTGEN_NO_RENAME_EXCHANGE=1`` asks for the
    fallback.  Any other failure (a name missing, no permission) is raised as ``OSError``."""
    renameat2 = None if os.environ.get(NO_EXCHANGE_ENV) == "1" else _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL):
        return False
    raise OSError(code, os.strerror(code), os.fspath(first), None, os.fspath(second))


def _renameat2():
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    return function


