"""``reportgen build --config FILE``: extra catalog columns (key parameters, key results) and figure views.

The config is TOML (stdlib ``tomllib``), read once by the parent before anything is
written; a bad one is one ``ConfigError`` (exit 78) naming the file, the key
(``columns[2].output``, counted from 0) and the reason.  Each column takes its value
from one source:

- ``output = "/<node>/<output>"``: the output's last set (the scalar of a scalar
  dataset), from the values the page worker already read for the job page;
- ``parameter = "<file>:<dotted.key>"``: a leaf of the job's parameters commit, as
  ``compare.html`` flattens it (the same flattening, done once per job);
- ``attribute = "<name>"``: a root attribute of the job's HDF5 file, as text.

``[projects."<name>"] columns = [...]`` replaces the global list for that project.
The cells travel in the job's catalog row (``CatalogRow.columns``) to ``catalog-data.js``;
each is a number, a string, a boolean, or ``{"why": reason}`` for an empty cell, and
their size is bounded per cell (``CELL_TEXT``) and per row (``ROW_TEXT``), so one job
can never blow up the catalog's data file.

The same file holds figure views, ``[[views]]`` (global) and ``[projects."<name>"] views = [...]``:
how a job page draws an output (``figures.build_view_figure``): against another output of the
same job (``x``), with log axes (``x_log``, ``y_log``)::

    [[views]]
    output = "/QPU/signal"   # required; a segment may be an fnmatch pattern: "/*/signal"
    x = "frequency"          # optional: the same node's output, or an absolute /<node>/<output>
    y_log = true             # optional, as is x_log

The ``[build]`` table holds the publishing options of ``reportgen build``, so that a nightly job
needs only ``--config``::

    [build]
    templates = "theme"                             # a folder, relative to this file's folder
    precompress = ["gz", "zst"]                      # or "gz,zst"
    base_url = "https://runs.example.org/catalog/"

An option given on the command line wins over the table's key (``BuildSettings``; ``build.py``
merges them before anything is read).

A project's views are looked up BEFORE the global ones and the first whose ``output`` matches
wins; unlike columns, a project's list does not replace the global one.  Why: columns are one
list (a catalog's header), while views are keyed by output, so a project adds or overrides the
views of its own outputs and keeps the lab-wide ones for the rest.  At most ``MAX_VIEWS`` per list.

Reductions, ``[[reduce]]`` (global) and ``[projects."<name>"] reduce = [...]``, turn each set of
an array output into numbers that ``compare.html`` and ``trends.html`` draw like one-number
outputs (``compare.build_derived_series``), looked up as views are (the project's first, the
first match wins, the same matching)::

    [[reduce]]
    output = "/QPU/signal"   # required; a segment may be an fnmatch pattern
    how = ["mean", "max"]    # required: any of compare.REDUCTIONS, each at most once

They travel to the job's page worker with the views: ``SiteConfig.views_for`` gives a project's
views and then its reductions, ``find_view`` and ``find_reduce`` each take their own kind, and
``render_views_key`` covers both, so a changed reduction rebuilds the jobs it may concern (the
build's plan, fingerprints and tasks carry the one list).  At most ``MAX_REDUCE`` per list.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import numpy as np

from reportgen.errors import ConfigError, InputMissingError
from reportgen.records import Job, Output, OutputData, Problem
from reportgen.site.compare import NOT_TEXT, NOT_TEXT_VALUE, REDUCTIONS, json_text
from reportgen.site.figures import AxisView
from reportgen.site.jsonsafe import replace_surrogates_text
from reportgen.site.paths import short_hash
from reportgen.site.publish import read_base_url, read_precompress

MAX_COLUMNS = 16  # per list (the global one, each project's own)
MAX_TITLE = 80  # characters of a column title
MAX_CONFIG_BYTES = 1024 * 1024  # a config is a few lines: anything larger is not one
CELL_TEXT = 200  # characters of one text cell; a longer one is cut and ends with "…"
ROW_TEXT = 1600  # characters of text cells in one row; the cells past it are left empty, saying why
EXACT_INT = 2**53  # integers beyond this are written as text: a browser reads JSON numbers as doubles
SOURCES = ("output", "parameter", "attribute")
_COLUMN_KEYS = frozenset(("title", *SOURCES))
_OUTPUT_PATH = re.compile(r"/[^/\x00]+/[^/\x00]+")
_KEY_UNSAFE = re.compile(r"[^a-z0-9]+")
MAX_VIEWS = 64  # figure views per list (the global one, each project's own)
_VIEW_KEYS = frozenset(("output", "x", "x_log", "y_log"))
_NAME = re.compile(r"[^/\x00]+")
_PATTERN = re.compile(r"[*?\[]")  # fnmatch's special characters: an output with none names one output
# x is looked up by its exact name, never as a pattern, so only a wildcard is refused there (as a
# sure sign of a pattern meant); brackets are common in lab names ("freq[Hz]", "power[dBm]")
_WILDCARD = re.compile(r"[*?]")
MAX_REDUCE = 64  # reductions per list (the global one, each project's own)
_REDUCE_KEYS = frozenset(("output", "how"))


@dataclass(frozen=True)
class Column:
    """One extra catalog column: its key in the catalog's hash (``sort=<key>``), title and source."""

    key: str
    title: str
    source: str  # "output", "parameter" or "attribute"
    path: str  # /<node>/<output>, <file>:<dotted.key> or the attribute's name

    def describe(self) -> str:
        return f"{self.source} {self.path}"


