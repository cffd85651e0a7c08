"""JSON in and out of archives: strict, lean in memory, deterministic.

Reading (the stdlib parser with the cyclic GC paused: see ``_parse``) refuses
what the stdlib or orjson would accept silently or crash on
(security reference, test plan row 21): truncation, deep nesting, numbers beyond
a double's range and integers of more than 4300 digits, ``NaN``/``Infinity``,
lone surrogates and duplicate keys all become
``BadInputError("data.json: invalid JSON at ...")``, exit 65, never 70.

Duplicate keys are the silent case (every parser keeps the last copy).  They
are found without a second parse in the common case: re-serialising the
parsed tree gives back every key once, so if the input has more ``:`` outside
its strings than the tree has, a key was dropped.  Only when that cheap count
disagrees, or the input escapes a colon, does the exact (slow, stdlib) parse
run to name the place.

Integers beyond 64 bits are kept exactly.  aiida-core stores every integral
float of 2**63 or more (``Float(1e20)``, Avogadro's number) as such an integer,
in legacy ``data.json`` and in main_0001's JSON columns alike, and reads them
back.  The stdlib parser reads them as ints; orjson can neither read them
(it makes a float, silently) nor write them (it refuses).  So writing is
"orjson first": ``dumps`` is ``orjson.dumps``, and only a value it refuses for
such an integer is written again by ``_exact`` (orjson for every part that
holds none, the integer's digits for the rest), marked ``ExactJson`` so that
``loads`` reads it back with the stdlib parser.  Data without them never
leaves orjson.

Writing uses orjson with sorted keys, compact, so the same tree gives the
same bytes on every run.
"""

from __future__ import annotations

import gc
import json
import math
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from converters.errors import BadInputError

_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
# the integers orjson reads and writes exactly; any other has at least 19 digits (-2**63 - 1)
INT64 = (-(2**63), 2**64 - 1)
LONG_RUN = 19  # digits in a row that may be such an integer, which orjson would read as a float
_BEYOND_64_BITS = "Integer exceeds 64-bit range"  # orjson's words for what it cannot write


@contextmanager
def gc_paused():
    """The cyclic GC makes a big parse 4-5x slower and finds nothing in a JSON tree."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_json(file: Path | str, member: str, data: bytes | bytearray, consume: bool = False) -> Any:
    """Parse one JSON member strictly; see the module docstring.

    With ``consume`` a bytearray is cleared as soon as it is parsed, so the
    raw document and the tree are never both held with a third copy.
    """
    with gc_paused():
        tree = _parse(file, member, data)
        if escaped_colon_in(data):  # a colon the count below cannot see
            _exact_check(file, member, data)
        colons = data.count(b":")
        try:
            mismatch = colons != _tree_colons(tree)
        except orjson.JSONEncodeError as exc:
            raise BadInputError(file, f"{member}: {refusal('', exc)}", member) from None
        if mismatch:
            _exact_check(file, member, data)
        if consume and isinstance(data, bytearray):
            data.clear()
    return tree


def _parse(file: Path | str, member: str, data: bytes | bytearray) -> Any:
    """The stdlib parser: orjson is 0.5 s faster on 100 MB but its intermediate document
    costs about 2.5x the input in peak memory; this one costs only the tree."""

    def constant(text: str) -> None:
        raise ValueError(f"{text} (not JSON)")

    if data[:3] == b"\xef\xbb\xbf":  # json.loads would skip it, aiida-core's reader refuses it
        raise BadInputError(file, f"{member}: a byte-order mark before the document (JSON must be plain UTF-8, RFC 8259)", member)
    try:
        # decoded here as strict UTF-8: json.loads(bytes) would also take UTF-16 and UTF-32
        return json.loads(data.decode("utf-8"), parse_constant=constant, parse_float=finite_float)
    except json.JSONDecodeError as exc:
        raise _invalid(file, member, exc) from None
    except RecursionError:
        raise BadInputError(file, f"{member}: invalid JSON at a nesting too deep to parse", member) from None
    except UnicodeDecodeError as exc:
        raise BadInputError(file, f"{member}: invalid JSON at byte {exc.start}: not UTF-8", member) from None
    except ValueError as exc:
        raise BadInputError(file, f"{member}: invalid JSON at {plain_reason(exc)}", member) from None


def _tree_colons(tree: Any) -> int:
    """Colons of the tree re-serialised, one top-level section at a time (bounded extra memory).

    orjson refuses to serialise lone surrogates, which the stdlib parser lets through, and values
    nested deeper than ``ORJSON_DEPTH``: its ``JSONEncodeError`` goes on (``refusal`` words it).
    """
    if isinstance(tree, dict):
        return len(tree) + sum(orjson.dumps(k).count(b":") + dumps(v).count(b":") for k, v in tree.items())
    return dumps(tree).count(b":")


ORJSON_DEPTH = 254  # levels of arrays and objects orjson reads and writes; deeper is "Recursion limit reached"


def refusal(where: str, exc: orjson.JSONEncodeError) -> str:
    """Why orjson would not write the value at ``where`` ("$.node_attributes['1']"; "" when the
    place is not known), for the error line.  Valid JSON nested too deep is said to be that, not
    invalid: reportgen writes every JSON document it converts with orjson, whose limit it is.
    Anything else orjson refuses that the parser let through is a string (a lone surrogate)."""
    if "Recursion limit" in str(exc):
        return (f"{where + ': a' if where else 'a'} value nested deeper than {ORJSON_DEPTH} levels, the most "
                "reportgen can write (valid JSON, but it cannot be converted)")
    return f"invalid JSON at {where}: {exc}" if where else f"invalid JSON at a string ({exc})"


def digit_run_in(data: bytes | bytearray, length: int) -> bool:
    """``length`` digits in a row in ``data``.  A regex costs ~40 ms/MB; translating digits to
    ``0`` and searching for ``length`` of them runs at memory speed."""
    return b"0" * length in data.translate(_DIGITS_TO_ZERO)


def escaped_colon_in(data: bytes | bytearray) -> bool:
    """``\\u003a`` (either case) in ``data``; a text without a backslash (memchr speed) has none."""
    return b"\\" in data and (b"\\u003a" in data or b"\\u003A" in data)


def unique_pairs(pairs: list[tuple[str, Any]]) -> dict:
    """``object_pairs_hook`` of the exact parses: a repeated key is an error naming it."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return found


