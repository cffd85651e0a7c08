"""``--edge-cases``: every row of the generator table (reference section 3).

Each case is a job (or a file) in a project of its own edge-case set, named
by its job description ("[edge] <case>: ...").  ``edge_case_manifest()``
lists them, in code and never inside the data_store, so that reader tests can
check that ``reportgen inspect`` reports every one.  ``expect`` is a keyword
the reader's problem (code or reason) or record should carry; ``status`` is
the derived status of design decision D4 where the case is a job; ``reported``
says whether ``reportgen inspect`` should list a problem for it (the keyword
then matches the problem's code, file, member or reason, ignoring case).

Three security cases (rows 23-25 of the security test plan) point outside
the data_store on purpose: a canary file and a canary HDF5 file are written
next to the data_store (in its parent directory), never at a system file.
The external-storage file records the canary's absolute path, so that file's
bytes depend on where the data_store is written.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import h5py
import numpy as np

from reportgen.example.logs import render_header
from reportgen.example.png import encode_base64, render_noise_png
from reportgen.example.store import (
    EPOCH,
    LAB_ZONE,
    JobContent,
    JobPlan,
    Mtimes,
    build_job_content,
    build_parameters,
    build_project_plan,
    write_job,
    write_logs,
    write_project_repos,
)
from reportgen.example.workflow import NODES
from reportgen.example.writer import NodeSpec, OutputSpec, format_set_time, write_job_hdf5

CANARY_FILE = "reportgen-canary.bin"
CANARY_HDF5 = "reportgen-canary.h5"
CANARY_BYTES = b"REPORTGEN-CANARY-7c1e5a0f-do-not-leak-".ljust(64, b"#")
EDGE = "edge_cases"
NON_ASCII_PROJECT = "量子実験_Ω"
XSS = (
    "</script><script>alert(1)</script>",
    '" onmouseover=alert(1) x="',
    "javascript:alert(1)",
    "line\u2028separator",
    "{{7*7}}",
    "\x1b[2J\x1b[31mred\x1b[0m",
)


@dataclass(frozen=True)
class EdgeCase:
    """One injected case: where it is and what a reader should say about it."""

    row: str  # the generator-table row (or "security" / "stray")
    case: str  # short name of the case
    project: str  # project folder ("" at store level)
    job_id: str  # "" when the case is not a job
    file: str  # path relative to the data_store root that shows the case
    expect: str  # keyword of the expected problem or record property
    status: str = ""  # derived job status (D4) when the case is a job
    huge_only: bool = False  # written only with --huge

    @property
    def reported(self) -> bool:
        """True when ``inspect`` should list a problem naming ``file``; the
        other cases show only in the records (kinds, log flags, times)."""
        return self.row in REPORTED_ROWS or self.job_id in REPORTED_JOBS


def _job(row: str, case: str, job: str, expect: str, status: str, project: str = EDGE, suffix: str = ".hdf5") -> EdgeCase:
    return EdgeCase(row, case, project, job, f"{project}/{job}{suffix}", expect, status)


# Rows and jobs whose case is a problem to report, not just a record property.
REPORTED_ROWS = {"command-line run", "aborted flush", "corrupt HDF5", "git gaps", "security", "stray",
                 "project named git"}
REPORTED_JOBS = {"j1005", "j1022", "j1023", "j1029"}

MANIFEST: tuple[EdgeCase, ...] = (
    _job("normal", "normal run", "j1001", "ok", "ok"),
    _job("command-line run", "output_data.hdf5", "output_data", "command-line", "ok", "test_from_command_line"),
    _job("empty job", "groups with attributes only", "j1002", "no outputs", "ok"),
    _job("empty job", "defined but never set", "j1003", "empty", "ok"),
    _job("failed job", "traceback, short outputs", "j1004", "traceback", "failed-nodes"),
    _job("failed job", "log folder without HDF5", "j1005", "without an HDF5", "no-data", suffix=""),
    _job("aborted flush", "ragged values, numpy >= 1.24", "j1006", "aborted flush", "incomplete"),
    _job("corrupt HDF5", "0-byte file", "j1007", "not a valid HDF5 file", "corrupt"),
    _job("corrupt HDF5", "truncated at 50%", "j1008", "not a valid HDF5 file", "corrupt"),
    _job("corrupt HDF5", "random bytes", "j1009", "not a valid HDF5 file", "corrupt"),
    _job("corrupt HDF5", "missing root attributes", "j1010", "root attribute", "corrupt"),
    dataclasses.replace(_job("huge arrays", "(N,1024,1024) float64", "j1011", "large", "ok"), huge_only=True),
    dataclasses.replace(_job("huge arrays", "10^5 scalar rows", "j1012", "large", "ok"), huge_only=True),
    dataclasses.replace(_job("huge arrays", "1-5 MB JSON PNG strings", "j1013", "large", "ok"), huge_only=True),
    _job("huge arrays", "10^4 scalar rows (small variant)", "j1014", "many rows", "ok"),
    _job("string/JSON", "str, (N,k) str, dicts, null, mixed, big ints, bools", "j1015", "json", "ok"),
    _job("non-ASCII", "names, units, descriptions", "j1016", "Δf", "ok", NON_ASCII_PROJECT),
    _job("HTML/path hostile", "hostile node/output names and attributes", "j1017", "<script>", "ok"),
    _job("git gaps", "SHA not in repository", "j1018", "not-in-repo", "ok", "git_gaps"),
    _job("git gaps", "commit attributes absent", "j1019", "commit attribute", "ok", "git_gaps"),
    EdgeCase("git gaps", "repositories missing", "no_repos", "j1020", "git/no_repos/workflow.git", "repo-missing", "ok"),
    _job("git gaps", "repositories without commits", "j1021", "not-in-repo", "ok", "empty_repos"),
    _job("log gaps", "missing job folder", "j1022", "log folder", "ok", "log_gaps"),
    _job("log gaps", "one node log missing", "j1023", "without a log", "ok", "log_gaps"),
    _job("log gaps", "0-byte log", "j1024", "empty log", "ok", "log_gaps", "/QPU.log"),
    _job("log gaps", "no trailing newline", "j1025", "newline", "ok", "log_gaps", "/QPU.log"),
    _job("log gaps", "invalid UTF-8", "j1026", "invalid UTF-8", "ok", "log_gaps", "/QPU.log"),
    _job("log gaps", "CRLF line ends", "j1027", "CRLF", "ok", "log_gaps", "/QPU.log"),
    _job("log gaps", "ANSI colours and NUL", "j1028", "ANSI", "ok", "log_gaps", "/QPU.log"),
    _job("log gaps", "orphan log folder", "j1029", "without an HDF5", "no-data", "log_gaps", ""),
    _job("time quirks", "duplicate millisecond timestamps", "j1030", "duplicate", "ok"),
    _job("time quirks", "unsorted _time", "j1031", "unsorted", "ok"),
    _job("time quirks", "creation_timestamp at -07:00", "j1032", "-07:00", "ok"),
    _job("time quirks", "creation_timestamp without fraction at +05:30", "j1033", "+05:30", "ok"),
    _job("dry-run job", "one node, Dry run of QPUcircuitRunner", "j1034", "Dry run of", "ok"),
    EdgeCase("project named git", "job files inside data_store/git/", "git", "j1035", "git/j1035.hdf5", "reserved", "ok"),
    _job("security", "external storage (row 23)", "j1036", "external storage", "corrupt"),
    _job("security", "external link (row 24)", "j1037", "external link", "corrupt"),
    _job("security", "virtual dataset (row 24)", "j1038", "virtual dataset", "corrupt"),
    _job("security", "declared 8 TB chunked dataset (row 25)", "j1039", "larger than budget", "ok"),
    EdgeCase("stray", "stray file at store level", "", "", "README.txt", "stray"),
    EdgeCase("stray", "dotfile at store level", "", "", ".DS_Store", "dotfile"),
    EdgeCase("stray", "temp file at store level", "", "", "upload-3f2a.tmp", "temp"),
    EdgeCase("stray", "stray file in a project", EDGE, "", f"{EDGE}/notes.txt", "stray"),
    EdgeCase("stray", "dotfile in a project", EDGE, "", f"{EDGE}/.j1001.hdf5.swp", "dotfile"),
    EdgeCase("stray", "temp file in a project", EDGE, "", f"{EDGE}/j1099.hdf5.tmp", "temp"),
)


def edge_case_manifest(huge: bool = False) -> tuple[EdgeCase, ...]:
    """Every injected case; the ``huge_only`` ones only when ``huge``."""
    return tuple(case for case in MANIFEST if huge or not case.huge_only)


# ---------------------------------------------------------------- helpers
@dataclass(frozen=True)
class EdgeContext:
    root: Path
    seed: int
    mtimes: Mtimes
    shas: dict[str, tuple[str, str]]  # project -> (workflow sha, params sha)


def _start(number: int) -> datetime:
    return EPOCH + timedelta(days=10, minutes=37 * (number - 1000))


def _normal(ctx: EdgeContext, project: str, job_id: str, description: str, failed: bool = False) -> JobContent:
    """A normal run of the example workflow, labelled with its case."""
    number = int(job_id[1:])
    plan = JobPlan(project, 0, job_id, _start(number), 0, 0, f"{ctx.seed}/edge/{job_id}")
    owner = build_project_plan(ctx.seed, 1, project, "Edge Case", "edge@lab.example", 1)
    shas = ctx.shas.get(project, ("", ""))
    content = build_job_content(plan, owner, build_parameters(random.Random(0), 0), shas, failed)
    metadata = {**content.metadata, "job_description": f"[edge] {description}"}
    if not shas[0]:
        metadata.pop("workflow_commit_id")
        metadata.pop("parameters_commit_id")
    return dataclasses.replace(content, metadata=metadata)


def _write(ctx: EdgeContext, project: str, job_id: str, content: JobContent, with_logs: bool = True) -> Path:
    """The job's HDF5 file (and logs); returns the HDF5 path."""
    if with_logs:
        write_job(ctx.root / project, job_id, content, ctx.mtimes)
    else:
        (ctx.root / project).mkdir(parents=True, exist_ok=True)
        write_job_hdf5(ctx.root / project / f"{job_id}.hdf5", content.metadata, content.nodes)
    path = ctx.root / project / f"{job_id}.hdf5"
    ctx.mtimes.stamp(path, content.end)
    return path


