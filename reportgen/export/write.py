"""data_store -> export archive (legacy export version 0.13; others via converters' steps).

``export_archive`` reads as a list of stages: check the paths, read the
store, list its files, bundle its repositories (each bundle is fetched back
once, as restore will; a repository whose bundle git cannot fetch back, such
as a shallow clone or one with a corrupt object, travels as plain files),
then stream the members into
``converters.containers.write_archive``: each job's graph is built and its
repository files written one job at a time, and ``metadata.json`` and
``data.json`` go last, when every node is known (readers accept any order).

Memory stays bounded whatever the datasets hold: a reader worker writes each
large ``.npy`` (an output's values or times) into a work folder next to the
output, in blocks, and hands the writer only its path, size and SHA-256; the
writer streams it into the archive and removes it.  The work folder goes
with the run, whatever ends it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
import re
import shlex
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from converters import containers
from converters.workdirs import work_folder, work_prefix
from reportgen import __version__
from reportgen.errors import BadInputError, InputMissingError, UsageError, WriteError
from reportgen.export import graph as g
from reportgen.outdir import remove_stale_staging
from reportgen.readers.datastore import check_data_store_given, display_name, repo_path, scan_data_store
from reportgen.readers.git import CommitCache, check_trusted, read_bundle, read_head, read_refs, write_repo_from_bundle
from reportgen.records import Job, JobRef, OutputData, Problem, ProjectScan, ReadLimits, ReadRefusal, StoreScan

EXPORT_VERSION = "0.13"
DEFAULT_EMAIL = "entropy-export@reportgen.invalid"
CHUNK = 1024 * 1024
CHANGED = "changed while it was read; rerun when the job is done (or export with --skip-busy)"
MAX_BUSY_JOBS = 16  # jobs --skip-busy leaves out before it stops: each one costs the export another pass
JOB_WINDOW = 4  # jobs read ahead per worker: bounds the pieces held in memory and the work files on disk
# Outputs up to this size become data nodes (the raw HDF5 file carries anything larger anyway).  Not a
# memory bound: their .npy files are streamed through the work folder (docs/export.md, "Memory").
EXPORT_LIMITS = ReadLimits(max_read_bytes=512 * 1024**2)
INLINE_NPY_BYTES = 64 * 1024  # a smaller .npy travels inside its job's piece ...
INLINE_JOB_BYTES = 4 * 1024**2  # ... while the job's inline ones stay under this; larger ones are work files


@dataclass(frozen=True)
class ExportOptions:
    projects: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    export_version: str = EXPORT_VERSION
    fmt: str | None = None  # from the file name when None
    force: bool = False
    user_email: str = DEFAULT_EMAIL
    workers: int = 0
    allow_loss: bool = False  # let a downgrade below 0.13 drop what the older version cannot hold
    skip_busy: bool = False  # --skip-busy: leave out a job written to while it is read, not stop


@dataclass(frozen=True)
class ExportSummary:
    path: str
    export_version: str
    fmt: str
    jobs: int
    nodes: int
    links: int
    groups: int
    logs: int
    size: int
    parameters: dict[str, Any] = field(default_factory=dict)
    symlinks: int = 0  # left out, recorded in the "other files" node
    newest: datetime | None = None  # the newest job time (end, else start, else file time); None: no job
    errors: int = 0  # data problems found while reading (recorded as Log nodes): a user must not miss them
    busy: tuple[str, ...] = ()  # --skip-busy: "<project>/<job>" of each job left out, in the order met
    warnings: int = 0
    data_store: str = ""

    def render(self) -> str:
        skipped = f"; {self.symlinks} symlinks recorded (not followed)" if self.symlinks else ""
        found = ""
        if self.errors or self.warnings:
            found = (f"; {self.errors} errors and {self.warnings} warnings in the data "
                     f"(reportgen inspect {shlex.quote(self.data_store)} lists them)")
        elif not self.jobs:
            found = f"; no job found in {self.data_store} (is it the data_store folder?)"
        busy = ""
        if self.busy:
            busy = (f"; {len(self.busy)} {'job' if len(self.busy) == 1 else 'jobs'} left out, written to while read "
                    f"({', '.join(shlex.quote(name) for name in self.busy)}): rerun when done to carry them")
        return (
            f"wrote {self.path} (export version {self.export_version}, {self.fmt}, {self.size} bytes): "
            f"{self.jobs} jobs, {self.nodes} nodes, {self.links} links, {self.groups} groups, {self.logs} logs"
            f"{skipped}{busy}{found}"
        )


# ---------------------------------------------------------------- reading the store
@dataclass(frozen=True)
class ListedFile:
    """A regular file of the data_store as listed (hashed later, by whoever carries it)."""

    path: str
    size: int
    mtime_ns: int
    executable: bool


@dataclass(frozen=True)
class StoreListing:
    """Every regular file and directory of the data_store; symlinks are not followed or carried,
    only recorded (path -> target) so that the archive says what was left out."""

    files: dict[str, ListedFile]
    directories: tuple[str, ...]
    symlinks: dict[str, str] = field(default_factory=dict)

    def under(self, prefix: str) -> list[str]:
        """Listed paths that start with ``prefix`` (a bisection, not a scan: called once per job)."""
        names = self._sorted()
        start = bisect.bisect_left(names, prefix)
        end = start
        while end < len(names) and names[end].startswith(prefix):
            end += 1
        return names[start:end]

    def _sorted(self) -> list[str]:
        if "_names" not in self.__dict__:
            object.__setattr__(self, "_names", sorted(self.files))
        return self.__dict__["_names"]


def read_listing(root: Path) -> StoreListing:
    """Walk the store without following links; stats only (a file is hashed where it is carried)."""
    files: dict[str, ListedFile] = {}
    directories: list[str] = []
    symlinks: dict[str, str] = {}
    for top, dirnames, filenames in os.walk(root, onerror=refuse_unlistable, followlinks=False):
        dirnames.sort()
        rel_top = os.path.relpath(top, root)
        for name in sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(top, d))]:
            st = os.lstat(os.path.join(top, name))
            rel = name if rel_top == "." else f"{rel_top}/{name}"
            if stat.S_ISREG(st.st_mode):
                files[rel] = ListedFile(rel, st.st_size, st.st_mtime_ns, bool(st.st_mode & 0o111))
            elif stat.S_ISLNK(st.st_mode):
                symlinks[rel] = read_link(root, rel)
        for name in dirnames:
            if not os.path.islink(os.path.join(top, name)):
                directories.append(name if rel_top == "." else f"{rel_top}/{name}")
    return StoreListing(files, tuple(sorted(directories)), dict(sorted(symlinks.items())))


def read_link(root: Path, rel: str) -> str:
    """A symlink's target, as text (not followed)."""
    try:
        return os.readlink(root / rel)
    except OSError:  # gone or replaced since os.walk listed it: the store is being written to
        raise BadInputError(root / rel, CHANGED) from None


