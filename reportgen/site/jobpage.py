"""One job page (and later its parameters diff page), built and written by a pool worker.

The worker reads the job with the readers, reads the values of its outputs,
writes the downloads and log copies, builds the context, renders and writes
the page; it returns only a small ``JobResult`` (never the HTML: shipping
pages back through the pool costs ~120 us each and memory in the parent).
Errors of the output itself (disk full) travel back as plain fields because
our error classes do not pickle.
"""

from __future__ import annotations

import itertools
import math
import os
import signal
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from reportgen.errors import BadInputError, InputMissingError, WriteError
from reportgen.records import Job, JobRef, LogFile, Output, OutputData, Problem, ReadLimits
from reportgen.site import write as out
from reportgen.site import zoom  # zoom: detail of long line figures, loaded on zoom
from reportgen.site.compare import build_param_leaves, write_compare_data  # compare runs
from reportgen.site.config import Column, build_cells
from reportgen.site.config import Reduce, View, find_reduce, find_view  # views: figure views; reduce: [[reduce]]
from reportgen.site.figures import MAX_POINTS, LineSeries, build_figure, build_view_figures  # views, zoom
from reportgen.site.contexts import (
    DiffSubject, DownloadLinks, build_catalog_row, build_job_context, build_params_diff_context, build_row_values,
    build_split_pages, shows_whole_log,
)
from reportgen.site.downloads import (
    INLINE_MAX_BYTES, INLINE_PAGE_BYTES, build_csv_text, build_data_uri, build_download_plan, build_npy_bytes,
)
from reportgen.site.manifest import JobEntry, problem_fields
from reportgen.site.notebook import notebook_download_name, render_notebook
from reportgen.site.paths import build_slugs, diff_page_name, notebook_file_name, workflow_diff_page_name
from reportgen.site.render import mark_capped, render_job, render_node, render_params_diff
from reportgen.site.search import SearchRecord, build_search_record  # search.html
from reportgen.site.workflow_diff import build_workflow_diff_context, render_workflow_diff  # workflow diff

PAGE_BUDGET = 5 * 1024**2  # bytes of HTML per job page before a warning
# A job with more nodes or outputs than these gets a node table and a page per node (a node of
# more outputs than OUTPUTS_PER_PAGE, several): a browser's cost is the DOM, ~17 kB and ~100
# elements per node, ~2 kB per output.  At these sizes (0.3-0.7 MB) a page loads about as fast
# as an empty one, whose time is plotly.min.js (bench/bench_big_job_page.py); 2,000 nodes took 7 s.
SPLIT_NODES = 64
SPLIT_OUTPUTS = 256
OUTPUTS_PER_PAGE = 200
LOG_COPY_LIMIT = 64 * 1024**2  # bytes of a log copied into the site
# Values read per output for views and downloads: bounded so two workers stay well under 500 MB.
# preview_rows=64: small outputs then arrive whole in their preview, and the file is opened once.
SITE_LIMITS = ReadLimits(max_read_bytes=64 * 1024**2, preview_rows=64)
_NUMPY_KINDS = {"int": np.int64, "float": np.float64, "bool": np.bool_}
_commits = None  # one CommitCache per process: its git pipes must never be shared across a fork
_commits_pid = 0
_in_worker = False  # set in pool workers: a job that hangs there is killed by SIGALRM


@dataclass(frozen=True)
class JobTask:
    root: str
    staging: str
    ref: JobRef
    project_slug: str
    job_slug: str
    workflow_repo: str | None
    params_repo: str | None
    columns: tuple[Column, ...] = ()  # build --config: the project's extra catalog columns
    views: tuple[View | Reduce, ...] = ()  # views: the project's figure views, then the global ones; then its reductions


@dataclass(frozen=True)
class JobResult:
    project: str  # the scan's project name (manifest key)
    job_id: str  # the scan's job id (manifest key)
    slug: str
    row: tuple
    problems: tuple[tuple[str, ...], ...]
    params_sha: str
    params_present: bool
    end: str
    page_bytes: int
    error: tuple[str, str, str, str] = ("", "", "", "")  # (class, file, reason, member)
    search: SearchRecord | None = None  # search.html: what a search looks into (search.py)
    digests: dict[str, bytes] = field(default_factory=dict)  # sha256 of the files written, by path (write.take_digests)
    workflow_sha: str = ""  # workflow diff: what its pages are paired by, as params_sha for the parameters
    workflow_present: bool = False

    def entry(self, fingerprint: str) -> JobEntry:
        return JobEntry(fingerprint, self.slug, self.row, (), self.problems, self.params_sha,
                        self.params_present, self.end, self.page_bytes, self.search,
                        workflow_sha=self.workflow_sha, workflow_present=self.workflow_present)

    def raise_error(self) -> None:
        kind, file, reason, member = self.error
        if kind:
            raise WriteError(file, reason, member)


