"""A data_store folder -> ``StoreScan`` (names only) -> ``DataStore`` (everything read).

Layout (reference ``entropyhub-layout.md`` 2.1 and D1-D6)::

    data_store/<project>/<job id>.hdf5          one per job (output_data.hdf5: command-line run)
    data_store/<project>/<job id>/<node>.log    one per node
    data_store/git/<project>/workflow.git       bare repositories
    data_store/git/<project>/params.git

``scan_data_store`` lists names and stats only.  ``read_job`` reads one job
(HDF5, logs, commits) into a ``Job`` and derives its status (D4) and times
(D5).  ``read_data_store`` does both for every job, the HDF5 part in sandboxed
worker processes (``reportgen.readers.sandbox``).  Nothing is ever written to
the data_store; every surprise is a ``Problem``, never an exception.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote_from_bytes, unquote_to_bytes

from reportgen.errors import BadInputError, InputMissingError
from reportgen.readers.git import CommitCache, normalise_commit_id, require_git
from reportgen.readers.logs import NotRegularFile, describe_mode, open_regular, read_log
from reportgen.records import (
    Commit,
    DataStore,
    FileStat,
    Job,
    JobRef,
    LogFile,
    NodeGroup,
    Problem,
    Project,
    ProjectScan,
    ReadLimits,
    Status,
    StoreScan,
)
from reportgen.timetext import render_utc

GIT_DIR = "git"
COMMAND_LINE_JOB = "output_data"
EXECUTOR_RESULT = "_executor_result.json"
# Unreleased executor (reference 2.3, PR #301) writes ./data_index.json next to the job's HDF5
# file; the job's own folder is where the Hub would keep it.  Accepted, never required, not read.
DATA_INDEX = "data_index.json"
ACCEPTED_LOG_DIR_FILES = frozenset({EXECUTOR_RESULT, DATA_INDEX})
EXECUTOR_RESULT_BYTES = 1024 * 1024  # the executor's summary is a few hundred bytes; more is not it
# The fields of the executor's result (reference 2.4) and what each must be when present.
_RESULT_FIELDS = {"status": "a string", "status_message": "a string", "nodes_success": "a count",
                  "nodes_error": "a count", "nodes_count": "a count", "nodes": "an object of strings"}
REQUIRED_ROOT_ATTRS = ("project", "job_eui", "job_description", "workflow_eui", "parameters_eui", "creation_timestamp")

# Reads one job's HDF5 file; swapped by the pool for a crash report.
Hdf5Reader = Callable[[Path, str, ReadLimits], "Hdf5Job"]


# ---------------------------------------------------------------- names
def display_name(name: str) -> str:
    """A file name as valid UTF-8 text: undecodable bytes shown as ``\\xNN``."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def encode_name(name: str) -> str:
    """A name (or a relative path) as exact, valid UTF-8 text: itself when valid UTF-8, else "/"
    + its bytes percent-escaped (``/j%FF``).  A listed name never starts with "/", so no two
    names share a text; build-manifest.json and ``inspect --json`` both write names so."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, held as surrogates (surrogateescape)
        return "/" + quote_from_bytes(name.encode("utf-8", "surrogateescape"), safe="")
    return name


def decode_name(text: str) -> str:
    """The inverse of ``encode_name``."""
    if text.startswith("/"):
        return unquote_to_bytes(text[1:]).decode("utf-8", "surrogateescape")
    return text


def is_utf8(name: str) -> bool:
    return display_name(name) == name


def file_stat(root: Path, rel: str) -> FileStat | None:
    try:
        st = os.lstat(root / rel)
    except OSError:
        return None
    return FileStat(rel, st.st_size, st.st_mtime_ns)


def list_dir(path: Path) -> list[os.DirEntry[str]]:
    with os.scandir(path) as entries:
        return sorted(entries, key=lambda e: os.fsencode(e.name))


# ---------------------------------------------------------------- scanning
def check_data_store_dir(root: Path) -> None:
    """Refuse (66) a data_store that is missing or not a folder: every command that reads one says
    it in these words, before any other work (export and bundle: ``check_data_store_given``)."""
    if not root.exists():
        raise InputMissingError(root, "data_store not found")
    if not root.is_dir():
        raise InputMissingError(root, "data_store is not a directory")


def check_data_store_given(root: Path) -> None:
    """``check_data_store_dir`` for the commands that pack a data_store (export, bundle), where a
    file is most likely an archive given in its data_store's place: bad input (65), said so."""
    if root.exists() and not root.is_dir():
        raise BadInputError(root, "is a file, not a data_store folder")
    check_data_store_dir(root)