def refuse_unlistable(exc: OSError) -> None:
    """os.walk's ``onerror``: a folder that cannot be listed stops the export (by default os.walk
    skips it, and its files would silently be missing from the archive)."""
    raise unreadable_input(exc.filename, exc) from None


def unreadable_input(path: object, exc: OSError) -> InputMissingError:
    reason = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc)).lower()
    return InputMissingError(path, reason)


def read_store_files(root: Path, listed: tuple[ListedFile, ...]) -> tuple[g.StoreFile, ...]:
    """The listed files with their SHA-256 (restore checks each one)."""
    return tuple(read_store_file(root, f) for f in listed)


def read_store_file(root: Path, listed: ListedFile) -> g.StoreFile:
    """One listed file hashed, refused when it is no longer the file listed or changes while hashed:
    the size, mtime and SHA-256 recorded must describe one and the same content."""
    path, digest, seen = root / listed.path, hashlib.sha256(), 0
    with open_store_file(path) as fh:
        before = _stamp(fh)
        check_unchanged(path, (listed.size, listed.mtime_ns), before[:2])
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            seen += len(chunk)
        check_unchanged(path, before, _stamp(fh))
    check_unchanged(path, listed.size, seen)
    return g.StoreFile(listed.path, listed.size, digest.hexdigest(), listed.mtime_ns, listed.executable)


def _stamp(fh) -> tuple[int, int, int]:
    """What a writer changes: size, mtime, ctime (the lab writes without locks; HDF5 is opened without them)."""
    st = os.fstat(fh.fileno())
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def check_unchanged(path: Path, recorded: object, found: object) -> None:
    if recorded != found:
        raise BadInputError(path, CHANGED)


def select_jobs(scan: StoreScan, options: ExportOptions) -> StoreScan:
    """Keep the projects and jobs asked for; an unknown name is a usage error."""
    known = {p.name for p in scan.projects}
    for name in options.projects:
        if name not in known:
            raise UsageError(scan.root, f"no project {name!r} in the data_store")
    projects = [p for p in scan.projects if not options.projects or p.name in options.projects]
    if options.jobs:
        found = {display_name(ref.job_id) for p in projects for ref in p.jobs}
        for job_id in options.jobs:
            if job_id not in found:
                raise UsageError(scan.root, f"no job {job_id!r} in the selected projects")
        projects = [replace(p, jobs=tuple(r for r in p.jobs if display_name(r.job_id) in options.jobs))
                    for p in projects]
        projects = [p for p in projects if p.jobs]
    return replace(scan, projects=tuple(projects))


def job_file_paths(ref: JobRef, listing: StoreListing) -> list[str]:
    """The job's HDF5 file and everything under its log folder, as listed: by their raw names (a
    name that is not UTF-8 keeps its bytes as surrogates), the listing's keys, never the names the
    reader shows (``\\xNN``), which matched no file of a job whose name is not UTF-8."""
    hdf5_file = ref.hdf5.path if ref.hdf5 else None
    paths = [hdf5_file] if hdf5_file and hdf5_file in listing.files else []
    if ref.log_dir:
        prefix = ref.log_dir.rstrip("/") + "/"
        paths += listing.under(prefix)
    return sorted(paths)


# ---------------------------------------------------------------- per job (in the readers' worker pool)
@dataclass(frozen=True)
class JobPiece:
    """What one job gives the archive: its record and its part of the graph (small .npy files inline,
    larger ones as work files named in it)."""

    job: Job
    graph: g.Graph


def read_job_piece(root: Path, ref: JobRef, limits: ReadLimits, commits: CommitCache | None,
                   raw: tuple[ListedFile, ...], work: Path) -> JobPiece:
    """Read one job (records, every output in one open, git blobs, file hashes) and build its graph;
    large ``.npy`` files are written into the work folder ``work``.

    Runs in a sandboxed worker of ``reportgen.readers.sandbox``: libhdf5 never runs in the writer.
    """
    from reportgen.readers.datastore import read_job

    own = commits is None
    commits = commits or CommitCache(limits)
    try:
        return build_piece(root, read_job(root, ref, limits, commits), raw, commits, work)
    finally:
        if own:
            commits.close()


def build_piece(root: Path, job: Job, raw: tuple[ListedFile, ...], commits: CommitCache, work: Path | None
                ) -> JobPiece:
    """The job's piece; its outputs are read (into ``work``) unless ``work`` is None."""
    outputs, arrays, refused = read_outputs(root, job, work) if work is not None else ({}, {}, {})
    inputs = g.JobInputs(
        job=job,
        outputs=outputs,
        refused=refused,
        workflow_files=commits.read_blobs(repo_path(root, job.project, "workflow.git"), job.workflow),
        parameters=commits.read_blobs(repo_path(root, job.project, "params.git"), job.params).get("parameters.json"),
        raw_files=read_store_files(root, raw),
        arrays=arrays,
    )
    return JobPiece(job, g.build_job_graph(inputs))