@dataclass(frozen=True)
class View:
    """One figure view: which outputs it applies to, and how they are drawn (``figures.AxisView``)."""

    output: str  # /<node>/<output>, each segment an fnmatchcase pattern
    x: str = ""  # "": no x of its own; a bare name (the matched output's node) or /<node>/<output>
    x_log: bool = False
    y_log: bool = False

    def matches(self, hdf5_path: str) -> bool:
        return output_matches(self.output, hdf5_path)

    def resolve(self, hdf5_path: str) -> AxisView:
        """The view as it applies to one matched output: a bare ``x`` becomes that node's output."""
        x = self.x
        if x and not x.startswith("/"):
            x = hdf5_path[: hdf5_path.index("/", 1) + 1] + x
        return AxisView(x, self.x_log, self.y_log, "view")


def output_matches(pattern: str, hdf5_path: str) -> bool:
    """``/<node>/<output>`` matched segment by segment (``fnmatchcase``: a ``*`` never spans a ``/``)."""
    node, _, name = hdf5_path[1:].partition("/")
    want_node, _, want_name = pattern[1:].partition("/")
    return fnmatchcase(node, want_node) and fnmatchcase(name, want_name)


@dataclass(frozen=True)
class Reduce:
    """One ``[[reduce]]``: which array outputs it applies to, and the reductions of each of their sets."""

    output: str  # /<node>/<output>, each segment an fnmatchcase pattern (as a view's)
    how: tuple[str, ...]  # of compare.REDUCTIONS, each once, in the config's order

    def matches(self, hdf5_path: str) -> bool:
        return output_matches(self.output, hdf5_path)


@dataclass(frozen=True)
class BuildSettings:
    """The ``[build]`` table: each key as ``build`` takes its option, None where the table is silent."""

    templates: Path | None = None  # already resolved against the config file's folder
    precompress: tuple[str, ...] | None = None
    base_url: str | None = None


@dataclass(frozen=True)
class SiteConfig:
    """The columns of every project, and the lists of the projects that have their own; the same
    for figure views (``views``, ``project_views``) and reductions (``reduce``, ``project_reduce``)."""

    file: str = ""
    columns: tuple[Column, ...] = ()
    projects: tuple[tuple[str, tuple[Column, ...]], ...] = ()
    views: tuple[View, ...] = ()
    project_views: tuple[tuple[str, tuple[View, ...]], ...] = ()
    build: BuildSettings = BuildSettings()
    reduce: tuple[Reduce, ...] = ()
    project_reduce: tuple[tuple[str, tuple[Reduce, ...]], ...] = ()

    def columns_for(self, project: str) -> tuple[Column, ...]:
        """A project's own list when the config has one (even empty), else the global one."""
        for name, columns in self.projects:
            if name == project:
                return columns
        return self.columns

    def views_for(self, project: str) -> tuple[View | Reduce, ...]:
        """A project's own views, then the global ones: looked up in this order, the first match wins;
        then its reductions in the same order (``find_reduce``), as the job's page worker takes both."""
        own = next((views for name, views in self.project_views if name == project), ())
        return own + self.views + self.reduce_for(project)

    def reduce_for(self, project: str) -> tuple[Reduce, ...]:
        """A project's own reductions, then the global ones: the first that matches an output wins."""
        return next((rules for name, rules in self.project_reduce if name == project), ()) + self.reduce


NO_CONFIG = SiteConfig()


