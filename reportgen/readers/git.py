"""``workflow.git`` / ``params.git`` -> ``Commit`` records.  The only module that runs git for the data_store.

The repositories are untrusted (security reference section 4): git runs only
plumbing commands (``rev-parse``, ``cat-file``) through GitPython's command
wrapper, in an environment that ignores system and global config and replace
refs, with ``core.fsmonitor`` and hooks switched off on the command line, and
with a ceiling so a broken repository never falls through to an enclosing one.
Only 40- or 64-hex SHAs ever reach git, after ``--end-of-options``.  Objects
come from one persistent ``cat-file --batch`` per repository (read by our own
``CatFileBatch``, which knows SHA-256 answers) and every object's hash is
checked against the id it was asked for; a commit, tag or tree over
``MAX_OBJECT_BYTES`` is refused from its header.  Nothing may send git to
another repository (``check_repo_layout``: no symlink on the way or inside,
no ``.git`` entry, no alternates), and every command after the first names
the repository (``GIT_DIR``).  A SHA names a commit as reference D3
says, ``<sha>^{commit}``: an annotated tag's SHA shows the commit it points to.
A repository git refuses for
"dubious ownership" is reported as unreadable unless the user's own git config
trusts it (``safe.directory``: those entries alone are passed on, ``trusted_directories``).
An object that is stored but damaged (batch ``cat-file`` answers "missing" or
exits on it) is "unreadable" with git's reason, never "not-in-repo": only
``cat-file -e`` finding nothing stored, or an object that is no commit (the
reason says which: "is a tree, not a commit"), is that.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

# GitPython looks for git when imported and, by default, raises ImportError when there is none:
# "quiet" defers that to ``require_git``, so a missing git is one line (exit 69), not a traceback.
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

from git.cmd import Git  # after the environment above
from git.exc import GitCommandNotFound

from reportgen.errors import BadInputError, InputMissingError, ToolMissingError, WriteError
from reportgen.records import Commit, GitFile, ReadLimits, TreeChange, TreeDiff

Which = Literal["workflow", "params"]
SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
HEX = re.compile(r"[0-9a-f]+")
OBJECT_TYPES = frozenset({"commit", "tree", "blob", "tag"})
MAX_FILES = 2000  # files listed per commit
MAX_COMMIT_BYTES = 32 * 1024 * 1024  # text read per commit, over all files
# A commit, tag or tree object is read whole (and git inflates it whole to answer ``--batch``), so
# its size is checked from a ``--batch-check`` header first: a 300 MB commit message is 300 KB of
# zlib on disk.  Real ones are a few KiB; 4 MiB is a folder of some 80,000 files in one tree.
MAX_OBJECT_BYTES = 4 * 1024 * 1024
# Files git reads from a repository folder besides its ``objects/`` and ``refs/`` trees; a symlink
# there (or anywhere in those trees) would make git read another repository's data.
LINK_CHECKED_FILES = ("HEAD", "config", "packed-refs", "shallow", "info", "info/grafts")
LINK_CHECKED_TREES = ("objects", "refs")
HARDENED_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,  # an empty file
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_ATTR_NOSYSTEM": "1",
}
# What git reads from the environment to choose a repository, object store, index or
# config (``git rev-parse --local-env-vars`` and the config-by-environment variables).
# GitPython can only add variables to a command's environment, so these are removed
# from the process's own environment before any git runs: a caller inside a git hook
# or a CI step that exports GIT_DIR would otherwise be read instead of the data_store.
INHERITED_GIT_VARIABLES = frozenset({
    "GIT_DIR", "GIT_WORK_TREE", "GIT_IMPLICIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_GRAFT_FILE", "GIT_SHALLOW_FILE",
    "GIT_REPLACE_REF_BASE", "GIT_NAMESPACE", "GIT_PREFIX", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT", "GIT_CONFIG_SYSTEM", "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_EXEC_PATH", "GIT_TEMPLATE_DIR",
})
_CONFIG_PAIR = ("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_")
# A hooks "directory" that cannot hold hooks; fsmonitor off; no transport at all.
HARDENED_CONFIG = ["core.fsmonitor=false", f"core.hooksPath={os.devnull}", "protocol.allow=never"]


# What git prints for a failure of the machine rather than of the repository (git runs with
# LC_ALL=C, so these are libc's English strerror texts).
ENVIRONMENT_FAILURES = tuple(os.strerror(code) for code in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS,
                                                               errno.ENOMEM))


@functools.lru_cache(maxsize=1)
def trusted_directories() -> tuple[str, ...]:
    """The ``safe.directory`` entries of the user's own git config (system, then global).

    git's remedy for "dubious ownership" (a data_store owned by the Hub's service account, read
    by a CI account) is an entry there, but reportgen's git reads no config of the user's
    (``HARDENED_ENV``): the entries alone are passed on each command line, so git makes its
    own decision with exactly the user's trust and nothing else of their config.
    """
    values: list[str] = []
    for scope in ("--system", "--global"):
        try:  # -z: a value holding a newline stays one value; --includes: as git itself reads them
            done = subprocess.run(["git", "config", scope, "--includes", "-z", "--get-all", "safe.directory"],
                                  capture_output=True, cwd="/", timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            values += done.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1]
    return tuple(values)  # in order, empty entries kept: an empty one cancels those before it, as in git


def config_options() -> list[str]:
    """``-c`` settings of every git command on the data_store: the hardening and the user's trust."""
    return HARDENED_CONFIG + [f"safe.directory={value}" for value in trusted_directories()]


def require_git() -> None:
    """Refuse to go on without a git program (the data_store's repositories need one)."""
    if shutil.which("git") is None:
        raise ToolMissingError("git", "not found on PATH (install git)")
    trusted_directories()  # asked once here, in the parent: the forked workers inherit the answer


