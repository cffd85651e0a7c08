"""Records -> the AiiDA provenance graph a job becomes (pure: no I/O).

One job of the data_store becomes (see docs/export.md for the drawing)::

    Dict "parameters" ──input_work──┐            ┌──return──> Data (one per output)
    FolderData "workflow" ─input_work┼─> WorkflowNode (the job) ──call_calc──> CalcFunctionNode (one per node)
    FolderData "raw files" input_work┘                                   │  ^
                                     Dict "<node> parameters" ─input_calc┘  └─create──> Data

plus one ``Log`` per node log (on its calculation) and per problem found (on
the job), one ``core`` group per project, a "git history" FolderData per
project and one "other files" FolderData for everything else in the store.

Everything here is deterministic: UUIDs are ``uuid5`` of a fixed namespace and
``project \\0 job id \\0 role``, times come from the job's own times, dicts are
sorted when written.  The writer gathers the bytes (full output values, git
blobs) through the readers and hands them in as ``JobInputs``; repository files
that are plain data_store files are named by path only (``RepoFile.store_path``)
so that large HDF5 files are streamed, never held here.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import numpy.lib.format as npy_format

try:
    from numpy.lib.format import drop_metadata
except ImportError:  # numpy < 1.26: compounds rebuilt from descr, which carries no metadata

    def drop_metadata(dtype: np.dtype) -> np.dtype:
        return np.dtype(dtype.descr) if dtype.names else np.dtype(dtype.str)

from reportgen.jsondepth import load_json
from reportgen.records import Job, NodeGroup, Output, OutputData, Problem, TimeColumn
from reportgen.timetext import render_time_grid, render_utc

# Fixed forever: changing it changes every UUID ever exported (no dedup on re-import).
NAMESPACE = uuid.UUID("6c1a5e0e-4f3b-5d2a-9a57-0e7a7c1b2d42")

WORKFLOW_NODE = "process.workflow.WorkflowNode."
CALC_NODE = "process.calculation.calcfunction.CalcFunctionNode."
FOLDER = "data.core.folder.FolderData."
DICT = "data.core.dict.Dict."
LIST = "data.core.list.List."
STR = "data.core.str.Str."
ARRAY = "data.core.array.ArrayData."

JOB_PROCESS_TYPE = "entropy.job"
NODE_PROCESS_TYPE = "entropy.node"

# D4 status -> AiiDA exit_status: 0 is success, anything else a distinct failure.
EXIT_STATUS = {"ok": 0, "failed-nodes": 1, "incomplete": 2, "no-data": 3, "corrupt": 4, "unknown": 5}

# Roles of the FolderData nodes that make the archive lossless; restore looks for these.
ROLE_RAW = "raw-files"
ROLE_GIT = "git-history"
ROLE_OTHER = "other-files"

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LABEL_OK = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\Z")
_PLAIN_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}\Z")
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?\Z", re.IGNORECASE)
ENCODED_DIR = ".encoded"


# ---------------------------------------------------------------- records
@dataclass(frozen=True)
class RepoFile:
    """A file of a node's repository: inline bytes, or a data_store file streamed by the writer."""

    path: str  # posix path inside the node repository
    content: bytes | None = None
    store_path: str | None = None  # relative to the data_store root
    stored: StoreFile | None = None  # what was recorded of it: the writer checks the bytes it streams against it
    spooled: SpooledFile | None = None  # an .npy a reader worker wrote into the export's work folder


@dataclass(frozen=True)
class SpooledFile:
    """A file a reader worker wrote into the export's work folder (a large ``.npy``): the writer
    streams it into the archive, checking these, and removes it."""

    path: str  # absolute
    size: int
    sha256: str


@dataclass(frozen=True)
class ArrayFiles:
    """The ``.npy`` files of one output's ArrayData as the worker wrote them, and each array's shape."""

    shapes: Mapping[str, tuple[int, ...]]  # "values", "times" -> shape (the node's ``array|<name>``)
    files: tuple[RepoFile, ...]  # "<name>.npy", in the order of their names


@dataclass(frozen=True)
class GraphNode:
    uuid: str
    node_type: str
    label: str
    description: str
    ctime: str  # naive UTC, "%Y-%m-%dT%H:%M:%S.%f" as legacy archives store it
    attributes: Mapping[str, Any]
    extras: Mapping[str, Any] = field(default_factory=dict)
    process_type: str = ""
    files: tuple[RepoFile, ...] = ()