# ----------------------------------------------------------------- reading
def read_site_config(path: Path) -> SiteConfig:
    """Parse and check ``path``; ``ConfigError`` (78) names the first fault, ``InputMissingError`` (66)
    a file that cannot be read.  The file is only read."""
    text = _read_text(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"not TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise ConfigError(path, "not a config reportgen accepts: nested too deeply") from None
    _check_keys(path, raw, {"build", "columns", "projects", "reduce", "views"}, "")
    settings = build_settings(path, raw.get("build", {}))
    columns = build_columns(path, raw.get("columns", []), "columns")
    views = build_views(path, raw.get("views", []), "views")
    reduce = build_reduce_list(path, raw.get("reduce", []), "reduce")
    projects = raw.get("projects", {})
    if not isinstance(projects, dict):
        raise ConfigError(path, "must be a table of projects", "projects")
    own, own_views, own_reduce = [], [], []
    for name, table in projects.items():
        where = f"projects.{_toml_key(name)}"
        if not isinstance(table, dict):
            raise ConfigError(path, "must be a table with a columns, views or reduce list", where)
        _check_keys(path, table, {"columns", "reduce", "views"}, where)
        if "columns" in table or not {"views", "reduce"} & table.keys():  # a views or reduce table keeps the global columns
            own.append((name, build_columns(path, table.get("columns", []), f"{where}.columns")))
        if "views" in table:
            own_views.append((name, build_views(path, table["views"], f"{where}.views")))
        if "reduce" in table:
            own_reduce.append((name, build_reduce_list(path, table["reduce"], f"{where}.reduce")))
    return SiteConfig(str(path), columns, tuple(own), views, tuple(own_views), settings, reduce, tuple(own_reduce))


def _read_text(path: Path) -> str:
    try:
        if not path.is_file():
            raise InputMissingError(path, "config file not found" if not path.exists() else "config is not a file")
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise InputMissingError(path, f"cannot read the config: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(path, f"over {MAX_CONFIG_BYTES:,} bytes: not a column config")
    try:
        return data.decode("utf-8-sig")  # a leading BOM (Notepad, PowerShell) is no TOML error
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"not UTF-8 text (byte {exc.start})") from None


def _toml_key(name: str) -> str:
    """A table key as TOML spells it: bare when it can be, else a quoted string."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_keys(path: Path, table: dict[str, Any], known: set[str] | frozenset[str], where: str) -> None:
    for key in table:
        if key not in known:
            member = f"{where}.{_toml_key(key)}" if where else _toml_key(key)
            raise ConfigError(path, f"unknown key (expected one of: {', '.join(sorted(known))})", member)


def build_settings(path: Path, raw: Any) -> BuildSettings:
    """``[build]``: each key checked as its command-line option is, a fault naming ``build.<key>``."""
    if not isinstance(raw, dict):
        raise ConfigError(path, "must be a table of build options", "build")
    _check_keys(path, raw, {"templates", "precompress", "base_url"}, "build")
    templates = raw.get("templates")
    if templates is not None:
        templates = path.parent / _text(path, templates, "build.templates")  # as MkDocs' custom_dir: beside the file
        if not templates.is_dir():  # said here, or the line would name a folder and not where it came from
            raise InputMissingError(path, f"{str(templates)!r} is not a folder" if templates.exists()
                                    else f"templates folder {str(templates)!r} not found", "build.templates")
    precompress = raw.get("precompress")
    if precompress is not None:
        if isinstance(precompress, list) and all(isinstance(name, str) for name in precompress):
            precompress = ",".join(precompress)
        if not isinstance(precompress, str):
            raise ConfigError(path, 'must be a list such as ["gz", "zst"] or a string such as "gz,zst"', "build.precompress")
        precompress = read_precompress(precompress, _fault(path, "build.precompress"))
    base_url = raw.get("base_url")
    if base_url is not None:
        base_url = read_base_url(_text(path, base_url, "build.base_url", empty=True), _fault(path, "build.base_url"))
    return BuildSettings(templates, precompress, base_url)


def _text(path: Path, value: Any, member: str, empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not empty) or "\x00" in value:
        raise ConfigError(path, "must be a string" + ("" if empty else ", not empty"), member)
    return value


def _fault(path: Path, member: str) -> Callable[[str], ConfigError]:
    return lambda reason: ConfigError(path, reason, member)


_KIND_NAMES = {str: "string", bool: "boolean"}


def _check_types(path: Path, table: dict[str, Any], where: str, kind_of: Callable[[str], type]) -> None:
    """Each value of a column's or a view's table of the type its key takes (``kind_of(key)``)."""
    for key, value in table.items():
        kind = kind_of(key)
        if not isinstance(value, kind):
            raise ConfigError(path, f"must be a {_KIND_NAMES[kind]}, not {type(value).__name__}", f"{where}.{key}")


def build_columns(path: Path, raw: Any, where: str) -> tuple[Column, ...]:
    """The checked columns of one list: types, one source each, unique titles, at most MAX_COLUMNS."""
    if not isinstance(raw, list):
        raise ConfigError(path, "must be an array of tables ([[columns]])", where)
    if len(raw) > MAX_COLUMNS:
        raise ConfigError(path, f"{len(raw)} columns: at most {MAX_COLUMNS}", where)
    columns: list[Column] = []
    for i, table in enumerate(raw):
        column = build_column(path, table, f"{where}[{i}]")
        clash = next((c for c in columns if c.key == column.key), None)
        if clash is not None:
            same = "the same title" if clash.title == column.title else f"a title too close to {clash.title!r}"
            raise ConfigError(path, f"duplicate column: {same} (each column needs its own)", f"{where}[{i}].title")
        columns.append(column)
    return tuple(columns)


def build_column(path: Path, table: Any, where: str) -> Column:
    if not isinstance(table, dict):
        raise ConfigError(path, "must be a table with title and one of output, parameter, attribute", where)
    _check_keys(path, table, _COLUMN_KEYS, where)
    _check_types(path, table, where, lambda key: str)
    title = table.get("title", "")
    if not title.strip():
        raise ConfigError(path, "a column needs a non-empty title", f"{where}.title")
    if len(title) > MAX_TITLE or not title.isprintable():
        raise ConfigError(path, f"a title is at most {MAX_TITLE} printable characters", f"{where}.title")
    sources = [key for key in SOURCES if key in table]
    if len(sources) != 1:
        said = " and ".join(sources) if sources else "none"
        raise ConfigError(path, f"needs exactly one of output, parameter, attribute (has {said})", where)
    source = sources[0]
    value = table[source]
    reason = _check_source(source, value)
    if reason:
        raise ConfigError(path, reason, f"{where}.{source}")
    return Column(build_column_key(title), title, source, value)


def _check_source(source: str, value: str) -> str:
    """Why ``value`` is not a path of its kind, or ""."""
    if not value or not value.isprintable():
        return f"{source} must be non-empty printable text"
    if source == "output" and not _OUTPUT_PATH.fullmatch(value):
        return f"{value!r} is not an output path /<node>/<output>"
    if source == "parameter" and ":" in value and not all(value.split(":", 1)):
        return f"{value!r} is not <file>:<dotted.key> (or a whole text file's <file>)"
    return ""


def build_column_key(title: str) -> str:
    """The column's name in the catalog's hash (``sort=c-fidelity``): from its title, so a shared link
    keeps working across builds; ``c-`` keeps it apart from the fixed columns."""
    slug = _KEY_UNSAFE.sub("-", title.lower()).strip("-")  # a title is at most MAX_TITLE characters
    return f"c-{slug}" if slug else f"c-{short_hash(title)}"


def build_config_problems(config: SiteConfig, projects: list[str]) -> tuple[Problem, ...]:
    """A warning per project the config names that the data_store lacks (a config shared across
    stores is normal, so not an error)."""
    known = set(projects)
    named = dict.fromkeys(name for name, _ in (*config.projects, *config.project_views, *config.project_reduce))
    return tuple(
        Problem("warning", "config-unknown-project", config.file, f"projects.{_toml_key(name)}",
                "the config names a project this data_store does not have")
        for name in named if name not in known
    )


def render_columns_key(columns: tuple[Column, ...]) -> list[list[str]]:
    """The normalised content of a project's columns: what the manifest compares (not the file's
    path, bytes or mtime)."""
    return [[c.key, c.title, c.source, c.path] for c in columns]


# ----------------------------------------------------------------- figure views
def build_views(path: Path, raw: Any, where: str) -> tuple[View, ...]:
    """The checked views of one list: types, paths, at most MAX_VIEWS."""
    return build_table_list(path, raw, where, ("views", "views", MAX_VIEWS), build_view)


def build_table_list(path: Path, raw: Any, where: str, kind: tuple[str, str, int], build_one: Callable) -> tuple:
    """An array of tables (``[[views]]``, ``[[reduce]]``), each checked by ``build_one``; ``kind``:
    the TOML name, the plural the messages use, and how many a list may hold."""
    table, plural, limit = kind
    if not isinstance(raw, list):
        raise ConfigError(path, f"must be an array of tables ([[{table}]])", where)
    if len(raw) > limit:
        raise ConfigError(path, f"{len(raw)} {plural}: at most {limit}", where)
    return tuple(build_one(path, item, f"{where}[{i}]") for i, item in enumerate(raw))


def build_view(path: Path, table: Any, where: str) -> View:
    if not isinstance(table, dict):
        raise ConfigError(path, "must be a table with output and optionally x, x_log, y_log", where)
    _check_keys(path, table, _VIEW_KEYS, where)
    _check_types(path, table, where, lambda key: bool if key.endswith("_log") else str)
    if "output" not in table:
        raise ConfigError(path, "a view needs output = \"/<node>/<output>\"", where)
    output, x = table["output"], table.get("x", "")
    if not output.isprintable() or not _OUTPUT_PATH.fullmatch(output):
        raise ConfigError(path, f"{output!r} is not an output path /<node>/<output> (* may stand for a segment)",
                          f"{where}.output")
    reason = _check_x(output, x) if "x" in table else ""
    if reason:
        raise ConfigError(path, reason, f"{where}.x")
    return View(output, x, table.get("x_log", False), table.get("y_log", False))


def _check_x(output: str, x: str) -> str:
    """Why ``x`` cannot name the x output of the views of ``output``, or ""."""
    if not x.isprintable() or not (_NAME.fullmatch(x) or _OUTPUT_PATH.fullmatch(x)):
        return f"{x!r} is not an output name or an output path /<node>/<output>"
    if _WILDCARD.search(x):
        return f"{x!r}: x names one output (by its exact name), without * or ?"
    if not _PATTERN.search(output) and View(output, x).resolve(output).x == output:
        return f"{x!r} is the view's output itself"
    return ""


def find_view(views: tuple[View | Reduce, ...], hdf5_path: str) -> AxisView | None:
    """How the first view matching the output draws it, or None when no view matches."""
    view = next((v for v in views if isinstance(v, View) and v.matches(hdf5_path)), None)
    return view.resolve(hdf5_path) if view is not None else None


def render_views_key(views: tuple[View | Reduce, ...]) -> list[list[Any]]:
    """The normalised content of a project's views and reductions, in lookup order: part of its
    jobs' fingerprints (a view's four fields; a reduction's ``["reduce", output, how]``)."""
    return [[v.output, v.x, v.x_log, v.y_log] if isinstance(v, View) else ["reduce", v.output, list(v.how)]
            for v in views]