def is_environment_failure(stderr: bytes | str) -> bool:
    """git failed because of the disk or memory (full, read-only, EIO), not because of the repository."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    return any(reason in text for reason in ENVIRONMENT_FAILURES)


class RepoUnreadable(Exception):
    """The repository cannot be used; the message says why."""


class BatchFailed(ValueError):
    """A batch process exited, or answered what git never prints for a request; it was stopped."""


class CatFileBatch:
    """One persistent ``git cat-file --batch`` (contents) or ``--batch-check`` (headers) process.

    Our own reader, not GitPython's ``get_object_header``/``get_object_data``: those accept only
    40-digit ids in git's answers, so every object of a SHA-256 repository failed to parse.  The
    process is still started by the repository's ``Git`` wrapper, so it runs with the hardened
    environment and ``-c`` options of every other command.  Started on the first request; a
    process that exits or answers garbage is stopped and the next request starts a fresh one.
    """

    def __init__(self, git: Git, option: Literal["--batch", "--batch-check"], hash_len: int) -> None:
        self._git, self._option, self._hash_len = git, option, hash_len
        self._process: Git.AutoInterrupt | None = None

    def header(self, name: str) -> tuple[str, str, int] | None:
        """(sha, type, size) of ``name``; None when git answers "<name> missing" (or "ambiguous").

        With ``--batch`` the object's bytes follow: ``read_contents`` must be called next."""
        process = self._start()
        try:
            process.stdin.write(name.encode("ascii") + b"\n")  # hex and "^{commit}" only: one line
            process.stdin.flush()
            line = process.stdout.readline()
        except OSError:  # the process is gone (a broken pipe)
            line = b""
        if not line:
            self.close()
            raise BatchFailed(f"git cat-file {self._option} exited")
        if line in (name.encode("ascii") + b" missing\n", name.encode("ascii") + b" ambiguous\n"):
            return None
        parts = line.split()
        if (len(parts) != 3 or len(parts[0]) != self._hash_len or not HEX.fullmatch(_text(parts[0]))
                or _text(parts[1]) not in OBJECT_TYPES or not parts[2].isdigit()):
            self.close()  # out of step with the requests, or not git: never read this stream again
            raise BatchFailed(f"git cat-file {self._option} answered {line[:120]!r}")
        return _text(parts[0]), _text(parts[1]), int(parts[2])

    def read_contents(self, size: int) -> bytes:
        """The ``size`` bytes of the object whose header ``header`` just gave (``--batch`` only)."""
        assert self._process is not None
        data = self._process.stdout.read(size + 1)  # the object, then git's newline
        if len(data) != size + 1 or data[-1:] != b"\n":
            self.close()
            raise BatchFailed(f"git cat-file {self._option} stopped inside an object")
        return data[:-1]

    def _start(self) -> Git.AutoInterrupt:
        if self._process is None:
            self._process = self._git.cat_file(self._option, as_process=True, istream=subprocess.PIPE)
        return self._process

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.__del__()  # how GitPython stops its own batch processes: close the pipes, terminate, wait


