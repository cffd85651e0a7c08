"""Compare runs: the per-job data file ``<job>~compare.js`` and the project's ``compare.html``.

A comparison is built in the browser (``assets/compare.js``) from one small data file per
job, loaded with an injected ``<script src>`` (``fetch()`` fails on ``file://``), so the
site holds no file per pair of jobs and a comparison is a permalink:
``compare.html#jobs=<slug>,<slug>``.  The job-page worker writes the data file from the
values it already read for the page (no second read of the HDF5 file); the file belongs to
its job like the diff page (``build.build_owners``: ``<slug>~...``), so incremental builds
record, repair and remove it with the job.

What a data file holds, bounded so that eight of them load quickly: the job's summary and
root attributes, its parameter files flattened to ``file:dotted.key -> JSON text``, and one
series per numeric output set repeatedly (shape ``(N,)``): x = set number, y = value,
MinMaxLTTB-downsampled like the job page's lines; per node, the health of its log (error
lines, warnings when the reader counts them, a traceback or not) as rows of the table, and the
log's last few KB for a side-by-side view.  Past ``COMPARE_DATA_BYTES`` the later series are
left out and the data says so.

Reductions (``build --config``'s ``[[reduce]]``, ``config.Reduce``): an output whose sets are
arrays (shape ``(N, ...)``) that a reduction names also gives one derived series per ``how``,
one number per set (``/QPU/signal · mean``), after the plain series so that they never push a
plain one past the file's bound.  They are computed here from the same values, a block of
``REDUCE_BLOCK_VALUES`` at a time, so the work is bounded by the read budget that bounded the
values; a derived series carries ``derived`` (what it was derived from, how), which is how
``compare.js`` and ``trends.js`` say "mean of each set of /QPU/signal".
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from reportgen.jsondepth import load_json
from reportgen.readers.logs import error_line_count, split_log_lines, warning_line_count
from reportgen.records import Commit, Job, LogFile, Output, OutputData
from reportgen.site import write as out
from reportgen.site.contexts import build_commit_label, build_line_text, format_time
from reportgen.site.figures import build_downsample_index, build_typed_array
from reportgen.site.jsonsafe import render_json

FORMAT = 2  # of the data a file gives to reportgenCompare.add; compare.js reads this one
COMPARE_DATA_BYTES = 512 * 1024  # a data file; beyond it series are left out (the data says how many)
MAX_POINTS = 2000  # per series, after MinMaxLTTB (the job page keeps 4,000: eight jobs share a figure)
MAX_PARAMS = 500  # parameter keys per job
MAX_META = 100  # root attributes per job
MAX_TEXT = 300  # characters of one value shown; a longer one ends with a hash of the whole, so it still differs
MAX_DEPTH = 32  # of nested parameter objects flattened into dotted keys; deeper ones are one JSON value
MAX_LOG_TAIL = 3 * 1024  # characters of a node's log end kept for the side-by-side view
MAX_LOG_TAILS = 48 * 1024  # of all a job's log ends together: the later nodes' are left out past it
MAX_LOG_NODES = 100  # nodes with log health rows (3 each); the others are one summary row
_EXACT_U4 = 2**32  # set numbers below this travel as uint32 (half the bytes of float64)
# reductions ([[reduce]]): what each computes of the values of one set, NaN ignored (numpy's nan* functions)
REDUCTIONS = ("mean", "min", "max", "rms", "std", "median", "sum", "ptp")
REDUCE_BLOCK_VALUES = 1 << 20  # values turned into float64 at once (8 MiB): the working memory of a reduction


def compare_data_name(job_slug: str) -> str:
    """The job's data file, next to its page; ``~`` never occurs in a slug, so no page has this name."""
    return f"{job_slug}~compare.js"


# ----------------------------------------------------------------- values as text
def build_value_text(text: str) -> str:
    """``text`` up to ``MAX_TEXT`` characters; a cut one ends with the size and a hash of the whole, so
    two values that differ only after the cut still compare as different."""
    if len(text) <= MAX_TEXT:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{text[:MAX_TEXT]}\u2026 ({len(text):,} characters, sha256 {digest})"


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "), allow_nan=True)


