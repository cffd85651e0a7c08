"""data_store -> export archive (legacy export version 0.13; others via converters' steps).

``export_archive`` reads as a list of stages: check the paths, read the
store, list its files, bundle its repositories, then stream the members into
``converters.containers.write_archive``: each job's graph is built and its
repository files written one job at a time, and ``metadata.json`` and
``data.json`` go last, when every node is known (readers accept any order).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from converters import containers
from reportgen import __version__
from reportgen.errors import BadInputError, InputMissingError, UsageError
from reportgen.export import graph as g
from reportgen.export.gitrepo import read_bundle, read_head, read_refs
from reportgen.records import DataStore, Job, Project, ReadLimits

EXPORT_VERSION = "0.13"
DEFAULT_EMAIL = "entropy-export@reportgen.invalid"
CHUNK = 1024 * 1024
JOB_WINDOW = 4  # jobs read ahead per worker: bounds the graphs (and arrays) held in memory
# Full values for the data nodes; the raw HDF5 file carries anything larger anyway.
EXPORT_LIMITS = ReadLimits(max_read_bytes=512 * 1024**2)


@dataclass(frozen=True)
class ExportOptions:
    projects: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    export_version: str = EXPORT_VERSION
    fmt: str | None = None  # from the file name when None
    force: bool = False
    user_email: str = DEFAULT_EMAIL
    workers: int = 0


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

    def render(self) -> str:
        return (
            f"wrote {self.path} (export version {self.export_version}, {self.fmt}, {self.size} bytes): "
            f"{self.jobs} jobs, {self.nodes} nodes, {self.links} links, {self.groups} groups, {self.logs} logs"
        )


# ---------------------------------------------------------------- reading the store
@dataclass(frozen=True)
class StoreListing:
    """Every regular file and directory of the data_store (symlinks are not followed or carried)."""

    files: dict[str, g.StoreFile]
    directories: tuple[str, ...]


def read_listing(root: Path) -> StoreListing:
    """Walk the store without following links; hash every file (restore checks each one)."""
    files: dict[str, g.StoreFile] = {}
    directories: list[str] = []
    for top, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        rel_top = os.path.relpath(top, root)
        for name in sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(top, d))]:
            path = os.path.join(top, name)
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode):
                rel = name if rel_top == "." else f"{rel_top}/{name}"
                files[rel] = g.StoreFile(rel, st.st_size, _sha256_file(path), st.st_mtime_ns, bool(st.st_mode & 0o111))
        for name in dirnames:
            if not os.path.islink(os.path.join(top, name)):
                directories.append(name if rel_top == "." else f"{rel_top}/{name}")
    return StoreListing(files, tuple(sorted(directories)))


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def select_jobs(store: DataStore, options: ExportOptions) -> DataStore:
    """Keep the projects and jobs asked for; an unknown name is a usage error."""
    known = {p.name for p in store.projects}
    for name in options.projects:
        if name not in known:
            raise UsageError(store.root, f"no project {name!r} in the data_store")
    projects = [p for p in store.projects if not options.projects or p.name in options.projects]
    if options.jobs:
        found = {j.job_id for p in projects for j in p.jobs}
        for job_id in options.jobs:
            if job_id not in found:
                raise UsageError(store.root, f"no job {job_id!r} in the selected projects")
        projects = [_with_jobs(p, [j for j in p.jobs if j.job_id in options.jobs]) for p in projects]
        projects = [p for p in projects if p.jobs]
    return DataStore(store.root, tuple(projects), store.problems)


def _with_jobs(project: Project, jobs: list[Job]) -> Project:
    return Project(project.name, tuple(jobs), project.problems, project.workflow_repo, project.params_repo)


def job_file_paths(job: Job, listing: StoreListing) -> list[str]:
    """The job's HDF5 file and everything under its log folder, as listed."""
    paths = [job.hdf5_file] if job.hdf5_file and job.hdf5_file in listing.files else []
    if job.log_dir:
        prefix = job.log_dir.rstrip("/") + "/"
        paths += [p for p in listing.files if p.startswith(prefix)]
    return sorted(paths)


