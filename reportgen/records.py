"""Frozen records of an Entropy Hub data_store.

These are the nouns every stage above the readers works with: the site, the
export and ``inspect`` read only these.  They carry no I/O methods and never
hold an h5py or git object.  Values read from files are bounded previews; the
full data of an output is read on demand through
``reportgen.readers.hdf5.read_output_data`` which returns an ``OutputData``.

Times are timezone-aware ``datetime`` objects (UTC when the source said so);
the raw strings are kept next to them because the source formats are part of
what users audit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import numpy as np

Severity = Literal["error", "warning"]

# Derived job status, design decision D4 of the layout reference.
Status = Literal["ok", "failed-nodes", "incomplete", "no-data", "corrupt", "unknown"]
STATUSES: tuple[str, ...] = ("ok", "failed-nodes", "incomplete", "no-data", "corrupt", "unknown")

# How an output's values are stored (reference section 2.3).
OutputKind = Literal[
    "int",  # int64
    "float",  # float64
    "bool",  # HDF5 enum on int8 {FALSE, TRUE}
    "str",  # variable-length UTF-8 strings
    "json",  # JSON-fallback strings (each row is json.dumps of one set() value)
    "empty",  # defined but never set: (0,) float64 pair
    "missing",  # aborted flush: <name>_time exists without <name>
    "other",  # any dtype Entropy's writer never produces
]

# State of a job's commit in its project's repository (design decision D3).
CommitState = Literal["present", "absent", "not-in-repo", "repo-missing", "unreadable", "invalid"]


@dataclass(frozen=True)
class Problem:
    """Something wrong with the data_store, never fatal to reading it.

    ``file`` is relative to the data_store root ("" for the root itself),
    ``member`` names the HDF5 object, git path or log line inside it, and
    ``code`` is a stable keyword that tests and CI filters can match.
    """

    severity: Severity
    code: str
    file: str
    member: str
    reason: str

    def describe(self) -> str:
        where = repr(self.file)
        if self.member:
            where += ":" + repr(self.member)
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class ReadLimits:
    """Budgets that keep reading bounded whatever the input declares."""

    preview_rows: int = 5
    preview_string_bytes: int = 64 * 1024
    max_dataset_bytes: int = 2 * 1024**3  # larger datasets are refused (marked, not read)
    max_read_bytes: int = 256 * 1024**2  # what read_output_data returns at most
    log_preview_bytes: int = 256 * 1024
    git_file_bytes: int = 1024 * 1024
    worker_memory_bytes: int = 2 * 1024**3  # RLIMIT_AS of an HDF5 worker process
    worker_timeout_s: float = 120.0


@dataclass(frozen=True)
class Timestamps:
    """Summary of an output's ``<name>_time`` dataset (ms precision, literal Z)."""

    count: int
    first: datetime | None  # earliest, whatever the order in the file
    last: datetime | None  # latest
    sorted: bool  # rows already in time order
    duplicates: int  # rows sharing a millisecond with an earlier row
    preview: tuple[str, ...]  # the first raw strings, as stored
    unparsable: int = 0  # rows that are not ISO 8601 times with a UTC offset (hdf5.parse_time)
    unread: int = 0  # rows past the read budget: not parsed; first/last/sorted/duplicates are of the rest
    unparsable_example: str = ""  # the first unparsable stamp as stored (foreign-writer fixes)


@dataclass(frozen=True)
class Output:
    """One retention-2 output of a node: a value dataset and its timestamps."""

    name: str
    hdf5_path: str  # "/<node>/<name>", the exact path to open with h5py
    description: str
    units: str
    kind: OutputKind
    dtype: str  # numpy dtype as text, e.g. "int64", "float64", "bool", "str"
    shape: tuple[int, ...]  # full shape; first axis is the number of set() calls
    n_sets: int
    nbytes: int  # declared size of the values
    preview: tuple[Any, ...]  # first rows, decoded (JSON rows parsed), bounded
    preview_truncated: bool
    times: Timestamps | None  # None when <name>_time is absent
    attrs: tuple[tuple[str, str], ...] = ()  # every attribute of the dataset
    too_large: bool = False  # over ReadLimits.max_dataset_bytes: never read
    labels: tuple[tuple[int, str], ...] = ()  # an HDF5 enum's (value, name) pairs, by value

    @property
    def is_series(self) -> bool:
        """A number set one value at a time (shape ``(N,)``): a line over its sets."""
        return self.kind in ("int", "float", "bool") and len(self.shape) == 1

    @property
    def is_null(self) -> bool:
        """A dataset with a null dataspace (``h5py.Empty``): no value at all, unlike a scalar,
        whose shape is also ``()`` but which holds one set."""
        return self.kind != "missing" and not self.shape and self.n_sets == 0