def scan_data_store(root: Path) -> StoreScan:
    """Projects, jobs, logs and repositories by name; no file content read."""
    root = Path(root)
    check_data_store_dir(root)
    try:
        entries = list_dir(root)
    except PermissionError:
        raise InputMissingError(root, "permission denied") from None
    problems: list[Problem] = []
    projects = []
    for entry in entries:
        name = display_name(entry.name)
        if entry.name == GIT_DIR and entry.is_dir(follow_symlinks=False):
            problems.extend(scan_git_dir(root, {e.name for e in entries}))
        elif skip_entry(entry, name, problems, kind="project folder"):
            continue
        elif entry.is_dir(follow_symlinks=False):
            projects.append(scan_project(root, entry.name, problems))
        else:
            problems.append(Problem("warning", "stray-file", name, "", "stray file at the data_store root; ignored"))
    check_store_level(root, entries, projects)
    if any(p.workflow_repo or p.params_repo for p in projects):
        require_git()  # here, in the parent: every reader of the repositories starts with a scan
    return StoreScan(str(root), tuple(projects), tuple(problems))


def check_store_level(root: Path, entries: list[os.DirEntry[str]], projects: list[ProjectScan]) -> None:
    """Refuse (66) a folder one level off its data_store, which would otherwise build a site of junk
    "projects" and exit 0 (a nightly job stays green).  Only on evidence: no project holds a job
    file, and the folder holds job files itself (a project folder) or a folder inside it has a
    data_store's ``git/`` while it has none (the data_store's parent).  An empty or new data_store
    is not refused."""
    if any(ref.hdf5 is not None for project in projects for ref in project.jobs):
        return
    own = [e.name for e in entries if e.name.endswith(".hdf5") and e.is_file(follow_symlinks=False)]
    if own:
        raise InputMissingError(root, f"not a data_store: it holds job files itself ({display_name(own[0])}), as a "
                                      f"project folder does; its data_store would be {str(root.resolve().parent)!r}")
    if (root / GIT_DIR).is_dir():
        return
    inner = [e.name for e in entries if e.is_dir(follow_symlinks=False) and has_repo_folders(root / e.name / GIT_DIR)]
    if inner:
        raise InputMissingError(root, f"not a data_store: no project holds a job file, and {display_name(inner[0])!r} "
                                      f"inside it has a data_store's git/ folder; its data_store would be {str(root / inner[0])!r}")


def data_store_evidence(folder: Path, look_at: int = 64) -> str:
    """What makes ``folder`` look like a data_store ("" when nothing does): its ``git/`` of project
    repositories, or a job file in one of its first folders.  Outputs (a site, a bundle) are
    refused on it even with ``--force``: the arguments swapped must never replace a lab's records."""
    if has_repo_folders(folder / GIT_DIR, look_at):
        return "it has git/ with a project's workflow.git or params.git"
    try:
        with os.scandir(folder) as entries:
            subfolders = [e.path for e in itertools.islice(entries, look_at) if e.is_dir(follow_symlinks=False)]
        for sub in subfolders:
            with os.scandir(sub) as inner:
                job = next((e.name for e in itertools.islice(inner, look_at) if e.name.endswith(".hdf5")), None)
            if job is not None:
                return f"it holds job files ({Path(sub).name}/{display_name(job)})"
    except OSError:  # vanished or unreadable: no evidence
        return ""
    return ""


def has_repo_folders(git_dir: Path, look_at: int = 64) -> bool:
    """``git_dir`` holds a ``<project>/workflow.git`` or ``params.git`` among its first entries."""
    try:
        with os.scandir(git_dir) as found:
            return any(is_repo_folder(Path(e.path)) for e in itertools.islice(found, look_at)
                       if e.is_dir(follow_symlinks=False))
    except OSError:  # no such folder, or not readable: no evidence
        return False