def _flatten(value: Any, key: str, depth: int) -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every leaf; a list, or an object nested deeper than MAX_DEPTH, is one leaf."""
    if isinstance(value, dict) and value and depth < MAX_DEPTH:
        for name in sorted(value):
            yield from _flatten(value[name], f"{key}.{name}" if key else str(name), depth + 1)
    else:
        yield key, value


NOT_TEXT = "(binary or over the size budget)"  # the one row of a file the reader did not give as text


class _NotText:
    """The value of a file the reader did not give as text (a marker no parsed JSON can equal)."""


NOT_TEXT_VALUE = _NotText()


def build_param_leaves(commit: Commit) -> list[tuple[str, Any]] | str:
    """The parameter files of the job's commit flattened to ``(file:dotted.key, value)``, in order;
    or why there are none (the commit is not present).

    A JSON file gives one leaf per value (parsed); any other text file one leaf, its text under the
    file's own path; a file the reader did not give as text ``NOT_TEXT_VALUE``.  Done once per job:
    the compare data and the catalog's parameter columns both take theirs from it.
    """
    if commit.state != "present":
        return f"parameters commit {commit.state}" + (f": {commit.reason}" if commit.reason else "")
    leaves: list[tuple[str, Any]] = []
    for file in commit.files:
        if file.text is None:
            leaves.append((file.path, NOT_TEXT_VALUE))
            continue
        try:
            found = list(_flatten(load_json(file.text), "", 0)) if file.path.endswith(".json") else []
        except (ValueError, RecursionError):
            found = []  # not JSON after all (or nested past the stack): compared as text
        if not found:
            found = [("", file.text)]
        leaves.extend((f"{file.path}:{key}" if key else file.path, value) for key, value in found)
    return leaves


def build_params_rows(commit: Commit, leaves: list[tuple[str, Any]] | str | None = None) -> tuple[list[tuple[str, str]], str]:
    """The parameter files of the job's commit as ``(file:dotted.key, JSON text)`` rows, and a note.

    A JSON file gives one row per leaf; any other text file one row (its text as a JSON string);
    a file the reader did not give as text (binary, over its budget) one row saying so.
    ``leaves`` is ``build_param_leaves(commit)`` when the caller has it already.
    """
    leaves = build_param_leaves(commit) if leaves is None else leaves
    if isinstance(leaves, str):
        return [], leaves
    rows = [(key, NOT_TEXT if value is NOT_TEXT_VALUE else json_text(value)) for key, value in leaves]
    note = ""
    if len(rows) > MAX_PARAMS:
        note = f"{len(rows) - MAX_PARAMS:,} of {len(rows):,} parameter keys left out (at most {MAX_PARAMS:,})"
        rows = rows[:MAX_PARAMS]
    return [(build_value_text(key), build_value_text(value)) for key, value in rows], note


def build_meta_rows(job: Job) -> list[tuple[str, str]]:
    """What the job page's summary shows that can differ between jobs, then its root attributes (``@name``)."""
    rows = [
        ("description", job.description),
        ("status", job.status),
        ("end time (UTC)", format_time(job.end_time)),
        ("start time (UTC, approx.)", format_time(job.start_time)),
        ("nodes", str(len(job.nodes))),
        ("outputs", str(sum(len(node.outputs) for node in job.nodes))),
        ("workflow commit", build_commit_label(job.workflow)),
        ("parameters commit", build_commit_label(job.params)),
        ("command-line run", "yes" if job.command_line_run else "no"),
    ]
    rows.extend((f"@{name}", value) for name, value in job.root_attrs[:MAX_META])
    return [(build_value_text(key), build_value_text(value)) for key, value in rows]


# ----------------------------------------------------------------- logs
def build_log_health(log: LogFile) -> tuple[int, int, bool]:
    """(error lines, warning lines, traceback) of a log, as the job page counts them."""
    return error_line_count(log), warning_line_count(log), log.has_traceback


