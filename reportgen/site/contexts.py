"""Page contexts: records -> one typed, frozen dataclass per page kind.

Pure functions, no I/O: everything a template shows is decided here, so the
templates only format.  Hrefs of files the build writes (downloads, log
copies) are passed in; everything else is derived from the records.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from reportgen.readers.logs import (
    error_and_traceback_count, error_line_count, error_line_numbers, split_log_lines, warning_line_count,
    warning_line_numbers,
)
from reportgen.records import STATUSES, Commit, Job, LogFile, NodeGroup, Output, OutputData, Problem
from reportgen.site.figures import build_figure
from reportgen.site.jsonsafe import replace_surrogates_text  # permalinks (#ds=)
from reportgen.site.paths import build_saved_name, build_slug, build_slugs, node_page_name, short_hash
from reportgen.timetext import render_utc

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_LOG_LINES = 500  # lines of a log shown on the page; the full file is one click away
MAX_VALUES_SHOWN = 10  # string/JSON sets shown on the page (first and last halves)
PREVIEW_TEXT_BYTES = 64 * 1024  # of each string shown on the page (D7); the download holds it whole


@dataclass(frozen=True)
class ProblemView:
    severity: str
    code: str
    where: str
    reason: str


@dataclass(frozen=True)
class DownloadLinks:
    """What the build wrote for one output's full data: a file (href relative to the job
    page) or, when small, a data: URI in the page itself."""

    links: tuple[tuple[str, str, str], ...] = ()  # (label, href, file name to save as)
    note: str = ""  # why a copy is missing, e.g. over the size budget


@dataclass(frozen=True)
class OutputView:
    name: str
    anchor: str
    description: str
    units: str
    kind: str
    dtype: str
    shape: str
    n_sets: int
    times: str
    attrs: tuple[tuple[str, str], ...]
    figure_id: str
    figure: dict[str, Any] | None
    figure_note: str
    texts: tuple[tuple[str, str], ...]  # (label, text) for string sets
    # JSON sets in set order: (label, data:image/png;base64 URI (validated) or "", pretty JSON or "")
    json_sets: tuple[tuple[str, str, str], ...]
    downloads: DownloadLinks
    snippet: str
    notes: tuple[str, ...]
    # permalinks: the HDF5 path as the page shows it (U+FFFD for a lone surrogate), for #ds=<path>
    path: str = ""
    # ``times`` cut at its UTC times: (text, "1") for a time (marked up as <time>: times.js), (text, "")
    # for the words between; () when it names no time
    times_parts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LogLine:
    number: int
    text: str
    kind: str  # "", "error", "traceback" or "warning"


@dataclass(frozen=True)
class LogView:
    node: str
    href: str
    size: int
    lines: tuple[LogLine, ...]
    error_count: int
    has_traceback: bool
    notes: tuple[str, ...]
    copy_note: str = ""  # "" unless the "Full log file" copy is cut
    tail_title: str = ""
    tail: tuple[LogLine, ...] = ()  # the end of a log whose preview is cut (tracebacks live there)
    warning_count: int = 0  # warning lines of the preview (an error line is not one)
    open: bool = False  # shown unfolded: the log of a node a failed job's summary names (FailureSummary)


@dataclass(frozen=True)
class NodeView:
    name: str
    anchor: str
    type: str
    description: str
    bin: str
    attrs: tuple[tuple[str, str], ...]
    outputs: tuple[OutputView, ...]
    log: LogView | None
    log_page: str = ""  # on a node's later output page: the href of its first page, which has the log
    failed: bool = False  # a failed job's summary names it (FailureSummary): the Nodes nav marks it


@dataclass(frozen=True)
class GitFileView:
    path: str
    text: str
    note: str


@dataclass(frozen=True)
class CommitView:
    repo: str
    sha: str
    state: str
    reason: str
    subject: str
    author: str
    date: str
    files: tuple[GitFileView, ...]


@dataclass(frozen=True)
class FailureItem:
    """A node (or a log without a node group) that a failed job's summary names, and why."""

    node: str  # its name, cut at MAX_FAILURE_TEXT
    anchor: str  # its section's id on the job page (``node-<slug>``), or its log's (``orphan-<n>``)
    node_href: str  # its section: on the job page, or its page when the job is split
    text: str  # its last exception line (else error, else traceback line), or what else is wrong
    href: str  # that line's link (``#node-<slug>-L<n>``, on its node page when split); "" if no line
    line: int = 0  # the line's number in the log file; 0 when the item names no line


@dataclass(frozen=True)
class FailureSummary:
    """The box under a failed job's title: what failed, linked to where it says so."""

    items: tuple[FailureItem, ...]  # at most MAX_FAILURE_ITEMS, in page order
    left_out: int  # failing nodes past MAX_FAILURE_ITEMS
    note: str  # what the status means when nothing else says it ("" otherwise)
    orphan_logs: int = 0  # an incomplete job's logs without a node group and without errors (not items)


@dataclass(frozen=True)
class JobPage:
    title: str
    root: str  # relative prefix from this page to the site root
    project: str
    project_href: str
    job_id: str
    status: str
    summary: tuple[tuple[str, str], ...]
    root_attrs: tuple[tuple[str, str], ...]
    problems: tuple[ProblemView, ...]
    nodes: tuple[NodeView, ...]
    orphan_logs: tuple[LogView, ...]
    commits: tuple[CommitView, ...]
    params_diff_href: str
    node_rows: tuple[NodeRow, ...] = ()  # a split job: its nodes as a table of links (``nodes`` is empty)
    notebook_href: str = ""  # the job's .ipynb (only with an HDF5 file)
    notebook_name: str = ""  # the name a browser saves it as
    failure: FailureSummary | None = None  # a job whose status is not ok: what failed (none for ok)
    workflow_diff_href: str = ""  # workflow diff (s23): <job>~workflow-diff.html when the workflow commit is present


