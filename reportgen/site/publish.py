"""Publishing helpers of ``reportgen build``: ``--precompress`` and ``--base-url``.

``--precompress gz,zst`` writes ``name.gz`` / ``name.zst`` next to each text file this build wrote
(``write_precompressed``), for web servers that send such a sibling as it is (nginx ``gzip_static``,
Caddy ``precompressed``).  The siblings are deterministic (no name, no time in the gzip header; fixed
levels) and belong to the owner of their original, so ``check_site`` repairs an edited or deleted one.

``--base-url URL`` writes ``sitemap.xml`` (sitemaps.org 0.9) at the site root: absolute addresses
of the home page, search.html, each project's catalog and each job page (``write_sitemap``).
"""

from __future__ import annotations

import os
import re
import struct
import threading
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit
from xml.sax.saxutils import escape

from converters import interrupts
from reportgen.errors import ToolError, UsageError
from reportgen.site import write as out
from reportgen.site.manifest import MANIFEST_NAME, Manifest
from reportgen.site.paths import JOB_LIST_NAME

PRECOMPRESS_FORMATS = ("gz", "zst")
# How a bad value is reported: from the command line a usage error (64) naming the option; from a
# config file's [build] table (site/config.py) a config error (78) naming the file and the key.
Fail = Callable[[str], ToolError]


def _option_fault(option: str) -> Fail:
    return lambda reason: UsageError(option, reason)


# ----------------------------------------------------------------- options
def read_base_url(text: str, fail: Fail = _option_fault("--base-url")) -> str:
    """``--base-url``: an absolute http(s) URL without query, fragment or user name, returned
    ending in "/" (so that ``base + "project/job.html"`` is the page's address); "" stays "".

    A non-ASCII host name is written in IDNA (only the host: the port stays as it is), and the
    path percent-encoded: a space is ``%20``, a ``%`` that starts no ``%XX`` escape is ``%25``, an
    escape already there is kept.  A sitemap's and a feed's addresses must be plain URLs."""
    if not text:
        return ""
    try:  # urllib raises ValueError on a malformed bracketed host ("http://[::1/", "http://[x]/")
        parts = urlsplit(text)
        well_formed = parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and _valid_port(parts)
    except ValueError:
        well_formed = False
    if not well_formed or parts.query or parts.fragment or "?" in text or "#" in text or not text.isprintable() \
            or " " in parts.netloc:
        raise fail(f"{text!r} is not an absolute http or https URL without query or fragment")
    if "@" in parts.netloc:  # a user name or password would be published in every feed and sitemap
        raise fail(f"{text!r} holds a user name or password: every feed and sitemap would publish it")
    url = urlunsplit((parts.scheme.lower(), _build_netloc(text, parts, fail), _quote_path(parts.path), "", ""))
    return url if url.endswith("/") else url + "/"


