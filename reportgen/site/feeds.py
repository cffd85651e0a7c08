"""Atom 1.0 feeds (RFC 4287) of a site's runs: ``<project>/feed.xml`` and the site-wide ``feed.xml``.

A lab subscribes to a project (or to the whole site) in a feed reader and hears of each new run,
failed ones included, with no server.  The feeds are built from what the build manifest keeps of
each job (its catalog row and its search record), like ``catalog-data.js``: a project's feed is
written only when its catalog is, and still holds the same bytes a full build would write.

Deterministic: no build time anywhere; a feed's ``<updated>`` is its newest entry's time.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from reportgen import __version__
from reportgen.site import write as out
from reportgen.site.contexts import CatalogRow
from reportgen.site.manifest import JobEntry

FEED_NAME = "feed.xml"  # in each project folder, and at the site's root beside index.html
MAX_ENTRIES = 50  # the newest runs a feed lists
MAX_SUMMARY = 1000  # characters of an entry's summary; a longer one is cut with an ellipsis
MAX_TITLE = 300  # characters of a title (a job id is a file name: at most 255 bytes, but text may grow)
EPOCH = "1970-01-01T00:00:00Z"  # the <updated> of a feed without entries: fixed, never the build time
ATOM_NS = "http://www.w3.org/2005/Atom"

# Entry and feed ids are urn:uuid IRIs (RFC 4122 version 5, name-based), not tag: IRIs (RFC 4151).
# A tag: IRI needs an authority its minter owns (a domain or an e-mail address, with a date), and a
# data_store has none; the site's URL (--base-url) is optional and may change, while RFC 4287
# section 4.2.6 asks that an id never change.  A name-based UUID of the project folder and the job
# id (as listed) is the same with and without --base-url, across builds and machines, and the
# same entry has the same id in its project's feed and in the site-wide feed.
ID_NAMESPACE = uuid.UUID("8c1f0d2e-5b7a-5e43-9a61-2f4b6c0e7d19")  # reportgen's own: any fixed UUID

# The statuses that say a run went wrong, as catalog.js's FAILING (docs/site.md, "Status changes")
FAILING = frozenset({"failed-nodes", "incomplete", "corrupt"})
STATUS_TEXT = {"ok": "ok", "failed-nodes": "failed nodes", "incomplete": "incomplete", "no-data": "no data",
               "corrupt": "corrupt", "unknown": "unknown"}
CHANGE_TEXT = {"newly-failing": "newly failing", "recovered": "recovered"}

# Characters XML 1.0 does not allow (C0 controls but tab, LF and CR; lone surrogates; U+FFFE,
# U+FFFF): a parser refuses the whole feed for one of them, so each becomes U+FFFD.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DIGITS = re.compile(r"(\d+)")
# A Python exception line's class ("numpy.linalg.LinAlgError: Singular matrix" -> "LinAlgError"):
# what a failed entry's title names (s23 F7); any other error line is named by its first words
_EXCEPTION = re.compile(r"(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt|Iteration|Warning))(?::|$)")
MAX_TITLE_ERROR = 60  # characters of the error a failed entry's title names

# Where a manifest row (``JobEntry.row``, CatalogRow values in field order) holds what a feed sorts
# by: a CatalogRow made for each of 10,000 jobs was a fifth of a feed's time; only the listed get one
_AT = {item.name: i for i, item in enumerate(fields(CatalogRow))}
ID, END, START, STATUS = _AT["id"], _AT["end"], _AT["start"], _AT["status"]


@dataclass(frozen=True)
class FeedEntry:
    """One run in a feed."""

    id: str  # urn:uuid:...
    title: str
    updated: str  # RFC 3339, UTC
    href: str  # the job page: absolute with --base-url, else relative to the feed's folder
    status: str  # one of records.STATUSES: the entry's category
    change: str  # "newly-failing", "recovered" or ""
    author: str  # the project's name
    summary: str


@dataclass(frozen=True)
class Feed:
    """A whole feed, newest entry first."""

    id: str
    title: str
    updated: str
    self_href: str  # "" without --base-url: a relative self link would say nothing
    alternate_href: str  # the catalog page the feed follows
    author: str
    entries: tuple[FeedEntry, ...]


@dataclass(frozen=True)
class ProjectJobs:
    """What a feed needs of one project: its names and the manifest's entries of its jobs."""

    name: str  # display name
    folder: str  # as listed: part of every id
    slug: str  # the project's folder in the site
    jobs: Mapping[str, JobEntry]  # job id as listed -> its manifest entry