def crashed_piece(root: Path, ref: JobRef, limits: ReadLimits, reason: str, raw: tuple[ListedFile, ...],
                  work: Path) -> JobPiece:
    """The piece of a job whose reader crashed: built in the writer without touching its HDF5 file."""
    from reportgen.readers.sandbox import crashed_job

    commits = CommitCache(limits)
    try:
        return build_piece(root, crashed_job(root, ref, limits, reason), raw, commits, None)
    finally:
        commits.close()


def read_outputs(root: Path, job: Job, work: Path
                 ) -> tuple[dict[str, OutputData], dict[str, g.ArrayFiles], dict[str, str]]:
    """Every output the HDF5 reader can give whole, all in one open; unreadable ones left out.

    Plain arrays (and the times of a "missing" output) come back as their
    ``.npy`` files, written block by block (``NpySpool.write_output``); the rest
    (strings, JSON, references) as ``OutputData``; an output the reader refused
    as the reader's reason.  If reading fails, the work files written for the
    job so far are removed before the error goes on.
    """
    from reportgen.readers.hdf5 import read_outputs_streamed

    if not job.hdf5_file:
        return {}, {}, {}
    if job.status == "corrupt":  # the job's problems say why; each output's Log names it too
        return {}, {}, {o.hdf5_path: "not read: the job's HDF5 file is corrupt" for group in job.nodes for o in group.outputs}
    wanted = [o.hdf5_path for group in job.nodes for o in group.outputs if not o.too_large]
    if not wanted:
        return {}, {}, {}
    spool = NpySpool(work)
    try:
        found = read_outputs_streamed(root / job.hdf5_file, wanted, EXPORT_LIMITS, spool.write_output)
    except BaseException:
        spool.remove(0)
        raise
    outputs = {path: data for path, data in found.items() if isinstance(data, OutputData)}
    refused = {path: item.reason for path, item in found.items() if isinstance(item, ReadRefusal)}
    return outputs, {path: files for path, files in found.items() if isinstance(files, g.ArrayFiles)}, refused


@dataclass
class NpySpool:
    """The ``.npy`` files of one job, as its reader worker writes them: a small one inline (while the
    job's inline bytes stay within ``INLINE_JOB_BYTES``), any other one as a work file in ``folder``,
    hashed while it is written.  Never more than one block of values in memory."""

    folder: Path
    inline_left: int = INLINE_JOB_BYTES
    written: list[Path] = field(default_factory=list)

    def write_output(self, blocks: Any) -> g.ArrayFiles:
        """The files of one output (``reportgen.readers.hdf5.OutputBlocks``): values.npy and times.npy,
        or times.npy alone.  Its own work files are removed if reading it fails (it shrank, say)."""
        arrays: dict[str, tuple[tuple[int, ...], Any, Callable[[], Iterator[Any]]]] = {}
        if blocks.values is not None:
            arrays["values"] = (blocks.values.shape, blocks.values.dtype, blocks.values.blocks)
        arrays["times"] = ((blocks.times.count,), g.TIMES_DTYPE, lambda: g.render_time_arrays(blocks.times.blocks()))
        first = len(self.written)
        try:
            files = tuple(self.write(f"{name}.npy", shape, dtype, read()) for name, (shape, dtype, read)
                          in sorted(arrays.items()))
        except BaseException:
            self.remove(first)
            raise
        return g.ArrayFiles({name: shape for name, (shape, _, _) in arrays.items()}, files)

    def write(self, name: str, shape: tuple[int, ...], dtype: Any, blocks: Iterator[Any]) -> g.RepoFile:
        chunks = g.render_npy_chunks(shape, dtype, blocks)
        values = math.prod(shape) * dtype.itemsize
        if values <= min(INLINE_NPY_BYTES, self.inline_left):
            self.inline_left -= values
            return g.RepoFile(name, content=b"".join(chunks))
        return g.RepoFile(name, spooled=self.write_file(chunks))

    def write_file(self, chunks: Iterator[Any]) -> g.SpooledFile:
        with work_file_errors(self.folder):
            fd, name = tempfile.mkstemp(prefix="npy-", suffix=".npy", dir=self.folder)
        self.written.append(Path(name))
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:  # reads the HDF5 file: its errors are the reader's, not the disk's
                with work_file_errors(name):
                    fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            with work_file_errors(name):
                fh.flush()
        return g.SpooledFile(name, size, digest.hexdigest())

    def remove(self, first: int) -> None:
        """Remove the work files written since the ``first``-th."""
        for path in self.written[first:]:
            path.unlink(missing_ok=True)
        del self.written[first:]


@contextmanager
def work_file_errors(where: object) -> Iterator[None]:
    """A failed write into the work folder (disk full, EIO) is the output's (exit 74), never the job's:
    the reader pool passes a ``WriteError`` on to the writer instead of marking the job unreadable."""
    try:
        yield
    except OSError as exc:
        raise WriteError(where, f"cannot write a work file of the export: {(exc.strerror or str(exc)).lower()}") from None


def iter_job_pieces(root: Path, scan: StoreScan, listing: StoreListing, workers: int, work: Path
                    ) -> Iterator[JobPiece]:
    """Each job's piece in store order, from the readers' sandboxed pool, a few jobs ahead of the writer.

    A generator: close it to stop the pool (its workers write into ``work``)."""
    from reportgen.readers.sandbox import iter_job_results

    refs = [ref for project in scan.projects for ref in project.jobs]
    raw = [tuple(listing.files[p] for p in job_file_paths(ref, listing)) for ref in refs]
    workers = workers or os.cpu_count() or 1
    return iter_job_results(root, refs, ReadLimits(), workers, work=read_job_piece, fallback=crashed_piece,
                            window=JOB_WINDOW * workers, extra=[(r, work) for r in raw])


