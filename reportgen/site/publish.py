"""Publishing helpers of ``reportgen build``: ``--base-url`` and ``--precompress``.

(Skeleton: the lead's wiring; the publishing helper fills it in.)
"""

from __future__ import annotations

from urllib.parse import urlsplit

from reportgen.errors import UsageError

PRECOMPRESS_FORMATS = ("gz", "zst")


def read_base_url(text: str) -> str:
    """``--base-url``: an absolute http(s) URL without query or fragment, returned ending in "/"
    (so that ``base + "project/job.html"`` is the page's address); "" stays "" (no base URL)."""
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment \
            or not text.isprintable() or any(ch.isspace() for ch in text):
        raise UsageError("--base-url", f"{text!r} is not an absolute http or https URL without query or fragment")
    return text if text.endswith("/") else text + "/"


def read_precompress(text: str) -> tuple[str, ...]:
    """``--precompress gz,zst``: the formats, sorted, without repeats; "" is none."""
    names = sorted({name.strip() for name in text.split(",") if name.strip()})
    unknown = [name for name in names if name not in PRECOMPRESS_FORMATS]
    if unknown:
        raise UsageError("--precompress", f"unknown format {unknown[0]!r} (use gz, zst or gz,zst)")
    return tuple(names)
