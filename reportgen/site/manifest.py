"""The incremental-build manifest: ``build-manifest.json`` in the site.

It records, per job, a fingerprint of every input the job page depends on
(the ``JobRef`` file stats, the theme hash that covers tool version,
templates, static files and site code), what its commits resolved to
(``commits``: sha, state and reason of each, not the whole repository's
``repo_fingerprint``, so a commit no job names rebuilds no job) plus what the
build made of it (catalog row, files written, problems).  A rebuild compares
fingerprints, and the commits of a project whose repositories changed (by
``repo_fingerprint``, kept in ``SITE.lock`` with the stat records below, not
here: it changes with a ``git gc`` or a re-clone, which change no page):
unchanged jobs are neither opened nor rendered, and the catalogs are rebuilt
from the stored rows.  ``FORMAT`` changes when
the layout of this file changes; an unknown format means a full build.

It also records what the build wrote, per owner (a job: its page, diff page, node pages
and folder; a project: its catalog; the home page with the assets): the
files and one hash of their paths and bytes (``Written``).  The next build
checks them (``check_site``), so a page edited, truncated or deleted by hand
is rebuilt, not trusted.  The hashes are deterministic, so two builds of the
same input still give a byte-identical site.  Checking by content would read
the whole site on every build, so the cheap check compares ``lstat`` with
what the last build saw after publishing (size, mtime, ctime, inode); those
stats change from build to build and would break that byte-identity, so they
are kept out of the site, in ``SITE.lock`` (``write.Lock``).  A file whose
stat differs (or every file, when the lock holds no records for this
manifest: the site was copied or restored, the records lost) is hashed, and
only an owner whose bytes differ is rebuilt.  ctime is what makes the stat
check sound: an editor or ``touch -r`` can restore the mtime, not the ctime.

Project folders and job ids are keys exactly as the scan listed them, so a
name that is not valid UTF-8 (its bytes held as surrogates) is written as
``/`` plus its bytes percent-escaped (``encode_name``): JSON text must be
valid UTF-8, and a file name never contains ``/``, so no real name reads
back as another.  Valid names are written as they are.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from reportgen import __version__
from reportgen.readers.datastore import decode_name, encode_name  # the one exact text of raw names
from reportgen.records import STATUSES, FileStat, JobRef, Problem
from site_templates import TEMPLATE_DIR

if TYPE_CHECKING:
    from reportgen.site.search import SearchRecord

FORMAT = 4  # 3: a job's fingerprint no longer holds the repositories' one; its commits' resolution is kept
# 4: the repositories' stat fingerprint moved to SITE.lock (it differed after a restore, a re-clone, a git gc)
MANIFEST_NAME = "build-manifest.json"
MAX_MANIFEST_BYTES = 256 << 20  # about 100,000 jobs' entries; a larger "manifest" is not ours: full build
STATE_FORMAT = 2  # of the state kept in SITE.lock (2: with the repository fingerprints)

Stat = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode: as lstat saw it after publishing


@dataclass(frozen=True)
class Written:
    """The files one owner of the site was given by the build that made them (paths relative
    to the site root, as ``encode_name`` text, sorted) and a sha256 of their paths and bytes.

    The key is ``fingerprint`` like the manifest's other hashes: the pages show the tool
    version, so this hash moves with it as theirs do (the gold test scrubs them by that key).
    """

    files: tuple[str, ...] = ()
    fingerprint: str = ""


@dataclass(frozen=True)
class JobEntry:
    """What one built job page left behind; enough to list it without reading it again."""

    fingerprint: str
    slug: str
    row: tuple[Any, ...]  # CatalogRow values in field order
    files: Written | tuple[()]  # page, diff page, node pages and folder; () only before the build records them
    problems: tuple[tuple[str, ...], ...]  # Problem fields
    params_sha: str
    params_present: bool
    end: str
    page_bytes: int
    # search (search.py): what search.html looks into; None in a manifest of a build before search,
    # whose jobs are then built again (build_plan), so no job is listed without its record
    search: SearchRecord | None = None
    # workflow diff (s23): the workflow commit, which pairs the <job>~workflow-diff.html pages as params_sha does
    workflow_sha: str = ""
    workflow_present: bool = False
    # what the job's params and workflow commits resolved to (``build.commits_key``): compared, when a
    # repository of the project changed, with what they resolve to now (a commit that arrived, say)
    commits: str = ""


@dataclass(frozen=True)
class Manifest:
    format: int = FORMAT
    tool: str = __version__
    theme: str = ""
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"slug", "problems"[, "columns"]}
    jobs: dict[str, dict[str, JobEntry]] = field(default_factory=dict)  # project -> job id -> entry
    store_problems: tuple[tuple[str, ...], ...] = ()
    files: Written = Written()  # the home page and the assets (a project's: projects[name]["files"])


@functools.lru_cache(maxsize=1)
def build_theme_hash() -> str:
    """Hash of tool and plotly versions, templates, static files and the code a page is made by
    (site, readers, records): a change rebuilds all.  The readers count too: a reader that now
    reads more (another time format, say) must not leave the pages of unchanged jobs as they were."""
    import plotly

    digest = hashlib.sha256(f"{__version__} plotly {plotly.__version__}".encode())
    site_code = Path(__file__).parent
    package = site_code.parent
    code = [*site_code.glob("*.py"), *(package / "readers").glob("*.py"), *package.glob("*.py")]
    for path in sorted([*TEMPLATE_DIR.rglob("*"), *code]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(path.parent.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _stat(stat: FileStat | None) -> tuple[str, int, int] | None:
    return (encode_name(stat.path), stat.size, stat.mtime_ns) if stat else None


def build_job_fingerprint(ref: JobRef, theme: str, slug: str,
                          columns: list[list[str]] | None = None, views: list[list] | None = None) -> str:
    """Every input of a job page that a scan sees, hashed (no file is opened), but its commits: those
    are the entry's ``commits``, checked only when the project's repositories changed (the whole
    repository's fingerprint here rebuilt every job of a project on any push).  ``columns``: the
    project's configured catalog columns (``config.render_columns_key``), whose cells the row holds;
    left out of the hash when there are none, so a build without a config keeps its fingerprints."""
    inputs = [
        encode_name(ref.project), encode_name(ref.job_id), _stat(ref.hdf5), [_stat(log) for log in ref.logs],
        encode_name(ref.log_dir) if ref.log_dir is not None else None, [_stat(other) for other in ref.others],
        ref.command_line_run, theme, slug,
    ]
    payload = orjson.dumps([*inputs, columns] if columns else inputs)
    if views:  # views (config.render_views_key): hashed only when there are some, as columns are
        payload = orjson.dumps([*inputs, columns or [], views])
    return hashlib.sha256(payload).hexdigest()[:32]


PROBLEM_FIELDS = 5  # of a Problem, as problem_fields writes it


def problem_fields(problem: Problem) -> tuple[str, ...]:
    return (problem.severity, problem.code, problem.file, problem.member, problem.reason)


def problem_from_fields(fields: tuple[str, ...] | list[str]) -> Problem:
    return Problem(*fields)  # type: ignore[arg-type]


def render_manifest(manifest: Manifest) -> bytes:
    body = asdict(manifest)
    body["projects"] = {encode_name(name): value for name, value in body["projects"].items()}
    body["jobs"] = {
        encode_name(project): {encode_name(job_id): entry for job_id, entry in entries.items()}
        for project, entries in body["jobs"].items()
    }
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def load_manifest(site: Path) -> tuple[Manifest | None, str]:
    """The previous build's manifest and the sha256 of its bytes (what the lock's records name);
    ``(None, "")`` when absent, unreadable or of another format."""
    try:
        data = read_manifest_bytes(site / MANIFEST_NAME)
        raw = orjson.loads(data) if data is not None else None
    except (OSError, orjson.JSONDecodeError):
        return None, ""
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        return None, ""
    try:
        jobs = {
            decode_name(project): {decode_name(job_id): _job_entry(entry) for job_id, entry in entries.items()}
            for project, entries in raw["jobs"].items()
        }
        projects = {decode_name(name): value for name, value in raw["projects"].items()}
        manifest = Manifest(
            format=FORMAT, tool=raw["tool"], theme=raw["theme"], projects=projects, jobs=jobs,
            store_problems=_problems(raw["store_problems"]), files=_home_written(raw["files"]),
        )
        check_manifest(manifest)
        return manifest, hashlib.sha256(data).hexdigest()
    except (KeyError, TypeError, AttributeError, UnicodeDecodeError, ValueError):
        return None, ""


# a slug as paths.build_slug makes it: one file name, never "." or ".." (it never begins with a dot)
_SLUG = re.compile(r"[a-z0-9_][a-z0-9._-]{0,200}")
_ROW_TYPES = (str, str, str, str, str, str, int, int, str, str, int, int, str)  # CatalogRow's fields, in order


def check_manifest(manifest: Manifest) -> None:
    """Raise ValueError unless every name the manifest gives is one the build could have written.

    The site is copied, rsynced and restored from CI caches, so whoever can write it can edit the
    manifest: a slug of ``../../store/x`` would have the next build move that folder into its
    trash and delete it, and a stored catalog row is published as it is.  A manifest that fails
    here is unusable: the build is a full one, as for a manifest of another format."""
    for value in manifest.projects.values():
        _check_slug(value["slug"])
        _check_files(project_written(value).files)
    _check_files(_names(manifest.files))
    for entries in manifest.jobs.values():
        for job_id, entry in entries.items():
            _check_slug(entry.slug)
            _check_files(_names(entry.files))
            row = entry.row
            cells = row[len(_ROW_TYPES)] if len(row) == len(_ROW_TYPES) + 1 else []
            if (len(row) - len(_ROW_TYPES) not in (0, 1) or not all(type(v) is t for v, t in zip(row, _ROW_TYPES))
                    or not _cells_ok(cells)):
                raise ValueError(f"catalog row of {job_id!r} is not one the build writes")
            if row[1] != f"{entry.slug}.html" or row[5] not in STATUSES:  # the href is published as a link
                raise ValueError(f"catalog row of {job_id!r} does not match its job")


def _cells_ok(cells: object) -> bool:
    """Configured column cells as ``config.build_cells`` makes them (a stored row is published as it is)."""
    from reportgen.site.config import CELL_TEXT, MAX_COLUMNS

    def ok(cell: object) -> bool:
        if isinstance(cell, dict):
            return list(cell) == ["why"] and isinstance(cell["why"], str) and len(cell["why"]) <= CELL_TEXT
        if isinstance(cell, str):
            return len(cell) <= CELL_TEXT + 1
        return type(cell) in (int, float, bool)

    return isinstance(cells, (list, tuple)) and len(cells) <= MAX_COLUMNS and all(ok(cell) for cell in cells)


def _names(files: Written | tuple) -> tuple:
    """The file names of a record, or of an entry read before the build recorded it (a bare list)."""
    return files.files if isinstance(files, Written) else files


def _check_slug(slug: object) -> None:
    if not (isinstance(slug, str) and _SLUG.fullmatch(slug)):
        raise ValueError(f"slug {slug!r} is not one the build makes")


def _check_files(names: Iterable[object]) -> None:
    """Each recorded file: a relative path inside the site (it is opened and hashed)."""
    for name in names:
        if not isinstance(name, str):
            raise ValueError("a recorded file name is not text")
        parts = decode_name(name).split("/")
        if any(part in ("", ".", "..") or "\0" in part for part in parts):
            raise ValueError(f"recorded file {name!r} is not a path inside the site")


def read_manifest_bytes(path: Path) -> bytes | None:
    """The manifest's bytes, or None when it is no regular file of at most ``MAX_MANIFEST_BYTES``.

    Whoever can write the site can replace the manifest: by a link to ``/dev/zero`` (read whole,
    memory runs out), a FIFO (the read waits for ever) or a huge file.  Opened without following a
    link and without waiting, then checked on the open file itself."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with open(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_MANIFEST_BYTES:
            return None
        data = fh.read(MAX_MANIFEST_BYTES + 1)
    return data if len(data) <= MAX_MANIFEST_BYTES else None