@dataclass(frozen=True)
class NodeGroup:
    """One node instance of the workflow: an HDF5 group under the root."""

    name: str
    hdf5_path: str
    type: str
    description: str
    bin: str
    attrs: tuple[tuple[str, str], ...]  # every attribute, sorted by name
    outputs: tuple[Output, ...]


@dataclass(frozen=True)
class LogFile:
    """``<job id>/<node>.log``: merged stdout and stderr of one node."""

    node: str  # file stem: the node name
    path: str  # relative to the data_store root
    size: int
    mtime: datetime
    preview: str  # UTF-8 with replacement, ANSI stripped, bounded
    truncated: bool  # the preview is shorter than the file
    line_count: int  # lines in the preview
    error_lines: tuple[int, ...]  # 1-based preview lines that look like errors
    traceback_lines: tuple[int, ...]  # 1-based lines of "Traceback (most recent call last):"
    invalid_utf8: bool
    # readers (issue 2): the end of a truncated log (tracebacks live there) and the whole file's lines
    tail: str = ""  # last ~16 KB, same cleaning as preview; "" when not truncated
    total_lines: int = 0  # lines in the whole file (traceback_lines count in these)
    # logs (warnings): 1-based preview lines that look like warnings (WARN, UserWarning:, warning:), not errors
    warning_lines: tuple[int, ...] = ()
    # logs (audit s18): marked preview lines past the MAX_MARKED_LINES kept above (those keep the LAST
    # ones, the lines a page shows); a true count is len(error_lines) + error_lines_left_out
    error_lines_left_out: int = 0
    warning_lines_left_out: int = 0

    @property
    def has_traceback(self) -> bool:
        return bool(self.traceback_lines)


@dataclass(frozen=True)
class GitFile:
    """A file of a commit's tree; ``text`` is None when binary or over budget."""

    path: str
    size: int
    blob_sha: str
    text: str | None
    truncated: bool = False


# ---- workflow diff (helper Y, s23): what differs between two commits' trees (readers/git.py read_tree_diff)
@dataclass(frozen=True)
class TreeChange:
    """One file that differs between two commits; a side's text is None when the file is absent
    there, binary or over the size limits (``note`` says which)."""

    path: str
    change: Literal["added", "removed", "changed"]
    old_text: str | None
    new_text: str | None
    note: str = ""


@dataclass(frozen=True)
class TreeDiff:
    """The files that differ between commits ``old`` and ``new`` of one repository, by path;
    ``state`` is "present" when both were read, else ``reason`` says why nothing is listed."""

    old: str
    new: str
    state: Literal["present", "unreadable"]
    changes: tuple[TreeChange, ...] = ()
    reason: str = ""
    left_out: int = 0  # changed files past the limit on files listed
# ---- end workflow diff


@dataclass(frozen=True)
class Commit:
    """A job's workflow or parameters commit, and what could be read of it."""

    repo: Literal["workflow", "params"]
    sha: str  # "" when the attribute is absent
    state: CommitState
    reason: str = ""  # why it is not "present"; for a present one, how it was found (an annotated tag's commit)
    subject: str = ""
    message: str = ""
    author: str = ""
    author_email: str = ""
    date: datetime | None = None
    files: tuple[GitFile, ...] = ()


@dataclass(frozen=True)
class FileStat:
    """Size and modification time of an input file, for change detection."""

    path: str  # relative to the data_store root
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class JobRef:
    """A job found by scanning, before anything inside it is read."""

    project: str
    job_id: str
    hdf5: FileStat | None  # <job id>.hdf5 (or output_data.hdf5 for a command-line run)
    logs: tuple[FileStat, ...]  # <job id>/*.log, sorted by name
    log_dir: str | None  # <job id>/ when it exists
    command_line_run: bool = False
    # every other entry of <job id>/ (the executor's result, stray files and folders: size 0), which
    # the job's status and warnings depend on: an incremental build must see them change
    others: tuple[FileStat, ...] = ()


@dataclass(frozen=True)
class ProjectScan:
    """A project folder as listed, with the state of its two repositories."""

    name: str
    jobs: tuple[JobRef, ...]  # sorted by job id
    problems: tuple[Problem, ...]
    workflow_repo: str | None  # relative path of workflow.git when it exists
    params_repo: str | None
    repo_fingerprint: str  # changes when either repository's refs or packs change
    # The folder name exactly as listed (undecodable bytes as surrogates, like ``JobRef.project``);
    # ``name`` is its display form.  Keys that must tell every folder apart use this one.
    folder: str = ""


