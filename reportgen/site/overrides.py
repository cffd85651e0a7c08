"""Template overrides of ``reportgen build --templates DIR``: a lab's own look (MkDocs ``custom_dir`` model).

``DIR`` holds templates named as the built-in ones (``base.html``, ``job.html``,
``_partials/log.html``, ...), which replace them, any other ``*.html`` an override
includes, and ``static/``, whose files are copied into the site's ``assets/`` after
ours (the same name replaces ours).  The built-in templates stay reachable under
the prefix ``reportgen/``, so an override can extend what it replaces::

    {% extends "reportgen/base.html" %}
    {% block footer %}{{ super() }} Lab of Fluid Dynamics.{% endblock %}

The folder is read once, whole, and checked before anything is written: what is
rendered is exactly the bytes that were checked (a file edited during the build
changes nothing of it).  It is a theme folder that may come from anyone, so the
files are bounded, regular and named for URLs, and the pages render in jinja2's
sandbox (``render.build_environment``).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from reportgen.errors import ConfigError, InputMissingError

STATIC = "static"  # DIR/static/* -> SITE/assets/*
PREFIX = "reportgen"  # "reportgen/base.html": the built-in base.html, whatever DIR holds
EXTRA_CSS = "extra.css"  # when DIR/static/extra.css exists, every page links it after site.css
MAX_TEMPLATE_BYTES = 1024**2  # a template is text someone wrote: 1 MiB is far beyond any theme's
MAX_STATIC_BYTES = 16 * 1024**2  # a logo, a font, a script
MAX_TOTAL_BYTES = 64 * 1024**2  # held in memory for the build (and forked into its workers)
MAX_FILES = 256
MAX_DEPTH = 4  # folders below DIR
# Each part of a name: it becomes part of a URL (assets/<name>) or a template name; no leading
# dot (hidden files, "..") or dash, nothing a URL or a shell would read specially.
_SAFE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}\Z")


@dataclass(frozen=True)
class Template:
    name: str  # as templates name it: "base.html", "_partials/log.html"
    path: str  # as the user sees it (DIR as given joined with the name): named by error lines
    source: str


@dataclass(frozen=True)
class StaticFile:
    name: str  # below assets/: "extra.css", "img/logo.png"
    data: bytes


@dataclass(frozen=True)
class Overrides:
    folder: str
    templates: tuple[Template, ...]
    static: tuple[StaticFile, ...]

    @property
    def extra_css(self) -> bool:
        return any(item.name == EXTRA_CSS for item in self.static)


NO_OVERRIDES = Overrides("", (), ())


def read_overrides(folder: Path | None) -> Overrides | None:
    """The override folder, read whole and checked (None without one).

    A missing or unreadable folder, or one that is not a folder, is ``InputMissingError``
    (66, as a data_store that is not a folder); any file it holds that we refuse is
    ``ConfigError`` (78) naming that file.  Templates are compiled later, by the
    environment that renders them (``render.use_overrides``): it knows our filters.
    """
    if folder is None:
        return None
    if not folder.is_dir():
        raise InputMissingError(folder, "templates folder is not a directory" if folder.exists() else "templates folder not found")
    templates: list[Template] = []
    static: list[StaticFile] = []
    total = 0
    for path, name in _walk(folder):
        data = _read_file(path, name, folder)
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise ConfigError(path, f"the templates folder holds over {MAX_TOTAL_BYTES:,} bytes")
        if name.startswith(STATIC + "/"):
            static.append(StaticFile(name.removeprefix(STATIC + "/"), data))
        else:
            templates.append(Template(name, str(path), _read_text(path, data)))
    return Overrides(str(folder), tuple(templates), tuple(static))


def _walk(folder: Path) -> list[tuple[Path, str]]:
    """Every file below ``folder`` as (path, "/"-joined name), sorted by name; symlinks, devices,
    pipes, unsafe names, too many files or too deep folders refused (never followed)."""
    found: list[tuple[Path, str]] = []
    pending: list[tuple[Path, str, int]] = [(folder, "", 0)]
    while pending:
        here, prefix, depth = pending.pop()
        for entry in _list_folder(here):
            path, name = Path(entry.path), prefix + entry.name
            check_name(path, entry.name)
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                if depth >= MAX_DEPTH:
                    raise ConfigError(path, f"folders nested over {MAX_DEPTH} deep")
                if name == PREFIX:
                    raise ConfigError(path, f"'{PREFIX}/' names the built-in templates: choose another folder name")
                pending.append((path, name + "/", depth + 1))
                continue
            if not stat.S_ISREG(mode):
                kind = "a symlink" if stat.S_ISLNK(mode) else "not a regular file"
                raise ConfigError(path, f"{kind}: a templates folder holds regular files only")
            check_kind(path, name)
            found.append((path, name))
            if len(found) > MAX_FILES:
                raise ConfigError(folder, f"over {MAX_FILES} files: not a templates folder")
    return sorted(found, key=lambda item: item[1])


def _list_folder(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError as exc:
        raise InputMissingError(folder, f"cannot read the templates folder ({exc.strerror})") from None


def check_name(path: Path, part: str) -> None:
    """A file or folder name that is safe in a URL and a template name."""
    if not _SAFE_PART.match(part):
        raise ConfigError(path, "unsafe name: letters, digits and . _ - only, not starting with . or -")


def check_kind(path: Path, name: str) -> None:
    """Outside static/ only templates: another file there is a typo (``base.htm``) or a mistake."""
    if not name.startswith(STATIC + "/") and not name.endswith(".html"):
        raise ConfigError(path, f"not a template (*.html) and not in {STATIC}/")


def _read_file(path: Path, name: str, folder: Path) -> bytes:
    """The file's bytes, within its bound; opened without following a symlink put there meanwhile."""
    limit = MAX_STATIC_BYTES if name.startswith(STATIC + "/") else MAX_TEMPLATE_BYTES
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputMissingError(path, f"cannot read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(path, "not a regular file: a templates folder holds regular files only")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ConfigError(path, f"over {limit:,} bytes")
    return data


def _read_text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"not UTF-8 text (byte {exc.start})") from None


def build_hash(overrides: Overrides | None) -> str:
    """sha256 of every file's name and bytes, sorted ("" without overrides)."""
    if overrides is None:
        return ""
    digest = hashlib.sha256()
    files = [(t.name, t.source.encode("utf-8")) for t in overrides.templates]
    files += [(f"{STATIC}/{item.name}", item.data) for item in overrides.static]
    for name, data in sorted(files):
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:16]


def build_overrides_hash(folder: Path | None) -> str:
    """A hash of every file of the overrides folder ("" without one): part of the site's theme,
    so editing, adding or removing an override rebuilds the whole site.  The folder as this build
    read and checked it when it is rendering with it (not read again: what is hashed is what is used)."""
    from reportgen.site.render import active_overrides  # render imports this module: not at the top

    active = active_overrides()
    if folder is not None and active.folder == str(folder):
        return build_hash(active)
    return build_hash(read_overrides(folder))