def _problems(raw: Any) -> tuple[tuple[str, ...], ...]:
    """Problem records as ``problem_fields`` writes them: lists of five strings (else ValueError)."""
    problems = tuple(tuple(p) for p in raw)
    if not all(len(p) == PROBLEM_FIELDS and all(isinstance(v, str) for v in p) for p in problems):
        raise ValueError("a problem record is not one the build writes")
    if not all(p[0] in ("error", "warning") for p in problems):
        raise ValueError("a problem record has an unknown severity")
    return problems


def _home_written(raw: Any) -> Written:
    """The home page's and assets' record: always a recorded one (a list is only a job's, unrecorded)."""
    if not isinstance(raw, dict):
        raise ValueError("the site's own files are not recorded as the build records them")
    return _written(raw)


def _written(raw: Any) -> Any:
    if isinstance(raw, dict):
        return Written(tuple(raw["files"]), raw["fingerprint"])
    return tuple(raw)  # an entry not yet recorded


def project_written(value: dict[str, Any]) -> Written:
    """A project's catalog files as the manifest records them (none: nothing to check)."""
    raw = value.get("files")
    return _written(raw) if isinstance(raw, dict) else Written()


def _job_entry(raw: dict[str, Any]) -> JobEntry:
    from reportgen.site.search import record_from_json  # search: checked, it is published as it is

    return JobEntry(
        fingerprint=raw["fingerprint"], slug=raw["slug"], row=tuple(raw["row"]), files=_written(raw["files"]),
        problems=_problems(raw["problems"]), params_sha=raw["params_sha"],
        params_present=raw["params_present"], end=raw["end"], page_bytes=raw["page_bytes"],
        search=record_from_json(raw.get("search"), raw["slug"] if isinstance(raw["slug"], str) else ""),
        workflow_sha=str(raw.get("workflow_sha", "")), workflow_present=raw.get("workflow_present") is True,  # workflow diff
        commits=str(raw["commits"]),
    )