class Repo:
    """One hardened git repository with a persistent ``cat-file --batch`` and ``--batch-check``.

    Every command after ``_verify`` names the repository (``GIT_DIR``): git's discovery, which a
    ``.git`` file or link inside the folder would send elsewhere, decides nothing that is read."""

    def __init__(self, path: Path, max_object_bytes: int = MAX_OBJECT_BYTES) -> None:
        self.path = path
        self.max_object_bytes = max_object_bytes
        check_repo_layout(path)
        scrub_git_environment()
        self.git = Git(str(path))
        self.git.update_environment(GIT_CEILING_DIRECTORIES=str(path.parent), **HARDENED_ENV)
        self.git.set_persistent_git_options(c=config_options())
        self.hash_len = self._verify()
        self.git.update_environment(GIT_DIR=str(path.absolute()))
        self._headers = CatFileBatch(self.git, "--batch-check", self.hash_len)
        self._contents = CatFileBatch(self.git, "--batch", self.hash_len)

    def _verify(self) -> int:
        """Run one command so git's own refusals (dubious ownership...) surface now.

        The one command that lets git find the repository from its folder: git checks ownership
        (``safe.directory``) only for a repository it finds, not for one named by ``GIT_DIR``.  The
        ceiling stops the search at the folder and ``check_repo_layout`` refused a ``.git`` entry in
        it, so git finds the folder itself; that it did is checked too (a ``.git`` planted since)."""
        status, out, err = self.git.rev_parse(
            "--absolute-git-dir", "--show-object-format", with_extended_output=True, with_exceptions=False
        )
        if status != 0:
            raise RepoUnreadable(git_cause(err, repo=self.path.absolute()))
        found, _, object_format = out.partition("\n")
        if os.path.realpath(found) != os.path.realpath(self.path):
            raise RepoUnreadable("git finds another repository than this folder; not read")
        return 64 if "sha256" in object_format else 40

    def commit_of(self, sha: str) -> str | None:
        """The commit ``<sha>^{commit}`` names (reference D3): ``sha`` itself for a commit, the
        commit an annotated tag points to; None when there is none (nothing stored under ``sha``,
        or a tree, a blob, a tag of one).

        Same answer as ``cat-file -e <sha>^{commit}`` without a process per commit (about 6 ms
        each); asked only with a full SHA of this repository's length, so git never takes it for
        an abbreviation.  An object that is there but cannot be read raises ``RepoUnreadable``
        (see ``_batch_failed``): damaged is not absent.
        """
        if len(sha) != self.hash_len or not SHA.fullmatch(sha):
            return None
        stored = self._header(sha, sha, "commit")  # the plain id first: git reads only the header
        if stored is None:
            return None
        self.check_peel_sizes(sha, stored)  # before git peels: it reads each tag and the commit whole
        header = self._header(f"{sha}^{{commit}}", sha, "commit")
        return header[0] if header is not None and header[1] == "commit" else None

    def check_peel_sizes(self, sha: str, header: tuple[str, str, int] | None) -> None:
        """Refuse ``sha`` (whose ``--batch-check`` header is ``header``) when it, or a tag on the way
        to what it names, is over ``max_object_bytes``.

        Header by header (``--batch-check`` never inflates an object), so neither git nor reportgen
        holds an oversized commit or tag; at most 16 tags deep, as far as a real chain goes."""
        for _ in range(16):
            if header is None:
                return
            self._check_object_size(sha, header[1], header[2])
            if header[1] != "tag":
                return
            target = parse_commit(self.read_object(sha, "tag"))[1].get("object", "")
            if len(target) != self.hash_len or not SHA.fullmatch(target):
                return  # a tag naming no object: git's peel says it is no commit
            sha = target
            header = self._header(sha, sha, "object")

    def _check_object_size(self, sha: str, typename: str, size: int) -> None:
        """A commit, tag or tree over ``max_object_bytes`` is refused (blobs: their callers' limits)."""
        if typename != "blob" and size > self.max_object_bytes:
            raise RepoUnreadable(f"{typename} {sha} is {size:,} bytes, over the {self.max_object_bytes:,}-byte "
                                 f"limit of a {typename} object; not read")

    def has_commit(self, sha: str) -> bool:
        """``sha`` is a commit of this repository (not a tag of one)."""
        return self.commit_of(sha) == sha

    def object_type(self, sha: str) -> str | None:
        """The type of the object stored under ``sha``; None when nothing is."""
        if len(sha) != self.hash_len or not SHA.fullmatch(sha):
            return None
        header = self._header(sha, sha, "object")
        return header[1] if header is not None else None

    def read_object(self, sha: str, expected_type: str) -> bytes:
        """Object bytes from the batch process, hash verified."""
        if not SHA.fullmatch(sha):
            raise RepoUnreadable(f"invalid object id {sha!r}")
        if expected_type != "blob":  # size first (blobs: object_size, by their callers)
            known = self._header(sha, sha, expected_type)
            if known is None:
                raise RepoUnreadable(f"object {sha} missing from {self.path.name}")
            if known[1] != expected_type:
                raise RepoUnreadable(f"object {sha} is a {known[1]}, expected {expected_type}")
            self._check_object_size(sha, known[1], known[2])
        try:
            header = self._contents.header(sha)
            data = self._contents.read_contents(header[2]) if header is not None else b""
        except BatchFailed:
            header = None
        if header is None:
            raise self._batch_failed(sha, expected_type) or RepoUnreadable(
                f"object {sha} missing from {self.path.name}")
        typename = header[1]
        if typename != expected_type:
            raise RepoUnreadable(f"object {sha} is a {typename}, expected {expected_type}")
        algorithm = hashlib.sha256 if len(sha) == 64 else hashlib.sha1
        if algorithm(b"%s %d\0" % (typename.encode(), len(data)) + data).hexdigest() != sha:
            self._contents.close()  # git may have died mid-object: never read this stream again
            raise RepoUnreadable(f"object hash mismatch for {sha}")
        return data

    def object_size(self, sha: str) -> int:
        header = self._header(sha, sha, "blob")
        if header is None:
            raise RepoUnreadable(f"object {sha} missing from {self.path.name}")
        return header[2]

    def _header(self, name: str, sha: str, kind: str) -> tuple[str, str, int] | None:
        """(sha, type, size) of ``name`` from ``cat-file --batch-check``; None: no stored ``kind``
        ``sha`` ("object": of any type)."""
        try:
            header = self._headers.header(name)
        except BatchFailed:  # stopped; the next request starts a fresh process
            header = None
        if header is not None:
            return header
        error = self._batch_failed(sha, kind)
        if error is None:
            return None
        raise error

    def _batch_failed(self, sha: str, kind: str) -> RepoUnreadable | None:
        """After the batch process gave no object (it answered "missing", or exited or answered
        garbage and was stopped): None when ``sha`` is absent or not a ``kind``, else why.

        Why ask again: for an object it finds but cannot inflate (a truncated or
        damaged loose object) batch ``cat-file`` answers "missing" too, or exits
        ("fatal: loose object ... is corrupt").  The stopped batch process is
        restarted by the next request, so the repository's other objects
        still read.  ``cat-file -e`` only checks that the object is stored; ``-t``
        and ``-p`` (output discarded) then read it and give git's reason.  Up to
        three processes, only for absent or damaged objects.
        """
        for option in ("-e", "-t", "-p"):
            status, out, err = self.git.cat_file(option, "--end-of-options", sha, with_extended_output=True,
                                                 with_exceptions=False, with_stdout=option != "-p")
            if status != 0 and option == "-e" and not err.strip():
                return None  # not stored at all
            if status != 0:
                reason = git_cause(err)
                return RepoUnreadable(f"{kind} {sha} is in {self.path.name} but cannot be read: {reason}")
            if option == "-t" and kind != "object" and out.strip() != kind:
                return None  # stored, but another type: no such commit
        return RepoUnreadable(f"{kind} {sha} is in {self.path.name} but git's batch reader cannot read it")

    def close(self) -> None:
        self._headers.close()
        self._contents.close()


def _text(value: str | bytes) -> str:
    """GitPython gives the batch answers as bytes or str depending on the version."""
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def scrub_git_environment() -> None:
    """Remove ``INHERITED_GIT_VARIABLES`` (and config key/value pairs) from ``os.environ``."""
    for name in [n for n in os.environ if n in INHERITED_GIT_VARIABLES or n.startswith(_CONFIG_PAIR)]:
        del os.environ[name]