@dataclass(frozen=True)
class DiffTask:
    """One ``<job>~params-diff.html`` or ``<job>~workflow-diff.html`` (``which``); jobs are
    (id, href relative to the project folder, commit sha)."""

    staging: str
    project: str
    page: str  # relative to staging
    repo: str | None  # the params or the workflow repository
    job: tuple[str, str, str]
    previous: tuple[str, str, str] | None
    which: str = "params"  # or "workflow"


def init_worker() -> None:
    """Sandbox a worker as the readers do (memory cap, no HDF5 plugins); Ctrl-C is the parent's."""
    global _in_worker
    from reportgen.readers.sandbox import limit_worker

    limit_worker(SITE_LIMITS)
    _in_worker = True
    mark_capped()  # a template override renders here, under these caps (render._render_capped)


def _commit_cache():
    global _commits, _commits_pid
    if _commits is None or _commits_pid != os.getpid():  # a forked child starts its own
        from reportgen.readers.git import CommitCache

        _commits, _commits_pid = CommitCache(SITE_LIMITS), os.getpid()
    return _commits


def close_commit_cache() -> None:
    """Close this process's git pipes (the serial path, at the end of a build)."""
    global _commits
    if _commits is not None and _commits_pid == os.getpid():
        _commits.close()
    _commits = None


def build_job_page(task: JobTask) -> JobResult:
    """Read, build, render and write one job page; a write failure comes back as ``error``."""
    from reportgen.readers.datastore import read_job

    if _in_worker:
        from reportgen.readers.sandbox import fault_point

        signal.alarm(max(1, math.ceil(SITE_LIMITS.worker_timeout_s)))
        fault_point(task.ref)  # tests only: REPORTGEN_CRASH_AT kills this worker for real
    try:
        job = read_job(Path(task.root), task.ref, SITE_LIMITS, _commit_cache())
        return write_job_page(task, job)
    except WriteError as exc:
        return _failed(task, ("WriteError", exc.file, exc.reason, exc.member))
    finally:
        if _in_worker:
            signal.alarm(0)


def write_diff_chunk(tasks: list[DiffTask]) -> tuple[str, str, str, str]:
    """A chunk of parameter diff pages; a write failure comes back as (class, file, reason, member)."""
    cache = _commit_cache()
    try:
        for task in tasks:
            repo = Path(task.repo) if task.repo else None
            if task.which == "workflow":
                out.write_file(Path(task.staging) / task.page, render_workflow_diff_page(task, repo, cache))
                continue

            def subject(job: tuple[str, str, str]) -> DiffSubject:
                return DiffSubject(job[0], job[1], cache.read(repo, job[2], "params"))

            page = build_params_diff_context(task.project, subject(task.job), subject(task.previous) if task.previous else None)
            out.write_file(Path(task.staging) / task.page, render_params_diff(page))
    except WriteError as exc:
        return ("WriteError", exc.file, exc.reason, exc.member)
    return ("", "", "", "")


def render_workflow_diff_page(task: DiffTask, repo: Path | None, cache) -> str:
    """``<job>~workflow-diff.html``: only the files that differ are read (``CommitCache.read_tree_diff``)."""
    job, previous = task.job, task.previous
    diff = cache.read_tree_diff(repo, previous[2], job[2]) if previous else None
    page = build_workflow_diff_context(task.project, DiffSubject(job[0], job[1]),
                                       DiffSubject(previous[0], previous[1]) if previous else None,
                                       job[2], previous[2] if previous else "", diff)
    return render_workflow_diff(page)


def _failed(task: JobTask, error: tuple[str, str, str, str]) -> JobResult:
    return JobResult(task.ref.project, task.ref.job_id, task.job_slug, (), (), "", False, "", 0, error)


