"""Safe, stable file names for the site.

Names come from the data (job ids, node and project names), so they can be
``../../x``, ``CON``, 300 bytes long or non-ASCII.  A slug keeps the readable
ASCII part; whenever it differs from the name, or could clash on a
case-insensitive or Windows file system, a short hash of the name is added so
two names never share a file.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_MAX_SLUG = 60
JOB_LIST_NAME = "runs.html"  # <project>/runs.html: every job of the project as plain HTML (no script)
# Names a page or folder of the site itself uses, plus Windows device names.
RESERVED = frozenset(
    {"index", "assets", "build-report", "build-manifest", "catalog-data", "compare", "trends", "logs", "data"}
    | {"search-data"}  # each project's search-data.js (site/search.py)
    | {"feed"}  # feed.xml of each project and of the site (site/feeds.py): never a slug
    | {JOB_LIST_NAME.removesuffix(".html")}  # runs.html of each project
    | {"sitemap"}  # sitemap.xml and sitemap.N.xml at the site root (site/publish.py)
    | {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
)


def short_hash(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def build_slug(name: str) -> str:
    """``name`` itself when it is a plain lowercase ASCII file name, else slug + hash.

    A plain name never ends in ``.html``: a job's page is ``<slug>.html`` and its
    folder ``<slug>``, so job ``x.html`` would otherwise own the page of job ``x``.
    The hashed form ends in hex digits, so it never ends in ``.html`` either.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _UNSAFE.sub("-", ascii_name.lower()).strip("-.")[:_MAX_SLUG].strip("-.")
    # nor in .gz or .zst, the names of precompressed siblings (x.html.gz), never of a folder
    if slug and slug == name and slug.split(".")[0] not in RESERVED and not slug.endswith((".html", ".gz", ".zst")):
        return slug
    return f"{slug or 'x'}-{short_hash(name)}"


def build_slugs(names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Slugs for a set of sibling names, guaranteed distinct (longer hashes on a clash).

    Distinct slugs also give distinct pages and folders: no slug ends in ``.html``,
    so no folder ``<slug>`` is another job's page ``<slug>.html``.
    """
    slugs = {name: build_slug(name) for name in names}
    seen: dict[str, str] = {}
    for name in sorted(slugs):
        slug = slugs[name]
        salt = name
        while slug in seen:  # a loop: the longer form may itself be some other plain name
            slug = f"{slugs[name]}-{short_hash(salt, 16)}"
            salt += "\0"
        slugs[name] = slug
        seen[slug] = name
    return slugs


def diff_page_name(job_slug: str) -> str:
    """The parameters diff page of a job, next to its page in the project folder.

    Not inside the job's folder: most jobs then need no folder at all (one inode
    fewer each).  ``~`` never occurs in a slug, so no job page can have this name.
    """
    return f"{job_slug}~params-diff.html"


def workflow_diff_page_name(job_slug: str) -> str:
    """The workflow diff page of a job (helper Y, s23), next to its page like the parameters diff."""
    return f"{job_slug}~workflow-diff.html"


def notebook_file_name(job_slug: str) -> str:
    """A job's Jupyter notebook, next to its page (like the diff page; ``~``: never a job page)."""
    return f"{job_slug}~notebook.ipynb"


def node_page_name(job_slug: str, node_anchor: str, number: int = 1) -> str:
    """A node's page of a job too big for one page (``jobpage.SPLIT_NODES``), next to the job page.

    ``node_anchor`` is the node's element id on the job page (``node-<slug>``, unique in
    the job: ``contexts.build_anchors``), so the name of a log line's page follows from the
    line's id.  Page ``number`` > 1 holds the node's later outputs.  ``~`` never occurs in
    a slug, so no job page, diff page or other node's page can have this name.
    """
    return f"{job_slug}~{node_anchor}.html" if number == 1 else f"{job_slug}~{node_anchor}~{number}.html"


# ----------------------------------------------------------------- names a browser saves a download as
# Characters no file system of Windows, macOS or Linux takes in a name, or that make a name lie about
# itself: the path separators, Windows' reserved punctuation, control characters and the format
# characters (U+202E turns "gpj.exe" into "exe.jpg" on screen), surrogates, line and paragraph breaks.
_UNSAVEABLE = re.compile('[/\\\\:*?"<>|\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+')
_WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
                             | {f"{kind}{n}" for kind in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")})
MAX_SAVED_NAME = 150  # UTF-8 bytes of a download's saved name: under every file system's 255, with room for "(1)"


def _without_format_chars(part: str) -> str:
    """``part`` with each format character (category Cf: U+202E and its kind) made ``_``; ASCII has none."""
    return "".join(c if unicodedata.category(c) != "Cf" else "_" for c in part)


def build_saved_name(parts: tuple[str, ...], ext: str, clash: str = "") -> str:
    """``<part>_<part>_....<ext>``, the name a browser saves a download as (the ``download``
    attribute): the readable names, safe on every OS.

    Unsaveable characters become ``_``; no leading dot or space, no trailing dot or space, never
    a Windows device name (``CON.x_j1.csv`` is the console).  When a part had to change, or the name
    is over ``MAX_SAVED_NAME`` bytes (cut on a character boundary), ``-<hash of the parts>`` follows,
    so two outputs whose names differ only there still get two names; ``clash`` salts that hash
    (a page gives two outputs that still share a name different salts: ``contexts``).
    """
    cleaned = [_UNSAVEABLE.sub("_", part if part.isascii() else _without_format_chars(part)) for part in parts]
    joined = "_".join(cleaned)
    stem = joined.strip(". ") or "download"
    suffix = f".{ext}"
    limit = MAX_SAVED_NAME - len(suffix.encode("utf-8"))
    if cleaned != list(parts) or stem != joined or clash or len(stem.encode("utf-8")) > limit:
        tag = "-" + short_hash("\0".join(parts) + "\0" + clash)
        stem = stem.encode("utf-8")[:limit - len(tag)].decode("utf-8", "ignore").rstrip(". ") + tag
    if stem.split(".")[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        stem = "_" + stem
    return stem + suffix