# ---------------------------------------------------------------- per job inputs
def read_job_piece(root: Path, job: Job, repo: Path | None, params_repo: Path | None,
                   raw: tuple[g.StoreFile, ...]) -> g.Graph:
    """Read what one job's graph needs and build it (runs in a worker process)."""
    inputs = g.JobInputs(
        job=job,
        outputs=read_outputs(root, job),
        workflow_files=read_commit_files(repo, job.workflow),
        parameters=read_commit_files(params_repo, job.params).get("parameters.json"),
        raw_files=raw,
    )
    return g.build_job_graph(inputs)


def read_outputs(root: Path, job: Job) -> dict[str, Any]:
    """Full values of every output the HDF5 reader can give whole; unreadable ones are left out."""
    from reportgen.readers.hdf5 import read_output_data

    if not job.hdf5_file or job.status == "corrupt":
        return {}
    values = {}
    for group in job.nodes:
        for output in group.outputs:
            if output.too_large or output.kind == "empty":
                continue
            try:
                values[output.hdf5_path] = read_output_data(root / job.hdf5_file, output.hdf5_path, EXPORT_LIMITS)
            except (BadInputError, InputMissingError):
                continue
    return values


# Per process: repositories stay open and a commit's files are read once for all its jobs.
_REPOS: dict[Path, Any] = {}
_COMMIT_FILES: dict[tuple[Path, str], dict[str, bytes]] = {}


def read_commit_files(repo_path: Path | None, commit) -> dict[str, bytes]:
    """Exact bytes of the commit's files, through the git reader (hash-checked); {} if unreadable."""
    if repo_path is None or commit.state != "present" or not commit.files:
        return {}
    key = (repo_path, commit.sha)
    if key not in _COMMIT_FILES:
        _COMMIT_FILES[key] = _read_blobs(repo_path, commit)
    return _COMMIT_FILES[key]


def _read_blobs(repo_path: Path, commit) -> dict[str, bytes]:
    from reportgen.readers.git import Repo, RepoUnreadable

    if repo_path not in _REPOS:
        try:
            _REPOS[repo_path] = Repo(repo_path)
        except (RepoUnreadable, OSError):
            _REPOS[repo_path] = None
    repo = _REPOS[repo_path]
    if repo is None:
        return {}
    try:
        return {f.path: repo.read_object(f.blob_sha, "blob") for f in commit.files}
    except (RepoUnreadable, ValueError, OSError):
        return {}


def close_repos() -> None:
    for repo in _REPOS.values():
        if repo is not None:
            repo.close()
    _REPOS.clear()
    _COMMIT_FILES.clear()


def iter_job_pieces(root: Path, store: DataStore, listing: StoreListing, workers: int) -> Iterator[g.Graph]:
    """Each job's graph in store order, read by ``workers`` processes a few jobs ahead of the writer."""
    tasks = []
    for project in store.projects:
        repo = root / project.workflow_repo if project.workflow_repo else None
        params = root / project.params_repo if project.params_repo else None
        tasks += [(root, job, repo, params, tuple(listing.files[p] for p in job_file_paths(job, listing)))
                  for job in project.jobs]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(tasks) < 2 * workers:
        for task in tasks:
            yield read_job_piece(*task)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        window: list = []
        for task in tasks:
            window.append(pool.submit(read_job_piece, *task))
            if len(window) >= JOB_WINDOW * workers:
                yield window.pop(0).result()
        for future in window:
            yield future.result()


# ---------------------------------------------------------------- repositories
def read_git_repos(root: Path, project: Project) -> tuple[g.GitRepo, ...]:
    """Bundles of the project's repositories that git can bundle (the others travel as files)."""
    repos = []
    for rel in (project.workflow_repo, project.params_repo):
        if not rel or not (root / rel).is_dir():
            continue
        bundle = read_bundle(root / rel)
        if bundle is not None:
            repos.append(g.GitRepo(rel, read_head(root / rel), bundle, read_refs(root / rel)))
    return tuple(repos)


