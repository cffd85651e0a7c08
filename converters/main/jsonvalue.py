"""One JSON column value of a main database, read as strictly as legacy ``data.json`` is.

orjson already refuses what ``converters.jsonio`` refuses on legacy input
(truncation, trailing data, ``NaN``/``Infinity``, a byte-order mark, lone
surrogates, deep nesting), but two things it gets wrong silently: a
repeated key (the last copy wins) and an integer beyond 64 bits (it becomes
a float and loses its precision; aiida-core stores such integers, e.g. for
``Float(1e20)``).  Both are found without a second parse in the common case,
the way ``jsonio.read_json`` finds them in a whole document: a dropped key
shows as more ``:`` in the text than in the value re-serialised, and a big
integer needs 19 digits in a row.  Only then does the exact (stdlib) parse
run: it names a repeated key, and its value, with every integer exact, is
the one returned (``jsonio.dumps`` writes it back exactly).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from converters.jsonio import dumps, finite_float, plain_reason, unique_pairs

_LONG_DIGITS = re.compile(r"\d{19}")  # -2**63-1 already has 19 digits
# orjson reads about 1,024 levels of nesting but writes no more than 254, counted from the top of
# what it writes: data.json's Log["1"].metadata sits 3 levels below its section, so a value of a
# main database deeper than this could be read and never written into a legacy archive.
MAX_DEPTH = 250


class JsonValueError(ValueError):
    """A value that parses as JSON but cannot be kept as it is (a repeated key, nesting too deep to write)."""


def read_json_value(text: str) -> Any:
    """The value of one JSON column; raises ``ValueError`` with the reason (``JsonValueError``
    when the text is JSON that would change if it were kept)."""
    try:
        value = orjson.loads(text)  # refuses what is no JSON, as the legacy readers do
    except orjson.JSONDecodeError as exc:
        if "number is infinity" not in str(exc) or not _LONG_DIGITS.search(text):
            raise
        return _long_integers(text)
    check_depth(text, value)  # before anything writes it
    if _LONG_DIGITS.search(text):  # orjson may have made a float of an integer beyond 64 bits
        return _exact_value(text)
    escaped_colon = "\\" in text and ("\\u003a" in text or "\\u003A" in text)  # hides a colon from the count
    if escaped_colon or text.count(":") != orjson.dumps(value).count(b":"):
        _exact_value(text)
    return value


def is_json_number(value: object) -> bool:
    """A JSON column's value that SQLite stores as a number, not as text: the schema's ``JSON``
    columns have NUMERIC affinity, so the JSON text ``0`` or ``1.5`` becomes the INTEGER or REAL
    it spells (aiida-core's writer gives the same).  It is that JSON number, unless it is one
    JSON has no text for (an infinity, which orjson would write as null)."""
    return type(value) is int or (type(value) is float and math.isfinite(value))


def nested_deeper(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels in ``value`` (iterative: a deep
    value is the case it is for; it stops at the first level past ``limit``)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            if level > limit:
                return True
            stack.extend((child, level + 1) for child in children)
    return False


def check_depth(text: str, value: Any) -> None:
    """Refuse a value nested deeper than ``MAX_DEPTH``; only text with that many brackets is walked."""
    if text.count("[") + text.count("{") > MAX_DEPTH and nested_deeper(value, MAX_DEPTH):
        raise JsonValueError(f"nested too deeply (more than {MAX_DEPTH} levels of arrays and objects)")


def _long_integers(text: str) -> Any:
    """Text orjson refused for a number it reads as a double beyond its range: an integer of
    310 to 4300 digits is JSON, and the legacy readers (the stdlib parser) read it exactly, so it
    is read here the way they read it, as strictly (no ``NaN``, no ``1e400``, no repeated key, nothing
    orjson could not write, such as a lone surrogate)."""

    def constant(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    try:
        value = json.loads(text, object_pairs_hook=unique_pairs, parse_constant=constant, parse_float=finite_float)
    except ValueError as exc:
        if "duplicate key" in str(exc):
            raise JsonValueError(plain_reason(exc)) from None
        raise ValueError(plain_reason(exc)) from None
    check_depth(text, value)
    try:
        dumps(value)
    except orjson.JSONEncodeError as exc:
        raise ValueError(str(exc)) from None
    return value


def _exact_value(text: str) -> Any:
    """The stdlib's parse of text orjson has already accepted: every integer exact, a repeated key named."""
    try:
        return json.loads(text, object_pairs_hook=unique_pairs)
    except ValueError as exc:  # unique_pairs: "duplicate key 'x'"
        raise JsonValueError(plain_reason(exc)) from None