def _times(start: datetime, count: int, step_ms: int = 250) -> list[str]:
    return [format_set_time(start + timedelta(milliseconds=step_ms * i)) for i in range(count)]


def _node(name: str, outputs: tuple[OutputSpec, ...] = (), type_: str = "EdgeNode", description: str = "edge-case node",
          bin_: str = "edge.py") -> NodeSpec:
    return NodeSpec(name, type_, description, bin_, outputs)


def _out(name: str, values: list, start: datetime, units: str = "", description: str = "") -> OutputSpec:
    return OutputSpec(name, description or f"edge output {name}", units, values, _times(start, len(values)))


def _replace_nodes(content: JobContent, nodes: list[NodeSpec], description: str | None = None) -> JobContent:
    metadata = dict(content.metadata)
    if description is not None:
        metadata["job_description"] = f"[edge] {description}"
    return dataclasses.replace(content, nodes=nodes, metadata=metadata)


def _strip_outputs(nodes: list[NodeSpec], keep_defined: bool) -> list[NodeSpec]:
    """Attribute-only groups, or every output defined but never set."""
    return [
        dataclasses.replace(n, outputs=tuple(dataclasses.replace(o, values=[], times=[]) for o in n.outputs) if keep_defined else ())
        for n in nodes
    ]


# ---------------------------------------------------------------- rows: normal .. aborted flush
def write_basic_rows(ctx: EdgeContext) -> None:
    _write(ctx, EDGE, "j1001", _normal(ctx, EDGE, "j1001", "normal run"))
    content = _normal(ctx, EDGE, "j1002", "empty job: groups with attributes only")
    _write(ctx, EDGE, "j1002", dataclasses.replace(content, nodes=_strip_outputs(content.nodes, False)))
    content = _normal(ctx, EDGE, "j1003", "empty job: outputs defined but never set")
    _write(ctx, EDGE, "j1003", dataclasses.replace(content, nodes=_strip_outputs(content.nodes, True)))
    _write(ctx, EDGE, "j1004", _normal(ctx, EDGE, "j1004", "failed job: correction_1 crashed", failed=True))
    content = _normal(ctx, EDGE, "j1005", "failed job: executor crashed, no HDF5", failed=True)
    write_logs(ctx.root / EDGE / "j1005", content.logs, content.end, ctx.mtimes)
    write_aborted_flush(ctx)
    write_command_line_run(ctx)