def check_repo_layout(path: Path) -> None:
    """Refuse what would make git read outside the repository (a hostile data_store: security
    reference, section 4).

    Checked with ``lstat``, never through a link: ``git/``, ``git/<project>/`` and the repository
    folder are no symlinks; the folder holds no ``.git`` entry (a ``gitdir:`` file or a link would
    send git's discovery elsewhere) and no ``commondir``; it borrows no objects (``alternates``:
    any, since an alternate's own alternates are followed 5 deep, and a data_store repository has
    no business reading another object store); and no symlink is in its ``objects/`` or ``refs/``
    trees or is its ``HEAD``, ``config``, ``packed-refs``, ``shallow``, ``info/`` or ``info/grafts``.
    """
    parts = path.parts[-3:]
    for depth in range(len(parts)):  # git/, git/<project>/, the repository
        above = len(parts) - 1 - depth
        folder = path.parents[above - 1] if above else path
        if folder.is_symlink():
            shown = "repository" if depth == len(parts) - 1 else "/".join(parts[: depth + 1])
            raise RepoUnreadable(f"{shown} is a symlink; not followed")
    if not path.is_dir():
        raise RepoUnreadable("not a directory")
    if not (path / "HEAD").is_file() or not (path / "objects").is_dir():
        raise RepoUnreadable("not a bare git repository (no HEAD or objects/)")
    if os.path.lexists(path / ".git"):
        raise RepoUnreadable("holds a .git entry, which would send git to another repository; not allowed")
    if os.path.lexists(path / "commondir"):
        raise RepoUnreadable("commondir redirects the repository elsewhere; not allowed")
    for name in ("alternates", "http-alternates"):
        if os.path.lexists(path / "objects" / "info" / name):
            raise RepoUnreadable(f"objects/info/{name} borrows objects from another object store; not allowed")
    link = find_symlink(path)
    if link:
        raise RepoUnreadable(f"{link} is a symlink; not followed")


def find_symlink(path: Path) -> str:
    """The first symlink (relative to ``path``) among the files and trees git reads; "" when none.

    A walk of our own with ``scandir`` (the listing's file types: no ``stat`` per loose object),
    iterative so a deep ``refs/`` tree cannot exhaust the stack."""
    for name in LINK_CHECKED_FILES:
        if (path / name).is_symlink():
            return name
    pending = [name for name in LINK_CHECKED_TREES if os.path.lexists(path / name)]
    while pending:
        rel = pending.pop()
        if (path / rel).is_symlink():
            return rel
        try:
            with os.scandir(path / rel) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        return f"{rel}/{entry.name}"
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(f"{rel}/{entry.name}")
        except NotADirectoryError:
            continue  # a file where a folder belongs: git finds nothing there either
        except OSError as exc:
            raise RepoUnreadable(f"cannot read {rel}: {exc.strerror}") from None
    return ""


def read_small_text(path: Path) -> str:
    try:
        with open(path, "rb") as stream:
            return stream.read(64 * 1024).decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise RepoUnreadable(f"cannot read {path.name}: {exc.strerror}") from None


# ---------------------------------------------------------------- commits
def parse_commit(data: bytes) -> tuple[str, dict[str, str], str]:
    """(tree sha, headers, message) of a raw commit object."""
    head, _, message = data.partition(b"\n\n")
    headers: dict[str, str] = {}
    for line in head.split(b"\n"):
        key, _, value = line.partition(b" ")
        headers.setdefault(key.decode("ascii", "replace"), value.decode("utf-8", "replace"))
    return headers.get("tree", ""), headers, message.decode("utf-8", "replace")


# git writes ASCII digits ([0-9]: \d takes any script's, which int() would read as a time)
IDENT = re.compile(r"(?P<name>.*?) ?<(?P<email>[^>]*)> (?P<ts>-?[0-9]+) (?P<tz>[+-][0-9]{4})$")


def parse_ident(value: str) -> tuple[str, str, datetime | None]:
    """``Name <email> 1656161234 +0200`` -> name, email, tz-aware time."""
    match = IDENT.match(value)
    if not match:
        return value, "", None
    tz = match["tz"]
    offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])) * (-1 if tz[0] == "-" else 1)
    try:
        when = datetime.fromtimestamp(int(match["ts"]), tz=timezone(offset))
    except (OverflowError, OSError, ValueError):
        when = None
    return match["name"], match["email"], when


def parse_tree(data: bytes, hash_len: int, tree_sha: str = "") -> Iterator[tuple[str, str, str]]:
    """(mode, name, hex sha) entries of a raw tree object.

    A malformed tree (its hash is right: ``hash-object --literally`` stores anything) is
    ``RepoUnreadable`` naming it, so only the commits that need it fail."""
    raw_len = hash_len // 2
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        nul = data.find(b"\0", space + 1) if space >= 0 else -1
        if nul < 0 or nul + 1 + raw_len > len(data):
            raise RepoUnreadable(f"tree {tree_sha or '(unnamed)'} is malformed: entry at byte {pos} is cut short")
        mode = data[pos:space].decode("ascii", "replace")
        name = data[space + 1 : nul].decode("utf-8", "replace")
        sha = data[nul + 1 : nul + 1 + raw_len].hex()
        pos = nul + 1 + raw_len
        yield mode, name, sha