def write_job_page(task: JobTask, job: Job) -> JobResult:
    staging = Path(task.staging)
    job_dir = staging / task.project_slug / task.job_slug
    problems = list(job.problems)
    datas = read_values(Path(task.root), job, problems)
    downloads = write_downloads(job, datas, job_dir, task.job_slug)
    # compare runs: <project>/<job>~compare.js from the values just read (reportgen/site/compare.py);
    # the parameters are flattened once, for it and for the catalog's parameter columns;
    # reduce: the derived series of array outputs come from these values too
    leaves = build_param_leaves(job.params)
    write_compare_data(staging / task.project_slug, task.job_slug, job, datas, leaves,
                       lambda path: find_reduce(task.views, path))
    log_hrefs, log_cuts = write_log_copies(Path(task.root), job.logs, job_dir, task.job_slug, task.ref)
    # views: the figures a configured view or an @axes attribute changes (none: the automatic ones)
    outputs = {output.hdf5_path: output for node in job.nodes for output in node.outputs}
    figures = build_view_figures(outputs, datas, lambda path: find_view(task.views, path), series=True)  # zoom
    figures = write_zoom_files(job, datas, figures, job_dir, task.job_slug)  # zoom: <job>/<node>~<output>~zoom.js
    page = build_job_context(job, datas, downloads, log_hrefs, diff_page_name(task.job_slug), log_cuts, figures)
    if job.hdf5_file is not None:  # the notebook hand-off: every output loaded with h5py
        href = write_notebook(job, staging / task.project_slug, task.job_slug)
        page = replace(page, notebook_href=href, notebook_name=notebook_download_name(job))
    if job.workflow.state == "present":  # workflow diff: the build writes it for every such job
        page = replace(page, workflow_diff_href=workflow_diff_page_name(task.job_slug))
    node_pages: tuple = ()
    split = is_too_big(job)
    # search.html: from the page's own log views (their lines' ids) before a split takes the nodes away
    search = build_search_record(job, leaves, page, task.job_slug if split else "")
    if split:
        page, node_pages = build_split_pages(page, task.job_slug, OUTPUTS_PER_PAGE)
    size = out.write_file(staging / task.project_slug / f"{task.job_slug}.html", render_job(page))
    sizes = [("job page", size)]
    for name, node_page in node_pages:
        sizes.append((f"node page {name}", out.write_file(staging / task.project_slug / name, render_node(node_page))))
    for what, written in sizes:
        if written > PAGE_BUDGET:
            problems.append(Problem("warning", "page-over-budget", job.hdf5_file or job.job_id, "",
                                    f"{what} is {written:,} bytes (budget {PAGE_BUDGET:,})"))
    row = build_catalog_row(job, f"{task.job_slug}.html", build_column_cells(task.columns, job, datas, leaves),
                            page.failure)  # s23 F2: the catalog's "First error"
    return JobResult(
        project=task.ref.project, job_id=task.ref.job_id, slug=task.job_slug,
        row=build_row_values(row), problems=tuple(problem_fields(p) for p in problems),
        params_sha=job.params.sha, params_present=job.params.state == "present",
        end=job.end_time.isoformat() if job.end_time else "", page_bytes=size, search=search,
        workflow_sha=job.workflow.sha, workflow_present=job.workflow.state == "present",
    )


def build_column_cells(columns: tuple[Column, ...], job: Job, datas: dict[str, OutputData],
                       leaves: list | str) -> tuple:
    """The cells of the configured catalog columns (none without ``--config``), from what the page
    read: the values of ``read_values`` and the parameters flattened for the compare data."""
    if not columns:
        return ()
    params = leaves if isinstance(leaves, str) else dict(reversed(leaves))  # the first of a repeated key
    return tuple(build_cells(columns, job, datas, params))


# A notebook this small travels in the page as a data: URI: from file:// Chromium ignores the
# download attribute of a link to a file and shows a .ipynb as text instead of saving it.
NOTEBOOK_INLINE_BYTES = 32 * 1024


def write_notebook(job: Job, folder: Path, job_slug: str) -> str:
    """The href of the job's notebook: a data: URI, or ``<job>~notebook.ipynb`` written beside the page."""
    body = render_notebook(job)
    if len(body) <= NOTEBOOK_INLINE_BYTES:
        return build_data_uri(body, "ipynb")
    name = notebook_file_name(job_slug)
    out.write_file(folder / name, body)
    return name


