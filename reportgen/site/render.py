"""Render page contexts to HTML strings with jinja2 (and the catalog data file).

``autoescape=True`` for every template, whatever its name (never
``select_autoescape``: it leaves unknown extensions unescaped).  The only
values that reach a page unescaped are built here by filters with a proof
of safety: JSON with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped for
``<script type="application/json">`` blocks, and hrefs limited to
relative/http/https/mailto URLs.

With template overrides (``build --templates``, site/overrides.py) the same environment loads the
override folder first and renders in jinja2's immutable sandbox; without, it is as it always was.
"""

from __future__ import annotations

import contextlib
import functools
import re
import signal
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup, escape

from reportgen import __version__
from reportgen.errors import ConfigError, ToolError
from reportgen.site.config import Column
from reportgen.site.contexts import (
    CatalogRow,
    IndexPage,
    JobListPage,
    JobPage,
    LogLine,
    NodePage,
    ParamsDiffPage,
    ProjectPage,
    SearchPage,
    build_line_text,
)
from reportgen.site.jsonsafe import render_json, replace_surrogates_text
from reportgen.site.overrides import NO_OVERRIDES, PREFIX, Overrides
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


_OPTIONS: dict[str, Any] = {"autoescape": True, "undefined": jinja2.StrictUndefined, "keep_trailing_newline": True,
                            "trim_blocks": False, "auto_reload": False}
_overrides: Overrides | None = None  # build --templates: what build_environment loads first (use_overrides)


@functools.lru_cache(maxsize=1)
def build_environment() -> jinja2.Environment:
    """The built-in templates; with overrides (``build --templates``), theirs first, ours also
    under ``reportgen/``, rendered in jinja2's immutable sandbox: a theme folder may come from
    anyone, and must not reach Python (``''.__class__``) nor change what a page is given."""
    if _overrides is None:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), **_OPTIONS)
    else:
        env = ThemeEnvironment(loader=build_override_loader(_overrides), **_OPTIONS, optimized=False)
    env.filters["script_json"] = render_script_json
    env.filters["href"] = build_safe_href
    env.filters["log_lines"] = render_log_lines
    env.filters["image_uri"] = build_image_uri
    env.filters["download_href"] = build_download_href
    env.globals.update(csp=Markup(CSP), version=__version__)  # our constant: no data in it
    env.globals.update(extra_css=_overrides is not None and _overrides.extra_css)  # build --templates: static/extra.css
    return env


# ----------------------------------------------------------------- overrides (build --templates)
# The largest string or list a theme's ``*`` may make: far more than a page needs, far less than a worker's cap.
MAX_THEME_VALUE = 16 * 1024 * 1024


class ThemeEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox of a theme folder, which may come from anyone.

    ``optimized=False`` (given by ``build_environment``): jinja2 would otherwise evaluate constant
    expressions while compiling, and themes are compiled in the build process itself, which has
    no memory cap: ``{{ ("a"*100000)*30000 }}`` (100 bytes) made a 3 GB string there (exit 70, or
    the kernel's OOM killer).  Rendering happens in a capped worker or child; ``*`` and ``**`` are
    also checked there, so a runaway product is one clear line (78) instead of a full cap.
    """

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*" and _repeated_size(left, right) > MAX_THEME_VALUE:
            raise SecurityError(f"a product of more than {MAX_THEME_VALUE:,} items is not allowed in a theme")
        if operator == "**" and isinstance(right, int) and not isinstance(right, bool) and abs(right) > 1024:
            raise SecurityError("a power above 1024 is not allowed in a theme")
        return super().call_binop(context, operator, left, right)


def _repeated_size(left: Any, right: Any) -> int:
    """The length of ``left * right`` when it repeats a string or a sequence, else 0."""
    for items, times in ((left, right), (right, left)):
        if isinstance(items, str | bytes | list | tuple) and isinstance(times, int):
            return len(items) * times
    return 0


class _OverrideLoader(jinja2.BaseLoader):
    """The override folder's templates, from the bytes ``overrides.read_overrides`` checked;
    each named by its path for error lines and tracebacks."""

    def __init__(self, overrides: Overrides) -> None:
        self.templates = {template.name: template for template in overrides.templates}

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        found = self.templates.get(template)
        if found is None:
            raise jinja2.TemplateNotFound(template)
        return found.source, found.path, lambda: True

    def list_templates(self) -> list[str]:
        return sorted(self.templates)


def build_override_loader(overrides: Overrides) -> jinja2.BaseLoader:
    """The folder's templates first, then ours, and ours also as ``reportgen/<name>`` (to extend)."""
    ours = jinja2.FileSystemLoader(str(TEMPLATE_DIR))
    return jinja2.ChoiceLoader([_OverrideLoader(overrides), jinja2.PrefixLoader({PREFIX: ours}), ours])


def use_overrides(overrides: Overrides | None) -> None:
    """Render with ``overrides`` (None: the built-in theme) from now on, in this process and the
    workers it forks; each override template is compiled now: a syntax error, an unknown filter
    is one ``ConfigError`` (78) naming the file and line before anything is written."""
    global _overrides
    _overrides = overrides
    build_environment.cache_clear()
    if overrides is not None:
        env = build_environment()
        for template in overrides.templates:
            try:
                env.get_template(template.name)
            except jinja2.TemplateSyntaxError as exc:
                raise ConfigError(template.path, f"line {exc.lineno}: {exc.message}") from None


@contextlib.contextmanager
def rendering_with(overrides: Overrides | None) -> Iterator[None]:
    """``use_overrides`` for a block (a build): the built-in theme again after it, however it ends."""
    use_overrides(overrides)
    try:
        yield
    finally:
        use_overrides(None)


def active_overrides() -> Overrides:
    """What pages are rendered with now (``NO_OVERRIDES`` without ``--templates``): its static files."""
    return _overrides or NO_OVERRIDES


def build_render_error(exc: Exception, overrides: Overrides) -> ConfigError | None:
    """The error of an override that failed while rendering (a typo under StrictUndefined, the
    sandbox's SecurityError, a division by zero): the innermost override file and line of the
    traceback (jinja2 rewrites template frames to name them).  None when no override is in it:
    a bug of ours, left as it is."""
    paths = {template.path for template in overrides.templates}
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename in paths]
    if not frames:
        return None
    what = str(exc) if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {exc}"
    return ConfigError(frames[-1].filename, f"line {frames[-1].lineno}: cannot render: {what}"[:400])


def render_page(template: str, page: IndexPage | ProjectPage | JobPage | NodePage | ParamsDiffPage | SearchPage) -> str:
    """The page as text that UTF-8 can encode: a lone surrogate (from a JSON "\\udcff" escape) is U+FFFD.

    So is a control character other than tab, newline, carriage return and form feed (an
    attribute another writer stored with a NUL): an HTML parser drops a NUL, so the page
    would show a value that is not in the file.  The figure data blocks escape theirs.
    """
    html = _render(template, page)
    if not _UNSAFE.search(html):  # one scan of the page for both (two took 3 % of a build)
        return html
    return _CONTROLS.sub("\ufffd", replace_surrogates_text(html))


_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
_UNSAFE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff]")  # a control above, or a lone surrogate


def _render(template: str, page: Any) -> str:
    """The template rendered; with overrides, an override's failure is a ``ConfigError`` naming it
    (it pickles: from a page worker it reaches the parent, and the CLI, whole)."""
    if _overrides is None:
        return build_environment().get_template(template).render(page=page)
    if not _capped:
        return _render_capped(template, page)
    try:
        html = build_environment().get_template(template).render(page=page)
    except MemoryError:
        raise  # a worker's cap met by hostile data: the page worker says so (build.EXHAUSTED)
    except Exception as exc:
        error = build_render_error(exc, _overrides)
        if error is None:
            raise
        raise error from None
    check_policy(html, template, _overrides)
    return html