# ----------------------------------------------------------------- ids and times
def build_id(*parts: str) -> str:
    """``urn:uuid:`` of a version 5 UUID of ``parts``; names may hold lone surrogates (undecodable
    bytes of a listed name), hence the hash by hand (``uuid.uuid5`` wants valid UTF-8)."""
    name = "\0".join(parts).encode("utf-8", "surrogatepass")
    digest = hashlib.sha1(ID_NAMESPACE.bytes + name).digest()
    return uuid.UUID(bytes=digest[:16], version=5).urn


def build_feed_time(row: tuple[Any, ...]) -> str:
    """The entry's time: the end time (``YYYY-MM-DD HH:MM:SS`` UTC in the row) as RFC 3339; a job
    without one takes its approximate start, so a run whose file cannot be read (corrupt, no
    end time) is still announced; "" when neither is known (the job is then left out: an Atom
    entry must have a time, and one made up, such as the build's, would break determinism)."""
    moment = row[END] or row[START]
    return moment.replace(" ", "T") + "Z" if moment else ""


def build_natural_key(job_id: str) -> tuple[tuple[tuple[int, int | str], ...], str]:
    """Job ids in natural order (``j9`` before ``j10``): runs of digits as numbers, other text without
    case.  catalog.js orders the ties of a sort and of its status changes by the same key
    (``naturalKey``, kept in step with this), so runs.html and the catalog's ``<noscript>`` list the
    jobs as its script shows them at first, and its badges agree with the feeds' marks."""
    # the split's odd pieces are the runs of digits (not str.isdigit: "²" is a digit int() refuses)
    parts = tuple((0, int(p)) if i % 2 else (1, p.lower()) for i, p in enumerate(_DIGITS.split(job_id)) if p)
    return parts, job_id