def other_files(listing: StoreListing, all_jobs: DataStore, bundled: set[str], selected: bool
                ) -> tuple[tuple[g.StoreFile, ...], tuple[str, ...]]:
    """Files and directories no job and no bundle carries (only in a whole-store export)."""
    if selected:
        return (), ()
    owned = {p for project in all_jobs.projects for job in project.jobs for p in job_file_paths(job, listing)}

    def in_bundle(path: str) -> bool:
        return any(path == b or path.startswith(b + "/") for b in bundled)

    files = tuple(f for p, f in sorted(listing.files.items()) if p not in owned and not in_bundle(p))
    dirs = tuple(d for d in listing.directories if not in_bundle(d))
    return files, dirs


# ---------------------------------------------------------------- data.json
class DataJson:
    """Accumulates nodes, links, logs and groups into the legacy data.json layout."""

    def __init__(self, user_email: str) -> None:
        self.user_email = user_email
        self.nodes: dict[str, dict] = {}
        self.attributes: dict[str, Any] = {}
        self.extras: dict[str, Any] = {}
        self.links: list[dict] = []
        self.logs: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.members: dict[str, list[str]] = {}
        self.pk_of: dict[str, int] = {}

    def add(self, piece: g.Graph) -> None:
        for node in piece.nodes:
            if node.uuid in self.pk_of:
                raise BadInputError("", f"two entities share the UUID {node.uuid}", node.label)
            pk = str(len(self.pk_of) + 1)
            self.pk_of[node.uuid] = int(pk)
            self.nodes[pk] = {
                "uuid": node.uuid, "node_type": node.node_type, "process_type": node.process_type,
                "label": node.label, "description": node.description, "ctime": node.ctime,
                "mtime": node.ctime, "user": 1, "dbcomputer": None,
            }
            self.attributes[pk] = node.attributes
            self.extras[pk] = node.extras
        self.links.extend({"input": ln.input, "output": ln.output, "label": ln.label, "type": ln.type}
                          for ln in piece.links)
        for log in piece.logs:
            self.logs[str(len(self.logs) + 1)] = {
                "uuid": log.uuid, "time": log.time, "loggername": log.loggername, "levelname": log.levelname,
                "message": log.message, "metadata": log.metadata, "dbnode": self.pk_of[log.node],
            }
        for group in piece.groups:
            self.groups[str(len(self.groups) + 1)] = {
                "uuid": group.uuid, "label": group.label, "type_string": group.type_string,
                "description": group.description, "time": group.time, "user": 1,
            }
            self.members[group.uuid] = list(group.nodes)

    def render(self) -> bytes:
        user = {"email": self.user_email, "first_name": "", "last_name": "", "institution": ""}
        tree = {
            "export_data": {"User": {"1": user}, "Computer": {}, "Node": self.nodes, "Group": self.groups,
                            "Log": self.logs, "Comment": {}},
            "links_uuid": self.links,
            "groups_uuid": self.members,
            "node_attributes": self.attributes,
            "node_extras": self.extras,
        }
        return render_json(tree)