# ----------------------------------------------------------------- overrides: bounded rendering
# The sandbox keeps a theme from Python, not from using time and memory: three nested loops over
# range(100000), or "a" * 10**11.  In a page worker that meets the worker's caps (memory, alarm);
# the pages the parent renders (home, catalogs, search, compare, trends, diffs, the page of a job
# whose worker died) are rendered with overrides in a forked child under the same memory cap and
# this alarm, so a theme can cost a child, never a hung or exhausted build.
RENDER_TIMEOUT_S = 60  # a page renders in milliseconds
_capped = False  # True in a page worker (jobpage.init_worker) and in a render child


def mark_capped() -> None:
    """This process is under a worker's caps already: render here (jobpage.init_worker)."""
    global _capped
    _capped = True


@dataclass(frozen=True)
class _Failed:
    reason: str  # why a render child gave no page: "ran out of memory", or a bug's "<class>: <message>"
    bug: bool = False


def _render_capped(template: str, page: Any) -> str:
    """``_render`` in a forked child under the workers' memory cap and ``RENDER_TIMEOUT_S``."""
    from reportgen.readers.sandbox import run_alone

    result, code = run_alone(_render_child, (template, page), RENDER_TIMEOUT_S)
    if isinstance(result, str):
        return result
    if isinstance(result, ToolError):
        raise result
    if isinstance(result, _Failed) and result.bug:
        raise RuntimeError(f"page render failed ({result.reason})")
    if isinstance(result, _Failed):
        reason = result.reason
    elif code == -signal.SIGALRM or code is None:
        reason = f"did not finish in {RENDER_TIMEOUT_S} s"
    else:
        reason = f"ended its process ({code})"
    folder = _overrides.folder if _overrides is not None else ""
    raise ConfigError(folder, f"rendering {template} with these templates {reason}")


def _render_child(conn: Any, template: str, page: Any) -> None:
    from reportgen.site.jobpage import init_worker  # jobpage imports this module: not at the top

    init_worker()  # capped as a page worker is (and marked so: it renders here, not in another child)
    signal.alarm(RENDER_TIMEOUT_S)
    try:
        conn.send(_render(template, page))
    except ToolError as exc:  # pickles whole (ToolError.__reduce__)
        conn.send(exc)
    except MemoryError:
        conn.send(_Failed("ran out of memory"))
    except Exception as exc:  # a bug of ours: the parent raises it (exit 70), one line
        conn.send(_Failed(f"{type(exc).__name__}: {exc}"[:300], bug=True))
    finally:
        conn.close()


# The built-in policy's <meta>, as base.html writes it: an override must keep it, before any script
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'


def check_policy(html: str, template: str, overrides: Overrides) -> None:
    """Refuse (78) a page of an override that dropped the Content-Security-Policy or put a script
    before it: the policy is what keeps hostile data (a job id, a log line) from running as script
    should an override print it unescaped (``|safe``), and the docs promise it stays."""
    at = html.find(CSP_META)
    script = html.find("<script")
    if at < 0 or 0 <= script < at:
        where = "lacks" if at < 0 else "has a script before"
        raise ConfigError(_likely_culprit(template, overrides),
                          f"{template} {where} the built-in Content-Security-Policy <meta>: keep "
                          "base.html's (extend reportgen/base.html, or copy its <meta> line first in <head>)")


def _likely_culprit(template: str, overrides: Overrides) -> str:
    """The override to name: the page's own, else base.html's (where the policy is), else the folder."""
    paths = {t.name: t.path for t in overrides.templates}
    return paths.get(template) or paths.get("base.html") or overrides.folder


def render_index(page: IndexPage) -> str:
    return render_page("index.html", page)


def render_project(page: ProjectPage) -> str:
    return render_page("project.html", page)


def render_job_list(page: JobListPage) -> str:
    """``<project>/runs.html``: the plain list of a project's jobs (no script needed)."""
    return render_page("runs.html", page)  # type: ignore[arg-type]


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