def is_too_big(job: Job) -> bool:
    """Whether the job's nodes go on pages of their own (``contexts.build_split_pages``)."""
    return len(job.nodes) > SPLIT_NODES or sum(len(node.outputs) for node in job.nodes) > SPLIT_OUTPUTS


# ----------------------------------------------------------------- values and downloads
def _wants_values(output: Output) -> bool:
    return not output.too_large and output.kind not in ("empty", "missing")


def read_values(root: Path, job: Job, problems: list[Problem]) -> dict[str, OutputData]:
    """Values of every output that has any, bounded by SITE_LIMITS; failures become problems.

    Outputs whose preview holds every set need no read; the others are read in one
    open of the file (``read_outputs_data``).  Only when that batch fails is each
    output read alone, so that every failure is reported against its own output.
    """
    from reportgen.readers.hdf5 import read_output_data, read_outputs_data

    datas: dict[str, OutputData] = {}
    if not job.hdf5_file:
        return datas
    path = root / job.hdf5_file
    order, unread = [], []
    for node in job.nodes:
        for output in filter(_wants_values, node.outputs):
            order.append(output.hdf5_path)
            whole = build_data_from_preview(output)
            if whole is not None:
                datas[output.hdf5_path] = whole
            else:
                unread.append(output.hdf5_path)
    if unread:
        try:
            datas.update(zip(unread, read_outputs_data(path, unread, SITE_LIMITS)))
        except (BadInputError, InputMissingError):  # say which output failed: read them one by one
            for hdf5_path in unread:
                try:
                    datas[hdf5_path] = read_output_data(path, hdf5_path, SITE_LIMITS)
                except (BadInputError, InputMissingError) as exc:
                    problems.append(Problem("warning", "values-unreadable", job.hdf5_file, hdf5_path, exc.reason))
    return {hdf5_path: datas[hdf5_path] for hdf5_path in order if hdf5_path in datas}


def build_data_from_preview(output: Output) -> OutputData | None:
    """The output's values from its preview when the preview holds every set, else None.

    Why: ``read_output_data`` opens and checks the file again for each output, which
    costs more than reading the job; most outputs are small enough to come whole.
    """
    times = output.times
    complete = not output.preview_truncated and output.n_sets > 0 and len(output.preview) == output.n_sets
    if not complete or (times is not None and len(times.preview) != times.count):
        return None
    from reportgen.readers.hdf5 import parse_time

    stamps = tuple(parse_time(text) for text in times.preview[: output.n_sets]) if times else ()
    if output.kind in ("str", "json"):
        return OutputData(output.hdf5_path, output.kind, tuple(output.preview), stamps)
    if output.kind not in _NUMPY_KINDS:
        return None
    values = np.asarray(output.preview, dtype=_NUMPY_KINDS[output.kind])
    if values.shape != tuple(output.shape):
        return None
    return OutputData(output.hdf5_path, output.kind, values, stamps)


def write_downloads(job: Job, datas: dict[str, OutputData], job_dir: Path, job_slug: str) -> dict[str, DownloadLinks]:
    """``<job>/<node>~<output>.npy|.csv``, or a data: URI in the page when small; hrefs are
    relative to the job page.

    One flat folder per job, made only when a download is too large for the page:
    every folder and file is an inode to allocate, and on a busy file system that,
    not the bytes, is what a site of thousands of jobs spends its time on.  ``~``
    never occurs in a slug, so names cannot clash.
    """
    links: dict[str, DownloadLinks] = {}
    inline_left = INLINE_PAGE_BYTES
    node_slugs = build_slugs([n.name for n in job.nodes])
    for node in job.nodes:
        out_slugs = build_slugs([o.name for o in node.outputs])
        for output in node.outputs:
            data = datas.get(output.hdf5_path)
            formats, note = build_download_plan(output, data)
            written = []
            for fmt in formats:
                name = f"{node_slugs[node.name]}~{out_slugs[output.name]}.{fmt}"
                body = build_npy_bytes(data.values) if fmt == "npy" else build_csv_text(data).encode("utf-8")  # type: ignore[union-attr, arg-type]
                if len(body) <= min(INLINE_MAX_BYTES, inline_left):
                    inline_left -= len(body)
                    href = build_data_uri(body, fmt)
                else:
                    out.write_file(job_dir / name, body)
                    href = f"{job_slug}/{name}"
                written.append((fmt.upper(), href, name))
            links[output.hdf5_path] = DownloadLinks(tuple(written), note)
    return links