# ----------------------------------------------------------------- reductions ([[reduce]])
def build_reduce_list(path: Path, raw: Any, where: str) -> tuple[Reduce, ...]:
    """The checked reductions of one list: types, paths, names, at most MAX_REDUCE."""
    return build_table_list(path, raw, where, ("reduce", "reductions", MAX_REDUCE), build_reduce)


def build_reduce(path: Path, table: Any, where: str) -> Reduce:
    if not isinstance(table, dict):
        raise ConfigError(path, "must be a table with output and how", where)
    _check_keys(path, table, _REDUCE_KEYS, where)
    for key in ("output", "how"):
        if key not in table:
            raise ConfigError(path, 'a reduction needs output = "/<node>/<output>" and how = ["mean", ...]', where)
    output, how = table["output"], table["how"]
    if not isinstance(output, str):
        raise ConfigError(path, f"must be a string, not {type(output).__name__}", f"{where}.output")
    if not output.isprintable() or not _OUTPUT_PATH.fullmatch(output):
        raise ConfigError(path, f"{output!r} is not an output path /<node>/<output> (* may stand for a segment)",
                          f"{where}.output")
    if not isinstance(how, list) or not how:
        raise ConfigError(path, f'must be a non-empty array of reductions such as ["mean", "max"] (any of: '
                                f'{", ".join(REDUCTIONS)})', f"{where}.how")
    for i, name in enumerate(how):
        if name not in REDUCTIONS:  # a non-string is no reduction either
            raise ConfigError(path, f"{name!r} is not a reduction (expected one of: {', '.join(REDUCTIONS)})",
                              f"{where}.how[{i}]")
        if name in how[:i]:
            raise ConfigError(path, f"{name!r} is named twice", f"{where}.how[{i}]")
    return Reduce(output, tuple(how))