def walk_tree(repo: Repo, tree_sha: str, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    """(path, blob sha) of every regular file, sorted by path; submodules and links skipped."""
    if depth > 64:
        raise RepoUnreadable("tree nested deeper than 64 levels")
    for mode, name, sha in sorted(parse_tree(repo.read_object(tree_sha, "tree"), repo.hash_len, tree_sha), key=lambda e: e[1]):
        if mode in ("40000", "040000"):
            yield from walk_tree(repo, sha, f"{prefix}{name}/", depth + 1)
        elif mode.startswith("100"):
            yield prefix + name, sha


def read_files(repo: Repo, tree_sha: str, limits: ReadLimits) -> tuple[GitFile, ...]:
    files = []
    budget = MAX_COMMIT_BYTES
    for path, sha in walk_tree(repo, tree_sha):
        if len(files) >= MAX_FILES:
            break
        size = repo.object_size(sha)
        if size > limits.git_file_bytes or size > budget:
            files.append(GitFile(path, size, sha, None, truncated=True))
            continue
        data = repo.read_object(sha, "blob")
        budget -= size
        files.append(GitFile(path, size, sha, blob_text(data)))
    return tuple(files)


def shallow_note(git_dir: Path) -> str:
    """Why a commit may be missing: a shallow clone (CI checkouts default to one) has its history cut."""
    if (git_dir / "shallow").is_file():
        return " (a shallow clone: its history is cut; fetch it whole with git fetch --unshallow)"
    return ""


def blob_text(data: bytes) -> str | None:
    """Text of a blob, or None when it is binary (NUL bytes or not UTF-8)."""
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def build_commit(repo: Repo, sha: str, which: Which, limits: ReadLimits) -> Commit:
    """The commit ``sha`` names; for an annotated tag's SHA (what ``git rev-parse v1`` prints for
    one) the commit it points to, with a note in ``reason`` saying so."""
    commit_sha = repo.commit_of(sha)
    if commit_sha is None:
        return Commit(which, sha, "not-in-repo", why_not_a_commit(repo, sha))
    note = tag_note(repo, sha, commit_sha) if commit_sha != sha else ""
    raw = repo.read_object(commit_sha, "commit")
    tree, headers, message = parse_commit(raw)
    name, email, when = parse_ident(headers.get("author", ""))
    return Commit(
        repo=which,
        sha=commit_sha,
        state="present",
        reason=note,
        subject=message.split("\n", 1)[0],
        message=message,
        author=name,
        author_email=email,
        date=when,
        files=read_files(repo, tree, limits),
    )


def why_not_a_commit(repo: Repo, sha: str) -> str:
    """The reason of a ``not-in-repo`` commit: nothing stored under ``sha``, or what is."""
    where = repo.path.name
    if len(sha) != repo.hash_len:
        formats = {40: "SHA-1", 64: "SHA-256"}
        return (f"commit {sha} is a {formats[len(sha)]} id; {where} is a {formats[repo.hash_len]} "
                "repository, so it cannot hold it")
    kind = repo.object_type(sha)
    if kind is None:
        return f"commit {sha} not in {where}{shallow_note(repo.path)}"
    if kind != "tag":
        return f"{sha} in {where} is a {kind}, not a commit"
    headers = parse_commit(repo.read_object(sha, "tag"))[1]
    target, target_type = headers.get("object", ""), headers.get("type", "")
    if target_type == "commit":  # the tag is there, the commit it names is not (a cut history)
        return (f"{sha} in {where} is annotated tag {tag_name(headers)}; the commit it points to, "
                f"{target[:64]}, is not in {where}{shallow_note(repo.path)}")
    return f"{sha} in {where} is annotated tag {tag_name(headers)} of a {target_type[:20]}, not of a commit"


def tag_note(repo: Repo, sha: str, commit_sha: str) -> str:
    """What a present commit reached through annotated tag ``sha`` says (the job page and the problem)."""
    headers = parse_commit(repo.read_object(sha, "tag"))[1]
    return f"{sha} is annotated tag {tag_name(headers)}; showing the commit it points to, {commit_sha}"


def tag_name(headers: dict[str, str]) -> str:
    """A tag object's name, quoted (it is the repository's text: shown escaped and short)."""
    return repr(headers.get("tag", "")[:100])


# ---------------------------------------------------------------- tree diffs (the workflow diff page)
def read_tree_entries(repo: Repo, tree_sha: str) -> dict[str, tuple[str, str]]:
    """name -> (mode, sha) of one tree; {} for "" (the side of a diff that has no such folder)."""
    if not tree_sha:
        return {}
    return {name: ("40000" if mode == "040000" else mode, sha)
            for mode, name, sha in parse_tree(repo.read_object(tree_sha, "tree"), repo.hash_len, tree_sha)}


def diff_trees(repo: Repo, old_tree: str, new_tree: str, prefix: str = "",
               depth: int = 0) -> Iterator[tuple[str, str, str, str, str]]:
    """(path, old mode, old blob, new mode, new blob) of every regular file that differs, by path;
    "" on the side that lacks it.  A subtree with the same id on both sides is not read (as
    ``git diff-tree``); links and submodules are skipped, as ``walk_tree`` skips them."""
    if depth > 64:
        raise RepoUnreadable("tree nested deeper than 64 levels")
    old, new = read_tree_entries(repo, old_tree), read_tree_entries(repo, new_tree)
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name, ("", "")), new.get(name, ("", ""))
        if a == b:
            continue
        if "40000" in (a[0], b[0]):  # a folder on either side: its files, against the other's folder or nothing
            yield from diff_trees(repo, a[1] if a[0] == "40000" else "", b[1] if b[0] == "40000" else "",
                                  f"{prefix}{name}/", depth + 1)
        a_file = a if a[0].startswith("100") else ("", "")
        b_file = b if b[0].startswith("100") else ("", "")
        if a_file != b_file:
            yield prefix + name, *a_file, *b_file


def read_blob_text(repo: Repo, sha: str, limits: ReadLimits, budget: int) -> tuple[str | None, str, int]:
    """(text or None, why not shown, budget left) of one side of a changed file ("" sha: absent)."""
    if not sha:
        return None, "", budget
    size = repo.object_size(sha)
    if size > limits.git_file_bytes:
        return None, f"{size:,} bytes, over the {limits.git_file_bytes:,}-byte limit of a file shown", budget
    if size > budget:
        return None, f"{size:,} bytes, past the {MAX_COMMIT_BYTES:,} bytes read for one diff", budget
    text = blob_text(repo.read_object(sha, "blob"))
    return text, "" if text is not None else "binary", budget - size