def build_log_rows(job: Job) -> tuple[list[tuple[str, str]], str]:
    """Per node: ``<node>: error lines``, ``<node>: warning lines`` and ``<node>: traceback``, so
    that "Only differences" shows where the jobs' logs differ in health; and a note.

    Error and warning lines are those of the preview, as the job page counts them; a cut log says
    so, as its counts may miss lines past the preview.  At most ``MAX_LOG_NODES`` nodes have rows
    (those with errors, warnings or a traceback first, then in node order): the others are one
    summary row, so a job of thousands of nodes keeps its series within the data file's bound.
    """
    healths = [build_log_health(log) for log in job.logs]
    order = sorted(range(len(job.logs)), key=lambda i: healths[i] == (0, 0, False))  # stable: node order
    shown = sorted(order[:MAX_LOG_NODES])
    rows = []
    for i in shown:
        log, (errors, warnings, traceback) = job.logs[i], healths[i]
        cut = " (in the preview of a cut log)" if log.truncated else ""
        rows.append((f"{log.node}: error lines", f"{errors:,}{cut}"))
        rows.append((f"{log.node}: warning lines", f"{warnings:,}{cut}"))
        rows.append((f"{log.node}: traceback", "yes" if traceback else "no"))
    rest = sorted(order[MAX_LOG_NODES:])
    note = ""
    if rest:
        rows.append(build_log_rest_row([healths[i] for i in rest]))
        note = (f"the log health of {len(rest):,} of {len(job.logs):,} nodes is one row, \"other nodes' logs\" "
                f"(at most {MAX_LOG_NODES} nodes have their own rows, those with errors, warnings or a traceback first)")
    return [(build_value_text(key), build_value_text(value)) for key, value in rows], note


def build_log_rest_row(healths: list[tuple[int, int, bool]], key: str = "other nodes' logs") -> tuple[str, str]:
    """The summary row of the nodes past ``MAX_LOG_NODES`` (or of all): their count and their sums."""
    errors, warnings = sum(h[0] for h in healths), sum(h[1] for h in healths)
    tracebacks = sum(1 for h in healths if h[2])
    return (key, f"{len(healths):,} nodes: {errors:,} error lines, {warnings:,} warning lines, "
                                 f"{tracebacks:,} with a traceback")


def build_log_end(log: LogFile) -> dict[str, Any]:
    """The last whole lines of the log within ``MAX_LOG_TAIL`` characters: node, the number of the
    first line kept (0: unknown), the text and a note of what it is.

    Lines as the reader counts them (``split_log_lines``), so the numbers are the file's; the text
    travels joined with ``\n``, a lone CR and U+2028 shown as signs (``build_line_text``), as on
    the job page.
    """
    text = log.tail if log.truncated and log.tail else log.preview
    kept = text[-MAX_LOG_TAIL:]
    if len(kept) < len(text) and "\n" in kept[:-1]:
        kept = kept[kept.index("\n") + 1:]  # start at a whole line
    lines = split_log_lines(kept)
    last = log.total_lines if log.truncated else log.line_count
    first = last - len(lines) + 1 if last and len(lines) <= last else 0
    whole = kept == text and not log.truncated
    size = len(kept.encode("utf-8", "replace"))
    note = (f"the whole log ({len(lines):,} lines)" if whole else
            f"the last {len(lines):,} lines ({size:,} bytes) of a {log.size:,}-byte log")
    shown = build_line_text("\n".join(lines)) + ("\n" if lines else "")
    return {"node": log.node, "first": max(first, 0), "text": shown, "note": note}


def build_log_ends(job: Job) -> tuple[list[dict[str, Any]], str]:
    """The end of each node's log, in node order, while together within ``MAX_LOG_TAILS``; and a note."""
    ends, budget = [], MAX_LOG_TAILS
    for log in job.logs:
        end = build_log_end(log)
        budget -= len(end["text"])
        if budget < 0:
            break
        ends.append(end)
    left_out = len(job.logs) - len(ends)
    note = f"the log ends of {left_out} of {len(job.logs)} nodes left out (at most {MAX_LOG_TAILS // 1024} KB in all)"
    return ends, note if left_out else ""


# ----------------------------------------------------------------- series
def build_series(job: Job, datas: Mapping[str, OutputData],
                 reduce_of: Callable[[str], tuple[str, ...]] | None = None) -> list[dict[str, Any]]:
    """One series per numeric output set repeatedly (shape ``(N,)``, any integer, float or bool type),
    in the job page's order; then the derived series of the array outputs ``reduce_of`` names
    reductions of (``config.find_reduce``: an output's reductions, () for none)."""
    series, derived = [], []
    paths = {output.hdf5_path for node in job.nodes for output in node.outputs}
    for node in job.nodes:
        for output in node.outputs:
            data = datas.get(output.hdf5_path)
            if data is None:
                continue
            if _is_plain_series(output, data.values):
                y = np.asarray(data.values, dtype=np.float64)
                series.append(_build_one_series(output.hdf5_path, node.name, output.name, output, y, data.stride))
            elif reduce_of is not None and _is_reducible(output, data.values):
                hows = reduce_of(output.hdf5_path)
                if hows:
                    derived.extend(build_derived_series(node.name, output, data, hows, paths))
    return series + derived