def _build_netloc(text: str, parts: SplitResult, fail: Fail) -> str:
    """The host (IDNA when not ASCII; an IPv6 literal in its brackets) and the port, if any."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    elif not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise fail(f"{text!r} has a host name that is not a valid internationalized name") from None
    return host if parts.port is None else f"{host}:{parts.port}"


_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _quote_path(path: str) -> str:
    """``path`` percent-encoded, its valid ``%XX`` escapes and reserved characters kept."""
    return quote(_STRAY_PERCENT.sub("%25", path), safe="/%:@!$&'()*+,;=~")


def _valid_port(parts: SplitResult) -> bool:
    """``urlsplit`` checks the port only when asked (``http://host:x/`` raises then)."""
    try:
        return parts.port is None or parts.port > 0
    except ValueError:
        return False


def read_precompress(text: str, fail: Fail = _option_fault("--precompress")) -> tuple[str, ...]:
    """``--precompress gz,zst``: the formats, sorted, without repeats; "" is none."""
    names = sorted({name.strip() for name in text.split(",") if name.strip()})
    unknown = [name for name in names if name not in PRECOMPRESS_FORMATS]
    if unknown:
        raise fail(f"unknown format {unknown[0]!r} (use gz, zst or gz,zst)")
    return tuple(names)


# ----------------------------------------------------------------- precompressed siblings
# Levels measured on an example site's text (docs/site.md, "Publishing the site"): gzip 9 made files
# 0.6 % smaller than 6 for 35 % more CPU; zstd 9 is 7 % smaller than 3 at a quarter of its speed
# (90 MB/s, about gzip 6's), and 19 only 6 % smaller than 9 at a twentieth of the speed.
GZIP_LEVEL = 6
ZSTD_LEVEL = 9
MIN_SIZE = 1024  # smaller files gain less than a request's headers; servers fall back to the original
# What the site writes as text (and what a theme override or later page kind may add).  Never
# the already compressed (.png, .npy of binary numbers, .gz, .zst) nor the build's own records.
TEXT_SUFFIXES = frozenset({".html", ".js", ".mjs", ".css", ".json", ".xml", ".svg", ".ipynb", ".txt", ".csv",
                           ".tsv", ".md", ".map", ".log"})  # .log: a node's whole log, copied beside a cut preview
NEVER = frozenset({MANIFEST_NAME, "build-report.json"})  # build.REPORT_NAME (build imports this module)
CHUNK = 1 << 20
# No file name (FLG 0), mtime 0, XFL 0, OS 255 "unknown": the header is the same on every machine.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def original_name(name: str) -> str:
    """``x.html`` for ``x.html.gz`` or ``x.html.zst``; any other name is itself."""
    for fmt in PRECOMPRESS_FORMATS:
        if name.endswith("." + fmt):
            return name[: -len(fmt) - 1]
    return name


def list_compressible(staging: Path) -> list[Path]:
    """The text files of staging worth a sibling, sorted."""
    found = []
    for path in staging.rglob("*"):
        if path.suffix not in TEXT_SUFFIXES or (path.parent == staging and path.name in NEVER):
            continue
        if path.is_file() and not path.is_symlink() and path.stat().st_size >= MIN_SIZE:
            found.append(path)
    return sorted(found)


def write_precompressed(staging: Path, formats: tuple[str, ...], workers: int = 0) -> int:
    """Write the ``formats`` siblings of every text file in staging (the files this build wrote),
    in threads (zlib and zstandard release the GIL); return how many were written.  A sibling not
    smaller than its original is not kept: a server then sends the original."""
    if not formats:
        return 0
    files = list_compressible(staging)
    batches = [files[i:i + 32] for i in range(0, len(files), 32)]
    pool = ThreadPoolExecutor(max(1, workers or os.cpu_count() or 1))
    written = 0
    try:
        for count in pool.map(lambda batch: _compress_batch(batch, formats), batches):
            interrupts.check()  # a signal stops the build between batches, not after all of them
            written += count
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return written


def _compress_batch(paths: list[Path], formats: tuple[str, ...]) -> int:
    return sum(write_sibling(path, fmt) for path in paths for fmt in formats)


def write_sibling(path: Path, fmt: str) -> bool:
    """``path.<fmt>``, streamed (a CSV download may be hundreds of MB); removed again when it is
    not smaller than ``path``.  True when kept."""
    target = path.with_name(f"{path.name}.{fmt}")
    try:
        size = path.stat().st_size
        with open(path, "rb") as src, open(target, "wb") as dst:
            (_copy_gzip if fmt == "gz" else _copy_zstd)(src, dst, size)
        if target.stat().st_size < size:
            return True
        target.unlink()
    except OSError as exc:
        out.raise_write_error(exc, target)
    return False


def _copy_gzip(src: BinaryIO, dst: BinaryIO, size: int) -> None:
    """RFC 1952 with the fixed header above: ``gzip.compress`` would let zlib pick the OS byte."""
    deflate = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    crc = 0
    dst.write(_GZIP_HEADER)
    while chunk := src.read(CHUNK):
        crc = zlib.crc32(chunk, crc)
        dst.write(deflate.compress(chunk))
    dst.write(deflate.flush())
    dst.write(struct.pack("<II", crc, size & 0xFFFFFFFF))


_zstd = threading.local()  # a ZstdCompressor is not thread-safe: one per thread


def _copy_zstd(src: BinaryIO, dst: BinaryIO, size: int) -> None:
    """One zstd frame with the content size and a checksum (``zstd -t`` and ``-l`` show both)."""
    if not hasattr(_zstd, "compressor"):
        import zstandard

        _zstd.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True, write_checksum=True)
    _zstd.compressor.copy_stream(src, dst, size=size, read_size=CHUNK, write_size=CHUNK)


# ----------------------------------------------------------------- incremental builds
_NUMBERED_SITEMAP = re.compile(r"sitemap\.[0-9]+\.xml")


def replaced_by(name: str, rewritten: frozenset[str]) -> bool:
    """Whether the file ``name`` of the last build is this build's to replace or drop, although
    this build did not write it: the sibling of a file written again (a sibling this build skipped
    must not be left beside the new original), or a numbered sitemap when sitemap.xml was written."""
    base = original_name(name)
    if base != name:
        return base in rewritten or replaced_by(base, rewritten)
    return _NUMBERED_SITEMAP.fullmatch(name) is not None and SITEMAP_NAME in rewritten