def find_reduce(rules: tuple[View | Reduce, ...], hdf5_path: str) -> tuple[str, ...]:
    """The reductions of the first ``[[reduce]]`` matching the output (in ``views_for``'s order), or ()."""
    rule = next((r for r in rules if isinstance(r, Reduce) and r.matches(hdf5_path)), None)
    return rule.how if rule is not None else ()


# ----------------------------------------------------------------- cells
def why(reason: str) -> dict[str, str]:
    """An empty cell and the reason it is empty (the catalog shows an em dash with it on hover)."""
    return {"why": build_text_cell(reason)}


def build_cells(columns: tuple[Column, ...], job: Job, datas: Mapping[str, OutputData],
                params: Mapping[str, Any] | str) -> list[Any]:
    """One cell per column; ``params`` is the job's flattened parameters (``compare.build_param_leaves``),
    or the reason there are none.  Text cells past ``ROW_TEXT`` characters in all are left empty."""
    outputs = {output.hdf5_path: output for node in job.nodes for output in node.outputs}
    cells, left = [], ROW_TEXT
    for column in columns:
        if column.source == "output":
            cell = build_output_cell(outputs.get(column.path), datas.get(column.path))
        elif column.source == "parameter":
            cell = build_param_cell(params, column.path)
        else:
            cell = build_attribute_cell(job, column.path)
        if isinstance(cell, str):
            left -= len(cell)
            if left < 0:
                cell = why(f"left out: the text of one job's columns is at most {ROW_TEXT:,} characters")
        cells.append(cell)
    return cells