def skip_entry(entry: os.DirEntry[str], name: str, problems: list[Problem], kind: str) -> bool:
    """Dotfiles, temp files and symlinks are reported and never read."""
    if entry.name.startswith("."):
        problems.append(Problem("warning", "dotfile", name, "", "hidden file or folder; ignored"))
    elif entry.name.endswith(".tmp"):
        problems.append(Problem("warning", "temp-file", name, "", "temporary file; ignored"))
    elif entry.is_symlink():
        problems.append(Problem("warning", "symlink", name, "", f"symlink where a {kind} was expected; not followed"))
    elif special := special_kind(entry):
        problems.append(special_problem(name, special))
    else:
        return False
    return True


def special_kind(entry: os.DirEntry[str]) -> str:
    """"FIFO", "socket", "character device"... for an entry that is no regular file, folder or symlink.

    Why at scan time: opening a FIFO blocks until someone writes to it, and a
    device can be endless, so such a name must never reach a reader.
    """
    if entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False) or entry.is_symlink():
        return ""  # from the listing's file type: no extra system call for ordinary entries
    try:
        return describe_mode(entry.stat(follow_symlinks=False).st_mode)
    except OSError:
        return ""  # vanished since the listing


def special_problem(name: str, kind: str) -> Problem:
    return Problem("warning", "special-file", name, "", f"{kind}, not a regular file; never opened")


def scan_git_dir(root: Path, top_names: set[str]) -> list[Problem]:
    """``git/`` holds ``<project>/`` repository folders; anything else means a project named git."""
    problems = []
    for entry in list_dir(root / GIT_DIR):
        rel = f"{GIT_DIR}/{display_name(entry.name)}"
        if entry.is_dir(follow_symlinks=False) and is_repo_folder(root / GIT_DIR / entry.name):
            if entry.name not in top_names and entry.name != GIT_DIR:
                problems.append(Problem("warning", "orphan-repos", rel, "", "repositories of a project that has no folder"))
            continue
        problems.append(
            Problem(
                "error",
                "project-named-git",
                rel,
                "",
                "a project named 'git' collides with the reserved git/ folder of repositories; its jobs are not read",
            )
        )
    return problems


def is_repo_folder(path: Path) -> bool:
    """``git/<project>/`` holds workflow.git or params.git; a job's log folder of a project named git does not."""
    return (path / "workflow.git").is_dir() or (path / "params.git").is_dir()


def scan_project(root: Path, name: str, store_problems: list[Problem]) -> ProjectScan:
    """Jobs of one project folder: ``<id>.hdf5`` and ``<id>/`` matched by id."""
    shown = display_name(name)
    problems: list[Problem] = []
    if not is_utf8(name):
        problems.append(Problem("warning", "name-not-utf8", shown, "", "folder name is not valid UTF-8 (shown escaped)"))
    files: dict[str, str] = {}
    folders: dict[str, str] = {}
    try:
        entries = list_dir(root / name)
    except PermissionError:
        entries = []
        problems.append(Problem("error", "permission-denied", shown, "", "permission denied"))
    for entry in entries:
        rel = f"{name}/{entry.name}"
        if skip_entry(entry, display_name(rel), problems, kind="job"):
            continue
        if entry.is_dir(follow_symlinks=False):
            folders[entry.name] = rel
        elif entry.name.endswith(".hdf5") and len(entry.name) > len(".hdf5"):
            files[entry.name[: -len(".hdf5")]] = rel
        else:
            problems.append(Problem("warning", "stray-file", display_name(rel), "", "not a job file or log folder; ignored"))
    job_ids = sorted(files.keys() | folders.keys(), key=os.fsencode)
    jobs = tuple(build_job_ref(root, name, job_id, files.get(job_id), folders.get(job_id)) for job_id in job_ids)
    workflow, params = (repo_rel(root, name, which) for which in ("workflow.git", "params.git"))
    if jobs and workflow is None:
        problems.append(Problem("warning", "repo-missing", f"{GIT_DIR}/{shown}/workflow.git", "", "workflow repository missing"))
    if jobs and params is None:
        problems.append(Problem("warning", "repo-missing", f"{GIT_DIR}/{shown}/params.git", "", "params repository missing"))
    return ProjectScan(
        name=shown,
        jobs=jobs,
        problems=tuple(problems),
        workflow_repo=workflow,
        params_repo=params,
        repo_fingerprint=repo_fingerprint(root, [r for r in (workflow, params) if r]),
        folder=name,
    )