# ----------------------------------------------------------------- what the build wrote, checked
def build_written(files: Iterable[str], locate: Callable[[str], Path],
                  known: Callable[[Path], bytes | None] = lambda path: None) -> Written:
    """The record of ``files`` (manifest text), hashed where ``locate`` finds each one; ``known``
    gives the sha256 of a file this build wrote (``write.known_digest``), which is then not read."""
    names = tuple(sorted(set(files)))
    digest = hashlib.sha256()
    for name in names:
        path = locate(decode_name(name))
        own = known(path)
        if own is None:
            with open(path, "rb") as handle:
                own = hashlib.file_digest(handle, "sha256").digest()
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0" + own)
    return Written(names, digest.hexdigest()[:32])


def owners_written(manifest: Manifest) -> Iterator[tuple[tuple[str, ...], Written]]:
    """(owner, record) of every owner: ("home",), ("project", name), ("job", project, job id)."""
    yield ("home",), manifest.files
    for name, value in manifest.projects.items():
        yield ("project", name), project_written(value)
    for project, entries in manifest.jobs.items():
        for job_id, entry in entries.items():
            yield ("job", project, job_id), entry.files if isinstance(entry.files, Written) else Written()


@dataclass(frozen=True)
class SiteCheck:
    """What of the previous build's files is no longer as it wrote them."""

    jobs: frozenset[tuple[str, str]]  # (project, job id) whose page, diff page or folder differs
    projects: frozenset[str]  # whose catalog differs
    home: bool  # the home page or an asset differs
    unsafe: str  # a top folder (project, assets) replaced by a symlink or a file: "" when none
    stats: dict[str, Stat]  # every intact file, for the next records
    restated: bool  # some intact file's stat differs from the records: save them again