def render_json(tree: Any) -> bytes:
    """Sorted keys, compact, UTF-8; Python's encoder when orjson cannot (integers over 64 bits)."""
    import orjson

    try:
        return orjson.dumps(tree, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(tree, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


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


def build_export_parameters(root: Path, options: ExportOptions, store: DataStore) -> dict[str, Any]:
    """What was exported and how, recorded in metadata.json (no absolute paths, no clock)."""
    return {
        "tool": "reportgen",
        "tool_version": __version__,
        "source": root.resolve().name,
        "projects": [p.name for p in store.projects],
        "jobs": [f"{p.name}/{j.job_id}" for p in store.projects for j in p.jobs],
        "selection": {"projects": list(options.projects), "jobs": list(options.jobs)},
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
            else:
                assert item.store_path is not None
                size = os.lstat(root / item.store_path).st_size
                yield containers.OutMember(name, size, chunks=read_store_chunks(root, item.store_path, size))


def read_store_chunks(root: Path, rel: str, size: int) -> Iterator[bytes]:
    """A data_store file in chunks; a file that changed size since it was listed is refused."""
    seen = 0
    fd = os.open(root / rel, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        while seen < size and (chunk := fh.read(min(CHUNK, size - seen))):
            seen += len(chunk)
            yield chunk
    if seen != size:
        raise BadInputError(root / rel, "changed during read")


@dataclass
class _Counts:
    jobs: int = 0
    data: DataJson | None = None


def iter_members(root: Path, store: DataStore, listing: StoreListing, options: ExportOptions,
                 all_jobs: DataStore, counts: _Counts) -> Iterator[containers.OutMember]:
    """Every member of the archive, one job at a time; metadata and data.json last."""
    data = counts.data = DataJson(options.user_email)
    bundled: set[str] = set()
    pieces = iter_job_pieces(root, store, listing, options.workers)
    for project in store.projects:
        job_uuids = []
        for job, piece in zip(project.jobs, pieces):
            data.add(piece)
            counts.jobs += 1
            job_uuids.append(g.build_uuid(job.project, job.job_id, "job"))
            yield from iter_node_members(root, piece)
        repos = read_git_repos(root, project)
        bundled.update(r.path for r in repos)
        piece = g.build_project_graph(project.name, tuple(job_uuids), repos, _project_time(project))
        data.add(piece)
        yield from iter_node_members(root, piece)
    files, dirs = other_files(listing, all_jobs, bundled, bool(options.projects or options.jobs))
    piece = g.build_other_files_graph(files, dirs, g.EPOCH)
    data.add(piece)
    yield from iter_node_members(root, piece)
    yield containers.OutMember("metadata.json", data=(meta := render_metadata(
        build_export_parameters(root, options, store))), size=len(meta))
    body = data.render()
    yield containers.OutMember("data.json", len(body), data=body)


def _project_time(project: Project) -> datetime:
    """The latest job time of the project: deterministic, unlike the clock."""
    times = [g.job_time(job) for job in project.jobs]
    return max(times) if times else g.EPOCH


# ---------------------------------------------------------------- entry point
def check_paths(root: Path, output: Path, options: ExportOptions) -> str:
    if not root.is_dir():
        raise InputMissingError(root, "no such data_store directory")
    fmt = options.fmt or containers.guess_format(output)
    if fmt not in containers.FORMATS:
        raise UsageError(output, f"unknown format {fmt!r} (choose from {', '.join(containers.FORMATS)})")
    containers.check_output(output, [root], options.force)
    return fmt


def export_archive(data_store: Path | str, output: Path | str, options: ExportOptions = ExportOptions()
                   ) -> ExportSummary:
    """Write the export archive of ``data_store`` (or of the selected projects/jobs) to ``output``."""
    root, output = Path(data_store), Path(output)
    fmt = check_paths(root, output, options)
    check_version_request(options.export_version)
    all_jobs = _read_all(root, options)
    store = select_jobs(all_jobs, options)
    listing = read_listing(root)
    counts = _Counts()
    try:
        if options.export_version == EXPORT_VERSION:
            containers.write_archive(output, fmt, iter_members(root, store, listing, options, all_jobs, counts))
        else:
            write_other_version(output, fmt, options, iter_members(root, store, listing, options, all_jobs, counts))
    finally:
        close_repos()
    data = counts.data
    assert data is not None
    return ExportSummary(
        path=str(output), export_version=options.export_version, fmt=fmt, jobs=counts.jobs,
        nodes=len(data.nodes), links=len(data.links), groups=len(data.groups), logs=len(data.logs),
        size=output.stat().st_size, parameters=build_export_parameters(root, options, store),
    )


def _read_all(root: Path, options: ExportOptions) -> DataStore:
    from reportgen.readers.datastore import read_data_store

    return read_data_store(root, workers=options.workers)


def check_version_request(version: str) -> None:
    from converters.versions import KNOWN_VERSIONS

    if version not in KNOWN_VERSIONS:
        raise UsageError(version, f"unknown export version (known: {', '.join(KNOWN_VERSIONS)})")


def write_other_version(output: Path, fmt: str, options: ExportOptions, members: Iterator[containers.OutMember]
                        ) -> None:
    """Write 0.13 next to the output, then let converters migrate it to the version asked for."""
    from converters.migrate import migrate

    staging = output.with_name(f".{output.name}.staging-{os.getpid()}-0.13.zip")
    try:
        containers.write_archive(staging, "zip", members)
        migrate(staging, output, options.export_version, fmt=fmt, force=options.force)
    finally:
        staging.unlink(missing_ok=True)