@dataclass(frozen=True)
class NodeRow:
    """One node in the node table of a job split into node pages."""

    name: str
    anchor: str  # the node's id on an unsplit job page, kept as the row's id
    href: str  # the node's (first) page
    type: str
    bin: str
    description: str
    outputs: int
    error_count: int  # of its log; 0 when it has none
    has_traceback: bool
    has_log: bool
    warning_count: int = 0  # warning lines of its log's preview (``LogView.warning_count``)
    failed: bool = False  # ``NodeView.failed``: the table marks it

    @property
    def has_problems(self) -> bool:
        """What the table's "only nodes with problems" keeps: error, traceback or warning lines."""
        return bool(self.error_count or self.has_traceback or self.warning_count)


@dataclass(frozen=True)
class NodePage:
    """One page of a node of a split job: the node's section as the job page would show it,
    or, when the node has more outputs than one page holds, one slice of them."""

    title: str
    root: str
    project: str
    project_href: str
    job_id: str
    job_href: str
    status: str
    node: NodeView
    number: int  # of this page, from 1
    pages: tuple[str, ...]  # href of each page of the node
    first: int  # outputs first..last (from 1) of total are on this page
    last: int
    total: int
    # permalinks: the HDF5 path of the first output of each page (outputs are in path order), so a
    # #ds=<path> link to the node's first page goes on to the page that holds it
    firsts: tuple[str, ...] = ()


@dataclass(frozen=True)
class CatalogRow:
    """One job in its project's catalog; also what a pool worker sends back."""

    id: str
    href: str
    description: str
    end: str
    start: str
    status: str
    nodes: int
    outputs: int
    workflow: str
    params: str
    log_errors: int
    log_warnings: int = 0  # logs (warnings): warning lines of the shown heads
    # "First error" (s23 F2): the first failing node and its last exception/error line, as the
    # job page's failure summary names them (build_first_error); "" for an ok job
    first_error: str = ""
    # build --config: one cell per configured column (config.build_cells); none without a config,
    # and then the row is the twelve values it always was (build_row_values)
    columns: tuple[Any, ...] = ()


def build_row_values(row: CatalogRow) -> tuple[Any, ...]:
    """The row as the manifest and the pool carry it: the cells last, and only when there are any,
    so a build without a config writes what it wrote before columns existed."""
    values = tuple(row.__dict__.values())
    return values if row.columns else values[:-1]


@dataclass(frozen=True)
class LatestRun:
    """A job as the home page names it: what ran last night, and when a project last failed."""

    job_id: str
    href: str  # from the site's root
    time: str  # "YYYY-MM-DD HH:MM:SS" UTC: the end time, else the approximate start
    approx: bool  # the time is the approximate start (no end time)
    status: str


@dataclass(frozen=True)
class ProjectSummary:
    name: str
    href: str
    jobs: int
    status_counts: tuple[int, ...]  # in STATUSES order
    problems: int
    latest: LatestRun | None = None  # the newest run (feeds.build_latest_runs)
    latest_failure: LatestRun | None = None  # the newest run whose status is failing


@dataclass(frozen=True)
class IndexPage:
    title: str
    root: str
    statuses: tuple[str, ...]
    projects: tuple[ProjectSummary, ...]
    problems: tuple[ProblemView, ...]


@dataclass(frozen=True)
class JobLink:
    """A job in the plain lists of a project's jobs, for a reader without JavaScript: the catalog's
    ``<noscript>`` (the newest ``NOSCRIPT_JOBS``) and ``<project>/runs.html`` (every job)."""

    id: str
    href: str  # <slug>.html, next to the catalog
    status: str
    end: str  # UTC, as the catalog's rows ("" when the job has none)


@dataclass(frozen=True)
class ProjectPage:
    title: str
    root: str
    project: str
    data_js: str
    statuses: tuple[str, ...]
    status_counts: tuple[int, ...]
    jobs: int
    problems: tuple[ProblemView, ...]
    latest: tuple[JobLink, ...] = ()  # the catalog's <noscript>: its newest jobs, latest first


@dataclass(frozen=True)
class JobListPage:
    """``<project>/runs.html``: every job of the project, latest first, as plain HTML (build.py)."""

    title: str
    root: str
    project: str
    jobs: int
    rows: tuple[JobLink, ...]


@dataclass(frozen=True)
class SearchProject:
    """A project on search.html (site/search.py): its name, folder slug and data file's href."""

    name: str
    slug: str
    src: str  # <slug>/search-data.js?v=<hash>, from the site root


@dataclass(frozen=True)
class SearchPage:
    title: str
    root: str
    projects: tuple[SearchProject, ...]
    max_lines: int  # log lines kept per job (search.MAX_LINES), which the page names


def build_search_context(projects: list[SearchProject], max_lines: int) -> SearchPage:
    """search.html: the projects in home page order."""
    return SearchPage(title="Search all jobs", root="", projects=tuple(projects), max_lines=max_lines)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "hunk" or ""
    text: str


@dataclass(frozen=True)
class ParamsDiffPage:
    title: str
    root: str
    project: str
    project_href: str
    job_id: str
    job_href: str
    sha: str
    previous_job: str
    previous_href: str
    previous_sha: str
    lines: tuple[DiffLine, ...]
    note: str


# ----------------------------------------------------------------- small formatters
def format_time(moment: datetime | None) -> str:
    """UTC, second precision: what people compare across jobs."""
    if moment is None:
        return ""
    return render_utc(moment, " ")


def build_problem_view(problem: Problem) -> ProblemView:
    where = problem.file + (f" : {problem.member}" if problem.member else "")
    return ProblemView(problem.severity, problem.code, where, problem.reason)