def write_aborted_flush(ctx: EdgeContext) -> None:
    """A ragged QPU value under numpy >= 1.24: the flush stops inside QPU."""
    content = _normal(ctx, EDGE, "j1006", "aborted flush: ragged precorrected_data")
    nodes = list(content.nodes)
    qpu = next(i for i, n in enumerate(nodes) if n.name == "QPU")
    pre = nodes[qpu].outputs[0]
    values = list(pre.values)
    values[3] = [values[3][0], values[3][1][:1]]  # one row lost a column: [[a, b], [c]]
    nodes[qpu] = dataclasses.replace(nodes[qpu], outputs=(dataclasses.replace(pre, values=values), *nodes[qpu].outputs[1:]))
    path = ctx.root / EDGE / "j1006.hdf5"
    write_job(ctx.root / EDGE, "j1006", content, ctx.mtimes)
    write_job_hdf5(path, content.metadata, nodes, ragged="abort")


def write_command_line_run(ctx: EdgeContext) -> None:
    """``python -m entropylab.flame.execute`` without --metadata: output_data.hdf5."""
    content = _normal(ctx, "test_from_command_line", "j1040", "unused")
    metadata = {
        "project": "test_from_command_line",
        "job_description": "Flame execution from command line",
        "creation_timestamp": content.metadata["creation_timestamp"],
    }
    path = ctx.root / "test_from_command_line" / "output_data.hdf5"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_job_hdf5(path, metadata, content.nodes)
    ctx.mtimes.stamp(path, content.end)


