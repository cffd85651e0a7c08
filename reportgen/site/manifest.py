"""The incremental-build manifest: ``build-manifest.json`` in the site.

It records, per job, a fingerprint of every input the job page depends on
(the ``JobRef`` file stats, the project's ``repo_fingerprint``, the theme
hash that covers tool version, templates, static files and site code) plus
what the build made of it (catalog row, files written, problems).  A rebuild
compares fingerprints only: unchanged jobs are neither opened nor rendered,
and the catalogs are rebuilt from the stored rows.  ``FORMAT`` changes when
the layout of this file changes; an unknown format means a full build.

Project folders and job ids are keys exactly as the scan listed them, so a
name that is not valid UTF-8 (its bytes held as surrogates) is written as
``/`` plus its bytes percent-escaped (``encode_name``): JSON text must be
valid UTF-8, and a file name never contains ``/``, so no real name reads
back as another.  Valid names are written as they are.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes, unquote_to_bytes

import orjson

from reportgen import __version__
from reportgen.records import FileStat, JobRef, Problem
from site_templates import TEMPLATE_DIR

FORMAT = 1
MANIFEST_NAME = "build-manifest.json"


@dataclass(frozen=True)
class JobEntry:
    """What one built job page left behind; enough to list it without reading it again."""

    fingerprint: str
    slug: str
    row: tuple[Any, ...]  # CatalogRow values in field order
    files: tuple[str, ...]  # relative to the site root
    problems: tuple[tuple[str, ...], ...]  # Problem fields
    params_sha: str
    params_present: bool
    end: str
    page_bytes: int


@dataclass(frozen=True)
class Manifest:
    format: int = FORMAT
    tool: str = __version__
    theme: str = ""
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"slug", "repos", "problems"}
    jobs: dict[str, dict[str, JobEntry]] = field(default_factory=dict)  # project -> job id -> entry
    store_problems: tuple[tuple[str, ...], ...] = ()


@functools.lru_cache(maxsize=1)
def build_theme_hash() -> str:
    """Hash of tool and plotly versions, templates, static files and site code: a change rebuilds all."""
    import plotly

    digest = hashlib.sha256(f"{__version__} plotly {plotly.__version__}".encode())
    site_code = Path(__file__).parent
    for path in sorted([*TEMPLATE_DIR.rglob("*"), *site_code.glob("*.py")]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(path.parent.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def encode_name(name: str) -> str:
    """A listed name as manifest text: itself when valid UTF-8, else "/" + its bytes percent-escaped."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, held as surrogates (surrogateescape)
        return "/" + quote_from_bytes(name.encode("utf-8", "surrogateescape"), safe="")
    return name


def decode_name(text: str) -> str:
    """The inverse of ``encode_name``."""
    if text.startswith("/"):
        return unquote_to_bytes(text[1:]).decode("utf-8", "surrogateescape")
    return text


def _stat(stat: FileStat | None) -> tuple[str, int, int] | None:
    return (encode_name(stat.path), stat.size, stat.mtime_ns) if stat else None


def build_job_fingerprint(ref: JobRef, repo_fingerprint: str, theme: str, slug: str) -> str:
    """Every input of a job page that a scan sees, hashed (no file is opened)."""
    payload = orjson.dumps([
        encode_name(ref.project), encode_name(ref.job_id), _stat(ref.hdf5), [_stat(log) for log in ref.logs],
        encode_name(ref.log_dir) if ref.log_dir is not None else None,
        ref.command_line_run, repo_fingerprint, theme, slug,
    ])
    return hashlib.sha256(payload).hexdigest()[:32]


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


def read_manifest(site: Path) -> Manifest | None:
    """The previous build's manifest, or None when absent, unreadable or of another format."""
    try:
        raw = orjson.loads((site / MANIFEST_NAME).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        return None
    try:
        jobs = {
            decode_name(project): {decode_name(job_id): _job_entry(entry) for job_id, entry in entries.items()}
            for project, entries in raw["jobs"].items()
        }
        projects = {decode_name(name): value for name, value in raw["projects"].items()}
        return Manifest(
            format=FORMAT, tool=raw["tool"], theme=raw["theme"], projects=projects, jobs=jobs,
            store_problems=tuple(tuple(p) for p in raw["store_problems"]),
        )
    except (KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return None


def _job_entry(raw: dict[str, Any]) -> JobEntry:
    return JobEntry(
        fingerprint=raw["fingerprint"], slug=raw["slug"], row=tuple(raw["row"]), files=tuple(raw["files"]),
        problems=tuple(tuple(p) for p in raw["problems"]), params_sha=raw["params_sha"],
        params_present=raw["params_present"], end=raw["end"], page_bytes=raw["page_bytes"],
    )