def stale_files(previous: Iterable[str], rewritten: frozenset[str]) -> list[str]:
    """The files of the last build (manifest text) that this build replaces without writing them."""
    return sorted(name for name in previous if name not in rewritten and replaced_by(name, rewritten))


def without_stale(names: tuple[str, ...], rewritten: frozenset[str]) -> tuple[str, ...]:
    """``names`` (an owner's files kept from the last build) less those this build replaces."""
    stale = set(stale_files(names, rewritten))
    return tuple(name for name in names if name not in stale)


# ----------------------------------------------------------------- sitemap.xml
SITEMAP_NAME = "sitemap.xml"
MAX_URLS = 50_000  # per sitemap file: the protocol's limits
MAX_BYTES = 50 * 1024 * 1024
_NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
_HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{_NAMESPACE}">\n'.encode()
_TAIL = b"</urlset>\n"


@dataclass(frozen=True)
class SitemapUrl:
    loc: str  # absolute, percent-encoded
    lastmod: str = ""  # W3C datetime, "" when unknown


def build_sitemap_urls(manifest: Manifest, base_url: str) -> list[SitemapUrl]:
    """The home page, search.html, then each project's catalog, its plain list of jobs (runs.html)
    and its job pages, in manifest order.  A job page's ``lastmod`` is its job's end time: the
    build time would change every build."""
    urls = [SitemapUrl(build_loc(base_url, "index.html")), SitemapUrl(build_loc(base_url, "search.html"))]
    for folder, project in manifest.projects.items():
        urls.append(SitemapUrl(build_loc(base_url, f"{project['slug']}/index.html")))
        urls.append(SitemapUrl(build_loc(base_url, f"{project['slug']}/{JOB_LIST_NAME}")))  # its jobs as plain links
        for entry in manifest.jobs.get(folder, {}).values():
            urls.append(SitemapUrl(build_loc(base_url, f"{project['slug']}/{entry.slug}.html"), build_lastmod(entry.end)))
    return urls


def build_loc(base_url: str, path: str) -> str:
    return base_url + quote(path, safe="/")


def build_lastmod(end: str) -> str:
    """An ISO 8601 end time as UTC seconds (``2022-06-20T18:40:50Z``); "" when absent or without
    a UTC offset (W3C datetimes with a time need one)."""
    try:
        moment = datetime.fromisoformat(end)
    except ValueError:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment.tzinfo else ""


def render_url(url: SitemapUrl) -> bytes:
    lastmod = f"<lastmod>{url.lastmod}</lastmod>" if url.lastmod else ""
    return f"<url><loc>{escape(url.loc)}</loc>{lastmod}</url>\n".encode()


def build_sitemap_chunks(urls: list[SitemapUrl], max_urls: int = MAX_URLS, max_bytes: int = MAX_BYTES) -> list[bytes]:
    """The urlset files: as many as the protocol's limits need (URLs and bytes per file)."""
    chunks: list[bytes] = []
    lines: list[bytes] = []
    size = len(_HEAD) + len(_TAIL)
    for line in map(render_url, urls):
        if lines and (len(lines) == max_urls or size + len(line) > max_bytes):
            chunks.append(_HEAD + b"".join(lines) + _TAIL)
            lines, size = [], len(_HEAD) + len(_TAIL)
        lines.append(line)
        size += len(line)
    return [*chunks, _HEAD + b"".join(lines) + _TAIL]


def render_sitemap_index(base_url: str, names: list[str]) -> bytes:
    entries = "".join(f"<sitemap><loc>{escape(build_loc(base_url, name))}</loc></sitemap>\n" for name in names)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{_NAMESPACE}">\n'
            f"{entries}</sitemapindex>\n").encode()


def build_sitemap_files(urls: list[SitemapUrl], base_url: str, max_urls: int = MAX_URLS,
                        max_bytes: int = MAX_BYTES) -> dict[str, bytes]:
    """``sitemap.xml`` alone, or, past the limits, an index of ``sitemap.1.xml``, ``sitemap.2.xml``..."""
    chunks = build_sitemap_chunks(urls, max_urls, max_bytes)
    if len(chunks) == 1:
        return {SITEMAP_NAME: chunks[0]}
    names = [f"sitemap.{number}.xml" for number in range(1, len(chunks) + 1)]
    return {**dict(zip(names, chunks)), SITEMAP_NAME: render_sitemap_index(base_url, names)}


def write_sitemap(staging: Path, manifest: Manifest, base_url: str) -> None:
    """The sitemap files at the root of staging (home-owned files, written every build)."""
    for name, data in build_sitemap_files(build_sitemap_urls(manifest, base_url), base_url).items():
        out.write_file(staging / name, data)