@dataclass(frozen=True)
class GraphLink:
    input: str
    output: str
    label: str
    type: str  # input_work, input_calc, call_calc, create, return


@dataclass(frozen=True)
class GraphLog:
    uuid: str
    node: str  # uuid of the node the log belongs to
    time: str
    loggername: str
    levelname: str
    message: str
    metadata: Mapping[str, Any]


@dataclass(frozen=True)
class GraphGroup:
    uuid: str
    label: str
    description: str
    time: str
    nodes: tuple[str, ...]  # member uuids
    type_string: str = "core"


@dataclass(frozen=True)
class Graph:
    """A piece of the provenance graph; pieces are merged with ``merge_graphs``."""

    nodes: tuple[GraphNode, ...] = ()
    links: tuple[GraphLink, ...] = ()
    logs: tuple[GraphLog, ...] = ()
    groups: tuple[GraphGroup, ...] = ()


@dataclass(frozen=True)
class JobInputs:
    """Everything beyond the ``Job`` record that the graph of one job needs.

    ``outputs`` maps an output's hdf5_path to its full values (absent when the
    reader could not give them whole); ``workflow_files`` are the files of the
    job's workflow commit (path -> bytes); ``parameters`` the bytes of
    ``parameters.json`` at the job's params commit, or None.
    """

    job: Job
    outputs: Mapping[str, OutputData] = field(default_factory=dict)
    workflow_files: Mapping[str, bytes] = field(default_factory=dict)
    parameters: bytes | None = None
    raw_files: tuple[StoreFile, ...] = ()
    arrays: Mapping[str, ArrayFiles] = field(default_factory=dict)  # outputs already written as .npy files
    refused: Mapping[str, str] = field(default_factory=dict)  # outputs the reader could not read: why


@dataclass(frozen=True)
class StoreFile:
    """A data_store file carried byte for byte, with what restore checks and sets."""

    path: str  # relative to the data_store root, posix
    size: int
    sha256: str
    mtime_ns: int
    executable: bool = False


@dataclass(frozen=True)
class GitRepo:
    """A bare repository carried as a git bundle (repositories git cannot bundle go as plain files)."""

    path: str  # relative to the data_store root, e.g. "git/proj/workflow.git"
    head: str  # content of HEAD, e.g. "ref: refs/heads/main\n"
    bundle: bytes
    refs: Mapping[str, str] = field(default_factory=dict)  # ref -> SHA, checked after restore


# ---------------------------------------------------------------- identity and time
def build_uuid(project: str, job_id: str, role: str) -> str:
    """The deterministic UUID of one entity: same job, same role, same UUID on every export."""
    return str(uuid.uuid5(NAMESPACE, f"{project}\0{job_id}\0{role}"))


def render_time(when: datetime | None) -> str:
    """Naive UTC with microseconds, the only form AiiDA's legacy->main conversion parses."""
    return render_utc(when or EPOCH, timespec="microseconds")


def job_time(job: Job) -> datetime:
    """ctime and mtime of every entity of a job: its end, else start, else file time, else 1970."""
    return job.end_time or job.start_time or job.file_mtime or EPOCH


def safe_label(name: str) -> str:
    """A link label AiiDA accepts (an identifier without ``__``), stable and collision-free.

    Names that already qualify are kept; others are reduced to ASCII word
    characters and get 8 hex of their SHA-1 so that ``a.b`` and ``a-b`` differ.
    """
    if _LABEL_OK.match(name) and "__" not in name and not name.endswith("_"):
        return name
    cleaned = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9]", "_", name)).strip("_")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "n_" + cleaned if cleaned else "n"
    return f"{cleaned}_{hashlib.sha1(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