def read_tree_changes(repo: Repo, old_tree: str, new_tree: str, limits: ReadLimits) -> tuple[tuple[TreeChange, ...], int]:
    """The files that differ between two trees, with their texts, under the limits of a commit's
    files (``MAX_FILES`` listed, ``limits.git_file_bytes`` a file, ``MAX_COMMIT_BYTES`` in all);
    and how many changed files were left out past ``MAX_FILES``."""
    changes: list[TreeChange] = []
    left_out, budget = 0, MAX_COMMIT_BYTES
    for path, old_mode, old_sha, new_mode, new_sha in diff_trees(repo, old_tree, new_tree):
        if len(changes) >= MAX_FILES:
            left_out += 1
            continue
        change = "added" if not old_sha else "removed" if not new_sha else "changed"
        if old_sha == new_sha:  # the same bytes: only the mode changed
            changes.append(TreeChange(path, "changed", None, None, f"mode {old_mode} -> {new_mode}, same content"))
            continue
        old_text, old_note, budget = read_blob_text(repo, old_sha, limits, budget)
        new_text, new_note, budget = read_blob_text(repo, new_sha, limits, budget)
        notes = [f"{side}: {note}" if change == "changed" else note
                 for side, note in (("before", old_note), ("after", new_note)) if note]
        changes.append(TreeChange(path, change, old_text, new_text, "; ".join(notes)))  # type: ignore[arg-type]
    return tuple(changes), left_out


DIFFS_KEPT = 16  # tree diffs a CommitCache keeps (read_tree_diff)
DIFF_TEXT_KEPT = 4 * 1024 * 1024  # a diff with more text than this is not kept: 16 of them stay under 64 MiB


class CommitCache:
    """Open repositories and commits already read, for one process (one per pool worker)."""

    def __init__(self, limits: ReadLimits = ReadLimits()) -> None:
        self.limits = limits
        self._repos: dict[Path, Repo | str] = {}
        self._commits: dict[tuple[Path, str, str], Commit] = {}
        self._blobs: dict[tuple[Path, str], dict[str, bytes]] = {}
        self._diffs: dict[tuple[Path | None, str, str], TreeDiff] = {}  # read_tree_diff's last pairs

    def read(self, repo_path: Path | None, sha: str, which: Which) -> Commit:
        early = classify_request(repo_path, sha, which)
        if early is not None:
            return early
        assert repo_path is not None
        key = (repo_path, sha, which)
        if key not in self._commits:
            self._commits[key] = self._read(repo_path, sha, which)
        return self._commits[key]

    def resolve(self, repo_path: Path | None, sha: str, which: Which) -> Commit:
        """What ``read`` would say of ``sha`` (its commit sha, state and reason) without reading the
        commit's message and files: the incremental site build asks it for every kept job when a
        repository changed (one ``--batch-check`` line per commit, not every blob of its tree)."""
        early = classify_request(repo_path, sha, which)
        if early is not None:
            return early
        assert repo_path is not None
        repo = self._open(repo_path)
        if isinstance(repo, str):
            return Commit(which, sha, "unreadable", repo)
        try:
            commit_sha = repo.commit_of(sha)
            if commit_sha is None:
                return Commit(which, sha, "not-in-repo", why_not_a_commit(repo, sha))
            return Commit(which, commit_sha, "present", tag_note(repo, sha, commit_sha) if commit_sha != sha else "")
        except RepoUnreadable as exc:
            return Commit(which, sha, "unreadable", str(exc))
        except (ValueError, OSError) as exc:  # the batch process died or answered garbage (as ``_read``)
            return Commit(which, sha, "unreadable", git_failed(repo, exc))

    def _read(self, repo_path: Path, sha: str, which: Which) -> Commit:
        repo = self._open(repo_path)
        if isinstance(repo, str):
            return Commit(which, sha, "unreadable", repo)
        try:
            return build_commit(repo, sha, which, self.limits)
        except RepoUnreadable as exc:
            return Commit(which, sha, "unreadable", str(exc))
        except (ValueError, OSError) as exc:  # the batch process died or answered garbage
            return Commit(which, sha, "unreadable", git_failed(repo, exc))

    def _open(self, repo_path: Path) -> Repo | str:
        if repo_path not in self._repos:
            try:
                self._repos[repo_path] = Repo(repo_path, max(MAX_OBJECT_BYTES, self.limits.git_file_bytes))
            except RepoUnreadable as exc:
                self._repos[repo_path] = str(exc)
            except OSError as exc:
                self._repos[repo_path] = f"cannot run git: {exc.strerror or exc}"
            except GitCommandNotFound:  # require_git stops the commands before this; a worker degrades
                self._repos[repo_path] = "cannot run git: not found on PATH"
        return self._repos[repo_path]

    def read_tree_diff(self, repo_path: Path | None, old_sha: str, new_sha: str, which: Which = "workflow") -> TreeDiff:
        """The files that differ between two commits of one repository (``read_tree_changes``).

        Kept for the next jobs (``DIFFS_KEPT`` pairs, each under ``DIFF_TEXT_KEPT`` bytes of text):
        the jobs run on one workflow commit all diff the same pair, and reading it again for each
        cost 3 ms of a 2,000-job build's every workflow diff page."""
        key = (repo_path, old_sha, new_sha)
        if key in self._diffs:
            return self._diffs[key]
        diff = self._read_tree_diff(repo_path, old_sha, new_sha, which)
        if sum(len(c.old_text or "") + len(c.new_text or "") for c in diff.changes) <= DIFF_TEXT_KEPT:
            if len(self._diffs) >= DIFFS_KEPT:
                del self._diffs[next(iter(self._diffs))]  # the oldest first
            self._diffs[key] = diff
        return diff

    def _read_tree_diff(self, repo_path: Path | None, old_sha: str, new_sha: str, which: Which) -> TreeDiff:
        for sha in (old_sha, new_sha):
            early = classify_request(repo_path, sha, which)
            if early is not None:
                return TreeDiff(old_sha, new_sha, "unreadable", reason=early.reason)
        assert repo_path is not None
        repo = self._open(repo_path)
        if isinstance(repo, str):
            return TreeDiff(old_sha, new_sha, "unreadable", reason=repo)
        try:
            trees = []
            for sha in (old_sha, new_sha):
                if not repo.has_commit(sha):
                    return TreeDiff(old_sha, new_sha, "unreadable",
                                    reason=f"commit {sha} not in {repo.path.name}{shallow_note(repo.path)}")
                trees.append(parse_commit(repo.read_object(sha, "commit"))[0])
            changes, left_out = read_tree_changes(repo, trees[0], trees[1], self.limits)
            return TreeDiff(old_sha, new_sha, "present", changes, left_out=left_out)
        except RepoUnreadable as exc:
            return TreeDiff(old_sha, new_sha, "unreadable", reason=str(exc))
        except (ValueError, OSError) as exc:  # the batch process died or answered garbage (as ``_read``)
            return TreeDiff(old_sha, new_sha, "unreadable", reason=git_failed(repo, exc))

    def read_blobs(self, repo_path: Path | None, commit: Commit) -> dict[str, bytes]:
        """Exact bytes of every file listed for ``commit`` (hash-checked); {} when any cannot be read.

        Cached per commit: the jobs of a project share a few commits.
        """
        if repo_path is None or commit.state != "present" or not commit.files:
            return {}
        key = (repo_path, commit.sha)
        if key not in self._blobs:
            self._blobs[key] = self._read_blobs(repo_path, commit)
        return self._blobs[key]

    def _read_blobs(self, repo_path: Path, commit: Commit) -> dict[str, bytes]:
        repo = self._open(repo_path)
        if isinstance(repo, str):
            return {}
        try:
            return {f.path: repo.read_object(f.blob_sha, "blob") for f in commit.files}
        except (RepoUnreadable, ValueError, OSError):
            return {}

    def close(self) -> None:
        for repo in self._repos.values():
            if isinstance(repo, Repo):
                repo.close()
        self._repos.clear()
        self._blobs.clear()
        self._diffs.clear()


