"""One JSON column value of a main database, read as strictly as legacy ``data.json`` is.

orjson already refuses what ``converters.jsonio`` refuses on legacy input
(truncation, trailing data, ``NaN``/``Infinity``, a byte-order mark, lone
surrogates, deep nesting), but two things it lets through silently: a
repeated key (the last copy wins) and an integer beyond 64 bits (it becomes
a float and loses its precision).  Both are found without a second parse in
the common case, the way ``jsonio.read_json`` finds them in a whole
document: a dropped key shows as more ``:`` in the text than in the value
re-serialised, and a big integer needs 19 digits in a row.  Only then does
the exact (stdlib) parse run, to name the key or the number.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from converters.jsonio import INT64, plain_reason, unique_pairs

_LONG_DIGITS = re.compile(r"\d{19}")  # -2**63-1 already has 19 digits


class JsonValueError(ValueError):
    """A value that parses as JSON but cannot be kept as it is (a repeated key, a big integer)."""


def read_json_value(text: str) -> Any:
    """The value of one JSON column; raises ``ValueError`` with the reason (``JsonValueError``
    when the text is JSON that would change if it were kept)."""
    value = orjson.loads(text)
    escaped_colon = "\\" in text and ("\\u003a" in text or "\\u003A" in text)  # hides a colon from the count
    if escaped_colon or _LONG_DIGITS.search(text) or text.count(":") != orjson.dumps(value).count(b":"):
        _exact_check(text)
    return value


def _int64(text: str) -> int:
    value = int(text)
    if not INT64[0] <= value <= INT64[1]:
        shown = text if len(text) <= 30 else text[:27] + "..."
        raise JsonValueError(f"integer {shown} is beyond 64 bits and would lose precision")
    return value


def _exact_check(text: str) -> None:
    try:
        json.loads(text, object_pairs_hook=unique_pairs, parse_int=_int64)
    except JsonValueError:
        raise
    except ValueError as exc:  # unique_pairs: "duplicate key 'x'"
        raise JsonValueError(plain_reason(exc)) from None