def build_output_cell(output: Output | None, data: OutputData | None) -> Any:
    """The value of the output's last set, or an empty cell saying why there is none."""
    if output is None:
        return why("no such output in this job")
    if output.too_large:
        return why("output over the read budget: not read")
    if output.kind in ("empty", "missing"):
        return why("never set" if output.kind == "empty" else "values missing (aborted flush)")
    if data is None:
        return why("values could not be read")
    values = data.values
    if isinstance(values, np.ndarray) and values.ndim == 0:
        return build_scalar_cell(values[()])
    if len(values) == 0:
        return why("no set")
    if (len(values) - 1) * data.stride != output.n_sets - 1:
        return why("the last set was not read (over the read budget)")
    last = values[-1]
    if isinstance(last, np.ndarray):
        return why(f"not a scalar: each set has shape {tuple(last.shape)}")
    return build_scalar_cell(last)


def build_param_cell(params: Mapping[str, Any] | str, key: str) -> Any:
    if isinstance(params, str):
        return why(params)
    if key not in params:
        return why("not in this job's parameters")
    value = params[key]
    if value is NOT_TEXT_VALUE:
        return why(NOT_TEXT.strip("()"))
    if isinstance(value, (list, dict)):  # one leaf, as compare.html shows it: a short list of scan points reads well
        return build_text_cell(json_text(value))
    return build_scalar_cell(value)


def build_attribute_cell(job: Job, name: str) -> Any:
    for key, value in job.root_attrs:
        if key == name:
            return build_text_cell(value)
    return why("no such root attribute")


def build_scalar_cell(value: Any) -> Any:
    """A number, boolean or text exactly as stored (ints past 2**53 and non-finite floats as text)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        number = int(value)
        return number if abs(number) <= EXACT_INT else str(number)
    if isinstance(value, (float, np.floating)):
        return build_float_cell(value)
    if isinstance(value, str):
        return build_text_cell(value)
    if value is None:
        return why("null")
    if isinstance(value, (list, tuple, dict)):
        return why(f"not a scalar: a JSON {'object' if isinstance(value, dict) else 'array'}")
    if isinstance(value, np.generic):
        return why(f"not a number or text ({value.dtype})")
    return why(f"not a number or text ({type(value).__name__})")


def build_float_cell(value: float | np.floating) -> float | str:
    """Shortest round-trip digits of the value's own type (a float32 0.1 stays 0.1)."""
    if not math.isfinite(float(value)):
        return "NaN" if math.isnan(float(value)) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, float) or (isinstance(value, np.floating) and value.dtype == np.float64):
        return float(value)
    return float(str(value))


def build_text_cell(text: str) -> str:
    """Cut at CELL_TEXT characters; a lone surrogate (valid JSON, "\\ud800", but no UTF-8) as U+FFFD,
    as the site shows it everywhere: the row goes into the manifest and catalog-data.js as UTF-8."""
    text = replace_surrogates_text(text)
    return text if len(text) <= CELL_TEXT else text[:CELL_TEXT] + "\u2026"