def build_commit_label(commit: Commit) -> str:
    if commit.state != "present":
        return f"{commit.sha[:7]} ({commit.state})" if commit.sha else f"({commit.state})"
    return f"{commit.sha[:7]} {commit.subject}"


def build_h5py_snippet(hdf5_file: str | None, hdf5_path: str) -> str:
    """Python that opens exactly this dataset, run from the data_store folder (repr: valid literals)."""
    return f'import h5py\nh5py.File({hdf5_file or ""!r}, "r")[{hdf5_path!r}][()]'


# ----------------------------------------------------------------- catalog rows
def build_catalog_row(job: Job, href: str, columns: tuple[Any, ...] = (),
                      failure: FailureSummary | None = None) -> CatalogRow:
    """``failure``: the page's ``JobPage.failure`` (its first item is the row's first error)."""
    return CatalogRow(
        id=job.job_id,
        href=href,
        description=job.description,
        end=format_time(job.end_time),
        start=format_time(job.start_time),
        status=job.status,
        nodes=len(job.nodes),
        outputs=sum(len(node.outputs) for node in job.nodes),
        workflow=build_commit_label(job.workflow),
        params=build_commit_label(job.params),
        # error lines of the shown head, and traceback starts anywhere (the scan reads the whole log):
        # a long log whose traceback is at its end counted 0; true counts, not the lines kept
        log_errors=sum(error_and_traceback_count(log) for log in job.logs),
        log_warnings=sum(warning_line_count(log) for log in job.logs),
        first_error=build_first_error(failure),
        columns=columns,
    )


def build_first_error(failure: FailureSummary | None) -> str:
    """The catalog's "First error" cell: ``<node>: <line>`` of the failure summary's first item
    (find_failures: the node's last exception line, else error, else traceback line), so the
    catalog, the job page and the feed name the same line; "" when nothing is named (an ok job)."""
    if failure is None or not failure.items:
        return ""
    item = failure.items[0]
    return f"{item.node}: {item.text}" if item.node else item.text


def build_status_counts(statuses: list[str]) -> tuple[int, ...]:
    counts = Counter(statuses)
    return tuple(counts.get(status, 0) for status in STATUSES)


# ----------------------------------------------------------------- index and project
def build_index_context(projects: list[ProjectSummary], problems: tuple[Problem, ...]) -> IndexPage:
    return IndexPage(
        title="Run catalog",
        root="",
        statuses=STATUSES,
        projects=tuple(projects),
        problems=tuple(build_problem_view(p) for p in problems),
    )


def build_project_context(name: str, rows: list[CatalogRow], problems: tuple[Problem, ...],
                          catalog_js: str | None = None) -> ProjectPage:
    """The catalog page; ``catalog_js`` is the text of its ``catalog-data.js`` (rendered here if not given)."""
    if catalog_js is None:
        from reportgen.site.render import render_catalog_js  # here: render imports this module

        catalog_js = render_catalog_js(name, rows)
    return ProjectPage(
        title=f"{name}: jobs",
        root="../",
        project=name,
        data_js=build_versioned_href("catalog-data.js", catalog_js),
        statuses=STATUSES,
        status_counts=build_status_counts([row.status for row in rows]),
        jobs=len(rows),
        problems=tuple(build_problem_view(p) for p in problems),
        latest=build_job_links(rows)[:NOSCRIPT_JOBS],
    )


NOSCRIPT_JOBS = 50  # the catalog's first page as its script shows it at first (50 rows, latest first)


def build_job_links(rows: list[CatalogRow]) -> tuple[JobLink, ...]:
    """The jobs latest first, as the catalog sorts them at first: by end time, newest first, a job
    without one last; ties by id in natural order (then page, for two listed names of one id)."""
    from reportgen.site.feeds import build_natural_key  # here: feeds imports this module

    ordered = sorted(rows, key=lambda row: (build_natural_key(row.id), row.href))
    ordered.sort(key=lambda row: row.end, reverse=True)  # stable: the ties keep the order above
    return tuple(JobLink(row.id, row.href, row.status, row.end) for row in ordered)


def build_job_list_context(name: str, rows: list[CatalogRow]) -> JobListPage:
    """``<project>/runs.html``: the catalog's rows as a plain list, for a reader without JavaScript."""
    return JobListPage(f"{name}: all jobs", "../", name, len(rows), build_job_links(rows))


def build_versioned_href(href: str, text: str) -> str:
    """``href?v=<hash of the file's bytes>``: a new URL whenever the file changes.

    Servers that send ``Last-Modified`` without ``Cache-Control`` let browsers cache a
    script for a while; a rebuilt page must not run the old data (audit F9).  The hash
    keeps the output deterministic, and file:// URLs ignore the query.
    """
    return f"{href}?v={hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


# ----------------------------------------------------------------- job page
def build_job_context(
    job: Job,
    datas: Mapping[str, OutputData],
    downloads: Mapping[str, DownloadLinks],
    log_hrefs: Mapping[str, str],
    params_diff_href: str,
    log_copies_cut: Mapping[str, int] | None = None,
    figures: Mapping[str, dict[str, Any] | None] | None = None,  # views: figures.build_view_figures
) -> JobPage:
    """The job page: metadata, nodes with outputs and views, logs, commits.

    ``log_copies_cut`` maps a node to the bytes its "Full log file" copy holds when
    the copy was cut short of the log.
    """
    logs = {log.node: log for log in job.logs}
    node_names = {node.name for node in job.nodes}
    cuts = log_copies_cut or {}
    anchors = build_anchors(job)
    downloads = build_saved_names(job, downloads)  # saved as <project>_<job>_<node>_<output>.<ext>
    nodes = tuple(
        _build_node_view(node, job, datas, downloads, logs.get(node.name), log_hrefs, cuts, anchors, figures or {})
        for node in job.nodes
    )
    orphans = tuple(
        build_log_view(log, log_hrefs.get(log.node, ""), cuts.get(log.node, 0))
        for log in job.logs if log.node not in node_names
    )
    page = JobPage(
        title=f"{job.job_id} ({job.project})",
        root="../",
        project=job.project,
        project_href="index.html",
        job_id=job.job_id,
        status=job.status,
        summary=_build_summary(job),
        root_attrs=job.root_attrs,
        problems=tuple(build_problem_view(p) for p in job.problems),
        nodes=nodes,
        orphan_logs=orphans,
        commits=(build_commit_view(job.workflow), build_commit_view(job.params)),
        params_diff_href=params_diff_href if job.params.state == "present" else "",
    )
    return mark_failures(page)