# ---------------------------------------------------------------- repositories
def read_git_repos(root: Path, project: ProjectScan, output: Path) -> tuple[g.GitRepo, ...]:
    """Bundles of the project's repositories that git can bundle and restore (the others travel as files)."""
    repos = []
    for rel in (project.workflow_repo, project.params_repo):
        if not rel or not (root / rel).is_dir():
            continue
        bundle = read_bundle(root / rel)
        if bundle is None:
            continue
        refs = read_refs(root / rel)
        if check_bundle_restores(bundle, refs, output):
            repos.append(g.GitRepo(rel, read_head(root / rel), bundle, refs))
    return tuple(repos)


def check_repos_trusted(root: Path, store: StoreScan) -> None:
    """Every repository the export will bundle is one git agrees to read (``check_trusted``)."""
    for project in store.projects:
        for rel in (project.workflow_repo, project.params_repo):
            if rel and (root / rel).is_dir():
                check_trusted(root / rel)


def check_bundle_restores(bundle: bytes, refs: dict[str, str], output: Path) -> bool:
    """Restore's own steps, run once here: the bundle fetches into a fresh repository with every ref.

    ``git bundle create`` succeeds on repositories whose history it cannot
    really carry (a shallow clone, a corrupt or missing object); their bundles
    fail only when fetched.  Such a repository is carried as plain files
    instead, so that every archive export writes restores.  The check runs in
    a folder next to ``output`` (where the archive needs room anyway, not in a
    possibly small TMPDIR), and a failure of that folder (disk full, EIO) is a
    ``WriteError``: only git refusing the bundle says something of the repository.
    """
    with work_folder(output) as tmp:
        path, git_dir = tmp / "repo.bundle", tmp / "repo.git"
        try:
            path.write_bytes(bundle)
        except OSError as exc:
            raise WriteError(output, f"cannot check a repository bundle: {exc.strerror or exc}") from None
        try:
            write_repo_from_bundle(git_dir, path, "")
        except BadInputError:
            return False
        except WriteError as exc:
            raise WriteError(output, f"cannot check a repository bundle: {exc.reason}") from None
        return read_refs(git_dir) == refs


def other_files(root: Path, listing: StoreListing, all_jobs: StoreScan, bundled: set[str], selected: bool
                ) -> tuple[tuple[g.StoreFile, ...], tuple[str, ...]]:
    """Files and directories no job and no bundle carries (only in a whole-store export)."""
    if selected:
        return (), ()
    owned = {p for project in all_jobs.projects for ref in project.jobs for p in job_file_paths(ref, listing)}

    def in_bundle(path: str) -> bool:
        return any(path == b or path.startswith(b + "/") for b in bundled)

    files = tuple(f for p, f in sorted(listing.files.items()) if p not in owned and not in_bundle(p))
    dirs = tuple(d for d in listing.directories if not in_bundle(d))
    return read_store_files(root, files), dirs


# ---------------------------------------------------------------- data.json
class DataJson:
    """The legacy data.json, spooled into work files as each piece arrives (memory does not grow
    with the number of jobs), and assembled at the end into exactly the bytes ``render_json`` of the
    whole tree gives: sorted keys (so the pks ``"1"``, ``"10"``, ``"100"``, ``"2"`` in text order),
    compact, each row rendered by ``render_json`` alone.

    Rows go to ``_RowSpool`` files in ``folder`` (in the export's work folder); the UUID -> pk map
    that catches a repeated UUID and names a log's node lives in SQLite there too.
    """

    def __init__(self, user_email: str, folder: Path) -> None:
        self.user_email = user_email
        self.folder = folder
        self.sections = {name: _RowSpool(folder, name) for name in _SECTIONS}
        self.member_rows: dict[str, int] = {}  # group uuid -> its row in "members" (few: one group a project)
        self.fallback = False  # a row orjson cannot write: the whole document is Python's encoding
        self.pks = _UuidTable(folder / "uuids.sqlite")

    @property
    def nodes(self) -> int:
        return self.sections["Node"].count

    @property
    def links(self) -> int:
        return self.sections["links"].count

    @property
    def groups(self) -> int:
        return self.sections["Group"].count

    @property
    def logs(self) -> int:
        return self.sections["Log"].count

    def add(self, piece: g.Graph) -> None:
        local: dict[str, int] = {}
        for node in piece.nodes:
            pk = self.nodes + 1
            if not self.pks.add(node.uuid, pk):
                raise BadInputError("", f"two entities share the UUID {node.uuid}", node.label)
            local[node.uuid] = pk
            self.row("Node", {
                "uuid": node.uuid, "node_type": node.node_type, "process_type": node.process_type,
                "label": node.label, "description": node.description, "ctime": node.ctime,
                "mtime": node.ctime, "user": 1, "dbcomputer": None,
            })
            self.row("attributes", node.attributes)
            self.row("extras", node.extras)
        for ln in piece.links:
            self.row("links", {"input": ln.input, "output": ln.output, "label": ln.label, "type": ln.type})
        for log in piece.logs:
            self.row("Log", {
                "uuid": log.uuid, "time": log.time, "loggername": log.loggername, "levelname": log.levelname,
                "message": log.message, "metadata": log.metadata,
                "dbnode": local[log.node] if log.node in local else self.pks.pk_of(log.node),
            })
        for group in piece.groups:
            self.row("Group", {
                "uuid": group.uuid, "label": group.label, "type_string": group.type_string,
                "description": group.description, "time": group.time, "user": 1,
            })
            self.member_rows[group.uuid] = self.row("members", list(group.nodes))

    def row(self, section: str, value: Any) -> int:
        """Spool one row, rendered alone; returns its number (1-based) in its section."""
        try:
            body = _render_orjson(value)
        except TypeError:
            self.fallback = True
            body = _render_python(value)
        return self.sections[section].add(body)

    def member(self) -> containers.OutMember:
        """data.json as a streamed member (its size known from the spooled rows)."""
        if self.fallback:  # the whole tree went to Python's encoder before: so does every row now
            self.sections = {name: spool.rerendered(self.folder) for name, spool in self.sections.items()}
        parts = self.parts()
        size = sum(len(p) if isinstance(p, bytes) else p.size for p in parts)
        return containers.OutMember("data.json", size, chunks=_counted_chunks(_join_parts(parts), size))

    def parts(self) -> list[bytes | _Object | _Array]:
        """The document as constant bytes and spooled sections, in the order orjson's sorted keys give."""
        spools = self.sections
        user = _render_orjson({"email": self.user_email, "first_name": "", "last_name": "", "institution": ""})
        if self.fallback:
            user = _render_python(json.loads(user))
        members = [(_render_orjson(uuid), row) for uuid, row in sorted(self.member_rows.items())]
        return [
            b'{"export_data":{"Comment":{},"Computer":{},"Group":', _Object(spools["Group"]),
            b',"Log":', _Object(spools["Log"]),
            b',"Node":', _Object(spools["Node"]),
            b',"User":{"1":' + user + b'}},"groups_uuid":', _Object(spools["members"], members),
            b',"links_uuid":', _Array(spools["links"]),
            b',"node_attributes":', _Object(spools["attributes"]),
            b',"node_extras":', _Object(spools["extras"]),
            b"}",
        ]

    def close(self) -> None:
        self.pks.close()
        for spool in self.sections.values():
            spool.close()