@dataclass(frozen=True)
class StoreScan:
    """Result of listing a data_store: cheap, no file content read."""

    root: str
    projects: tuple[ProjectScan, ...]  # sorted by name
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Job:
    """One experimental run: ``<job id>.hdf5`` and/or ``<job id>/`` of logs."""

    project: str
    job_id: str
    hdf5_file: str | None  # relative to the data_store root
    log_dir: str | None  # relative to the data_store root
    file_size: int
    file_mtime: datetime | None
    root_attrs: tuple[tuple[str, str], ...]  # every root attribute, sorted
    description: str
    job_eui: str
    creation_timestamp: str  # raw @creation_timestamp
    end_time: datetime | None  # parsed @creation_timestamp (D5)
    start_time: datetime | None  # approximate (D5)
    start_time_source: Literal["output-time", "log-mtime", ""]
    nodes: tuple[NodeGroup, ...]
    logs: tuple[LogFile, ...]
    workflow: Commit
    params: Commit
    status: Status
    problems: tuple[Problem, ...]
    command_line_run: bool = False  # output_data.hdf5 written without a job EUI
    # job_id, hdf5_file and log_dir exactly as listed (undecodable bytes held as
    # surrogates, surrogateescape); the fields above show them as \xNN, which two names can share
    raw_job_id: str | None = None  # None: not known (a Job built by hand), job_id is the name
    raw_hdf5_file: str | None = None
    raw_log_dir: str | None = None

    def attr(self, name: str, default: str = "") -> str:
        for key, value in self.root_attrs:
            if key == name:
                return value
        return default


@dataclass(frozen=True)
class Project:
    """A folder under ``data_store/`` and its two repositories."""

    name: str
    jobs: tuple[Job, ...]
    problems: tuple[Problem, ...]
    workflow_repo: str | None  # relative path when the repository exists
    params_repo: str | None


@dataclass(frozen=True)
class DataStore:
    """Everything read from one data_store."""

    root: str
    projects: tuple[Project, ...]
    problems: tuple[Problem, ...]  # store-level: stray files, a project named git...

    def all_problems(self) -> tuple[Problem, ...]:
        found = list(self.problems)
        for project in self.projects:
            found.extend(project.problems)
            for job in project.jobs:
                found.extend(job.problems)
        return tuple(found)


@dataclass(frozen=True)
class OutputData:
    """Values of one output as read for figures and downloads.

    ``values`` is a numpy array for numeric and bool outputs, a tuple of
    decoded Python values for ``str`` and ``json`` outputs.  ``stride`` > 1
    means the reader kept every stride-th set because the whole would exceed
    ``ReadLimits.max_read_bytes``; ``complete`` says nothing was dropped.
    """

    hdf5_path: str
    kind: OutputKind
    values: np.ndarray | tuple[Any, ...]
    times: tuple[datetime | None, ...] | TimeColumn  # a TimeColumn when read from a file
    complete: bool = True
    stride: int = 1
    note: str = field(default="")
    value_strides: tuple[int, ...] = ()  # stride along each axis after the first, when a set alone was over budget


@dataclass(frozen=True)
class ReadRefusal:
    """Why the values of one output could not be read (a damaged chunk, an unconvertible dtype):
    the reader's reason, kept so that what leaves the output out can say why."""

    reason: str


# ---------------------------------------------------------------- set times as numpy
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, eq=False)
class TimeColumn:
    """The set times of an output as numpy: milliseconds since the epoch (UTC) and which rows parsed.

    Why: a monitor's ``<name>_time`` has a row per set, millions of them, and a
    Python ``datetime`` per row costs ten times the read.  It reads as the
    ``tuple[datetime | None, ...]`` it stands for (``len``, indexing, slicing,
    iteration, ``==`` with such a tuple); a ``datetime`` is made only for a row
    that is asked for.  ``millis`` is 0 where ``valid`` is False.
    """

    millis: np.ndarray  # int64
    valid: np.ndarray  # bool, same length

    def __len__(self) -> int:
        return len(self.millis)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return TimeColumn(self.millis[index], self.valid[index])
        if not self.valid[index]:
            return None
        return _EPOCH + timedelta(milliseconds=int(self.millis[index]))

    def __iter__(self) -> Any:
        epoch, valid = _EPOCH, self.valid.tolist()
        for millis, ok in zip(self.millis.tolist(), valid):
            yield epoch + timedelta(milliseconds=millis) if ok else None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TimeColumn):
            return np.array_equal(self.valid, other.valid) and np.array_equal(self.millis, other.millis)
        if isinstance(other, (tuple, list)):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
