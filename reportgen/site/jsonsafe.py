"""JSON that is safe inside an HTML ``<script>`` block or a ``.js`` data file.

orjson gives deterministic bytes for the same value (keys sorted); the five
characters that could end a script block or a JS string early are written as
``\\uXXXX`` escapes, which every JSON parser reads back unchanged.
"""

from __future__ import annotations

from typing import Any

import orjson

_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_TABLE = str.maketrans(_ESCAPES)


def render_json(value: Any) -> str:
    """Sorted-key JSON with <, >, &, U+2028 and U+2029 escaped; NaN/inf become null."""
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode("utf-8")
    return text.translate(_TABLE)