def _is_plain_series(output: Output, values: Any) -> bool:
    # "other" is any number type but int64 and float64 (float32, int8, big-endian, ...): a series too
    plain = output.is_series or (output.kind == "other" and len(output.shape) == 1)
    return (plain and isinstance(values, np.ndarray) and values.ndim == 1 and values.size > 0
            and values.dtype.kind in "biuf")


def _build_one_series(key: str, node: str, name: str, output: Output, y: np.ndarray,
                      stride: int) -> dict[str, Any]:
    """A series of ``y`` (float64, one value per set read) against the sets' numbers in the file."""
    x = np.arange(len(y), dtype=np.float64) * stride
    keep = build_downsample_index(x, y, MAX_POINTS)
    return {
        "key": key, "node": node, "name": name, "units": output.units,
        "sets": output.n_sets, "points": len(keep), "read": len(y),
        "x": build_typed_array(x[keep], "u4" if len(x) == 0 or x[-1] < _EXACT_U4 else "f8"),
        "y": build_typed_array(y[keep]),
    }


# ----------------------------------------------------------------- reductions ([[reduce]])
def _is_reducible(output: Output, values: Any) -> bool:
    """Numbers whose sets are arrays (shape ``(N, ...)``), or complex numbers one per set (their
    magnitudes): a real output of one number per set is a series already.  An enumeration's codes
    (``output.labels``) are names, not quantities."""
    if not isinstance(values, np.ndarray) or values.size == 0 or output.labels:
        return False
    kind = values.dtype.kind
    return (values.ndim >= 2 and kind in "biufc") or (values.ndim == 1 and kind == "c")


def build_derived_name(text: str, how: str, magnitude: bool) -> str:
    """``/QPU/signal · mean``; of a complex output ``|/QPU/signal| · mean`` (its magnitudes reduced)."""
    return f"|{text}| \u00b7 {how}" if magnitude else f"{text} \u00b7 {how}"