def check_site(site: Path, manifest: Manifest, recorded: dict[str, Stat] | None) -> SiteCheck:
    """``lstat`` every file the manifest records; hash those whose stat is not the recorded one."""
    folders: dict[str, bool] = {}
    unsafe = _unsafe_top_folder(site, manifest)
    damaged: set[tuple[str, ...]] = set()
    stats: dict[str, Stat] = {}
    restated = False
    for owner, written in owners_written(manifest):
        seen = _check_written(site, written, recorded, folders)
        if seen is None:
            damaged.add(owner)
            continue
        stats.update(seen)
        restated = restated or recorded is None or any(recorded.get(p) != s for p, s in seen.items())
    return SiteCheck(
        jobs=frozenset((o[1], o[2]) for o in damaged if o[0] == "job"),
        projects=frozenset(o[1] for o in damaged if o[0] == "project"),
        home=("home",) in damaged, unsafe=unsafe, stats=stats, restated=restated,
    )


def _unsafe_top_folder(site: Path, manifest: Manifest) -> str:
    """A project folder or ``assets`` that is there but not a real folder: the incremental
    publish would write through a symlink (or fail on a file), so that means a full build."""
    tops = {name.split("/", 1)[0] for _, written in owners_written(manifest) for name in written.files if "/" in name}
    for top in sorted(tops):
        try:
            mode = os.lstat(site / decode_name(top)).st_mode
        except FileNotFoundError:
            continue  # gone: its owners' files are missing and are rebuilt
        except OSError:
            return top
        if not stat.S_ISDIR(mode):
            return top
    return ""