def finite_float(text: str) -> float:
    """``parse_float`` of the parsers: a number beyond a double's range (``1e400``) is refused
    like ``Infinity``; read as infinity, it would be written as ``null`` (orjson) without a word."""
    value = float(text)
    if value in (math.inf, -math.inf):
        raise ValueError(f"number {text[:40]} (beyond the range of a double)")
    return value


_JSON_KINDS = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number",
               bool: "a boolean", type(None): "null"}  # fmt: skip


def json_kind(value: object) -> str:
    """What a parsed JSON value is, in the words of an error line ("a string", "an object", ...)."""
    return _JSON_KINDS.get(type(value), "a value")


def plain_reason(exc: ValueError) -> str:
    """A parser's ValueError as a reason for the error line: Python's own limit on integer digits
    comes with advice for programmers (``sys.set_int_max_str_digits()``), which is no reason."""
    text = str(exc)
    if "integer string conversion" in text:
        return f"an integer with more than {sys.get_int_max_str_digits()} digits"
    return text


def _invalid(file: Path | str, member: str, exc: json.JSONDecodeError) -> BadInputError:
    return BadInputError(
        file, f"{member}: invalid JSON at line {exc.lineno} column {exc.colno} (char {exc.pos}): {exc.msg}", member
    )


def _exact_check(file: Path | str, member: str, data: bytes) -> None:
    """The slow, exact parse: names the duplicate key."""

    def constant(text: str) -> None:
        raise ValueError(f"{text} (not JSON)")

    try:
        json.loads(data, object_pairs_hook=unique_pairs, parse_constant=constant, parse_float=finite_float)
    except json.JSONDecodeError as exc:
        raise _invalid(file, member, exc) from None
    except ValueError as exc:
        raise BadInputError(file, f"{member}: invalid JSON at {plain_reason(exc)}", member) from None
    except RecursionError as exc:
        raise BadInputError(file, f"{member}: invalid JSON at {exc}", member) from None


def dump_json(tree: Any) -> bytes:
    """Compact, sorted keys: byte-identical for the same tree."""
    with gc_paused():
        return dumps(tree, orjson.OPT_SORT_KEYS)


class ExactJson(bytes):
    """JSON that ``dumps`` wrote with an integer beyond 64 bits in it: orjson would read that
    integer back as a float, so ``loads`` gives it to the stdlib parser."""


def dumps(value: Any, option: int = 0) -> bytes:
    """``orjson.dumps(value, option=option)``, except that integers beyond 64 bits are written
    exactly (orjson refuses them); ``option``: 0 or ``OPT_SORT_KEYS``.  Whatever else orjson
    refuses (a lone surrogate, a key that is not a string) is still refused by it."""
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError as exc:
        if str(exc) != _BEYOND_64_BITS:
            raise
    with gc_paused():
        return ExactJson(_exact(value, bool(option & orjson.OPT_SORT_KEYS)))


def _exact(value: Any, sort: bool) -> bytes:
    """What orjson would write if it wrote every integer: each part that holds no integer
    beyond 64 bits is orjson's own bytes; only the containers on the way to one are joined here."""
    if type(value) is int:
        return str(value).encode() if not INT64[0] <= value <= INT64[1] else orjson.dumps(value)
    if isinstance(value, dict):
        if any(type(key) is not str for key in value):
            raise orjson.JSONEncodeError("Dict key must be str")
        items = sorted(value.items(), key=lambda item: item[0]) if sort else value.items()
        return b"{" + b",".join(orjson.dumps(key) + b":" + _part(item, sort) for key, item in items) + b"}"
    if isinstance(value, list | tuple):
        return b"[" + b",".join(_part(item, sort) for item in value) + b"]"
    return orjson.dumps(value)


def _part(value: Any, sort: bool) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort else 0)
    except orjson.JSONEncodeError as exc:
        if str(exc) != _BEYOND_64_BITS:
            raise
    return _exact(value, sort)


def loads(data: bytes | bytearray | memoryview | str, exact: bool = False) -> Any:
    """Read back JSON that ``dumps`` wrote: ``orjson.loads``, or the stdlib parser for
    ``ExactJson`` (or when ``exact`` says the text came from one), which keeps integers
    beyond 64 bits as integers."""
    if exact or isinstance(data, ExactJson):
        return json.loads(bytes(data) if isinstance(data, bytearray | memoryview) else data)
    return orjson.loads(data)