def build_job_ref(root: Path, project: str, job_id: str, hdf5_rel: str | None, dir_rel: str | None) -> JobRef:
    logs: list[FileStat] = []
    others: list[FileStat] = []
    if dir_rel is not None:
        try:
            for entry in list_dir(root / dir_rel):
                if entry.name.endswith(".log") and entry.is_file(follow_symlinks=False):
                    found = file_stat(root, f"{dir_rel}/{entry.name}")
                    if found:
                        logs.append(found)
                else:
                    others.append(_entry_stat(entry, f"{dir_rel}/{entry.name}"))
        except OSError:
            pass  # reported when the job is read
    return JobRef(
        project=project,
        job_id=job_id,
        hdf5=file_stat(root, hdf5_rel) if hdf5_rel else None,
        logs=tuple(logs),
        log_dir=dir_rel,
        command_line_run=job_id == COMMAND_LINE_JOB,
        others=tuple(others),
    )


def _entry_stat(entry: os.DirEntry[str], rel: str) -> FileStat:
    """Size and mtime of a folder entry, links not followed; a folder's size is 0 (it depends on
    the file system, so a copied store would look changed)."""
    st = entry.stat(follow_symlinks=False)
    return FileStat(rel, 0 if stat.S_ISDIR(st.st_mode) else st.st_size, st.st_mtime_ns)


def repo_rel(root: Path, project: str, which: str) -> str | None:
    rel = f"{GIT_DIR}/{project}/{which}"
    return rel if os.path.lexists(root / rel) else None