def _check_written(site: Path, written: Written, recorded: dict[str, Stat] | None,
                   folders: dict[str, bool]) -> dict[str, Stat] | None:
    """The stats of an owner's files when they are all as written, else None."""
    seen: dict[str, Stat] = {}
    for name in written.files:
        if not _real_folders(site, name, folders):
            return None
        try:
            info = os.lstat(site / decode_name(name))
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        seen[name] = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
    if recorded is not None and all(recorded.get(name) == value for name, value in seen.items()):
        return seen
    try:  # stat first, then hash: a change in between shows at the next build's stat
        same = build_written(written.files, lambda name: site / name).fingerprint == written.fingerprint
    except OSError:
        return None
    return seen if same else None


def _real_folders(site: Path, name: str, folders: dict[str, bool]) -> bool:
    """Every folder below the top one on the way to ``name`` is a folder, not a symlink to one
    (``lstat`` of the file follows those; the top ones are ``_unsafe_top_folder``'s)."""
    parts = name.split("/")[:-1]
    for depth in range(2, len(parts) + 1):
        folder = "/".join(parts[:depth])
        if folder not in folders:
            try:
                folders[folder] = stat.S_ISDIR(os.lstat(site / decode_name(folder)).st_mode)
            except OSError:
                folders[folder] = False
        if not folders[folder]:
            return False
    return True


# ----------------------------------------------------------------- the private state (in SITE.lock)
@dataclass(frozen=True)
class SavedState:
    """What the last build kept beside the site, never in it: the stat records of its files and
    each project's repository fingerprint (``repo_fingerprint``: names, sizes and mtimes of refs and
    packs).  Both change when nothing a page shows does (a ``git gc``, a re-clone, a restore), so
    publishing them would make two builds of the same input differ."""

    stats: dict[str, Stat]
    repos: dict[str, str]  # project folder (as the manifest writes it) -> repo_fingerprint


def render_state(manifest_digest: str, stats: dict[str, Stat], repos: dict[str, str]) -> bytes:
    """The state of one build; it names its manifest, so the state of another is ignored."""
    return orjson.dumps({"format": STATE_FORMAT, "manifest": manifest_digest, "stats": stats, "repos": repos})


def read_state(state: bytes, manifest_digest: str) -> tuple[bool, SavedState | None]:
    """SITE.lock's state, parsed once: (vouched, saved).

    ``vouched`` is False when the state names another manifest than the published one: the
    manifest was edited or replaced after the last build (whoever can write the site can do that;
    SITE.lock is beside the site), so its per-job records (problems, rows, files) are not trusted
    and the build is a full one.  It is True when no state was kept (a site copied without
    SITE.lock, a build killed before saving it, an older state without a name): nothing to
    compare with.  ``saved`` is the state of this manifest, or None (absent, unreadable, of
    another build or format)."""
    try:
        raw = orjson.loads(state) if state else None
    except orjson.JSONDecodeError:
        return True, None
    named = raw.get("manifest") if isinstance(raw, dict) else None
    vouched = not isinstance(named, str) or named == manifest_digest
    if not isinstance(raw, dict) or raw.get("format") != STATE_FORMAT or named != manifest_digest:
        return vouched, None
    try:
        repos = raw["repos"]
        if not isinstance(repos, dict) or not all(isinstance(v, str) for v in repos.values()):
            return vouched, None
        stats = {name: tuple(value) for name, value in raw["stats"].items()}
        return vouched, SavedState(stats, repos)  # type: ignore[arg-type]
    except (KeyError, TypeError, AttributeError):
        return vouched, None


def stat_files(site: Path, names: Iterable[str]) -> dict[str, Stat]:
    """The stats of files just published (a file that vanished is left out: it is checked by content)."""
    stats = {}
    for name in names:
        try:
            info = os.lstat(site / decode_name(name))
        except OSError:
            continue
        stats[name] = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
    return stats