def build_saved_names(job: Job, downloads: Mapping[str, DownloadLinks]) -> dict[str, DownloadLinks]:
    """``downloads`` with each link's saved name (its ``download`` attribute) made of the readable
    names, ``<project>_<job>_<node>_<output>.<ext>`` (``paths.build_saved_name``): a file saved from
    two jobs keeps both.  The href, and so the file written, keeps its slug name.  Two links of the
    page that would still share a name (node ``a_b`` output ``c``, node ``a`` output ``b_c``) get
    hashes salted by their HDF5 paths, so none overwrites another in the Downloads folder."""
    parts = {output.hdf5_path: (job.project, job.job_id, node.name, output.name)
             for node in job.nodes for output in node.outputs if output.hdf5_path in downloads}
    first = {path: tuple((label, href, build_saved_name(names, label.lower())) for label, href, _ in downloads[path].links)
             for path, names in parts.items()}
    counts = Counter(name for links in first.values() for _, _, name in links)
    return {path: replace(downloads[path], links=tuple(
                (label, href, build_saved_name(parts[path], label.lower(), clash=path) if counts[name] > 1 else name)
                for label, href, name in links))
            for path, links in first.items()}


# ----------------------------------------------------------------- job page: what failed (a box under the title)
MAX_FAILURE_ITEMS = 10  # nodes named in the box; the others are counted
MAX_FAILURE_TEXT = 300  # characters of a node name or a line in the box
# What a status means when no node log, output or log without a node says it (D4, readers/datastore.py)
_STATUS_NOTES = {
    "failed-nodes": "The executor's result file reports failed nodes; no node log has a traceback or an error line.",
    "incomplete": "An output or a node of this job is missing: see the problems found while reading.",
    "no-data": "No data: the job has no HDF5 file yet (it crashed, or it is still running).",
    "corrupt": "The HDF5 file could not be read: see the problems found while reading.",
    "unknown": "Neither an HDF5 file nor a log folder was found for this job.",
}


def mark_failures(page: JobPage) -> JobPage:
    """A job whose status is not ok: its ``FailureSummary``, every failing node marked (the Nodes
    nav's \u2716) and the logs of the nodes it names unfolded.  An ok job's page is left as it is."""
    if page.status == "ok":
        return page
    found = find_failures(page)
    failing = {item.anchor for item in found}
    unfold = {item.anchor for item in found[:MAX_FAILURE_ITEMS]}

    def opened(log: LogView | None, anchor: str) -> LogView | None:  # a log that says what failed
        return replace(log, open=True) if log and anchor in unfold and (log.error_count or log.has_traceback) else log

    nodes = tuple(replace(node, failed=True, log=opened(node.log, node.anchor)) if node.anchor in failing else node
                  for node in page.nodes)
    orphans = tuple(opened(log, f"orphan-{n}") for n, log in enumerate(page.orphan_logs, 1))
    return replace(page, nodes=nodes, orphan_logs=orphans, failure=build_failure_summary(found, page))


def build_failure_summary(found: list[FailureItem], page: JobPage) -> FailureSummary:
    """The first MAX_FAILURE_ITEMS of ``found`` and how many more; an incomplete job's logs without
    a node group (which ``found`` names only when they have errors); the status's meaning when neither."""
    named = {item.anchor for item in found}
    orphans = 0
    if page.status == "incomplete":
        orphans = sum(f"orphan-{n}" not in named for n in range(1, len(page.orphan_logs) + 1))
    note = "" if found or orphans else _STATUS_NOTES.get(page.status, "")
    return FailureSummary(tuple(found[:MAX_FAILURE_ITEMS]), max(0, len(found) - MAX_FAILURE_ITEMS), note, orphans)


def find_failures(page: JobPage, split_slug: str = "") -> list[FailureItem]:
    """Every node of ``page`` (before any split) whose log has a traceback or error lines, or which
    has an aborted output (status ``incomplete``), and every log without a node group that has
    errors, in page order.  ``split_slug``: the job's slug
    when its nodes go on pages of their own: the links then go to those pages (as search.html's)."""
    from reportgen.site.search import iter_log_views  # here: search imports this module

    logs = {anchor: (log, where) for log, anchor, where in iter_log_views(page, split_slug)}
    found = []
    for node in page.nodes:
        where = node_page_name(split_slug, node.anchor) if split_slug else ""
        log, _ = logs.get(node.anchor, (None, where))
        item = _build_log_failure(node.name, node.anchor, log, where) or _build_output_failure(node, where)
        if item is not None:
            found.append(item)
    for number, log in enumerate(page.orphan_logs, 1):
        anchor = f"orphan-{number}"
        item = _build_log_failure(log.node, anchor, log, "")
        if item is not None:
            found.append(item)
    return found


def _cut(text: str) -> str:
    from reportgen.site.search import cut_text  # here: search imports this module

    return cut_text(build_line_text(text.strip()), MAX_FAILURE_TEXT)