def repo_fingerprint(root: Path, repos: list[str]) -> str:
    """Changes whenever a ref, a pack or a loose object of either repository is added, removed or rewritten.

    Only what the files say is hashed: the name, size and mtime of each
    regular file (HEAD, packed-refs, refs, packs, objects/info, and shallow, commondir and
    info/grafts, which change what git reads) and the sorted
    names in each folder (loose objects by name only: an object's name is its
    content, and one stat per object would cost too much).  A folder's own
    size and mtime are left out: they depend on the file system (4096 on
    ext4, a few hundred bytes on tmpfs), so the same store copied elsewhere
    keeps its fingerprint.
    """
    digest = hashlib.sha256()
    for rel in repos:
        for sub in ("HEAD", "packed-refs", "refs", "objects", "shallow", "commondir", "info/grafts"):
            for line in iter_fingerprint_lines(root, root / rel / sub):
                digest.update(line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


LOOSE_OBJECT_FOLDER = re.compile(r"[0-9a-f]{2}")


def iter_fingerprint_lines(root: Path, path: Path, depth: int = 0) -> Iterator[str]:
    """One line per regular file (name, size, mtime) and per folder (its sorted names), links not followed."""
    try:
        st = path.lstat()
    except OSError:
        return
    name = str(path.relative_to(root))
    if stat.S_ISREG(st.st_mode):
        yield f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n"
    elif stat.S_ISDIR(st.st_mode) and depth < 16:
        try:
            children = sorted(os.listdir(path))
        except OSError:
            return
        yield f"{name}/\0{'/'.join(children)}\n"
        loose = path.parent.name == "objects" and LOOSE_OBJECT_FOLDER.fullmatch(path.name)
        for child in [] if loose else children:
            yield from iter_fingerprint_lines(root, path / child, depth + 1)


# ---------------------------------------------------------------- one job
def read_job(root: Path, ref: JobRef, limits: ReadLimits = ReadLimits(), commits: CommitCache | None = None) -> Job:
    """Everything of one job, read in this process; problems instead of exceptions."""
    from reportgen.readers.hdf5 import read_hdf5_job  # h5py only where HDF5 is read

    return build_job(root, ref, limits, commits, read_hdf5_job)


def build_job(
    root: Path, ref: JobRef, limits: ReadLimits, commits: CommitCache | None, hdf5_reader: Hdf5Reader
) -> Job:
    root = Path(root)
    own_cache = commits is None
    commits = commits or CommitCache(limits)
    try:
        return _build_job(root, ref, limits, commits, hdf5_reader)
    finally:
        if own_cache:
            commits.close()


def _build_job(root: Path, ref: JobRef, limits: ReadLimits, commits: CommitCache, hdf5_reader: Hdf5Reader) -> Job:
    problems: list[Problem] = []
    job_rel = display_name(f"{ref.project}/{ref.job_id}")
    if not is_utf8(ref.job_id):
        problems.append(Problem("warning", "name-not-utf8", job_rel, "", "job id is not valid UTF-8 (shown escaped)"))
    content = read_hdf5_part(root, ref, limits, hdf5_reader, problems)
    logs = read_logs(root, ref, limits, problems)
    unreadable = frozenset(content.unreadable_attrs) if content else frozenset()
    # Checked values only: an unreadable attribute was reported once by the reader, and its
    # "<unreadable attribute: ...>" text must not come back as a bad SHA, EUI or time.
    attrs = {key: value for key, value in content.root_attrs if key not in unreadable} if content else {}
    project = display_name(ref.project)
    workflow = read_commit(commits, root, ref, attrs, unreadable, "workflow")
    params = read_commit(commits, root, ref, attrs, unreadable, "params")
    nodes = content.nodes if content else ()
    if content and content.readable:
        problems.extend(check_root_attrs(ref, attrs, unreadable))
        problems.extend(check_commits(ref, (workflow, params), unreadable, attrs))
    problems.extend(check_nodes_vs_logs(ref, nodes, logs, bool(content and content.readable)))
    end_time, end_problem = parse_creation_timestamp(attrs.get("creation_timestamp", ""))
    if end_problem and "creation_timestamp" in attrs:
        problems.append(Problem("warning", "bad-creation-timestamp", hdf5_display(ref), "/", end_problem))
    start_time, start_source = approximate_start(nodes, logs)
    # A time misread (a zone), or logs copied without their mtimes; an hour's slack for the clocks of two machines.
    if start_time and end_time and start_time - end_time > timedelta(hours=1):
        problems.append(Problem("warning", "start-after-end", hdf5_display(ref), "/",
                                f"approximate start {render_utc(start_time)}Z (from {start_source}) is more than an hour after "
                                f"the end {render_utc(end_time)}Z (@creation_timestamp)"))
    executor_failed, executor_problem = read_executor_result(root, ref)
    if executor_problem:
        problems.append(executor_problem)
    status = derive_status(ref, content, nodes, logs, problems, executor_failed)
    return Job(
        project=project,
        job_id=display_name(ref.job_id),
        hdf5_file=hdf5_display(ref) if ref.hdf5 else None,
        log_dir=display_name(ref.log_dir) if ref.log_dir else None,
        file_size=ref.hdf5.size if ref.hdf5 else 0,
        file_mtime=datetime.fromtimestamp(ref.hdf5.mtime_ns / 1e9, tz=timezone.utc) if ref.hdf5 else None,
        root_attrs=content.root_attrs if content else (),
        description=attrs.get("job_description", ""),
        job_eui=attrs.get("job_eui", ""),
        creation_timestamp=attrs.get("creation_timestamp", ""),
        end_time=end_time,
        start_time=start_time,
        start_time_source=start_source,
        nodes=nodes,
        logs=logs,
        workflow=workflow,
        params=params,
        status=status,
        problems=tuple(problems),
        command_line_run=ref.command_line_run,
        raw_job_id=ref.job_id,
        raw_hdf5_file=ref.hdf5.path if ref.hdf5 else None,
        raw_log_dir=ref.log_dir,
    )


# repo -> (root attribute holding its SHA, repository folder)
COMMIT_ATTRS = {"workflow": ("workflow_commit", "workflow.git"), "params": ("parameters_commit", "params.git")}


def read_commit(commits: CommitCache, root: Path, ref: JobRef, attrs: dict[str, str],
                unreadable: frozenset[str], repo: str) -> Commit:
    attr, folder = COMMIT_ATTRS[repo]
    if attr in unreadable:
        return Commit(repo, "", "invalid", f"attribute @{attr} cannot be read")  # type: ignore[arg-type]
    return commits.read(repo_path(root, ref.project, folder), normalise_commit_id(attrs.get(attr, "")), repo)


def repo_path(root: Path, project: str, which: str) -> Path | None:
    path = root / GIT_DIR / project / which
    return path if os.path.lexists(path) else None


def hdf5_display(ref: JobRef) -> str:
    return display_name(ref.hdf5.path) if ref.hdf5 else ""


def read_hdf5_part(root: Path, ref: JobRef, limits: ReadLimits, reader: Hdf5Reader, problems: list[Problem]):
    """The HDF5 content, with size and mtime checked before and after (no locking)."""
    if ref.hdf5 is None:
        return None
    rel = hdf5_display(ref)
    try:
        st = os.lstat(root / ref.hdf5.path)
    except OSError:
        problems.append(Problem("error", "changed-during-read", rel, "", "changed during read (file vanished)"))
        return _vanished()
    if not stat.S_ISREG(st.st_mode):  # replaced by a FIFO, device or symlink since the scan: never opened
        problems.append(Problem("error", "changed-during-read", rel, "",
                                f"changed during read (now a {describe_mode(st.st_mode)}; not opened)"))
        return _vanished()
    before = FileStat(ref.hdf5.path, st.st_size, st.st_mtime_ns)
    content = reader(root / ref.hdf5.path, rel, limits)
    after = file_stat(root, ref.hdf5.path)
    if after != before or (before.size, before.mtime_ns) != (ref.hdf5.size, ref.hdf5.mtime_ns):
        problems.append(Problem("warning", "changed-during-read", rel, "", "changed during read (size or mtime moved)"))
    problems.extend(content.problems)
    return content


def _vanished():
    from reportgen.readers.hdf5 import Hdf5Job

    return Hdf5Job((), (), (), readable=False)


def read_logs(root: Path, ref: JobRef, limits: ReadLimits, problems: list[Problem]) -> tuple[LogFile, ...]:
    logs = []
    for stat_ in ref.logs:
        rel = display_name(stat_.path)
        node = display_name(Path(stat_.path).name[: -len(".log")])
        if not is_utf8(stat_.path):
            problems.append(Problem("warning", "name-not-utf8", rel, "", "log name is not valid UTF-8 (shown escaped)"))
        try:
            logs.append(read_log(root / stat_.path, rel, node, limits))
        except NotRegularFile as exc:
            problems.append(Problem("warning", "special-file", rel, "", f"{exc}; never opened"))
        except PermissionError:
            problems.append(Problem("error", "permission-denied", rel, "", "permission denied"))
        except FileNotFoundError:
            problems.append(Problem("warning", "changed-during-read", rel, "", "changed during read (log vanished)"))
        except OSError as exc:
            problems.append(Problem("error", "log-unreadable", rel, "", f"cannot read log ({exc.strerror or exc})"))
    if ref.log_dir:
        problems.extend(check_log_dir(root, ref))
    return tuple(logs)


def check_log_dir(root: Path, ref: JobRef) -> list[Problem]:
    """Anything in the log folder but node logs, the executor result and data_index.json is reported."""
    found = []
    try:
        entries = list_dir(root / ref.log_dir)
    except PermissionError:
        return [Problem("error", "permission-denied", display_name(ref.log_dir), "", "permission denied")]
    except OSError:
        return [Problem("warning", "changed-during-read", display_name(ref.log_dir), "", "changed during read")]
    for entry in entries:
        regular = entry.is_file(follow_symlinks=False)
        if regular and (entry.name in ACCEPTED_LOG_DIR_FILES or entry.name.endswith(".log")):
            continue
        rel = display_name(f"{ref.log_dir}/{entry.name}")
        if entry.is_symlink():
            found.append(Problem("warning", "symlink", rel, "", "symlink in a log folder; not followed"))
        elif not regular and (special := special_kind(entry)):
            found.append(special_problem(rel, special))
        else:
            found.append(Problem("warning", "stray-file", rel, "", "not a node log; ignored"))
    return found


# ---------------------------------------------------------------- checks
def check_root_attrs(ref: JobRef, attrs: dict[str, str], unreadable: frozenset[str] = frozenset()
                     ) -> list[Problem]:
    rel = hdf5_display(ref)
    found = []
    for key in REQUIRED_ROOT_ATTRS:
        if key not in attrs and key not in unreadable:
            found.append(Problem("error", "root-attr-missing", rel, "/", f"root attribute {key!r} missing"))
    eui = attrs.get("job_eui")
    if eui == "" and ref.command_line_run:
        found.append(Problem("warning", "command-line-run", rel, "/", "command-line run: no job EUI"))
    elif eui is not None and eui != "#/" + display_name(ref.job_id):
        found.append(Problem("warning", "job-eui-mismatch", rel, "/", f"job_eui {eui!r} does not match the file name"))
    project = attrs.get("project")
    if project is not None and project != display_name(ref.project) and not ref.command_line_run:
        found.append(Problem("warning", "project-mismatch", rel, "/", f"project attribute {project!r} does not match the folder"))
    return found


def check_commits(ref: JobRef, commits: tuple[Commit, Commit], unreadable: frozenset[str] = frozenset(),
                  attrs: dict[str, str] | None = None) -> list[Problem]:
    """The commit problems; ``attrs`` (the root attributes as recorded) tells an id read after
    normalising it, or through an annotated tag, from one read as it was recorded."""
    rel = hdf5_display(ref)
    found = []
    for commit in commits:
        attr = "@" + COMMIT_ATTRS[commit.repo][0]
        if attr[1:] in unreadable:
            continue  # reported once by the reader (root-attr-unreadable)
        recorded = (attrs or {}).get(attr[1:], commit.sha)
        asked = normalise_commit_id(recorded)
        if asked != recorded:
            found.append(Problem("warning", "commit-id-normalised", rel, attr,
                                 normalised_reason(attr[1:], recorded, asked)))
        if commit.state == "absent" and not ref.command_line_run:
            found.append(Problem("warning", "commit-attr-missing", rel, attr, commit.reason))
        elif commit.state in ("not-in-repo", "unreadable", "invalid"):
            found.append(Problem("error", f"commit-{commit.state}", rel, attr, commit.reason))
        elif commit.state == "present" and commit.sha != asked:  # git read the commit a tag points to
            found.append(Problem("warning", "commit-annotated-tag", rel, attr, f"{attr[1:]} {commit.reason}"))
    return found


def normalised_reason(name: str, recorded: str, asked: str) -> str:
    """What ``normalise_commit_id`` changed of a recorded id, and what it reads instead."""
    stripped = recorded.strip()
    changes = [what for what, changed in (("uppercase hex digits", stripped != stripped.lower()),
                                          ("surrounding whitespace", recorded != stripped)) if changed]
    return f"{name} {recorded[:100]!r} has {' and '.join(changes)}; read as {asked}"


def check_nodes_vs_logs(
    ref: JobRef, nodes: tuple[NodeGroup, ...], logs: tuple[LogFile, ...], has_hdf5: bool
) -> list[Problem]:
    found = []
    if ref.hdf5 is None and ref.log_dir is not None:
        found.append(Problem("warning", "no-hdf5", display_name(ref.log_dir), "", "log folder without an HDF5 file (crashed or still running)"))
    if ref.hdf5 is not None and ref.log_dir is None and not ref.command_line_run:
        found.append(Problem("warning", "no-log-folder", hdf5_display(ref), "", "HDF5 file without a log folder"))
    if not has_hdf5 or not nodes and not logs:
        return found
    group_names = {node.name for node in nodes}
    log_names = {log.node for log in logs}
    for log in logs:
        if log.node not in group_names:
            found.append(Problem("warning", "log-without-group", log.path, "", f"no node group {log.node!r} in the HDF5 file"))
    if ref.log_dir is not None:
        for node in nodes:
            if node.name not in log_names:
                found.append(Problem("warning", "group-without-log", hdf5_display(ref), node.hdf5_path, "node group without a log"))
    return found


# ---------------------------------------------------------------- status and times
def derive_status(ref: JobRef, content, nodes, logs, problems: list[Problem], executor_failed: bool = False
                  ) -> Status:
    """Design decision D4, first match wins."""
    if content is not None and not content.readable:
        # A file its writer still holds is not damaged: the job has no data yet (as a log folder alone).
        return "no-data" if any(p.code == "hdf5-being-written" for p in content.problems) else "corrupt"
    if content is None and ref.log_dir is None:
        return "unknown"
    if any(p.code in ("root-attr-missing", "root-attr-unreadable", "hdf5-read-error") for p in problems):
        return "corrupt"
    group_names = {node.name for node in nodes}
    if content is not None and (
        any(log.node not in group_names for log in logs) or any(o.kind == "missing" for n in nodes for o in n.outputs)
    ):
        return "incomplete"
    if content is None:
        return "no-data"
    if any(log.traceback_lines for log in logs) or executor_failed:
        return "failed-nodes"
    return "ok"


def read_executor_result(root: Path, ref: JobRef) -> tuple[bool, Problem | None]:
    """D4 extension: (nodes failed, problem) from ``<job id>/_executor_result.json`` when present.

    The file is the JSON the executor prints (reference 2.4): an object with
    ``status``, ``status_message``, ``nodes_success``, ``nodes_error``,
    ``nodes_count`` and ``nodes``.  Anything else (not UTF-8, not JSON, NaN,
    nested too deeply, a list, wrong types, over 1 MiB) is a warning naming the
    file, and the status ignores it.
    """
    if ref.log_dir is None:
        return False, None
    rel = display_name(f"{ref.log_dir}/{EXECUTOR_RESULT}")
    try:
        with open_regular(root / ref.log_dir / EXECUTOR_RESULT) as stream:
            raw = stream.read(EXECUTOR_RESULT_BYTES + 1)
    except (FileNotFoundError, NotRegularFile):  # absent, or a FIFO/device check_log_dir reports
        return False, None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink (O_NOFOLLOW): check_log_dir reports it
            return False, None
        reason = f"cannot read it ({exc.strerror or exc}); ignored"
        return False, Problem("warning", "executor-result-invalid", rel, "", reason)
    result, reason = parse_executor_result(raw)
    if reason:
        return False, Problem("warning", "executor-result-invalid", rel, "", f"{reason}; ignored")
    return result["nodes_error"] > 0 or result["status"] in ("Failure", "Partially successful"), None


def parse_executor_result(raw: bytes) -> tuple[dict, str]:
    """(result with defaults, "") or ({}, why it is not the executor's result)."""
    if len(raw) > EXECUTOR_RESULT_BYTES:
        return {}, f"larger than {EXECUTOR_RESULT_BYTES:,} bytes"
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        return {}, "not valid UTF-8"
    except RecursionError:  # the C parser refuses deep nesting by raising this, cleanly
        return {}, "invalid JSON (nested too deeply)"
    except ValueError as exc:
        return {}, f"invalid JSON ({str(exc)[:120]})"
    if not isinstance(value, dict):
        return {}, f"a JSON {type(value).__name__}, not an object"
    wrong = [f"$.{key} is not {kind}" for key, kind in _RESULT_FIELDS.items()
             if key in value and not _fits(value[key], kind)]
    if wrong:
        return {}, "; ".join(wrong)
    return {"status": "", "nodes_error": 0, **value}, ""


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _fits(value: object, kind: str) -> bool:
    if kind == "a string":
        return isinstance(value, str)
    if kind == "a count":
        return type(value) is int and value >= 0
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def parse_creation_timestamp(text: str) -> tuple[datetime | None, str]:
    """``datetime.isoformat()`` with its offset -> aware datetime; a note when odd."""
    if not text:
        return None, "creation_timestamp missing"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None, f"creation_timestamp {text[:80]!r} is not an ISO 8601 time"
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc), "creation_timestamp has no UTC offset; assumed UTC"
    try:  # e.g. 0001-01-01T00:00:00+01:00: a legal time whose UTC is before year 1 (every page shows UTC)
        when.astimezone(timezone.utc)
    except OverflowError:
        return None, f"creation_timestamp {text[:80]!r} is outside the range of UTC times"
    return when, ""