# ----------------------------------------------------------------- zoom: detail of long line figures
def write_zoom_files(job: Job, datas: dict[str, OutputData], figures: dict[str, dict | None], job_dir: Path,
                     job_slug: str) -> dict[str, dict | None]:
    """``figures`` (the views' figures) plus the automatic figure of every long 1-D output, each
    drawn from more than ``MAX_POINTS`` points with its zoom file ``<job>/<node>~<output>~zoom.js``
    written (``zoom.py``) and named in its JSON; no figure keeps its ``LineSeries``.

    The files go in page order while the job's ``zoom.JOB_BYTES`` last; a figure past that says
    it has no zoom detail.  Only these figures are built here: contexts draws the others."""
    result, left = dict(figures), zoom.JOB_BYTES
    node_slugs = build_slugs([n.name for n in job.nodes])
    for node in job.nodes:
        out_slugs = build_slugs([o.name for o in node.outputs])
        for output in node.outputs:
            data = datas.get(output.hdf5_path)
            if output.hdf5_path in result:
                figure = result[output.hdf5_path]
            elif data is not None and isinstance(data.values, np.ndarray) and data.values.ndim == 1 \
                    and len(data.values) > MAX_POINTS and data.values.dtype.kind in "biuf":
                figure = result[output.hdf5_path] = build_figure(output, data, series=True)
            else:
                continue
            series = zoom.wants_zoom(figure)
            if series is not None:
                key = f"{job_slug}/{node_slugs[node.name]}~{out_slugs[output.name]}"
                left -= _write_zoom_file(figure, series, job_dir, key, min(zoom.OUTPUT_BYTES, left))  # type: ignore[arg-type]
            if figure is not None:
                figure.pop("series", None)
    return result


def _write_zoom_file(figure: dict, series: LineSeries, job_dir: Path, key: str, budget: int) -> int:
    """Write ``figure``'s zoom file and name it in the figure; its bytes (0 when none fits ``budget``)."""
    plan = zoom.build_zoom_plan(series, budget)
    size = 0
    if plan is not None:
        text = zoom.render_zoom_js(plan, series, key)
        size = out.write_file(job_dir / (key.split("/", 1)[1] + zoom.ZOOM_SUFFIX), text)
        figure["zoom"] = zoom.build_zoom_spec(plan, key + zoom.ZOOM_SUFFIX, key)
        figure["table_note"] = figure.get("table_note", "") + zoom.ZOOM_TABLE_NOTE
    why = f"a job's zoom files are at most {zoom.JOB_BYTES // 1024**2} MiB"
    figure["note"] = "; ".join(filter(None, [figure.get("note", ""), zoom.build_zoom_note(plan, why)]))
    return size


def write_log_copies(root: Path, logs: tuple[LogFile, ...], job_dir: Path, job_slug: str,
                     ref: JobRef | None = None) -> tuple[dict[str, str], dict[str, int]]:
    """Copy each log the page cannot show whole into ``<job>/logs/`` (the full file one click away).

    Returns the hrefs by node, and by node the bytes of each copy cut at
    ``LOG_COPY_LIMIT`` (the page says so; its end is shown from the reader's tail).

    A log whose every line is on the page needs no copy: most node logs are a
    few lines, and a copy each would double the files of a site.  ``LogFile.path``
    is the name as shown (``\\xNN`` for bytes that are not UTF-8); the file is
    opened by the name the scan listed (``ref.logs``).
    """
    from reportgen.readers.datastore import display_name

    listed = {display_name(stat.path): stat.path for stat in ref.logs} if ref else {}
    slugs = build_slugs([log.node for log in logs])
    hrefs, cuts = {}, {}
    for log in itertools.filterfalse(shows_whole_log, logs):
        relative = f"logs/{slugs[log.node]}.log"
        try:
            source = root / listed.get(log.path, log.path)
            copied, cut = out.copy_file(source, job_dir / relative, LOG_COPY_LIMIT)
        except OSError:
            continue  # vanished or unreadable since the scan: the reader already reported it
        hrefs[log.node] = f"{job_slug}/{relative}"
        if cut:
            cuts[log.node] = copied
    return hrefs, cuts