# ---------------------------------------------------------------- row: corrupt HDF5
def write_corrupt_rows(ctx: EdgeContext) -> None:
    valid = _write(ctx, EDGE, "j1008", _normal(ctx, EDGE, "j1008", "corrupt: truncated at 50%"))
    data = valid.read_bytes()
    valid.write_bytes(data[: len(data) // 2])
    content = _normal(ctx, EDGE, "j1007", "corrupt: 0-byte file")
    write_job(ctx.root / EDGE, "j1007", content, ctx.mtimes)
    (ctx.root / EDGE / "j1007.hdf5").write_bytes(b"")
    content = _normal(ctx, EDGE, "j1009", "corrupt: random bytes")
    write_job(ctx.root / EDGE, "j1009", content, ctx.mtimes)
    noise = random.Random(f"{ctx.seed}/noise").randbytes(48 * 1024)
    (ctx.root / EDGE / "j1009.hdf5").write_bytes(noise)
    content = _normal(ctx, EDGE, "j1010", "corrupt: valid HDF5 without root attributes")
    path = _write(ctx, EDGE, "j1010", content)
    with h5py.File(path, "a") as f:
        for key in list(f.attrs):
            del f.attrs[key]


# ---------------------------------------------------------------- row: huge arrays
def write_huge_rows(ctx: EdgeContext, huge: bool) -> None:
    start = _start(1011)
    rng = np.random.default_rng(ctx.seed)
    for job, rows in (("j1014", 10**4), ("j1012", 10**5))[: 2 if huge else 1]:
        many = [float(x) for x in rng.normal(size=rows)]
        scalar = [_node("sampler", (OutputSpec("sample", "one scalar per set()", "V", many, _many_times(start, rows)),))]
        _write_custom(ctx, EDGE, job, scalar, f"huge arrays: {rows} scalar rows", start)
    if not huge:
        return
    frames = rng.normal(size=(12, 1024, 1024))
    camera = [_node("camera", (OutputSpec("frame", "1024x1024 frame per set()", "counts", frames, _times(start, 12)),))]
    _write_custom(ctx, EDGE, "j1011", camera, "huge arrays: (12, 1024, 1024) float64", start)
    plots = [{"png": encode_base64(render_noise_png(ctx.seed + i, side, side))} for i, side in enumerate((500, 800, 1120))]
    report = [_node("final_report", (OutputSpec("final_plot", "noise plots", "png", plots, _times(start, 3)),),
                    "FinalDataAnalysis", "Final fitting and plotting", "plot.py")]
    _write_custom(ctx, EDGE, "j1013", report, "huge arrays: 1-5 MB JSON PNG strings", start)


def _many_times(start: datetime, count: int) -> list[str]:
    return [format_set_time(start + timedelta(milliseconds=3 * i)) for i in range(count)]


def _write_custom(ctx: EdgeContext, project: str, job_id: str, nodes: list[NodeSpec], description: str,
                  start: datetime, logs: dict[str, str | bytes] | None = None, **metadata: str) -> Path:
    """A job of hand-made nodes; each node gets a log with the Flame header."""
    end = start + timedelta(minutes=5, microseconds=123457)
    content = JobContent(
        {
            "project": project, "job_eui": f"#/{job_id}", "workflow_eui": "#/w900", "parameters_eui": "#/p900",
            **_commit_ids(ctx, project), "job_description": f"[edge] {description}",
            "creation_timestamp": end.astimezone(LAB_ZONE).isoformat(), **metadata,
        },
        nodes,
        logs if logs is not None else {n.name: render_header(n.name) + "done\n" for n in nodes},
        end,
    )
    return _write(ctx, project, job_id, content)


def _commit_ids(ctx: EdgeContext, project: str) -> dict[str, str]:
    shas = ctx.shas.get(project)
    return {"workflow_commit_id": shas[0], "parameters_commit_id": shas[1]} if shas else {}


# ---------------------------------------------------------------- rows: strings, non-ASCII, hostile
def write_string_rows(ctx: EdgeContext) -> None:
    start = _start(1015)
    outputs = (
        _out("label", ["idle", "scanning", "done ✓"], start, "text"),
        _out("channels", [["I", "Q", "ref"], ["I", "Q", "ref"]], start, "names"),
        # keys out of jsonb order, non-ASCII values (stored as \uXXXX), a NUL only JSON can hold
        _out("settings", [{"zeta": 1, "a": "Ω", "mid": [1, 2]}, {"b": None, "aa": "µs\x00end"}], start, "JSON"),
        _out("maybe", [None, None], start, "JSON"),
        _out("mixed", ["a", 1, 2.5], start, "JSON"),
        _out("counter", [2**64 + 1, 5], start, "counts"),
        _out("locked", [True, False, True], start, "bool"),
        _out("raw", [b"\x00\x01", b"bytes"], start, "bytes"),
        _out("ragged", [[1, 2], [3]], start, "JSON"),
    )
    _write_custom(ctx, EDGE, "j1015", [_node("strings", outputs, "StringZoo", "every string and JSON dtype case")],
                  "string/JSON: vlen str, (N,k) str, dicts, null, mixed, big ints, enum bools", start)


def write_non_ascii_row(ctx: EdgeContext) -> None:
    start = _start(1016)
    nodes = [
        _node("Qubit_β", (_out("Δf", [0.12, 0.13, 0.11], start, "MHz", "Verstimmung Δf der Qubit-Frequenz"),
                          _out("température", [4.1, 4.0], start, "°C", "température du cryostat")),
              "QubitSpektroskopie", "Spektroskopie über β-Übergang", "qubit_β.py"),
        _node("測定", (_out("持続時間", [12.5, 12.7], start, "µs", "測定の持続時間"),), "測定ノード", "量子測定", "測定.py"),
    ]
    _write_custom(ctx, NON_ASCII_PROJECT, "j1016", nodes, "Kalibrierung β-Scan – 測定 №1", start)


HOSTILE_NODES = ("<script>alert(1)", "a&b%20#frag", "..", ".hidden_node", "node with spaces")
HOSTILE_OUTPUTS = ("x<script>", "a&b", "100%", "#frag", "..", ".dot")


def write_hostile_row(ctx: EdgeContext) -> None:
    start = _start(1017)
    outputs = tuple(_out(name, [1, 2], start, "<b>units</b>", XSS[i % len(XSS)]) for i, name in enumerate(HOSTILE_OUTPUTS))
    nodes = [_node(name, outputs if i == 0 else (), f"Type{XSS[4]}", XSS[(i + 1) % len(XSS)], f"{XSS[2]}.py")
             for i, name in enumerate(HOSTILE_NODES)]
    logs = {n: render_header(n) + "".join(f"{payload}\n" for payload in XSS) for n in HOSTILE_NODES if n not in ("..",)}
    _write_custom(ctx, EDGE, "j1017", nodes, "hostile " + " ".join(XSS), start, logs,
                  workflow_eui=XSS[2], parameters_eui=XSS[1])


# ---------------------------------------------------------------- rows: git gaps, log gaps
def write_git_gap_rows(ctx: EdgeContext) -> None:
    content = _normal(ctx, "git_gaps", "j1018", "git gaps: commit not in repository")
    absent_sha = "0123456789abcdef0123456789abcdef01234567"
    metadata = {**content.metadata, "workflow_commit_id": absent_sha, "parameters_commit_id": absent_sha[::-1]}
    _write(ctx, "git_gaps", "j1018", dataclasses.replace(content, metadata=metadata))
    content = _normal(ctx, "git_gaps", "j1019", "git gaps: commit attributes absent")
    metadata = {k: v for k, v in content.metadata.items() if not k.endswith("_commit_id")}
    _write(ctx, "git_gaps", "j1019", dataclasses.replace(content, metadata=metadata))
    for project, job in (("no_repos", "j1020"), ("empty_repos", "j1021")):
        content = _normal(ctx, project, job, f"git gaps: {project.replace('_', ' ')}")
        metadata = {**content.metadata, "workflow_commit_id": "ab" * 20, "parameters_commit_id": "cd" * 20}
        _write(ctx, project, job, dataclasses.replace(content, metadata=metadata))


LOG_GAPS = {
    "j1023": "one node log missing",
    "j1024": "0-byte log",
    "j1025": "no trailing newline",
    "j1026": "invalid UTF-8",
    "j1027": "CRLF line ends",
    "j1028": "ANSI colours and NUL",
}


def _damage_log(job: str, text: str) -> bytes | None:
    """QPU.log of each log-gap job; None removes it."""
    if job == "j1023":
        return None
    if job == "j1024":
        return b""
    if job == "j1025":
        return text.rstrip("\n").encode()
    if job == "j1026":
        return text.encode() + b"bad bytes: \xff\xfe\xc3( end\n" + "latin-1 caf\xe9\n".encode("latin-1")
    if job == "j1027":
        return text.replace("\n", "\r\n").encode()
    return (text + "\x1b[1;31mERROR\x1b[0m circuit \x1b[32mretry\x1b[0m\n\x1b[2Jcleared\x00nul\n").encode()


def write_log_gap_rows(ctx: EdgeContext) -> None:
    _write(ctx, "log_gaps", "j1022", _normal(ctx, "log_gaps", "j1022", "log gaps: missing job folder"), with_logs=False)
    for job, case in LOG_GAPS.items():
        content = _normal(ctx, "log_gaps", job, f"log gaps: {case}")
        damaged = _damage_log(job, content.logs["QPU"])
        logs = {k: v for k, v in content.logs.items() if k != "QPU"}
        if damaged is not None:
            logs["QPU"] = damaged
        _write(ctx, "log_gaps", job, dataclasses.replace(content, logs=logs))
    content = _normal(ctx, "log_gaps", "j1029", "log gaps: orphan log folder")
    write_logs(ctx.root / "log_gaps" / "j1029", {"QPU": content.logs["QPU"]}, content.end, ctx.mtimes)


# ---------------------------------------------------------------- rows: time quirks, dry run, project git
def _with_times(content: JobContent, change) -> JobContent:
    nodes = [dataclasses.replace(n, outputs=tuple(dataclasses.replace(o, times=change(list(o.times))) for o in n.outputs))
             for n in content.nodes]
    return dataclasses.replace(content, nodes=nodes)


def write_time_rows(ctx: EdgeContext) -> None:
    content = _normal(ctx, EDGE, "j1030", "time quirks: duplicate millisecond timestamps")
    _write(ctx, EDGE, "j1030", _with_times(content, lambda t: [t[i - i % 3] for i in range(len(t))]))
    content = _normal(ctx, EDGE, "j1031", "time quirks: unsorted _time")
    _write(ctx, EDGE, "j1031", _with_times(content, lambda t: t[1::2] + t[0::2]))
    for job, offset, micro in (("j1032", -7 * 60, 654321), ("j1033", 5 * 60 + 30, 0)):
        content = _normal(ctx, EDGE, job, f"time quirks: creation_timestamp at UTC{offset / 60:+g}h")
        zone = timezone(timedelta(minutes=offset))
        stamp = content.end.astimezone(zone).replace(microsecond=micro).isoformat()
        _write(ctx, EDGE, job, dataclasses.replace(content, metadata={**content.metadata, "creation_timestamp": stamp}))


def write_dry_run_row(ctx: EdgeContext) -> None:
    """A node run alone with save_dry_run: its dry-run data stored as a 1-node job."""
    start = _start(1034).replace(microsecond=0)
    qpu = next(n for n in NODES if n.name == "QPU")
    seconds = [format_set_time(start + timedelta(seconds=i))[:-5] + ".000Z" for i in range(2)]
    outputs = (
        OutputSpec("precorrected_data", qpu.outputs[0].description, "JSON", [[[9.1, 6.2], [5.8, 12.4]]], seconds[:1]),
        OutputSpec("final_data", qpu.outputs[2].description, "bool", [2], seconds[1:]),
    )
    node = NodeSpec("QPU", qpu.type, qpu.description, qpu.bin, outputs)
    log = render_header("QPU") + "".join(
        f"\tENTROPYLAB - OUTPUT #QPU/{o.name} SAVE (retention = {o.retention})\n" for o in qpu.outputs
    ) + "running circuit param : 7.3\n"
    _write_custom(ctx, EDGE, "j1034", [node], "", start, {"QPU": log},
                  job_description="Dry run of QPUcircuitRunner", workflow_eui="", parameters_eui="")


def write_git_project_row(ctx: EdgeContext) -> None:
    """Project prefix "git": its jobs land in data_store/git/, its repos in git/git/."""
    _write(ctx, "git", "j1035", _normal(ctx, "git", "j1035", "project named git"))


# ---------------------------------------------------------------- security rows 23-25
def write_canaries(parent: Path) -> None:
    """The files the hostile HDF5 files point at, next to the data_store."""
    (parent / CANARY_FILE).write_bytes(CANARY_BYTES)
    with h5py.File(parent / CANARY_HDF5, "w") as f:
        f.create_dataset("secret", data=np.frombuffer(CANARY_BYTES, dtype=np.float64), track_times=False)


def write_virtual_dataset(group: h5py.Group, name: str, source_file: str, source: str, count: int) -> None:
    """A VDS made with the low-level API: h5py's create_virtual_dataset
    stores a modification time, which would break byte-identical output."""
    space = h5py.h5s.create_simple((count,))
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    dcpl.set_virtual(space, source_file.encode(), source.encode(), h5py.h5s.create_simple((count,)))
    tid = h5py.h5t.py_create(np.dtype(np.float64), logical=1)
    h5py.h5d.create(group.id, name.encode(), tid, space, dcpl=dcpl)


def _hostile_job(ctx: EdgeContext, job: str, description: str):
    """A normal job file reopened so that a hostile object can be added to it."""
    path = _write(ctx, EDGE, job, _normal(ctx, EDGE, job, description))
    return h5py.File(path, "a")


def write_security_rows(ctx: EdgeContext) -> None:
    parent = ctx.root.parent.resolve()
    write_canaries(parent)
    count = len(CANARY_BYTES) // 8
    with _hostile_job(ctx, "j1036", "security: external storage") as f:
        del f["QPU/final_data"]
        f["QPU"].create_dataset("final_data", shape=(count,), dtype=np.float64,
                                external=[(str(parent / CANARY_FILE), 0, len(CANARY_BYTES))], track_times=False)
    with _hostile_job(ctx, "j1037", "security: external link") as f:
        f["QPU/leak"] = h5py.ExternalLink(f"../../{CANARY_HDF5}", "/secret")
    with _hostile_job(ctx, "j1038", "security: virtual dataset") as f:
        del f["QPU/final_data"]
        write_virtual_dataset(f["QPU"], "final_data", f"../../{CANARY_HDF5}", "secret", count)
    with _hostile_job(ctx, "j1039", "security: declared 8 TB dataset") as f:
        del f["QPU/final_data"]
        f["QPU"].create_dataset("final_data", shape=(10**12,), dtype=np.float64, chunks=(4096,), track_times=False)


# ---------------------------------------------------------------- stray files
STRAY = {
    "README.txt": b"data_store copied from the lab PC on 2022-07-01\n",
    ".DS_Store": b"\x00\x00\x00\x01Bud1",
    "upload-3f2a.tmp": b"partial upload\n",
    f"{EDGE}/notes.txt": b"j1004 crashed, rerun tomorrow\n",
    f"{EDGE}/.j1001.hdf5.swp": b"swap\n",
    f"{EDGE}/j1099.hdf5.tmp": b"\x89HDF\r\n\x1a\n",
}


def write_stray_files(ctx: EdgeContext) -> None:
    for name, data in STRAY.items():
        (ctx.root / name).write_bytes(data)


# ---------------------------------------------------------------- all rows
REPO_PROJECTS = (EDGE, NON_ASCII_PROJECT, "git_gaps", "log_gaps", "git", "empty_repos")


def _write_edge_repos(root: Path, seed: int) -> dict[str, tuple[str, str]]:
    """One commit each; empty_repos gets bare repositories without commits."""
    shas = {}
    for number, project in enumerate(REPO_PROJECTS, 900):
        plan = build_project_plan(seed, number, project, "Edge Case", "edge@lab.example", 1)
        plan = dataclasses.replace(plan, params_changes=() if project == "empty_repos" else plan.params_changes,
                                   workflow_changes=() if project == "empty_repos" else plan.workflow_changes)
        workflow, params = write_project_repos(root, seed, plan)
        if workflow:
            shas[project] = (workflow[0], params[0])
    return shas


def write_edge_cases(root: Path, seed: int, huge: bool, mtimes: Mtimes) -> int:
    """Every row of the generator table; returns the number of cases."""
    ctx = EdgeContext(root, seed, mtimes, _write_edge_repos(root, seed))
    write_basic_rows(ctx)
    write_corrupt_rows(ctx)
    write_huge_rows(ctx, huge)
    write_string_rows(ctx)
    write_non_ascii_row(ctx)
    write_hostile_row(ctx)
    write_git_gap_rows(ctx)
    write_log_gap_rows(ctx)
    write_time_rows(ctx)
    write_dry_run_row(ctx)
    write_git_project_row(ctx)
    write_security_rows(ctx)
    write_stray_files(ctx)
    return len(edge_case_manifest(huge))