def build_derived_series(node: str, output: Output, data: OutputData, hows: tuple[str, ...],
                         taken: set[str] | frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """One series per reduction in ``hows`` of the sets of ``output`` (``data``: its values as read),
    each marked ``derived``; a name an output of the job has already (``taken``) is not used twice."""
    values = data.values
    assert isinstance(values, np.ndarray)
    magnitude = values.dtype.kind == "c"
    per_set = int(np.prod(values.shape[1:], dtype=np.int64))
    reduced = build_reductions(values, hows)
    series = []
    for how in hows:
        key = build_derived_name(output.hdf5_path, how, magnitude)
        if key in taken:
            continue
        y = reduced[how]
        y[~np.isfinite(y)] = np.nan  # an infinite mean (a set holding inf) is no point either, on both pages
        name = build_derived_name(output.name, how, magnitude)
        one = _build_one_series(key, node, name, output, y, data.stride)
        one["derived"] = {
            "of": output.hdf5_path, "how": how, "magnitude": magnitude, "values": per_set,
            "no_value": int(np.count_nonzero(np.isnan(y))),
            # a set over the read budget alone was thinned: its reduction is of the values read
            "note": f"of the values read ({data.note})" if data.value_strides else "",
        }
        series.append(one)
    return series


def build_reductions(values: np.ndarray, hows: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Each reduction in ``hows`` of every set of ``values`` (the first axis counts the sets) as
    float64, NaN values left out (numpy's ``nanmean`` etc.), NaN where a set has no other value;
    a complex set's magnitudes are reduced.

    Why in blocks: ``values`` hold up to the read budget (``jobpage.SITE_LIMITS``) of any number
    type, and their float64 copy up to eight times that.  At most ``REDUCE_BLOCK_VALUES`` values
    are copied at a time (sets in groups, a larger set in parts; ``_Moments`` joins the parts), so
    the memory taken stays a few such blocks; only the median of a set larger than a block needs
    the whole set at once, as a copy in its own type (``_median_of``).
    """
    sets = values.reshape(len(values), -1)
    n, m = sets.shape
    rows = max(1, REDUCE_BLOCK_VALUES // max(m, 1))
    moments = _Moments(n)
    medians = np.full(n, np.nan) if "median" in hows else None
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a set of NaN only: NaN, counted as no value
        for start in range(0, n, rows):
            stop = min(n, start + rows)
            for first in range(0, m, REDUCE_BLOCK_VALUES):
                block = _as_float(sets[start:stop, first:first + REDUCE_BLOCK_VALUES])
                moments.add(slice(start, stop), block)
                if medians is not None and m <= REDUCE_BLOCK_VALUES:
                    medians[start:stop] = np.nanmedian(block, axis=1)
            if medians is not None and m > REDUCE_BLOCK_VALUES:  # one set per block here
                medians[start] = _median_of(sets[start])
        return {how: medians if how == "median" else moments.result(how) for how in hows}  # type: ignore[misc]


def _as_float(block: np.ndarray) -> np.ndarray:
    """A float64 copy of ``block``; of complex numbers, their magnitudes."""
    return np.abs(block).astype(np.float64) if block.dtype.kind == "c" else block.astype(np.float64)


def _median_of(values: np.ndarray) -> float:
    """The median of one large set's values that are not NaN: sorted in their own type, not in a
    float64 copy (eight times the bytes of an int8 or a bool)."""
    flat = np.abs(values) if values.dtype.kind == "c" else values
    if flat.dtype.kind == "b":
        flat = flat.view(np.uint8)
    if flat.dtype.kind == "f":
        flat = flat[~np.isnan(flat)]
    return float(np.median(flat)) if flat.size else float("nan")


class _Moments:
    """Per set: how many values are not NaN, their sum, sum of squares, minimum, maximum and the
    sum of squared deviations from their mean.  A set read in parts is joined part by part (the
    deviations with Chan, Golub and LeVeque's update), so it gets the results of the whole."""

    def __init__(self, n: int) -> None:
        self.count, self.total, self.squares = np.zeros(n), np.zeros(n), np.zeros(n)
        self.mean, self.m2 = np.zeros(n), np.zeros(n)
        self.low, self.high = np.full(n, np.nan), np.full(n, np.nan)

    def add(self, part: slice, block: np.ndarray) -> None:
        present = ~np.isnan(block)
        count = np.count_nonzero(present, axis=1).astype(np.float64)
        zeroed = np.where(present, block, 0.0)
        total = zeroed.sum(axis=1)
        mean = total / count  # NaN where the part has no value: kept out below
        deviations = np.where(present, block - mean[:, None], 0.0)
        m2 = (deviations * deviations).sum(axis=1)
        before, joined = self.count[part], self.count[part] + count
        delta = mean - self.mean[part]
        has = count > 0
        joined_m2 = self.m2[part] + m2 + delta * delta * before * count / joined
        self.m2[part] = np.where(has, joined_m2, self.m2[part])
        self.mean[part] = np.where(has, self.mean[part] + delta * count / joined, self.mean[part])
        self.count[part] = joined
        self.total[part] += total
        self.squares[part] += (zeroed * zeroed).sum(axis=1)
        self.low[part] = np.fmin(self.low[part], np.fmin.reduce(block, axis=1))
        self.high[part] = np.fmax(self.high[part], np.fmax.reduce(block, axis=1))

    def result(self, how: str) -> np.ndarray:
        count = self.count
        value = {
            "mean": lambda: self.total / count,
            "sum": lambda: self.total,
            "min": lambda: self.low,
            "max": lambda: self.high,
            "ptp": lambda: self.high - self.low,
            "rms": lambda: np.sqrt(self.squares / count),
            "std": lambda: np.sqrt(self.m2 / count),
        }[how]()
        return np.where(count > 0, value, np.nan)


# ----------------------------------------------------------------- the data file
@dataclass(frozen=True)
class CompareData:
    body: dict[str, Any]  # everything but the series
    series: tuple[str, ...]  # each series as JSON text, in order
    log_summary: tuple[str, str] | None = None  # every node's log health in one row, if the rows do not fit


def build_compare_data(job: Job, datas: Mapping[str, OutputData], job_slug: str,
                       leaves: list[tuple[str, Any]] | str | None = None,
                       reduce_of: Callable[[str], tuple[str, ...]] | None = None) -> CompareData:
    params, params_note = build_params_rows(job.params, leaves)
    notes = [params_note] if params_note else []
    if len(job.root_attrs) > MAX_META:
        notes.append(f"{len(job.root_attrs) - MAX_META:,} of {len(job.root_attrs):,} root attributes left out")
    log_rows, rows_note = build_log_rows(job)
    log_ends, log_note = build_log_ends(job)
    notes.extend(note for note in (rows_note, log_note) if note)
    body = {
        "format": FORMAT, "slug": job_slug, "id": job.job_id, "href": f"{job_slug}.html", "status": job.status,
        "end": format_time(job.end_time), "start": format_time(job.start_time),
        "meta": build_meta_rows(job), "params": params, "logs": log_rows, "log_ends": log_ends,
        "notes": notes,
        # workflow diff (helper Y): the job's workflow files against the previous job with another workflow commit
        "workflow_diff": f"{job_slug}~workflow-diff.html" if job.workflow.state == "present" else "",
    }
    summary = build_log_rest_row([build_log_health(log) for log in job.logs], "all nodes' logs") if job.logs else None
    return CompareData(body, tuple(render_json(s) for s in build_series(job, datas, reduce_of)),
                       (build_value_text(summary[0]), build_value_text(summary[1])) if summary else None)


_PREFIX = "window.reportgenCompare && window.reportgenCompare.add("
_SUFFIX = ");\n"


def render_compare_js(data: CompareData, limit: int = COMPARE_DATA_BYTES) -> str:
    """The data file: one call of ``reportgenCompare.add`` with JSON that nothing can break out of
    (``jsonsafe.render_json``: ``</script>``, U+2028 and U+2029 are escaped).

    Series are kept in order while the file stays within ``limit`` bytes (200 of them are
    kept for the note); the rest are left out, and the note says how many.  Log ends whose
    escaped text leaves no room at all are left out first, then the log health rows become
    one row (``log_summary``), each with a note naming what went.
    """
    body = dict(data.body)
    series_budget = _series_budget(body, limit)
    if series_budget < 0 and body.get("log_ends"):  # escaped log text (``<`` is 6 bytes) may not fit: it goes first
        body["notes"] = [*body["notes"], "the log ends left out: the data file of a job is at most "
                                          f"{limit // 1024:,} KiB"]
        body["log_ends"] = []
        series_budget = _series_budget(body, limit)
    if series_budget < 0 and data.log_summary and len(body.get("logs", ())) > 1:
        body["notes"] = [note for note in body["notes"] if not note.startswith("the log health of ")]
        body["notes"].append("the log health of every node is one row, \"all nodes' logs\": the data file of a "
                             f"job is at most {limit // 1024:,} KiB")
        body["logs"] = [list(data.log_summary)]
        series_budget = _series_budget(body, limit)
    kept: list[str] = []
    for text in data.series:
        series_budget -= len(text.encode("utf-8")) + 1
        if series_budget < 0:
            break
        kept.append(text)
    left_out = len(data.series) - len(kept)
    if left_out:
        body["notes"] = [*body["notes"], f"{left_out} of {len(data.series)} numeric outputs left out: "
                                          f"the data file of a job is at most {limit // 1024:,} KiB"]
    # the series are JSON already (escaped by render_json): spliced in as they are, not encoded again
    series = orjson.Fragment(("[" + ",".join(kept) + "]").encode("utf-8"))
    return _PREFIX + render_json({**body, "series": series}) + _SUFFIX


def _series_budget(body: dict[str, Any], limit: int) -> int:
    """Bytes left for the series once ``body`` is written (200 kept for a note)."""
    return limit - len((_PREFIX + render_json({**body, "series": []}) + _SUFFIX).encode("utf-8")) - 200


def write_compare_data(project_dir: Path, job_slug: str, job: Job, datas: Mapping[str, OutputData],
                       leaves: list[tuple[str, Any]] | str | None = None,
                       reduce_of: Callable[[str], tuple[str, ...]] | None = None) -> int:
    """``<project>/<job>~compare.js``; returns its size.  ``leaves``: the job's parameters as
    ``build_param_leaves`` flattened them (flattened here when not given); ``reduce_of``: the
    reductions of an output (``config.find_reduce``), none when not given."""
    return out.write_file(project_dir / compare_data_name(job_slug),
                          render_compare_js(build_compare_data(job, datas, job_slug, leaves, reduce_of)))


# ----------------------------------------------------------------- the project's compare page
@dataclass(frozen=True)
class ComparePage:
    title: str
    root: str
    project: str


def render_compare_page(project: str) -> str:
    """``<project>/compare.html``: the same for every build of the project; all data come from the hash."""
    from reportgen.site.render import render_page

    return render_page("compare.html", ComparePage(f"{project}: compare jobs", "../", project))  # type: ignore[arg-type]