_SECTIONS = ("Node", "attributes", "extras", "links", "Log", "Group", "members")


class _RowSpool:
    """Rendered rows appended to a work file, with an index file of their end offsets (8 bytes a
    row, read back with ``pread``): nothing per row stays in memory."""

    def __init__(self, folder: Path, name: str) -> None:
        with work_file_errors(folder):
            self.rows = open(folder / f"{name}.rows", "w+b")
            self.index = open(folder / f"{name}.index", "w+b")
        self.name, self.count, self.end = name, 0, 0

    def add(self, body: bytes) -> int:
        with work_file_errors(self.rows.name):
            self.rows.write(body)
            self.end += len(body)
            self.index.write(self.end.to_bytes(8, "little"))
        self.count += 1
        return self.count

    def read(self, row: int) -> bytes:
        """Row ``row`` (1-based)."""
        if row == 1:
            start, end = 0, int.from_bytes(os.pread(self.index.fileno(), 8, 0), "little")
        else:
            ends = os.pread(self.index.fileno(), 16, 8 * (row - 2))
            start, end = int.from_bytes(ends[:8], "little"), int.from_bytes(ends[8:], "little")
        body = os.pread(self.rows.fileno(), end - start, start)
        if len(body) != end - start:
            raise WriteError(self.rows.name, "work file of the export changed while it waited to be archived")
        return body

    def flush(self) -> None:
        with work_file_errors(self.rows.name):
            self.rows.flush()
            self.index.flush()

    def lengths(self) -> Iterator[int]:
        """Every row's length, in order (read from the index, a block at a time)."""
        self.flush()
        previous, offset = 0, 0
        while block := os.pread(self.index.fileno(), 8 * 8192, offset):
            offset += len(block)
            for i in range(0, len(block), 8):
                end = int.from_bytes(block[i:i + 8], "little")
                yield end - previous
                previous = end

    def rerendered(self, folder: Path) -> _RowSpool:
        """The same rows through Python's encoder (``_render_python``) in a new spool."""
        self.flush()
        out = _RowSpool(folder, f"{self.name}.python")
        for row in range(1, self.count + 1):
            out.add(_render_python(json.loads(self.read(row))))
        self.close()
        return out

    def close(self) -> None:
        self.rows.close()
        self.index.close()


@dataclass
class _Object:
    """A JSON object whose members are spooled rows, in the given key order."""

    spool: _RowSpool
    keys: list[tuple[bytes, int]] | None = None  # (rendered key, row); None: the pks 1..count in text order

    @property
    def size(self) -> int:
        if self.keys is not None:
            rows = list(self.spool.lengths())
            return 2 + sum(len(key) + 1 + rows[row - 1] for key, row in self.keys) + max(len(self.keys) - 1, 0)
        n = self.spool.count
        keys = sum(len(str(pk)) + 3 for pk in range(1, n + 1))  # '"123":'
        return 2 + keys + self.spool.end + max(n - 1, 0)

    def pairs(self) -> Iterator[tuple[bytes, int]]:
        if self.keys is not None:
            yield from self.keys
            return
        for pk in iter_text_order(self.spool.count):
            yield b'"%d"' % pk, pk

    def chunks(self) -> Iterator[bytes]:
        self.spool.flush()
        yield b"{"
        for n, (key, row) in enumerate(self.pairs()):
            yield (b',' if n else b"") + key + b":" + self.spool.read(row)
        yield b"}"


@dataclass
class _Array:
    """A JSON array of the spooled rows, in order."""

    spool: _RowSpool

    @property
    def size(self) -> int:
        return 2 + self.spool.end + max(self.spool.count - 1, 0)

    def chunks(self) -> Iterator[bytes]:
        self.spool.flush()
        yield b"["
        with open(self.spool.rows.name, "rb") as fh:
            for n, length in enumerate(self.spool.lengths()):
                body = fh.read(length)
                yield (b"," if n else b"") + body
        yield b"]"


def iter_text_order(n: int) -> Iterator[int]:
    """1..n in the order of their decimal strings (1, 10, 100, 11, ..., 2, 20, ...), as sorted keys
    order the pks; without sorting (or holding) them."""
    pk = 1
    for _ in range(n):
        yield pk
        if pk * 10 <= n:
            pk *= 10
        else:
            while pk % 10 == 9 or pk + 1 > n:
                pk //= 10
            pk += 1


def _join_parts(parts: list[bytes | _Object | _Array]) -> Iterator[bytes]:
    """The parts' bytes in chunks of about ``CHUNK``."""
    buf = bytearray()
    for part in parts:
        for piece in [part] if isinstance(part, bytes) else part.chunks():
            buf += piece
            if len(buf) >= CHUNK:
                yield bytes(buf)
                buf.clear()
    if buf:
        yield bytes(buf)