def approximate_start(nodes: tuple[NodeGroup, ...], logs: tuple[LogFile, ...]) -> tuple[datetime | None, str]:
    """D5: earliest ``_time`` of any output, else the earliest log mtime."""
    firsts = [o.times.first for n in nodes for o in n.outputs if o.times and o.times.first]
    if firsts:
        return min(firsts), "output-time"
    if logs:
        return min(log.mtime for log in logs), "log-mtime"
    return None, ""


# ---------------------------------------------------------------- whole store
def build_projects(scan: StoreScan, jobs: list[Job]) -> tuple[Project, ...]:
    by_project: dict[str, list[Job]] = {}
    for job in jobs:
        by_project.setdefault(job.project, []).append(job)
    return tuple(
        Project(
            name=p.name,
            jobs=tuple(by_project.get(p.name, ())),
            problems=p.problems,
            workflow_repo=p.workflow_repo,
            params_repo=p.params_repo,
        )
        for p in scan.projects
    )


def read_data_store(root: Path, *, workers: int = 0, limits: ReadLimits = ReadLimits(),
                    keep: Callable[[Job], Job] | None = None) -> DataStore:
    """Scan, then read every job in sandboxed worker processes; order is deterministic.
    ``keep``: what of each job to hold (see ``sandbox.read_jobs``); all of it when None."""
    from reportgen.readers.sandbox import read_jobs

    root = Path(root)
    scan = scan_data_store(root)
    refs = [ref for project in scan.projects for ref in project.jobs]
    jobs = read_jobs(root, refs, limits, workers or os.cpu_count() or 1, keep)
    return DataStore(str(root), build_projects(scan, jobs), scan.problems)