def _build_log_failure(name: str, anchor: str, log: LogView | None, where: str) -> FailureItem | None:
    """The node's item when its log has a traceback or error lines: its last exception line (the
    line after a traceback that names the exception, as search.html finds it), else its last error
    line, else its last traceback start, linked; the log itself when none of them is shown."""
    if log is None or not (log.error_count or log.has_traceback):
        return None
    from reportgen.site.render import build_log_line_id  # here: render imports this module
    from reportgen.site.search import iter_marked_lines

    last: dict[str, tuple[LogLine, str]] = {}
    for lines, prefix in ((log.lines, anchor), (log.tail, anchor + "-tail")):  # the tail is the file's end
        for line, kind in iter_marked_lines(lines):
            last[kind] = (line, prefix)
    node_href = f"{where}#{anchor}" if not anchor.startswith("orphan-") else f"#log-{anchor}"
    pick = last.get("exception") or last.get("error") or last.get("traceback")
    if pick is None:  # its marked lines are before the shown ones
        plural = "s" if log.error_count != 1 else ""
        return FailureItem(_cut(name), anchor, node_href, f"{log.error_count:,} error line{plural} (not shown)",
                           f"{where}#log-{anchor}")
    line, prefix = pick
    return FailureItem(_cut(name), anchor, node_href, _cut(line.text), f"{where}#{build_log_line_id(prefix, line.number)}",
                       line.number)


def _build_output_failure(node: NodeView, where: str) -> FailureItem | None:
    """The node's item when one of its outputs is an aborted flush (``_time`` without values)."""
    missing = next((output for output in node.outputs if output.kind == "missing"), None)
    if missing is None:
        return None
    href = f"{where}#{node.anchor}" if where else f"#{missing.anchor}"
    return FailureItem(_cut(node.name), node.anchor, f"{where}#{node.anchor}",
                       _cut(f"output {missing.name}: aborted flush, its _time dataset has no values"), href)


NODE_ROW_DESCRIPTION = 200  # characters of a node's description in the node table