def git_failed(repo: Repo, exc: Exception) -> str:
    """The reason of a commit whose read failed in git itself: its batch processes are stopped and
    the next request starts fresh ones.  The repository stays open: marking it failed made every
    later commit of the same worker unreadable, so the output depended on ``--workers``."""
    repo.close()
    return f"git failed: {exc}"[:200]


def normalise_commit_id(recorded: str) -> str:
    """A recorded commit id as git is asked for it: stripped and lowercased when that makes it a
    full SHA, else as recorded (``classify_request`` then says why it is invalid).

    git reads hex case-blind, and a writer that stores ``git rev-parse HEAD``'s output unstripped
    records a newline after the SHA: neither changes which commit is meant.
    """
    candidate = recorded.strip().lower()
    return candidate if candidate.isascii() and SHA.fullmatch(candidate) else recorded


def invalid_id_reason(sha: str) -> str:
    """Why ``sha`` is no commit id; a run of hex digits of the wrong length says how many it has."""
    reason = f"invalid commit id {sha[:80]!r}"
    digits = sha.strip().lower()
    if not digits.isascii() or not HEX.fullmatch(digits):
        return reason
    if SHA.fullmatch(digits):  # what ``normalise_commit_id`` turns into a SHA, given to git unchanged
        return f"{reason}: uppercase or with whitespace around it"
    if 4 <= len(digits) < 40:
        return f"{reason}: abbreviated ({len(digits)} hex digits); Entropy records the full 40 (or 64)"
    return f"{reason}: {len(digits)} hex digits; a commit id has 40 (SHA-1) or 64 (SHA-256)"


def classify_request(repo_path: Path | None, sha: str, which: Which) -> Commit | None:
    """The states decided without running git: absent, invalid, repo-missing."""
    if sha == "":
        return Commit(which, "", "absent", f"no {which} commit attribute")
    if not SHA.fullmatch(sha):
        return Commit(which, sha, "invalid", invalid_id_reason(sha))
    if repo_path is None or not os.path.lexists(repo_path):
        return Commit(which, sha, "repo-missing", f"{which} repository missing")
    return None


def read_commit(repo: Path | None, sha: str, which: Which, limits: ReadLimits = ReadLimits()) -> Commit:
    """One commit of one repository, with its files; a state instead of an exception."""
    cache = CommitCache(limits)
    try:
        return cache.read(repo, sha, which)
    finally:
        cache.close()


# ---------------------------------------------------------------- bundles and restore (the only writes, into fresh output folders)
# Why git runs here beyond plumbing reads: the export carries *whole* histories
# (``git bundle create``) and restore rebuilds bare repositories from them
# (``clone --mirror`` of the bundle), only ever into a fresh staging folder.  Same
# hardening as the reader (HARDENED_ENV, HARDENED_CONFIG), in an environment
# that inherits nothing, plus: one pack thread and no delta cache so that the
# same repository gives byte-identical bundles; no ssh; the file transport
# allowed only so that the clone can read a bundle file.
BUNDLE_CONFIG = [
    "core.sshCommand=false",
    "protocol.file.allow=always",
    "pack.threads=1",
    "pack.deltaCacheSize=0",
    "gc.auto=0",
    "init.defaultBranch=main",
]


def bundle_env(git_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/nonexistent",
        "LC_ALL": "C",
        "GIT_ASKPASS": "/bin/false",
        "GIT_CEILING_DIRECTORIES": str(git_dir.parent),
        **HARDENED_ENV,
    }