# ---------------------------------------------------------------- values
def build_jsonable(value: Any) -> Any:
    """Plain JSON values: numpy unwrapped, tuples as lists; non-finite floats and integers
    beyond 64 bits as strings (the raw HDF5 file keeps the exact values)."""
    if isinstance(value, np.ndarray):
        return [build_jsonable(item) for item in value.tolist()] if value.ndim else build_jsonable(value.item())
    if isinstance(value, np.generic):
        return build_jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)  # 'nan', 'inf', '-inf'
    if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
        return str(value)  # JSON readers (AiiDA's SQLite, ours) refuse integers over 64 bits
    if isinstance(value, (list, tuple)):
        return [build_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): build_jsonable(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


TIMES_DTYPE = np.dtype("<U24")  # times.npy: "YYYY-MM-DDTHH:MM:SS.mmmZ" or ""


def render_npy(array: np.ndarray) -> bytes:
    """``.npy`` bytes as ``numpy.save`` writes them (AiiDA's ArrayData format), no pickles."""
    array = np.require(array, requirements="C")  # not ascontiguousarray: that makes a 0-d array 1-d
    return b"".join(render_npy_chunks(array.shape, array.dtype, [array]))


def render_npy_chunks(shape: tuple[int, ...], dtype: np.dtype, blocks: Iterable[np.ndarray]) -> Iterator[bytes]:
    """The ``.npy`` of an array given as blocks in C order, byte for byte what ``numpy.save`` writes
    for the whole array (its header, then the raw values), without ever holding the whole.

    The dtype's metadata (h5py's enum labels, at any depth of a compound) is
    dropped first: ``.npy`` cannot hold it, and numpy would say so on stderr.
    """
    dtype = drop_metadata(np.dtype(dtype))
    yield render_npy_header(shape, dtype)
    for block in blocks:
        yield np.ascontiguousarray(block).reshape(-1).view(np.uint8).data  # the raw bytes, no copy


def render_npy_header(shape: tuple[int, ...], dtype: np.dtype) -> bytes:
    """The header ``numpy.save`` writes for a C-ordered array: numpy's own header writers, in
    numpy's order (1.0 when it fits, else 2.0, else 3.0 for names outside latin-1)."""
    fields = {"descr": npy_format.dtype_to_descr(dtype), "fortran_order": False, "shape": tuple(shape)}
    for writer in (npy_format.write_array_header_1_0, npy_format.write_array_header_2_0, _write_header_3_0):
        buffer = io.BytesIO()
        try:
            writer(buffer, fields)
        except ValueError:  # too long for 1.0 (UnicodeEncodeError is one too: non-latin-1 names)
            continue
        return buffer.getvalue()
    raise ValueError(f"numpy cannot write an .npy header for {dtype}")


def _write_header_3_0(fp: io.BytesIO, fields: dict) -> None:
    """Format 3.0 (UTF-8 field names) has no public writer; the one ``numpy.save`` itself uses."""
    private = getattr(npy_format, "_write_array_header", None)
    if private is None:
        from numpy.lib import _format_impl  # numpy >= 2

        private = _format_impl._write_array_header
    private(fp, fields, (3, 0))


def render_time_arrays(blocks: Iterable[TimeColumn | tuple[datetime | None, ...]]) -> Iterator[np.ndarray]:
    """Parsed times, block by block, as the rows of ``times.npy``."""
    for block in blocks:
        yield render_time_array(block)


def render_time_array(times: TimeColumn | tuple[datetime | None, ...]) -> np.ndarray:
    """``render_times`` as a ``TIMES_DTYPE`` array; a ``TimeColumn`` without a ``datetime`` per row."""
    if not isinstance(times, TimeColumn):
        return np.array(_render_times_by_row(times), dtype=TIMES_DTYPE)
    grid = np.zeros((len(times), 24), np.uint8)
    grid[:, :23] = render_time_grid(times)
    grid[:, 23] = ord("Z")
    grid[~times.valid] = 0
    texts = grid.view("S24").ravel().astype(TIMES_DTYPE)
    early = np.flatnonzero(times.valid & (times.millis < _YEAR_1000_MS))  # the grid's years have four digits
    if len(early):
        texts[early] = _render_times_by_row(tuple(times[int(i)] for i in early))
    return texts


_YEAR_1000_MS = ((datetime(1000, 1, 1, tzinfo=timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc))
                 // timedelta(milliseconds=1))


def render_times(times: TimeColumn | tuple[datetime | None, ...]) -> list[str]:
    """Set times as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` ("" when unparsable)."""
    if isinstance(times, TimeColumn):
        return render_time_array(times).tolist()
    return _render_times_by_row(times)


def _render_times_by_row(times: tuple[datetime | None, ...]) -> list[str]:
    out = []
    for when in times:
        out.append(render_utc(when, timespec="milliseconds") + "Z" if when is not None else "")  # cut, as the grid
    return out


def _problem_dict(problem: Problem) -> dict[str, str]:
    return {
        "severity": problem.severity,
        "code": problem.code,
        "file": problem.file,
        "member": problem.member,
        "reason": problem.reason,
    }


def build_member_names(paths: list[str]) -> dict[str, str]:
    """Repository name of each data_store path: the path itself when plain, else ``.encoded/<sha256>``.

    Plain means every segment is short ASCII, starts with a letter, digit or
    ``_`` and is no Windows device name, and no earlier name differs only by
    case: anything else (non-ASCII, hostile or non-UTF-8 names) would be
    refused or mangled by some archive reader.  The true path stays in the
    node's ``entropy_files`` attribute.
    """
    names: dict[str, str] = {}
    seen: set[str] = set()
    for path in paths:
        plain = all(_PLAIN_SEGMENT.match(s) and not _RESERVED.match(s) for s in path.split("/"))
        if not plain or path.lower() in seen:
            digest = hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()
            names[path] = f"{ENCODED_DIR}/{digest}"
        else:
            names[path] = path
        seen.add(names[path].lower())
    return names


def _json_path(path: str) -> dict[str, str]:
    """A path for JSON: as text, plus its bytes in hex when it is not valid UTF-8."""
    raw = path.encode("utf-8", "surrogateescape")
    try:
        return {"path": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"path": raw.decode("utf-8", "replace"), "path_hex": raw.hex()}


def _store_file_dict(item: StoreFile, member: str | None = None) -> dict[str, Any]:
    return {
        **_json_path(item.path),
        "member": member if member is not None else item.path,
        "size": item.size,
        "sha256": item.sha256,
        "mtime_ns": item.mtime_ns,
        "executable": item.executable,
    }


# ---------------------------------------------------------------- one job
@dataclass(frozen=True)
class _JobContext:
    job: Job
    ctime: str
    job_uuid: str

    def uuid(self, role: str) -> str:
        return build_uuid(self.job.project, self.job.job_id, role)


def build_job_graph(inputs: JobInputs) -> Graph:
    """The provenance graph of one job (nodes, links, logs; groups are per project)."""
    job = inputs.job
    ctx = _JobContext(job, render_time(job_time(job)), build_uuid(job.project, job.job_id, "job"))
    params = _parse_parameters(inputs.parameters)
    pieces = [
        Graph(nodes=(build_job_node(job, ctx),), logs=build_problem_logs(job, ctx)),
        build_job_inputs(inputs, params, ctx),
    ]
    for name in calc_names(job):
        pieces.append(build_calc_graph(name, inputs, params, ctx))
    return merge_graphs(pieces)


def calc_names(job: Job) -> tuple[str, ...]:
    """Node groups in file order, then nodes known only from a log (crashed or missing groups)."""
    names = [group.name for group in job.nodes]
    names += sorted(log.node for log in job.logs if log.node not in names)
    return tuple(names)


def build_job_node(job: Job, ctx: _JobContext) -> GraphNode:
    attributes = {
        "process_state": "finished",
        "process_label": "EntropyJob",
        "exit_status": EXIT_STATUS.get(job.status, 5),
        "exit_message": "" if job.status == "ok" else f"entropy status: {job.status}",
        "sealed": True,
        "entropy_project": job.project,
        "entropy_job_id": job.job_id,
        "entropy_status": job.status,
        "entropy_root_attributes": dict(job.root_attrs),
        "entropy_creation_timestamp": job.creation_timestamp,
        "entropy_start_time": render_time(job.start_time) if job.start_time else "",
        "entropy_start_time_source": job.start_time_source,
        "entropy_command_line_run": job.command_line_run,
        "entropy_commits": {c.repo: {"sha": c.sha, "state": c.state, "reason": c.reason} for c in (job.workflow, job.params)},
        "entropy_hdf5_file": job.hdf5_file or "",
    }
    return GraphNode(
        uuid=ctx.job_uuid,
        node_type=WORKFLOW_NODE,
        process_type=JOB_PROCESS_TYPE,
        label=job.job_id,
        description=job.description,
        ctime=ctx.ctime,
        attributes=attributes,
    )


def build_problem_logs(job: Job, ctx: _JobContext) -> tuple[GraphLog, ...]:
    """Every problem the reader found becomes a Log on the job (how a corrupt job shows in AiiDA)."""
    logs = []
    for index, problem in enumerate(job.problems):
        logs.append(
            GraphLog(
                uuid=ctx.uuid(f"problem/{index}"),
                node=ctx.job_uuid,
                time=ctx.ctime,
                loggername="reportgen.inspect",
                levelname="ERROR" if problem.severity == "error" else "WARNING",
                message=problem.describe(),
                metadata=_problem_dict(problem),
            )
        )
    return tuple(logs)


def _parse_parameters(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        value = load_json(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # the params bundle still carries the file
        return None
    return build_jsonable(value) if isinstance(value, dict) else None


def build_job_inputs(inputs: JobInputs, params: dict[str, Any] | None, ctx: _JobContext) -> Graph:
    """The job's input_work inputs: workflow files, parameters and its raw files."""
    job = inputs.job
    nodes, links = [], []

    def add(node: GraphNode, label: str) -> None:
        nodes.append(node)
        links.append(GraphLink(node.uuid, ctx.job_uuid, label, "input_work"))

    if inputs.workflow_files:
        names = build_member_names(sorted(inputs.workflow_files))
        files = tuple(RepoFile(names[path], content=data) for path, data in sorted(inputs.workflow_files.items()))
        attributes = {
            "entropy_role": "workflow-files",
            "entropy_commit": job.workflow.sha,
            "entropy_files": [{**_json_path(path), "member": names[path]} for path in sorted(inputs.workflow_files)],
        }
        add(_folder(ctx.uuid("workflow"), f"{job.job_id} workflow", attributes, files, ctx), "workflow")
    if params is not None:
        node = GraphNode(ctx.uuid("parameters"), DICT, f"{job.job_id} parameters", "parameters.json at the "
                         f"params commit {job.params.sha}", ctx.ctime, params)
        add(node, "parameters")
    if inputs.raw_files:
        files, attributes = _carried_files(inputs.raw_files)
        attributes = {"entropy_role": ROLE_RAW, **attributes}
        node = _folder(ctx.uuid(ROLE_RAW), f"{job.job_id} raw files", attributes, files, ctx)
        add(node, "raw_files")
    return Graph(nodes=tuple(nodes), links=tuple(links))


def _carried_files(items: tuple[StoreFile, ...]) -> tuple[tuple[RepoFile, ...], dict[str, Any]]:
    """Repository files streamed from the data_store, and the attribute restore reads them by."""
    names = build_member_names([item.path for item in items])
    files = tuple(RepoFile(names[item.path], store_path=item.path, stored=item) for item in items)
    return files, {"entropy_files": [_store_file_dict(item, names[item.path]) for item in items]}


def _folder(node_uuid: str, label: str, attributes: dict, files: tuple[RepoFile, ...], ctx: _JobContext) -> GraphNode:
    return GraphNode(node_uuid, FOLDER, label, "", ctx.ctime, attributes, files=files)


# ---------------------------------------------------------------- one Entropy node
def build_calc_graph(name: str, inputs: JobInputs, params: dict[str, Any] | None, ctx: _JobContext) -> Graph:
    """A calculation for one Entropy node: called by the job, its parameters, outputs and log."""
    job = inputs.job
    group = next((g for g in job.nodes if g.name == name), None)
    log = next((item for item in job.logs if item.node == name), None)
    calc_uuid = ctx.uuid(f"calc/{name}")
    failed = bool(log and log.has_traceback)
    calc = GraphNode(
        uuid=calc_uuid,
        node_type=CALC_NODE,
        process_type=NODE_PROCESS_TYPE,
        label=name,
        description=group.description if group else "",
        ctime=ctx.ctime,
        attributes=_calc_attributes(name, group, failed),
    )
    label = safe_label(name)
    nodes, links, logs = [calc], [GraphLink(ctx.job_uuid, calc_uuid, label, "call_calc")], []
    if params is not None and isinstance(params.get(name), dict):
        node_params = GraphNode(ctx.uuid(f"calc-params/{name}"), DICT, f"{name} parameters", "", ctx.ctime, params[name])
        nodes.append(node_params)
        links.append(GraphLink(node_params.uuid, calc_uuid, "parameters", "input_calc"))
    for output in group.outputs if group else ():
        data = build_output_node(output, inputs.outputs.get(output.hdf5_path), ctx,
                                 inputs.arrays.get(output.hdf5_path))
        if data is None:
            logs.append(_skipped_output_log(output, calc_uuid, ctx, inputs.refused.get(output.hdf5_path, "")))
            continue
        out_label = safe_label(output.name)
        nodes.append(data)
        links.append(GraphLink(calc_uuid, data.uuid, out_label, "create"))
        links.append(GraphLink(ctx.job_uuid, data.uuid, f"{label}__{out_label}", "return"))
    if log is not None:
        logs.append(_node_log(log, calc_uuid, ctx))
    return Graph(nodes=tuple(nodes), links=tuple(links), logs=tuple(logs))


def _calc_attributes(name: str, group: NodeGroup | None, failed: bool) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "process_state": "finished",
        "process_label": (group.type if group and group.type else "EntropyNode"),
        "exit_status": 1 if failed else 0,
        "sealed": True,
        "entropy_node": name,
        "entropy_in_hdf5": group is not None,
    }
    if group is not None:
        attributes.update(
            entropy_type=group.type,
            entropy_bin=group.bin,
            entropy_hdf5_path=group.hdf5_path,
            entropy_attributes=dict(group.attrs),
        )
    return attributes


def _node_log(log, calc_uuid: str, ctx: _JobContext) -> GraphLog:
    return GraphLog(
        uuid=ctx.uuid(f"log/{log.node}"),
        node=calc_uuid,
        time=ctx.ctime,
        loggername="entropy.node",
        levelname="ERROR" if log.has_traceback else "INFO",
        message=log.preview,
        metadata={
            "path": log.path,
            "size": log.size,
            "truncated": log.truncated,
            "invalid_utf8": log.invalid_utf8,
            "traceback_lines": list(log.traceback_lines),
        },
    )


def _skipped_output_log(output: Output, calc_uuid: str, ctx: _JobContext, refusal: str) -> GraphLog:
    """The warning Log of an output that is not a data node; ``refusal``: the reader's reason."""
    reason = "too large" if output.too_large else refusal or "not readable whole"
    return GraphLog(
        uuid=ctx.uuid(f"skipped/{output.hdf5_path}"),
        node=calc_uuid,
        time=ctx.ctime,
        loggername="reportgen.export",
        levelname="WARNING",
        message=f"output {output.name!r} ({reason}) is not a data node; the raw HDF5 file carries it",
        metadata={"hdf5_path": output.hdf5_path, "kind": output.kind},
    )


# ---------------------------------------------------------------- one output
def build_output_node(output: Output, data: OutputData | None, ctx: _JobContext, arrays: ArrayFiles | None = None
                      ) -> GraphNode | None:
    """ArrayData for numbers (values.npy + times.npy), Str/List/Dict for strings and JSON.

    ``arrays``: the output's ``.npy`` files, already written by the reader
    worker (large arrays are never held whole); else they are rendered here
    from ``data``.  None when the values are not available whole (too large,
    strided, unreadable).
    """
    if arrays is not None:
        return _array_node(output, arrays.shapes, arrays.files, ctx)
    if output.kind == "missing":
        times = render_times(data.times) if data is not None else []
        return _rendered_array_node(output, {"times": np.array(times, dtype=TIMES_DTYPE)}, ctx)
    if data is None or not data.complete or output.too_large:
        return None
    times = render_times(data.times)
    if isinstance(data.values, np.ndarray) and not data.values.dtype.hasobject and output.kind != "str":
        return _rendered_array_node(output, {"values": data.values, "times": np.array(times, dtype=TIMES_DTYPE)}, ctx)
    values = build_jsonable(list(data.values))
    return _python_node(output, values, times, ctx)


def _output_extras(output: Output, times: list[str] | None = None) -> dict[str, Any]:
    extras: dict[str, Any] = {
        "entropy_output": output.name,
        "entropy_units": output.units,
        "entropy_kind": output.kind,
        "entropy_dtype": output.dtype,
        "entropy_shape": None if output.is_null else list(output.shape),  # null: no dataspace, unlike a scalar's []
        "entropy_hdf5_path": output.hdf5_path,
        "entropy_attributes": dict(output.attrs),
    }
    if times is not None:
        extras["entropy_times"] = times
    return extras


def _rendered_array_node(output: Output, arrays: dict[str, np.ndarray], ctx: _JobContext) -> GraphNode:
    files = tuple(RepoFile(f"{name}.npy", content=render_npy(array)) for name, array in sorted(arrays.items()))
    return _array_node(output, {name: array.shape for name, array in arrays.items()}, files, ctx)


def _array_node(output: Output, shapes: Mapping[str, tuple[int, ...]], files: tuple[RepoFile, ...], ctx: _JobContext
                ) -> GraphNode:
    attributes = {f"array|{name}": list(shape) for name, shape in sorted(shapes.items())}
    return GraphNode(
        uuid=ctx.uuid(f"output/{output.hdf5_path}"),
        node_type=ARRAY,
        label=output.name,
        description=output.description,
        ctime=ctx.ctime,
        attributes=attributes,
        extras=_output_extras(output),
        files=files,
    )


def _python_node(output: Output, values: list[Any], times: list[str], ctx: _JobContext) -> GraphNode:
    """One set() of a string is a Str, of a dict a Dict; anything else is a List of the sets."""
    if len(values) == 1 and isinstance(values[0], str):
        node_type, attributes = STR, {"value": values[0]}
    elif len(values) == 1 and isinstance(values[0], dict):
        node_type, attributes = DICT, values[0]
    else:
        node_type, attributes = LIST, {"list": values}
    return GraphNode(
        uuid=ctx.uuid(f"output/{output.hdf5_path}"),
        node_type=node_type,
        label=output.name,
        description=output.description,
        ctime=ctx.ctime,
        attributes=attributes,
        extras=_output_extras(output, times),
    )


# ---------------------------------------------------------------- projects and the store
def build_project_graph(
    project: str, job_uuids: tuple[str, ...], repos: tuple[GitRepo, ...], when: datetime
) -> Graph:
    """The project's group (its jobs and the git history node) and its git history node."""
    ctime = render_time(when)
    nodes: tuple[GraphNode, ...] = ()
    members = list(job_uuids)
    if repos:
        names = build_member_names([repo.path for repo in repos])
        attributes = {
            "entropy_role": ROLE_GIT,
            "entropy_project": project,
            "entropy_repositories": [
                {
                    **_json_path(repo.path),
                    "member": names[repo.path] + ".bundle",
                    "head": repo.head,
                    "sha256": hashlib.sha256(repo.bundle).hexdigest(),
                    "refs": [[ref, sha] for ref, sha in sorted(repo.refs.items())],
                }
                for repo in repos
            ],
        }
        files = tuple(RepoFile(names[repo.path] + ".bundle", content=repo.bundle) for repo in repos)
        node = GraphNode(build_uuid(project, "", ROLE_GIT), FOLDER, f"{project} git history", "git bundles of "
                         "the project's workflow and parameter repositories", ctime, attributes, files=files)
        nodes = (node,)
        members.append(node.uuid)
    group = GraphGroup(
        uuid=build_uuid(project, "", "group"),
        label=f"entropy/{project}",
        description=f"Entropy Hub project {project!r}",
        time=ctime,
        nodes=tuple(members),
    )
    return Graph(nodes=nodes, groups=(group,))


def build_other_files_graph(files: tuple[StoreFile, ...], directories: tuple[str, ...], when: datetime,
                            symlinks: Mapping[str, str] | None = None) -> Graph:
    """Every other file and every directory of the data_store, so that restore loses nothing, and
    every symlink of it (path and target), which is not carried but must leave a trace."""
    symlinks = symlinks or {}
    if not files and not directories and not symlinks:
        return Graph()
    repo_files, carried = _carried_files(files)
    attributes = {
        "entropy_role": ROLE_OTHER,
        **carried,
        "entropy_directories": [_json_path(d) for d in directories],
        "entropy_symlinks": [_json_symlink(path, target) for path, target in sorted(symlinks.items())],
    }
    node = GraphNode(
        build_uuid("", "", ROLE_OTHER),
        FOLDER,
        "data_store other files",
        "files of the data_store that belong to no job: stray files, repositories that are not bundles",
        render_time(when),
        attributes,
        files=repo_files,
    )
    return Graph(nodes=(node,))


def _json_symlink(path: str, target: str) -> dict[str, str]:
    """A symlink for JSON: its path and its target as text (each with its bytes in hex when not UTF-8)."""
    pointed = {f"target{key[4:]}": value for key, value in _json_path(target).items()}
    return {**_json_path(path), **pointed}


def merge_graphs(pieces: list[Graph]) -> Graph:
    return Graph(
        nodes=tuple(n for piece in pieces for n in piece.nodes),
        links=tuple(link for piece in pieces for link in piece.links),
        logs=tuple(log for piece in pieces for log in piece.logs),
        groups=tuple(g for piece in pieces for g in piece.groups),
    )