def _counted_chunks(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """``chunks`` checked against the size announced for them, with a progress stage of their own."""
    from converters import progress

    seen = 0
    with progress.stage("writing data.json", size, "B") as advance:
        for chunk in chunks:
            seen += len(chunk)
            advance(len(chunk))
            yield chunk
    if seen != size:
        raise WriteError("data.json", f"assembled {seen} bytes where {size} were announced")


def _render_orjson(value: Any) -> bytes:
    import orjson

    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def _render_python(value: Any) -> bytes:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return _LONE_SURROGATE.sub("\ufffd", text).encode()


class _UuidTable:
    """UUID -> pk of every node spooled, in SQLite on disk (a repeated UUID is refused; a log's
    node found), so that it does not grow in memory with the number of jobs."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE nodes (uuid TEXT PRIMARY KEY, pk INTEGER) WITHOUT ROWID")
        self.db.execute("BEGIN")

    def add(self, uuid: str, pk: int) -> bool:
        """False when ``uuid`` is there already."""
        try:
            self.db.execute("INSERT INTO nodes VALUES (?, ?)", (uuid, pk))
        except sqlite3.IntegrityError:
            return False
        return True

    def pk_of(self, uuid: str) -> int:
        found = self.db.execute("SELECT pk FROM nodes WHERE uuid = ?", (uuid,)).fetchone()
        if found is None:
            raise KeyError(uuid)
        return found[0]

    def close(self) -> None:
        self.db.close()


def render_json(tree: Any) -> bytes:
    """Sorted keys, compact, UTF-8; Python's encoder when orjson cannot (integers over 64 bits)."""
    try:
        return _render_orjson(tree)
    except TypeError:
        # A lone surrogate (a JSON-string output holding "\\udcff", Entropy's json.dumps of a
        # surrogateescape'd file name) is no Unicode text: AiiDA's databases and every strict
        # reader (reportgen's own included) refuse its escape.  It becomes U+FFFD here; the exact
        # bytes stay in the job's raw HDF5 file, which the archive carries.
        return _render_python(tree)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


_FIELDS: dict[str, dict[str, dict]] = {
    "Node": {
        "ctime": {"convert_type": "date"}, "mtime": {"convert_type": "date"}, "uuid": {}, "node_type": {},
        "process_type": {}, "label": {}, "description": {},
        "user": {"requires": "User", "related_name": "dbnodes"},
        "dbcomputer": {"requires": "Computer", "related_name": "dbnodes"},
        "attributes": {"convert_type": "jsonb"}, "extras": {"convert_type": "jsonb"},
    },
    "Group": {
        "uuid": {}, "label": {}, "type_string": {}, "description": {}, "time": {"convert_type": "date"},
        "user": {"requires": "User", "related_name": "dbgroups"}, "extras": {"convert_type": "jsonb"},
    },
    "Computer": {"uuid": {}, "label": {}, "hostname": {}, "description": {}, "transport_type": {},
                 "scheduler_type": {}, "metadata": {}},
    "User": {"email": {}, "first_name": {}, "last_name": {}, "institution": {}},
    "Log": {"uuid": {}, "time": {"convert_type": "date"}, "loggername": {}, "levelname": {}, "message": {},
            "metadata": {}, "dbnode": {"requires": "Node", "related_name": "dblogs"}},
    "Comment": {"uuid": {}, "ctime": {"convert_type": "date"}, "mtime": {"convert_type": "date"}, "content": {},
                "dbnode": {"requires": "Node", "related_name": "dbcomments"},
                "user": {"requires": "User", "related_name": "dbcomments"}},
}


def render_metadata(parameters: dict[str, Any]) -> bytes:
    metadata = {
        "export_version": EXPORT_VERSION,
        "aiida_version": "2.1.0",  # 0.13 first appeared in aiida-core 2.1.0; the writer is in export_parameters
        "unique_identifiers": {"Node": "uuid", "Group": "uuid", "Computer": "uuid", "Log": "uuid",
                               "Comment": "uuid", "User": "email"},
        "all_fields_info": _FIELDS,
        "export_parameters": parameters,
    }
    return render_json(metadata)


def build_export_parameters(root: Path, options: ExportOptions, store: StoreScan) -> dict[str, Any]:
    """What was exported and how, recorded in metadata.json (no absolute paths, no clock)."""
    return {
        "tool": "reportgen",
        "tool_version": __version__,
        "source": root.resolve().name,
        "projects": [p.name for p in store.projects],
        "jobs": [f"{p.name}/{display_name(ref.job_id)}" for p in store.projects for ref in p.jobs],
        # sorted and deduplicated: the same selection in another option order is the same export
        "selection": {"projects": sorted(set(options.projects)), "jobs": sorted(set(options.jobs))},
        "user_email": options.user_email,
        "uuid_namespace": str(g.NAMESPACE),
        "include_logs": True,
        "include_comments": False,
        "lossless": not (options.projects or options.jobs),
        "graph_traversal_rules": {},
        "entities_starting_set": {},
    }


# ---------------------------------------------------------------- members
def _node_dir(node_uuid: str) -> str:
    return f"nodes/{node_uuid[:2]}/{node_uuid[2:4]}/{node_uuid[4:]}/path"


def iter_node_members(root: Path, piece: g.Graph) -> Iterator[containers.OutMember]:
    for node in piece.nodes:
        base = _node_dir(node.uuid)
        if not node.files:  # an empty repository folder, as AiiDA 1.x wrote for every node
            yield containers.OutMember(base, is_dir=True)
        for item in node.files:
            name = f"{base}/{item.path}"
            if item.content is not None:
                yield containers.OutMember(name, len(item.content), data=item.content)
            elif item.spooled is not None:
                yield containers.OutMember(name, item.spooled.size, chunks=read_work_chunks(item.spooled))
            else:
                assert item.stored is not None
                yield containers.OutMember(name, item.stored.size, chunks=read_store_chunks(root, item.stored))


def open_store_file(path: Path):
    """A listed data_store file, opened without following a link; one that cannot be opened is
    input missing (exit 66), not a failure to write the archive."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise unreadable_input(path, exc) from None
    return os.fdopen(fd, "rb")


def read_store_chunks(root: Path, stored: g.StoreFile) -> Iterator[bytes]:
    """A data_store file in chunks, exactly the bytes data.json records for it.

    The file was hashed when its job was read, possibly long before: its size
    and mtime are checked again on opening, and the SHA-256 of what is streamed
    (with no byte more, and size, mtime and ctime unchanged meanwhile) at the
    end.  A file the lab wrote to meanwhile is refused, never archived with a
    record restore would refuse.
    """
    change_point(root, stored.path)
    path, digest, seen = root / stored.path, hashlib.sha256(), 0
    with open_store_file(path) as fh:
        before = _stamp(fh)
        check_unchanged(path, (stored.size, stored.mtime_ns), before[:2])
        while seen < stored.size and (chunk := fh.read(min(CHUNK, stored.size - seen))):
            digest.update(chunk)
            seen += len(chunk)
            yield chunk
        check_unchanged(path, b"", fh.read(1))
        check_unchanged(path, before, _stamp(fh))
    check_unchanged(path, stored.sha256, digest.hexdigest())


def read_work_chunks(spooled: g.SpooledFile) -> Iterator[bytes]:
    """A work file a reader worker wrote, in chunks, checked against its size and SHA-256 (both are
    in the archive's member already), then removed: the work folder holds only what is still to come."""
    path, digest, seen = Path(spooled.path), hashlib.sha256(), 0
    try:
        with open_work_file(path) as fh:
            while seen < spooled.size and (chunk := fh.read(min(CHUNK, spooled.size - seen))):
                digest.update(chunk)
                seen += len(chunk)
                yield chunk
            extra = fh.read(1)
    finally:
        path.unlink(missing_ok=True)
    if extra or seen != spooled.size or digest.hexdigest() != spooled.sha256:
        raise WriteError(path, "work file of the export changed while it waited to be archived")


def open_work_file(path: Path):
    try:
        return open(path, "rb")
    except OSError as exc:
        raise WriteError(path, f"work file of the export lost: {(exc.strerror or str(exc)).lower()}") from None


def change_point(root: Path, rel: str) -> None:
    """``REPORTGEN_CHANGE_AT=<kind>:<data_store path>``: tests only, change that file for real between
    its hashing and its copying, as a node still writing its log does.

    ``grow`` appends a line; ``rewrite`` changes its first byte and puts its
    mtime back (size and mtime unchanged: only the digest of the streamed bytes
    can tell).  Like ``REPORTGEN_CRASH_AT``, it makes a race a test can rely on.
    """
    kind, _, target = os.environ.get("REPORTGEN_CHANGE_AT", "").partition(":")
    if target != rel:
        return
    path = root / rel
    st = os.lstat(path)
    with open(path, "r+b") as fh:
        if kind == "grow":
            fh.seek(0, os.SEEK_END)
            fh.write(b"a line written while export ran\n")
        if kind == "rewrite" and (first := fh.read(1)):
            fh.seek(0)
            fh.write(bytes([first[0] ^ 1]))
    if kind == "rewrite":
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@dataclass
class _Counts:
    jobs: int = 0
    data: DataJson | None = None
    newest: datetime | None = None  # of the jobs written: dates an audit bundle without the clock
    errors: int = 0  # data problems of the jobs written (and of the store), as their Log nodes record them
    warnings: int = 0

    def count_problems(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            if problem.severity == "error":
                self.errors += 1
            else:
                self.warnings += 1


def iter_members(root: Path, store: StoreScan, listing: StoreListing, options: ExportOptions,
                 all_jobs: StoreScan, counts: _Counts, output: Path, work: Path,
                 parameters: dict[str, Any]) -> Iterator[containers.OutMember]:
    """Every member of the archive, one job at a time; metadata and data.json last.

    data.json's rows are spooled into ``work`` as each job's piece arrives.
    Closing it (or an error in it) stops the reader pool before it returns."""
    from converters import progress

    data = counts.data = DataJson(options.user_email, Path(tempfile.mkdtemp(prefix="data-json-", dir=work)))
    bundled: set[str] = set()
    total = sum(len(p.jobs) for p in store.projects)
    try:
        with closing(iter_job_pieces(root, store, listing, options.workers, work)) as pieces, \
                progress.stage("exporting jobs", total, "job") as advance:
            for project in store.projects:
                job_uuids, times = [], []
                for _ref, piece in zip(project.jobs, pieces):
                    data.add(piece.graph)
                    counts.jobs += 1
                    counts.count_problems(piece.job.problems)
                    job_uuids.append(g.build_uuid(piece.job.project, piece.job.job_id, "job"))
                    times.append(g.job_time(piece.job))
                    counts.newest = max(counts.newest or times[-1], times[-1])
                    yield from iter_node_members(root, piece.graph)
                    advance(1)
                repos = read_git_repos(root, project, output)
                bundled.update(r.path for r in repos)
                piece = g.build_project_graph(project.name, tuple(job_uuids), repos, max(times, default=g.EPOCH))
                data.add(piece)
                yield from iter_node_members(root, piece)
        selected = bool(options.projects or options.jobs)
        files, dirs = other_files(root, listing, all_jobs, bundled, selected)
        piece = g.build_other_files_graph(files, dirs, g.EPOCH, {} if selected else listing.symlinks)
        data.add(piece)
        yield from iter_node_members(root, piece)
        yield containers.OutMember("metadata.json", data=(meta := render_metadata(parameters)), size=len(meta))
        yield data.member()
    finally:
        data.close()


# ---------------------------------------------------------------- entry point
def check_paths(root: Path, output: Path, options: ExportOptions) -> str:
    check_data_store_given(root)
    fmt = options.fmt or containers.guess_format(output)
    if fmt not in containers.FORMATS:
        raise UsageError(output, f"unknown format {fmt!r} (choose from {', '.join(containers.FORMATS)})")
    containers.check_output(output, [root], options.force)
    return fmt


def export_archive(data_store: Path | str, output: Path | str, options: ExportOptions = ExportOptions()
                   ) -> ExportSummary:
    """Write the export archive of ``data_store`` (or of the selected projects/jobs) to ``output``.

    With ``options.skip_busy`` a job whose files change while they are read (a node still logging:
    a lab's store is never still) is left out and the export starts again without it, up to
    ``MAX_BUSY_JOBS`` jobs.  The error is caught here, not only in the CLI, because it is a
    decision about what to carry, and the failed pass leaves nothing behind (the archive is
    written to a temporary file, removed when the pass stops)."""
    root, output = Path(data_store), Path(output)
    fmt = check_paths(root, output, options)
    check_version_request(options.export_version)
    left_out: list[tuple[str, str]] = []
    while True:
        try:
            return export_once(root, output, options, fmt, tuple(left_out))
        except BadInputError as exc:
            busy = find_busy_job(root, exc, options, left_out)
            if busy is None:
                raise
            left_out.append(busy)


def find_busy_job(root: Path, exc: BadInputError, options: ExportOptions, left_out: list[tuple[str, str]]
                  ) -> tuple[str, str] | None:
    """(project, job id) of the job whose file ``exc`` says changed while read, when --skip-busy may
    leave it out; None when the error is another one, the file is no job's, or too many are out."""
    if not options.skip_busy or exc.reason != CHANGED or len(left_out) >= MAX_BUSY_JOBS:
        return None
    rel = os.path.relpath(exc.file, root)  # raw, as job_file_paths and the listing name files
    listing = read_listing(root)
    for project in scan_data_store(root).projects:
        for ref in project.jobs:
            if rel in job_file_paths(ref, listing) and (ref.project, ref.job_id) not in left_out:
                return ref.project, ref.job_id
    return None


def export_once(root: Path, output: Path, options: ExportOptions, fmt: str, left_out: tuple[tuple[str, str], ...]
                ) -> ExportSummary:
    """One pass of ``export_archive``, without the jobs in ``left_out`` (their files are still job
    files, so the store's "other files" node does not carry them either)."""
    remove_stale_staging(output)  # what a run killed with SIGKILL left beside this output
    all_jobs = scan_data_store(root)
    store = leave_out(select_jobs(all_jobs, options), left_out)
    listing = read_listing(root)
    check_repos_trusted(root, store)
    counts = _Counts()
    counts.count_problems([*store.problems, *(p for project in store.projects for p in project.problems)])
    parameters = build_export_parameters(root, options, store)  # one copy: metadata.json's and the summary's
    # the work folder holds the large .npy files on their way from the readers to the archive; the
    # members are closed before it goes, which stops the readers writing into it
    with work_errors_named(root, output, options.export_version), work_folder(output) as work, \
            closing(iter_members(root, store, listing, options, all_jobs, counts,
                                                           output, work, parameters)) as members:
        if options.export_version == EXPORT_VERSION:
            containers.write_archive(output, fmt, members, replace=options.force)
        else:
            write_other_version(output, fmt, options, members)
    data = counts.data
    assert data is not None
    return ExportSummary(
        path=str(output), export_version=options.export_version, fmt=fmt, jobs=counts.jobs,
        nodes=data.nodes, links=data.links, groups=data.groups, logs=data.logs,
        size=output.stat().st_size, parameters=parameters,
        symlinks=0 if options.projects or options.jobs else len(listing.symlinks), newest=counts.newest,
        errors=counts.errors, warnings=counts.warnings, data_store=str(root),
        busy=tuple(f"{display_name(project)}/{display_name(job)}" for project, job in left_out),
    )


def leave_out(scan: StoreScan, left_out: tuple[tuple[str, str], ...]) -> StoreScan:
    """The scan without the jobs ``--skip-busy`` left out (a project keeps its group, even empty)."""
    if not left_out:
        return scan
    return replace(scan, projects=tuple(replace(p, jobs=tuple(r for r in p.jobs if (r.project, r.job_id) not in left_out))
                                        for p in scan.projects))


def check_version_request(version: str) -> None:
    """Refuse an --export-version that no chain of steps reaches from 0.13, before any work."""
    from converters.main.runner import register
    from converters.migrations import plan

    register()  # the main_XXXX revisions and the downgrades
    plan(EXPORT_VERSION, version, option="--export-version")


def write_other_version(output: Path, fmt: str, options: ExportOptions, members: Iterator[containers.OutMember]
                        ) -> None:
    """Write 0.13 in a work folder beside the output (swept with it after a kill), then let
    converters convert it to the version asked for."""
    from converters.main import convert

    with work_folder(output) as work:
        staging = work / "export-0.13.zip"
        containers.write_archive(staging, "zip", members)
        # our own staging archive: its HDF5 files of zeros may inflate 1000:1, and are no bomb
        own = replace(containers.Limits(), max_ratio=math.inf)
        convert(staging, output, options.export_version, fmt=fmt, force=options.force, allow_loss=options.allow_loss,
                limits=own)


@contextmanager
def work_errors_named(root: Path, output: Path, version: str) -> Iterator[None]:
    """Every file in the export's work folders (its work files, the 0.13 archive another version is
    converted from) is gone when an error line naming it is read; docs/exit-codes.md says the line names
    the input at fault or the output.  So a write error there (74) names the output, and any other error
    about such a file (converting the export's own 0.13 archive failed) names the data_store, with the
    member of that archive the reason is about."""
    try:
        yield
    except (BadInputError, InputMissingError, WriteError) as exc:
        if not exc.file.startswith(work_prefix(output)):
            raise
        if isinstance(exc, WriteError):
            said = "work file" in exc.reason  # most reasons already say what was written
            raise WriteError(output, exc.reason if said else f"{exc.reason} (writing a work file of the export)") from None
        about = f"{exc.member}: {exc.reason}" if exc.member else exc.reason
        raise type(exc)(root, f"its export at {EXPORT_VERSION} cannot be converted to {version}: {about}") from None