def run_git(git_dir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """One git command on ``git_dir``; never raises on a git failure (callers check returncode)."""
    options = [item for setting in config_options() + BUNDLE_CONFIG for item in ("-c", setting)]
    command = ["git", *options, f"--git-dir={git_dir}", *args]
    try:
        return subprocess.run(command, capture_output=True, env=bundle_env(git_dir), timeout=timeout, check=False)
    except FileNotFoundError:
        raise ToolMissingError("git", "not found on PATH (install git)") from None


def check_trusted(git_dir: Path) -> None:
    """Refuse (66) a repository git refuses for "dubious ownership", before anything is carried.

    ``run_git`` names its repository with ``--git-dir``, and git checks ownership only when it
    finds a repository by itself (as ``Repo`` lets it, from the folder): without this check an
    export bundled a repository whose commits the same run could not read, and wrote an archive
    without the jobs' workflow and parameters, exit 0.  git's refusal stands (security reference,
    section 4): the line says how to trust the repository.  A repository ``check_repo_layout``
    refuses is not this check's to report (``read_bundle`` leaves it out): its ``.git`` entry would
    have git judge another repository."""
    try:
        check_repo_layout(git_dir)
    except RepoUnreadable:
        return
    options = [item for setting in config_options() for item in ("-c", setting)]
    try:
        done = subprocess.run(["git", *options, "rev-parse", "--git-dir"], cwd=git_dir, capture_output=True,
                              env=bundle_env(git_dir), timeout=60, check=False)
    except FileNotFoundError:
        raise ToolMissingError("git", "not found on PATH (install git)") from None
    except (OSError, subprocess.TimeoutExpired):
        return  # not this check's to report: the reader and the bundle say what is wrong with it
    if b"dubious ownership" in done.stderr:
        raise InputMissingError(git_dir, git_cause(done.stderr, repo=git_dir.absolute()))


def read_head(git_dir: Path) -> str:
    """Content of HEAD ("ref: refs/heads/main\\n"); "" when absent or unreadable."""
    try:
        with open(git_dir / "HEAD", "rb") as fh:
            return fh.read(4096).decode("utf-8", "replace")  # a real HEAD is one short line
    except OSError:
        return ""


def read_bundle(git_dir: Path) -> bytes | None:
    """A bundle of every ref of ``git_dir``, or None when git cannot make one (empty, broken).

    Written to git's stdout, not to a temporary file: a full TMPDIR must not
    pass for a repository that cannot be bundled.  A failure of the machine
    (disk full, EIO, out of memory) is a ``WriteError``.  A repository ``check_repo_layout``
    refuses (links, alternates, a ``.git`` entry: git would read another repository) is None too:
    its files travel as files, links not followed.
    """
    try:
        check_repo_layout(git_dir)
    except RepoUnreadable:
        return None
    done = run_git(git_dir, "bundle", "create", "--quiet", "-", "--all")
    if done.returncode != 0 and is_environment_failure(done.stderr):
        raise WriteError(git_dir, f"git bundle create failed: {git_cause(done.stderr)}")
    if done.returncode != 0 or not done.stdout:
        return None
    return done.stdout


def read_refs(git_dir: Path) -> dict[str, str]:
    """ref name -> commit SHA for every ref (what restore must give back)."""
    done = run_git(git_dir, "for-each-ref", "--format=%(refname) %(objectname)")
    if done.returncode != 0:
        return {}
    refs = {}
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        name, _, sha = line.partition(" ")
        refs[name] = sha
    return refs


def git_cause(stderr: bytes | str, returncode: int | None = None, repo: Path | None = None) -> str:
    """The cause in git's several lines of stderr, as one line of at most 200 characters: its
    first ``fatal:`` line (the ``error:`` lines before it are symptoms, and fast-import on a full
    disk prints two fatal lines and a note about its crash report), else its first line.  The
    one reader of git's stderr: the site, the bundle and the example generator all use it."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    if "dubious ownership" in text:
        return ("dubious ownership: the repository belongs to another user and git refuses it; to trust it: "
                f"git config --global --add safe.directory {shlex.quote(str(repo)) if repo else '<its path>'}")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    silent = "git failed" if returncode is None else f"exit status {returncode}, no message"
    chosen = next((line for line in lines if line.startswith("fatal: ")), lines[0] if lines else silent)
    return chosen.removeprefix("fatal: ").removeprefix("error: ")[:200]


def write_repo_from_bundle(git_dir: Path, bundle: Path, head: str) -> None:
    """A bare repository at the fresh ``git_dir`` holding every ref of ``bundle``, HEAD as recorded.

    ``git_dir`` must not exist: a folder already there could hold a ``config`` or
    ``objects/info/alternates`` that git would read (a config can name commands to run).
    An empty template: no sample hooks, ``info/exclude`` or ``branches/`` the original lacked.

    ``clone --mirror`` rather than ``init`` and ``fetch refs/*:refs/*``: a clone writes its refs
    as one ``packed-refs`` file (a fetch wrote one loose file per ref: 40,000 of them for a
    repository that tags every run, twice the time), takes the bundle's object format
    (SHA-1 or SHA-256) from the bundle, and checks connectivity as a fetch does.  The
    remote it records (the temporary bundle) is removed again."""
    git_dir.mkdir()  # FileExistsError if anything is there: never clone over existing files
    clone = run_git(git_dir, "clone", "--quiet", "--mirror", "--template=", str(bundle), str(git_dir))
    if clone.returncode != 0 and is_environment_failure(clone.stderr):
        raise WriteError(git_dir, f"git clone failed: {git_cause(clone.stderr)}")
    if clone.returncode != 0:
        raise BadInputError(bundle, git_cause(clone.stderr))  # the caller says what the bundle was for
    forget = run_git(git_dir, "config", "--remove-section", "remote.origin")
    if forget.returncode != 0:
        raise WriteError(git_dir, f"git config failed: {git_cause(forget.stderr)}")
    if head:
        (git_dir / "HEAD").write_text(head, encoding="utf-8")