def build_time_order(items: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """``(time, display id, job key)`` items oldest first: by time, then id in natural order, then
    key (two listed names can share a display id).  The natural key is made for ties only: a
    regular expression per job was most of a 10,000-job feed's time."""
    ordered: list[tuple[str, str, str]] = []
    for _, group in groupby(sorted(items), key=itemgetter(0)):
        run = list(group)
        if len(run) > 1:
            run.sort(key=lambda item: (build_natural_key(item[1]), item[2]))
        ordered.extend(run)
    return ordered


def build_latest_runs(rows: Iterable[tuple[Any, ...]]) -> tuple[tuple[Any, ...] | None, tuple[Any, ...] | None]:
    """The home page's newest run of a project and its newest failing one (row values), in the
    feed's order (end time, else approximate start; ties by id in natural order); None for none.
    A job with neither time is left out, as from the feed: "newest" would be a guess."""
    rows = list(rows)
    timed = [(build_feed_time(row), row[ID], str(index)) for index, row in enumerate(rows)]
    order = build_time_order([item for item in timed if item[0]])
    newest = rows[int(order[-1][2])] if order else None
    failing = next((rows[int(key)] for _, _, key in reversed(order) if rows[int(key)][STATUS] in FAILING), None)
    return newest, failing


# ----------------------------------------------------------------- status changes
def build_changes(rows: Mapping[str, tuple[Any, ...]], order: list[tuple[str, str, str]] | None = None
                  ) -> dict[str, tuple[str, str]]:
    """job key -> ("newly-failing" or "recovered", the previous job's display id) from the jobs'
    row values, as catalog.js's buildBadges marks them: each job with an end time, by end time (to
    the second) then id in natural order, against the previous job with an outcome (ok or failing;
    no-data and unknown are passed over).  ``order``: the jobs' ``build_time_order`` by feed time,
    when made already (among jobs with an end time, the order by end time; the others are skipped)."""
    if order is None:
        order = build_time_order([(row[END], row[ID], key) for key, row in rows.items() if row[END]])
    marks: dict[str, tuple[str, str]] = {}
    before: tuple[bool, str] | None = None  # the previous outcome (failing?) and its job's id
    for _, job_id, key in order:
        status = rows[key][STATUS]
        failing = status in FAILING
        if not rows[key][END] or (not failing and status != "ok"):
            continue
        if before is not None and failing != before[0]:
            marks[key] = ("newly-failing" if failing else "recovered", before[1])
        before = (failing, job_id)
    return marks


# ----------------------------------------------------------------- entries
def build_failed_nodes(entry: JobEntry) -> int:
    """Nodes whose log shows a traceback, from the search record's lines (tracebacks are the
    lines it keeps first, so none is lost to its bound)."""
    lines = entry.search.lines if entry.search is not None else ()
    return len({line[0] for line in lines if line[1] == "traceback"})


def build_failing_nodes(entry: JobEntry) -> list[str]:
    """The nodes whose log has a traceback, exception or error line kept by the search record, in page order."""
    lines = entry.search.lines if entry.search is not None else ()
    return list(dict.fromkeys(line[0] for line in lines if line[1] != "warning"))


def build_error_title(first_error: str) -> str:
    """The first error as a title names it: ``correction_1: LinAlgError`` (the node and the
    exception's class), else the node and the line's start; "" when there is none."""
    node, _, line = first_error.partition(": ")
    if not line:
        return cut(first_error, MAX_TITLE_ERROR)
    found = _EXCEPTION.match(line)
    return f"{node}: {found.group(1) if found else cut(line, MAX_TITLE_ERROR)}"


def build_summary(row: CatalogRow, entry: JobEntry, change: tuple[str, str] | None) -> str:
    """The entry's text: what changed, what failed (the catalog's first error, the failing nodes),
    the description, the node and log line counts."""
    parts = []
    if change is not None:
        mark, previous = change
        before = "ok" if mark == "newly-failing" else "failing"
        parts.append(f"{CHANGE_TEXT[mark].capitalize()}: the previous run with an outcome, {previous}, was {before}.")
    if row.first_error:  # the line the job page's failure box names first
        parts.append(f"Failed: {row.first_error}")
        failing = build_failing_nodes(entry)
        if len(failing) > 1:
            parts.append(f"Failing nodes: {', '.join(failing)}.")
    if row.description:
        parts.append(row.description)
    failed = build_failed_nodes(entry)
    if failed:
        parts.append(f"Nodes: {row.nodes}, {failed} failed (a traceback in its log), {max(row.nodes - failed, 0)} ok.")
    elif row.status == "failed-nodes":  # the executor's result said so; no log shows a traceback
        parts.append(f"Nodes: {row.nodes}; the executor reported failed nodes.")
    else:
        parts.append(f"Nodes: {row.nodes}, none with a traceback in its log.")
    parts.append(f"Log lines: {row.log_errors} errors, {row.log_warnings} warnings.")
    if not row.end:
        parts.append("End time not known: the time shown is the approximate start.")
    return cut(clean_text("\n".join(parts)), MAX_SUMMARY)


def build_project_entries(project: ProjectJobs, base_url: str, in_site_feed: bool) -> list[tuple[Any, FeedEntry]]:
    """The newest ``MAX_ENTRIES`` runs of one project, newest first, each with its sort key in the
    site-wide feed (time, id in natural order, project folder, job key).  Hrefs: absolute with
    ``base_url``; else relative to the feed's folder: "<job>.html" in the project's own feed,
    "<slug>/<job>.html" in the site's."""
    rows = {key: entry.row for key, entry in project.jobs.items()}
    timed = [(moment, row[ID], key) for key, row in rows.items() if (moment := build_feed_time(row))]
    order = build_time_order(timed)
    newest = order[::-1][:MAX_ENTRIES]
    changes = build_changes(rows, order)
    prefix = base_url + project.slug + "/" if base_url or in_site_feed else ""
    author = cut(clean_text(project.name), MAX_TITLE)
    entries = []
    for moment, job_id, key in newest:
        row = CatalogRow(*rows[key])
        status = STATUS_TEXT.get(row.status, row.status)
        title = f"{job_id} ({project.name}): {status}" if in_site_feed else f"{job_id}: {status}"
        if row.first_error:
            title += f" ({build_error_title(row.first_error)})"
        change = changes.get(key)
        entry = FeedEntry(build_id("job", project.folder, key), cut(clean_text(title), MAX_TITLE), moment,
                          prefix + row.href, row.status, change[0] if change else "", author,
                          build_summary(row, project.jobs[key], change))
        entries.append(((moment, build_natural_key(job_id), project.folder, key), entry))
    return entries


# ----------------------------------------------------------------- feeds
def build_project_feed(project: ProjectJobs, base_url: str = "") -> Feed:
    """``<slug>/feed.xml``: its links relative to the project folder, or absolute with --base-url."""
    entries = tuple(entry for _, entry in build_project_entries(project, base_url, in_site_feed=False))
    here = f"{base_url}{project.slug}/" if base_url else ""
    return Feed(build_id("project", project.folder), cut(clean_text(f"{project.name}: runs"), MAX_TITLE),
                entries[0].updated if entries else EPOCH, f"{here}{FEED_NAME}" if base_url else "",
                f"{here}index.html", cut(clean_text(project.name), MAX_TITLE), entries)


def build_site_feed(projects: Iterable[ProjectJobs], base_url: str = "") -> Feed:
    """``feed.xml`` at the root: the newest runs over every project (ties in the order of a
    project's own feed, then by project folder, so the order of ``projects`` does not matter)."""
    found = [item for project in projects for item in build_project_entries(project, base_url, in_site_feed=True)]
    entries = tuple(entry for _, entry in sorted(found, key=lambda item: item[0], reverse=True)[:MAX_ENTRIES])
    return Feed(build_id("site"), "Run catalog: runs", entries[0].updated if entries else EPOCH,
                f"{base_url}{FEED_NAME}" if base_url else "", f"{base_url}index.html", "reportgen", entries)


# ----------------------------------------------------------------- text
def clean_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids as U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


_ENTITIES = {'"': "&quot;", "\r": "&#13;"}  # and "&", "<", ">": a raw CR would be read back as LF


def escape(text: str) -> str:
    """Text for an element or a double-quoted attribute (``clean_text`` already applied)."""
    return xml_escape(text, _ENTITIES)


def render_entry(entry: FeedEntry) -> str:
    status = STATUS_TEXT.get(entry.status, entry.status)
    lines = [
        "<entry>",
        f"<id>{entry.id}</id>",
        f"<title type=\"text\">{escape(entry.title)}</title>",
        f"<updated>{entry.updated}</updated>",
        f"<author><name>{escape(entry.author)}</name></author>",
        f"<link rel=\"alternate\" type=\"text/html\" href=\"{escape(clean_text(entry.href))}\"/>",
        f"<category term=\"{escape(entry.status)}\" label=\"{escape(status)}\"/>",
    ]
    if entry.change:
        lines.append(f"<category term=\"{entry.change}\" label=\"{CHANGE_TEXT[entry.change]}\"/>")
    lines += [f"<summary type=\"text\">{escape(entry.summary)}</summary>", "</entry>"]
    return "\n".join(lines)


def render_feed(feed: Feed) -> bytes:
    """The feed as UTF-8 XML; the same feed gives the same bytes."""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="{ATOM_NS}">',
        f"<id>{feed.id}</id>",
        f"<title type=\"text\">{escape(feed.title)}</title>",
        f"<updated>{feed.updated}</updated>",
        f"<author><name>{escape(feed.author)}</name></author>",
        f"<generator version=\"{escape(__version__)}\">reportgen {escape(__version__)}</generator>",
    ]
    if feed.self_href:
        lines.append(f"<link rel=\"self\" type=\"application/atom+xml\" href=\"{escape(clean_text(feed.self_href))}\"/>")
    lines.append(f"<link rel=\"alternate\" type=\"text/html\" href=\"{escape(clean_text(feed.alternate_href))}\"/>")
    lines += [render_entry(entry) for entry in feed.entries]
    lines.append("</feed>\n")
    return "\n".join(lines).encode("utf-8")


# ----------------------------------------------------------------- output
def write_project_feed(folder: Path, project: ProjectJobs, base_url: str = "") -> None:
    """``<project folder>/feed.xml`` in staging."""
    out.write_file(folder / FEED_NAME, render_feed(build_project_feed(project, base_url)))


def write_site_feed(staging: Path, projects: Iterable[ProjectJobs], base_url: str = "") -> None:
    """``feed.xml`` at the root of staging, beside index.html."""
    out.write_file(staging / FEED_NAME, render_feed(build_site_feed(projects, base_url)))
