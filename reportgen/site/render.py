"""Render page contexts to HTML strings with jinja2 (and the catalog data file).

``autoescape=True`` for every template, whatever its name (never
``select_autoescape``: it leaves unknown extensions unescaped).  The only
values that reach a page unescaped are built here by filters with a proof
of safety: JSON with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped for
``<script type="application/json">`` blocks, and hrefs limited to
relative/http/https/mailto URLs.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict
from typing import Any

import jinja2
from markupsafe import Markup, escape

from reportgen import __version__
from reportgen.site.contexts import (
    CatalogRow, IndexPage, JobPage, LogLine, NodePage, ParamsDiffPage, ProjectPage, SearchPage, build_line_text,
)
from reportgen.site.config import Column
from reportgen.site.jsonsafe import render_json, replace_surrogates_text
from site_templates import TEMPLATE_DIR

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'none'; base-uri 'none'; "
    "form-action 'none'; object-src 'none'"
)
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_SAFE_SCHEMES = {"http", "https", "mailto"}
_PNG_URI = re.compile(r"^data:image/png;base64,[A-Za-z0-9+/]*={0,2}\Z")
_DOWNLOAD_URI = re.compile(r"^data:(application/octet-stream|text/csv;charset=utf-8|application/x-ipynb\+json);base64,[A-Za-z0-9+/]*={0,2}\Z")


def build_safe_href(url: str) -> str:
    """The URL when it is relative or http/https/mailto; "#" otherwise (javascript:, data:...)."""
    if url.isprintable():  # the common case: among printable characters only " " is a space
        cleaned = url.replace(" ", "")
    else:
        cleaned = "".join(ch for ch in url if ch.isprintable() and not ch.isspace())
    match = _SCHEME.match(cleaned)
    if match and match.group(1).lower() not in _SAFE_SCHEMES:
        return "#"
    return url


def build_image_uri(uri: str) -> str:
    """Only a base64 PNG data URI (built by contexts.build_png_uri) may be an image source."""
    return uri if _PNG_URI.match(uri) else ""


def build_download_href(href: str) -> str:
    """A download link: a safe relative/http href, or a base64 data URI of an inert media type
    (built by downloads.build_data_uri); any other data: URI becomes "#"."""
    if href.startswith("data:"):
        return href if _DOWNLOAD_URI.match(href) else "#"
    return build_safe_href(href)


def render_log_lines(lines: tuple[LogLine, ...], anchor: str) -> Markup:
    """The numbered lines of a log's ``<pre>``, each a span a link can target; its number is the
    link to it (``#<anchor>-L<n>``, as in a CI log viewer), to copy and send.

    Why here and not a template loop: a job page has hundreds of log lines and the
    loop's per-line escaping was a fifth of a page's rendering.  The text is escaped
    once for all lines (``\n`` never occurs in a line: they were split on it);
    ``kind`` is one of our constants and ``number`` an int.  A lone CR, U+2028, U+2029 or
    U+0085 in a line is shown as a sign (``build_line_text``): a browser would break the line there.
    """
    if not lines:
        return Markup("")
    texts = str(escape(build_line_text("\n".join(line.text for line in lines)))).split("\n")
    target = escape(anchor)
    return Markup("".join(
        f'<span class="ln{" ln-" + line.kind if line.kind else ""}" id="{build_log_line_id(target, line.number)}">'
        f'<a class="lnum" href="#{build_log_line_id(target, line.number)}">{line.number}</a>{text}\n</span>'
        for line, text in zip(lines, texts)
    ))


def build_log_line_id(anchor: str, number: int) -> str:
    """The element id of a log's line ``number`` (also what search.html links to: search.py)."""
    return f"{anchor}-L{number}"


def render_script_json(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` block: nothing in it can close the tag."""
    return Markup(render_json(value))


@functools.lru_cache(maxsize=1)
def build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        auto_reload=False,
    )
    env.filters["script_json"] = render_script_json
    env.filters["href"] = build_safe_href
    env.filters["log_lines"] = render_log_lines
    env.filters["image_uri"] = build_image_uri
    env.filters["download_href"] = build_download_href
    env.globals.update(csp=Markup(CSP), version=__version__)  # our constant: no data in it
    return env


def render_page(template: str, page: IndexPage | ProjectPage | JobPage | NodePage | ParamsDiffPage | SearchPage) -> str:
    """The page as text that UTF-8 can encode: a lone surrogate (from a JSON "\\udcff" escape) is U+FFFD.

    So is a control character other than tab, newline, carriage return and form feed (an
    attribute another writer stored with a NUL): an HTML parser drops a NUL, so the page
    would show a value that is not in the file.  The figure data blocks escape theirs.
    """
    html = replace_surrogates_text(build_environment().get_template(template).render(page=page))
    return _CONTROLS.sub("\ufffd", html) if _CONTROLS.search(html) else html


_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


def render_index(page: IndexPage) -> str:
    return render_page("index.html", page)


def render_project(page: ProjectPage) -> str:
    return render_page("project.html", page)


def render_job(page: JobPage) -> str:
    return render_page("job.html", page)


def render_node(page: NodePage) -> str:
    return render_page("node_page.html", page)


def render_params_diff(page: ParamsDiffPage) -> str:
    return render_page("params_diff.html", page)


def render_search(page: SearchPage) -> str:
    return render_page("search.html", page)  # search.html (site/search.py)


def render_catalog_js(project: str, rows: list[CatalogRow], columns: tuple[Column, ...] = ()) -> str:
    """The per-project row file, loaded by ``<script src>`` (fetch() fails on file://).

    With configured columns (``build --config``) each row ends with their cells, named in
    ``columns`` by their keys, and ``extra`` gives each one's key, title and source; without, the
    file is what it was before columns existed (``catalog.js`` and ``trends.js`` look columns up
    by name, so cells after the fixed ones change nothing for them).
    """
    fixed = [name for name in CatalogRow.__dataclass_fields__ if name != "columns"]
    data: dict[str, Any] = {"project": project, "columns": fixed,
                            "rows": [list(asdict(row).values())[:len(fixed)] for row in rows]}
    if columns:
        data["columns"] = [*fixed, *(column.key for column in columns)]
        data["extra"] = [{"key": c.key, "title": c.title, "source": c.describe()} for c in columns]
        data["rows"] = [[*values, *_cells(row, len(columns))] for values, row in zip(data["rows"], rows)]
    return "window.REPORTGEN_CATALOG = " + render_json(data) + ";\n"


def _cells(row: CatalogRow, count: int) -> list[Any]:
    """The row's cells, one per column (a row kept from a build of other columns cannot occur: a change
    of columns rebuilds every job of the project; padded all the same, so the file stays well-formed)."""
    cells = list(row.columns)[:count]
    return cells + [{"why": "not built with these columns"}] * (count - len(cells))
