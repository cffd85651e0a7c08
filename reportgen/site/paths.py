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
# Names a page or folder of the site itself uses, plus Windows device names.
RESERVED = frozenset(
    {"index", "assets", "build-report", "build-manifest", "catalog-data", "compare", "trends", "logs", "data"}
    | {"search-data"}  # each project's search-data.js (site/search.py)
    | {"feed"}  # feed.xml of each project and of the site (site/feeds.py): never a slug
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
