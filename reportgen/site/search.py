"""Cross-job search: per job a compact record of what a search looks into, per project a data file.

``search.html`` (at the site root, written with the home page) finds jobs of every project by
their metadata, their parameters and the error, traceback and warning lines of their logs, in the
browser, with no server: ``assets/search.js`` loads each project's ``<project>/search-data.js`` by
an injected ``<script src>`` (a ``fetch()`` fails on ``file://``), only once a search is typed.

The record of a job is built in its page worker from what the worker already has (the job, the
parameters it flattened once for the compare data and the columns, the page context with its log
views), so no file is read twice and no git call is added.  It travels back in ``JobResult`` and
is kept in the manifest's ``JobEntry``, so an incremental build that keeps a job keeps its record;
``search-data.js`` is written with the catalog, from the manifest.  A log line's link is exactly
the id the page gives the line: ``render.build_log_line_id`` of the anchor the templates give the
log (``node-<slug>``, ``<anchor>-tail`` for a log's end, ``orphan-<n>`` for a log without a node
group), on the job page or, for a job split into node pages, on the node's first page.

The record does not change the job's fingerprint: it is a pure function of the job as read and
of its slugs, which are what the fingerprint covers.  The project's slug, which the hrefs also
need, is not in the record: hrefs are made when the data file is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reportgen.records import Job
from reportgen.site.compare import NOT_TEXT, NOT_TEXT_VALUE, json_text
from reportgen.site.contexts import JobPage, LogLine, LogView, build_line_text, build_versioned_href
from reportgen.site.jsonsafe import render_json, replace_surrogates_text
from reportgen.site.paths import node_page_name
from reportgen.site.render import build_log_line_id

FORMAT = 1  # of the data a file gives to reportgenSearch.add; search.js reads this one
SEARCH_DATA_NAME = "search-data.js"  # in each project folder, next to catalog-data.js
# Bounds of one job's record, so that whatever its files hold one job adds at most ~40 KB of text
# to its project's file (and to the manifest): 2 KiB of attributes + 8 KiB of parameters + 40 lines
# of at most 240 + 80 characters and their link (~400: two slugs and a node page's name), and
# typically under 1 KB.  A browser holds every project's file at once: 10,000 typical jobs are ~10 MB.
MAX_TEXT = 240  # characters of one attribute, parameter, description or log line; cut with an ellipsis
MAX_NODE = 80  # characters of a log line's node name (the link names the node exactly)
MAX_LINES = 40  # log lines per job: tracebacks and exception lines first, then errors, then warnings
MAX_PARAMS_TEXT = 8 * 1024  # characters of all of a job's parameter texts; the later leaves are left out
MAX_ATTRS_TEXT = 2 * 1024  # characters of all of a job's root attribute texts
MAX_NODES = 100  # node names per job (each cut at MAX_NODE): a node is found by its name (s23 F8)
# Characters of one project's data file: a browser holds every file it loaded, and 5,000 jobs of
# 40 long error lines each made one 64 MB file (1.5 s to the first result, 300 MB of heap, audit
# s20).  Past it the older jobs keep their metadata but not their parameters and log lines, and
# the file says how many (``cut``): search.html names the project as not searched in full.
MAX_PROJECT_TEXT = 16 * 1024**2
KINDS = ("traceback", "exception", "error", "warning")  # a line's kind, in the order lines are kept
_RANK = {"traceback": 0, "exception": 0, "error": 1, "warning": 2}  # an exception line names what failed
# a line's id on its page: a page anchor (a node's slug id, a log end's, an orphan log's) and -L<n>
_LINE_ID = re.compile(r"(node-[a-z0-9._-]+|orphan-[0-9]+)(-tail)?-L[0-9]+")


@dataclass(frozen=True)
class SearchRecord:
    """What search.html looks into of one job, beyond its catalog row (id, status, end, description).

    ``lines`` are ``(node, kind, number, text, page, id)``: ``page`` is "" for the job page or
    the node page (a file name next to it) that shows the line, ``id`` the line's element id.
    ``left_out`` counts the attributes, parameters and log lines over the bounds.  ``nodes``: the
    job's node names in page order (at most MAX_NODES, each cut at MAX_NODE), so a node is found by
    its name even when its log has no marked line.
    """

    attrs: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    lines: tuple[tuple[str, str, int, str, str, str], ...] = ()
    left_out: tuple[int, int, int] = (0, 0, 0)
    nodes: tuple[str, ...] = ()


def cut_text(text: str, limit: int = MAX_TEXT) -> str:
    """At most ``limit`` characters, a cut one ending with an ellipsis; a lone surrogate as U+FFFD.
    Cut first: a 10 MB line costs its slice, not a pass over it."""
    if len(text) > limit:
        text = text[:limit - 1] + "\u2026"
    return replace_surrogates_text(text)


# ----------------------------------------------------------------- the record (in the worker)
def build_search_record(job: Job, leaves: list[tuple[str, Any]] | str, page: JobPage, split_slug: str = "") -> SearchRecord:
    """The record of one job.  ``leaves``: ``compare.build_param_leaves`` of its parameters commit;
    ``page``: its page context before any split; ``split_slug``: the job's slug when its nodes go
    on pages of their own (``jobpage.is_too_big``), else ""."""
    attrs, attrs_out = build_bounded_texts((f"{name}={value}" for name, value in job.root_attrs), MAX_ATTRS_TEXT)
    params, params_out = build_bounded_texts(build_param_texts(leaves), MAX_PARAMS_TEXT)
    lines, lines_out = build_search_lines(page, split_slug)
    nodes = tuple(cut_text(node.name, MAX_NODE) for node in job.nodes[:MAX_NODES])
    return SearchRecord(attrs, params, lines, (attrs_out, params_out, lines_out), nodes)


def build_param_texts(leaves: list[tuple[str, Any]] | str) -> Iterator[str]:
    """``file:dotted.key=value`` per leaf, the value as the catalog's columns show it: a string as
    itself, anything else as its JSON text (as on compare.html)."""
    if isinstance(leaves, str):
        return
    for key, value in leaves:
        if value is NOT_TEXT_VALUE:
            text = NOT_TEXT
        elif isinstance(value, str):
            text = value[:MAX_TEXT]  # a whole text file is one leaf: never copy more than is kept
        else:
            text = json_text(value)
        yield f"{key}={text}"


def build_bounded_texts(texts: Iterator[str] | Any, budget: int) -> tuple[tuple[str, ...], int]:
    """Each text cut at MAX_TEXT; the texts while their characters fit ``budget``, and how many not."""
    kept: list[str] = []
    left_out = 0
    for text in texts:
        text = cut_text(text)
        if left_out or len(text) > budget:
            left_out += 1
            continue
        budget -= len(text)
        kept.append(text)
    return tuple(kept), left_out


def iter_log_views(page: JobPage, split_slug: str) -> Iterator[tuple[LogView, str, str]]:
    """(log, its anchor, the page that shows it) of every log of the page, in page order.

    The anchors are those the templates give (``_partials/node.html``: the node's anchor;
    ``job.html``: ``orphan-<n>`` from 1 for the logs without a node group).  A split job shows a
    node's log on the node's first page (``contexts.build_split_pages``), its orphan logs on the
    job page."""
    for node in page.nodes:
        if node.log is not None:
            yield node.log, node.anchor, node_page_name(split_slug, node.anchor) if split_slug else ""
    for number, log in enumerate(page.orphan_logs, 1):
        yield log, f"orphan-{number}", ""


def build_search_lines(page: JobPage, split_slug: str = "") -> tuple[tuple[tuple[str, str, int, str, str, str], ...], int]:
    """The error, traceback, exception and warning lines of every log the page shows (its preview's
    shown lines, and its end under ``<anchor>-tail`` as ``_partials/log.html`` names it), at most
    MAX_LINES, and how many more there were.  A text repeated in one node is kept once, its last
    line; past the bound the kinds are kept in ``KINDS`` order, the last lines of a kind first (a
    failure ends a log), and the kept lines stay in page order."""
    found: dict[tuple[str, str, str], tuple[int, tuple[str, str, int, str, str, str]]] = {}
    order = 0
    total = 0
    for log, anchor, where in iter_log_views(page, split_slug):
        node = cut_text(log.node, MAX_NODE)
        for lines, prefix in ((log.lines, anchor), (log.tail, anchor + "-tail")):
            for line, kind in iter_marked_lines(lines):
                order += 1
                total += 1
                text = cut_text(build_line_text(line.text))
                item = (node, kind, line.number, text, where, build_log_line_id(prefix, line.number))
                found[(node, kind, text)] = (order, item)  # a repeat replaces the earlier line
    ranked = sorted(found.values(), key=lambda pair: (_RANK[pair[1][1]], -pair[0]))[:MAX_LINES]
    kept = tuple(item for _, item in sorted(ranked))
    return kept, total - len(kept)


def iter_marked_lines(lines: tuple[LogLine, ...]) -> Iterator[tuple[LogLine, str]]:
    """(line, kind) of each marked line, and of each exception line that ends a traceback: the
    first line after a traceback start that is not indented (Python's ``ValueError: ...``), when
    the reader did not mark it already (``StopIteration``, ``KeyboardInterrupt``)."""
    after_traceback = False
    for line in lines:
        if line.kind:
            yield line, line.kind
        elif after_traceback and line.text.strip() and not line.text[:1].isspace():
            yield line, "exception"
        if line.kind == "traceback":
            after_traceback = True
        elif line.text.strip() and not line.text[:1].isspace():
            after_traceback = False


# ----------------------------------------------------------------- the manifest's copy
def record_from_json(raw: Any, job_slug: str) -> SearchRecord | None:
    """The record as the manifest stored it (None when absent: a manifest of a build before search,
    whose jobs are then built again).  Raises ValueError unless it is one the build could have
    written: the manifest is data anyone could edit, and the record is published as it is."""
    if raw is None:
        return None
    keys = {"attrs", "params", "lines", "left_out"}
    if not isinstance(raw, dict) or set(raw) not in (keys, keys | {"nodes"}):  # "nodes": since s23
        raise ValueError("search record is not one the build writes")
    nodes = raw.get("nodes", [])
    if not (isinstance(nodes, list) and len(nodes) <= MAX_NODES and all(isinstance(n, str) and len(n) <= MAX_NODE for n in nodes)):
        raise ValueError("search record nodes are not at most MAX_NODES names")
    attrs, params = _texts(raw["attrs"], MAX_ATTRS_TEXT), _texts(raw["params"], MAX_PARAMS_TEXT)
    lines = raw["lines"]
    if not isinstance(lines, list) or len(lines) > MAX_LINES:
        raise ValueError("search record lines are not a list of at most MAX_LINES")
    left_out = raw["left_out"]
    if not (isinstance(left_out, list) and len(left_out) == 3 and all(type(n) is int and n >= 0 for n in left_out)):
        raise ValueError("search record counts are not three counts")
    return SearchRecord(attrs, params, tuple(_line(line, job_slug) for line in lines), tuple(left_out),  # type: ignore[arg-type]
                        tuple(nodes))


def _texts(raw: Any, budget: int) -> tuple[str, ...]:
    if not (isinstance(raw, list) and all(isinstance(t, str) and len(t) <= MAX_TEXT for t in raw)
            and sum(map(len, raw)) <= budget):
        raise ValueError("search record texts are not within their bounds")
    return tuple(raw)


def _line(raw: Any, job_slug: str) -> tuple[str, str, int, str, str, str]:
    if not (isinstance(raw, list) and len(raw) == 6):
        raise ValueError("a search record line is not six values")
    node, kind, number, text, page, target = raw
    if not (isinstance(node, str) and len(node) <= MAX_NODE and kind in KINDS and type(number) is int
            and number > 0 and isinstance(text, str) and len(text) <= MAX_TEXT):
        raise ValueError("a search record line is not one the build writes")
    anchor = _LINE_ID.fullmatch(target) if isinstance(target, str) else None
    # the page: the job's own, or its node page of the line's anchor (paths.node_page_name)
    if anchor is None or page not in ("", node_page_name(job_slug, anchor.group(1))):
        raise ValueError("a search record line's link is not one the build writes")
    return node, kind, number, text, page, target


# ----------------------------------------------------------------- the project's data file
def render_search_js(project: str, project_slug: str, jobs: Mapping[str, Any]) -> str:
    """``<project>/search-data.js`` of the manifest's entries (``JobEntry`` by job id): the jobs newest
    end first (then by id; jobs without an end last), hrefs relative to the site root."""
    entries = sorted(jobs.values(), key=lambda entry: entry.row[0])
    entries.sort(key=lambda entry: entry.row[3], reverse=True)  # stable: same-second jobs stay by id
    jobs, cut = build_bounded_jobs([build_job_data(project_slug, entry) for entry in entries], MAX_PROJECT_TEXT)
    data = {"format": FORMAT, "project": project, "slug": project_slug, "jobs": jobs}
    if cut:
        data["cut"] = cut
    return "window.reportgenSearch && window.reportgenSearch.add(" + render_json(data) + ");\n"


def build_bounded_jobs(jobs: list[dict[str, Any]], budget: int) -> tuple[list[dict[str, Any]], int]:
    """The jobs (newest first) while their texts fit ``budget`` characters; past it each job keeps
    its metadata (id, status, end, description, attributes) but not its parameters, log lines and
    node names; and how many were so cut."""
    cut = 0
    for job in jobs:
        size = (sum(map(len, job["attrs"])) + sum(map(len, job["params"])) + sum(map(len, job["nodes"]))
                + sum(len(line[3]) + len(line[4]) for line in job["lines"]))
        if cut or size > budget:
            cut += 1
            job["params"], job["lines"], job["nodes"] = [], [], []
            continue
        budget -= size
    return jobs, cut


def build_job_data(project_slug: str, entry: Any) -> dict[str, Any]:
    """One job of the data file (``entry``: its ``JobEntry``)."""
    record = entry.search or SearchRecord()
    page = f"{project_slug}/{entry.slug}.html"
    job: dict[str, Any] = {
        "id": entry.row[0], "href": page, "status": entry.row[5], "end": entry.row[3],
        "description": cut_text(entry.row[2]), "attrs": list(record.attrs), "params": list(record.params),
        "nodes": list(record.nodes),
        "lines": [[node, kind, number, text, f"{project_slug}/{where or entry.slug + '.html'}#{target}"]
                  for node, kind, number, text, where, target in record.lines],
    }
    if any(record.left_out):
        job["left_out"] = list(record.left_out)
    return job


def build_search_src(project_slug: str, text: str) -> str:
    """The data file's href from the site root, versioned by its bytes as catalog-data.js is."""
    return f"{project_slug}/{build_versioned_href(SEARCH_DATA_NAME, text)}"