def build_split_pages(page: JobPage, job_slug: str, per_page: int) -> tuple[JobPage, tuple[tuple[str, NodePage], ...]]:
    """A job page too big for one page, split: the job page with a node table instead of the
    nodes, and each node's pages by file name (``paths.node_page_name``), ``per_page`` outputs each.

    The node sections are the very ``NodeView`` of the job page, sliced: a node page shows
    what the job page would have shown, and the hrefs of downloads and log copies stay right
    because the node pages sit next to the job page.
    """
    rows, pages = [], []
    if page.failure is not None:  # its links go to the node pages now
        page = replace(page, failure=build_failure_summary(find_failures(page, job_slug), page))
    for node in page.nodes:
        hrefs = tuple(node_page_name(job_slug, node.anchor, k + 1)
                      for k in range(max(1, -(-len(node.outputs) // per_page))))
        rows.append(_build_node_row(node, hrefs[0]))
        for number, href in enumerate(hrefs, 1):
            start = (number - 1) * per_page
            shown = node.outputs[start:start + per_page]
            view = replace(node, outputs=shown, log=node.log if number == 1 else None,
                           log_page=hrefs[0] if number > 1 and node.log else "")
            title = f"{node.name} ({page.job_id}, {page.project})"
            if len(hrefs) > 1:
                title += f", outputs {start + 1}-{start + len(shown)}"
            pages.append((href, NodePage(
                title=title, root=page.root, project=page.project, project_href=page.project_href,
                job_id=page.job_id, job_href=f"{job_slug}.html", status=page.status, node=view, number=number,
                pages=hrefs, first=start + 1 if shown else 0, last=start + len(shown), total=len(node.outputs),
                firsts=tuple(o.path for o in node.outputs[::per_page]),  # permalinks (#ds=)
            )))
    return replace(page, nodes=(), node_rows=tuple(rows)), tuple(pages)


def _build_node_row(node: NodeView, href: str) -> NodeRow:
    description = node.description
    if len(description) > NODE_ROW_DESCRIPTION:
        description = description[:NODE_ROW_DESCRIPTION] + "\u2026"
    log = node.log
    return NodeRow(node.name, node.anchor, href, node.type, node.bin, description, len(node.outputs),
                   log.error_count if log else 0, bool(log and log.has_traceback), log is not None,
                   log.warning_count if log else 0, node.failed)


def _build_summary(job: Job) -> tuple[tuple[str, str], ...]:
    start = format_time(job.start_time)
    if start:
        start += f" (approx., from {job.start_time_source})" if job.start_time_source else ""
    duration: tuple[tuple[str, str], ...] = ()
    if job.start_time is not None and job.end_time is not None:
        seconds = (job.end_time - job.start_time).total_seconds()
        if seconds < 0:  # the writer's and the nodes' clocks disagree, or a time was misread
            start += f" \u26a0 start after end (by {format_duration(-seconds)}; clock skew?)"
        else:
            duration = (("duration (approx.)" if job.start_time_source else "duration", format_duration(seconds)),)
    return (
        ("job id", job.job_id),
        ("project", job.project),
        ("description", job.description),
        ("status", job.status),
        ("end time (UTC)", format_time(job.end_time)),
        ("creation_timestamp", job.creation_timestamp),
        ("start time (UTC)", start),
        *duration,
        ("job EUI", job.job_eui),
        ("HDF5 file", job.hdf5_file or "(none)"),
        ("file size", f"{job.file_size:,} bytes"),
        ("log folder", job.log_dir or "(none)"),
        ("nodes", str(len(job.nodes))),
        ("outputs", str(sum(len(n.outputs) for n in job.nodes))),
        ("command-line run", "yes" if job.command_line_run else "no"),
    )


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 12 s``, ``2 h 05 min``, ``3 d 04 h``: the two largest units (to the second, rounded)."""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours:02d} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _build_node_view(
    node: NodeGroup,
    job: Job,
    datas: Mapping[str, OutputData],
    downloads: Mapping[str, DownloadLinks],
    log: LogFile | None,
    log_hrefs: Mapping[str, str],
    log_copies_cut: Mapping[str, int],
    anchors: Mapping[str, str],
    figures: Mapping[str, dict[str, Any] | None] | None = None,  # views
) -> NodeView:
    anchor = anchors[node.name]
    outputs = tuple(
        build_output_view(o, job.hdf5_file, datas.get(o.hdf5_path), downloads.get(o.hdf5_path, DownloadLinks()),
                          anchors.get(o.hdf5_path), figures or {})  # views
        for o in node.outputs
    )
    log_view = None
    if log:
        log_view = build_log_view(log, log_hrefs.get(log.node, ""), log_copies_cut.get(log.node, 0))
    return NodeView(node.name, anchor, node.type, node.description, node.bin, node.attrs, outputs, log_view)


def build_anchors(job: Job) -> dict[str, str]:
    """Element ids of the job page: node name -> ``node-<slug>``, output path -> ``out-<slug>``.

    Unique on the page (audit F13): slugged together (``build_slugs``), not one by one,
    so node ``A`` (slug ``a-559aead0``) and a node named ``a-559aead0`` differ.  A node
    slug never ends in ``-tail`` either: the end-of-log lines of node ``x`` are
    ``node-x-tail-L<n>``, which the lines of a node ``x-tail`` would also be.
    """
    node_slugs = build_slugs([node.name for node in job.nodes])
    used = set(node_slugs.values())
    for name in sorted(node_slugs):
        slug, salt = node_slugs[name], name
        while slug.endswith("-tail") or slug != node_slugs[name] and slug in used:
            slug, salt = f"{node_slugs[name]}-{short_hash(salt)}", salt + "\0"
        used.add(slug)
        node_slugs[name] = slug
    anchors = {name: "node-" + slug for name, slug in node_slugs.items()}
    paths = [output.hdf5_path for node in job.nodes for output in node.outputs]
    anchors.update((path, "out-" + slug) for path, slug in build_slugs(paths).items())
    return anchors


def build_output_view(output: Output, hdf5_file: str | None, data: OutputData | None, downloads: DownloadLinks,
                      anchor: str | None = None, figures: Mapping[str, dict[str, Any] | None] | None = None,
                      ) -> OutputView:
    """One output's section; ``anchor`` is its id from ``build_anchors`` (slugged alone if not given)."""
    anchor = anchor or "out-" + build_slug(output.hdf5_path)
    if figures and output.hdf5_path in figures:  # drawn as a view says, or with zoom detail (jobpage.write_zoom_files)
        figure = figures[output.hdf5_path]
    else:
        figure = build_figure(output, data) if data is not None else None
    figure_note = figure.pop("note", "") if figure else ""
    values = _shown_values(output, data)
    notes = _output_notes(output, data)
    texts = tuple((label, _set_text(v)) for label, v in values if output.kind == "str") or _scalar_texts(output, data)
    if not output.shape and texts:  # one value, not a set among others
        texts = (("value", texts[0][1]),)
    json_sets = _build_json_views(values) if output.kind == "json" else ()
    texts, json_sets, cut_note = _cap_texts(texts, json_sets, downloads)
    notes += (cut_note,) if cut_note else ()
    return OutputView(
        name=output.name,
        anchor=anchor,
        description=output.description,
        units=output.units,
        kind=output.kind,
        dtype=output.dtype,
        shape="null (no dataspace)" if output.is_null else " x ".join(str(n) for n in output.shape) or "scalar",
        n_sets=output.n_sets,
        times=_times_text(output),
        attrs=output.attrs,
        figure_id="fig-" + anchor[4:],
        figure=figure,
        figure_note=figure_note,
        texts=texts,
        json_sets=json_sets,
        downloads=downloads,
        snippet=build_h5py_snippet(hdf5_file, output.hdf5_path),
        notes=notes,
        path=replace_surrogates_text(output.hdf5_path),  # permalinks (#ds=)
        times_parts=build_times_parts(_times_text(output), output),
    )


def _times_text(output: Output) -> str:
    times = output.times
    if times is None:
        return "no _time dataset"
    if not times.count:
        return "no stamps"  # defined but never set, or an empty _time dataset
    read = times.count - times.unread
    if times.first is None:
        text = f"{times.count} stamps, none parsable"
        return text + f" of the first {read} read" if times.unread else text
    if times.unread:  # over the read budget: the range is of the stamps read, and says so
        text = (f"{times.count} stamps; of the first {read} read (the other {times.unread} not read): "
                f"{format_time(times.first)} to {format_time(times.last)}")
    else:
        text = f"{times.count} stamps, {format_time(times.first)} to {format_time(times.last)}"
    if not times.sorted:
        text += ", not in time order"
    if times.duplicates:
        text += f", {times.duplicates} duplicate ms"
    if times.unparsable:
        text += f", {times.unparsable} unparsable"
    return text


def build_times_parts(text: str, output: Output) -> tuple[tuple[str, str], ...]:
    """``text`` (``_times_text``) as parts, its first and last stamp marked, for the page's <time> markup."""
    times = output.times
    if times is None or times.first is None:
        return ()
    parts: list[tuple[str, str]] = []
    for moment in (format_time(times.first), format_time(times.last)):
        before, found, text = text.partition(moment)
        parts += [(before, ""), (found, "1")] if found else []
        text = text if found else before
    return (*parts, (text, "")) if parts else ()


def _output_notes(output: Output, data: OutputData | None) -> tuple[str, ...]:
    notes = []
    if output.too_large:
        notes.append("dataset over the read budget: not read; open it with the h5py snippet")
    if output.kind == "missing":
        notes.append("aborted flush: the _time dataset exists without its values")
    if data is not None and data.note:  # the reader's own words for what a bounded read kept
        notes.append(data.note)
    return tuple(notes)


def _shown_values(output: Output, data: OutputData | None) -> list[tuple[str, Any]]:
    """Up to MAX_VALUES_SHOWN string/JSON sets: the first and the last ones."""
    if output.kind not in ("str", "json"):
        return []
    values = list(data.values) if data is not None and isinstance(data.values, tuple) else list(output.preview)
    numbered = list(enumerate(values))
    if len(numbered) > MAX_VALUES_SHOWN:
        half = MAX_VALUES_SHOWN // 2
        numbered = numbered[:half] + numbered[-half:]
    return [(f"set {i}", value) for i, value in numbered]


def _scalar_texts(output: Output, data: OutputData | None) -> tuple[tuple[str, str], ...]:
    """The value of a scalar number (another writer's single ``3.25``): there is no set to plot."""
    values = data.values if data is not None else None
    if output.shape or not isinstance(values, np.ndarray) or values.ndim or values.dtype.kind not in "biuf":
        return ()
    return (("value", repr(values.item())),)


def _set_text(value: Any) -> str:
    """One string set as text; a set of several strings ((N, k) outputs) as a JSON list, never a Python repr."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def cap_text(text: str, limit: int = PREVIEW_TEXT_BYTES) -> tuple[str, int]:
    """``text`` cut to at most ``limit`` UTF-8 bytes on a character boundary, and its full size
    in bytes when cut (0 when whole)."""
    if len(text) <= limit // 4:  # at most 4 bytes a character: surely within the limit
        return text, 0
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return text, 0
    return raw[:limit].decode("utf-8", "ignore"), len(raw)


def _cap_texts(texts: tuple[tuple[str, str], ...], json_sets: tuple[tuple[str, str, str], ...], downloads: DownloadLinks
               ) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str, str], ...], str]:
    """Each shown string at most PREVIEW_TEXT_BYTES (D7); a cut one says so in its label, and a note
    says where the whole value is."""
    cut_any = False

    def cap(label: str, text: str) -> tuple[str, str]:
        nonlocal cut_any
        shown, size = cap_text(text)
        if size:
            cut_any = True
            label += f" (first {PREVIEW_TEXT_BYTES:,} of {size:,} bytes)"
        return label, shown

    def cap_set(label: str, uri: str, text: str) -> tuple[str, str, str]:
        if uri:  # an image: shown as a picture, not as text
            return label, uri, text
        label, text = cap(label, text)
        return label, "", text

    texts = tuple(cap(label, text) for label, text in texts)
    json_sets = tuple(cap_set(*item) for item in json_sets)
    if not cut_any:
        return texts, json_sets, ""
    whole = "the CSV download holds them whole" if any(link[0] == "CSV" for link in downloads.links) \
        else "open the dataset with the h5py snippet for the whole values"
    return texts, json_sets, f"strings over {PREVIEW_TEXT_BYTES:,} bytes are cut on this page; {whole}"


def _build_json_views(values: list[tuple[str, Any]]) -> tuple[tuple[str, str, str], ...]:
    """(label, PNG data URI, "") for a ``{"png": ...}`` set, (label, "", pretty JSON) otherwise; in set order."""
    views = []
    for label, value in values:
        uri = build_png_uri(value)
        views.append((label, uri, "" if uri else json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)))
    return tuple(views)


def build_png_uri(value: Any) -> str:
    """``data:image/png;base64,...`` when ``value`` is ``{"png": <base64 of a real PNG>}``, else ""."""
    if not (isinstance(value, dict) and isinstance(value.get("png"), str)):
        return ""
    try:
        raw = base64.b64decode(value["png"], validate=True)
    except (binascii.Error, ValueError):
        return ""
    if not raw.startswith(PNG_MAGIC):
        return ""
    return "data:image/png;base64," + base64.b64encode(raw).decode("ascii")


# ----------------------------------------------------------------- logs
# Characters inside a log line that a browser would show as a line end although the file has none
# there (HTML parsing turns a lone CR into one in a <pre>; U+2028, U+2029 and U+0085 are mandatory
# breaks): shown as a sign, so every visual line is one numbered line of the file.
LINE_BREAK_SIGNS = str.maketrans({"\r": "\u240d", "\u2028": "\u2424", "\u2029": "\u2424", "\x85": "\u2424"})
_LINE_BREAKS = re.compile("[\r\u2028\u2029\x85]")


def build_line_text(text: str) -> str:
    """A log line with a lone CR as \u240d and U+2028, U+2029, U+0085 as \u2424 (see LINE_BREAK_SIGNS)."""
    return text.translate(LINE_BREAK_SIGNS) if _LINE_BREAKS.search(text) else text


def build_log_view(log: LogFile, href: str, copy_cut_at: int = 0) -> LogView:
    """The preview's last lines, and the file's end when the preview is cut; ``copy_cut_at``: copy cut."""
    lines = split_log_lines(log.preview)  # the reader's lines: its numbers are the file's
    first = max(0, len(lines) - MAX_LOG_LINES)  # keep the tail: tracebacks end a log
    shown = build_log_lines(lines[first:], first + 1, log.traceback_lines, log.error_lines, log.warning_lines)
    notes = []
    if first:
        notes.append(f"lines 1-{first} of the preview not shown")
    if log.truncated:
        notes.append(f"the preview is cut short of the {log.size:,}-byte file")
    if log.invalid_utf8:
        notes.append("invalid UTF-8 bytes replaced")
    copy_note = ""
    if href and copy_cut_at:
        copy_note = f"the copy is cut at {copy_cut_at:,} bytes of the {log.size:,}-byte file"
    tail_title, tail = build_log_tail(log)
    return LogView(log.node, href, log.size, shown, error_line_count(log), log.has_traceback, tuple(notes),
                   copy_note, tail_title, tail, warning_line_count(log))


def build_log_tail(log: LogFile) -> tuple[str, tuple[LogLine, ...]]:
    """(title, lines) of the end the reader keeps of a log whose preview is cut; ("", ()) otherwise.

    Numbered back from the file's last line, splitting on "\n" only as the reader
    counts lines, so the traceback lines it found in the whole file mark these.
    The tail starts at a byte offset, so its first line may begin mid-line.
    """
    if not log.truncated or not log.tail:
        return "", ()
    pieces = split_log_lines(log.tail)
    last = max(log.total_lines, len(pieces))
    first = max(0, len(pieces) - MAX_LOG_LINES)
    offset = last - len(pieces)  # the file's number of pieces[i] is offset + i + 1
    # marked as the reader marks the preview (its last MAX_MARKED_LINES marks cover the lines shown)
    errors = [offset + n for n in error_line_numbers(pieces, log.tail)[0]]
    warnings = [offset + n for n in warning_line_numbers(pieces, log.tail)[0]]
    lines = build_log_lines(pieces[first:], offset + first + 1, log.traceback_lines, errors, warnings)
    if not lines:
        return "", ()
    partial = "" if first else "; the first may begin mid-line"
    plural = "s" if len(lines) != 1 else ""
    span = f"lines {lines[0].number:,}-{last:,} of {last:,}{partial}"
    title = f"End of the file: last {len(lines):,} line{plural} ({span})"
    return title, lines


def build_log_lines(texts: list[str], start: int, tracebacks: Iterable[int], errors: Iterable[int],
                    warnings: Iterable[int]) -> tuple[LogLine, ...]:
    """``texts`` numbered from ``start``, each of the kind its number is marked with: a traceback
    start, else an error line, else a warning line (the reader marks no line as both)."""
    tracebacks, errors, warnings = set(tracebacks), set(errors), set(warnings)
    return tuple(
        LogLine(n, text, "traceback" if n in tracebacks else "error" if n in errors else
                "warning" if n in warnings else "")
        for n, text in enumerate(texts, start=start)
    )


def shows_whole_log(log: LogFile) -> bool:
    """The page holds every line of the file: none of ``build_log_view``'s three notes applies."""
    return not (log.truncated or log.invalid_utf8 or log.line_count > MAX_LOG_LINES)


# ----------------------------------------------------------------- commits and diff
def build_commit_view(commit: Commit) -> CommitView:
    files = tuple(
        GitFileView(f.path, f.text or "", "" if f.text is not None else "binary or over the size budget: not shown")
        for f in commit.files
    )
    return CommitView(
        repo=commit.repo,
        sha=commit.sha,
        state=commit.state,
        reason=commit.reason,
        subject=commit.subject,
        author=f"{commit.author} <{commit.author_email}>" if commit.author_email else commit.author,
        date=format_time(commit.date),
        files=files,
    )


def build_diff_lines(old: Commit | None, new: Commit) -> tuple[DiffLine, ...]:
    """A unified diff of every text file of two parameter commits (path by path)."""
    old_files = {f.path: f.text or "" for f in old.files} if old else {}
    new_files = {f.path: f.text or "" for f in new.files}
    lines: list[DiffLine] = []
    for path in sorted(set(old_files) | set(new_files)):
        lines.extend(build_file_diff_lines(path, old_files.get(path, ""), new_files.get(path, "")))
    return tuple(lines)


def build_file_diff_lines(path: str, old: str, new: str) -> tuple[DiffLine, ...]:
    """A unified diff of one text file (the parameters and the workflow diff pages)."""
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), fromfile=f"a/{path}", tofile=f"b/{path}", lineterm="")
    return tuple(DiffLine(_diff_kind(text), text) for text in diff)


def _diff_kind(text: str) -> str:
    if text.startswith(("+++", "---")):
        return "file"
    return {"+": "add", "-": "del", "@": "hunk"}.get(text[:1], "")


@dataclass(frozen=True)
class DiffSubject:
    """A job as the diff page needs it (from the build summary, not re-read)."""

    job_id: str
    href: str  # relative to the project folder
    commit: Commit | None = field(default=None)


def build_params_diff_context(
    project: str, job: DiffSubject, previous: DiffSubject | None
) -> ParamsDiffPage:
    sha = job.commit.sha if job.commit else ""
    if previous is None or previous.commit is None:
        note = "no earlier job of this project used a different parameters commit, so there is nothing to compare with"
        lines: tuple[DiffLine, ...] = ()
    else:
        lines = build_diff_lines(previous.commit, job.commit) if job.commit else ()
        note = "" if lines else "the parameter files are identical"
    previous_sha = previous.commit.sha if previous and previous.commit else ""
    return ParamsDiffPage(**build_diff_page_head("parameters", project, job, sha, previous, previous_sha),
                          lines=lines, note=note)


def build_diff_page_head(what: str, project: str, job: DiffSubject, sha: str, previous: DiffSubject | None,
                         previous_sha: str) -> dict[str, str]:
    """The fields the parameters and the workflow diff pages share: where the page sits (next to
    the job pages: paths.diff_page_name, paths.workflow_diff_page_name), its job and the previous one."""
    return {
        "title": f"{job.job_id}: {what} diff", "root": "../", "project": project, "project_href": "index.html",
        "job_id": job.job_id, "job_href": job.href, "sha": sha,
        "previous_job": previous.job_id if previous else "", "previous_href": previous.href if previous else "",
        "previous_sha": previous_sha if previous else "",
    }
