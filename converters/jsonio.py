"""JSON in and out of archives: fast (orjson), strict, deterministic.

Reading refuses what the stdlib or orjson would accept silently or crash on
(security reference, test plan row 21): truncation, deep nesting, numbers out
of range, ``NaN``/``Infinity``, lone surrogates and duplicate keys all become
``BadInputError("data.json: invalid JSON at ...")``, exit 65, never 70.

Duplicate keys are the silent case (every parser keeps the last copy).  They
are found without a second parse in the common case: re-serialising the
parsed tree gives back every key once, so if the input has more ``:`` outside
its strings than the tree has, a key was dropped.  Only when that cheap count
disagrees, or the input escapes a colon or holds a 20-digit number, does the
exact (slow, stdlib) parse run to name the place.

Integers beyond 64 bits are refused: orjson would turn them into floats
silently, and AiiDA's databases cannot hold them either.

Writing uses orjson with sorted keys, compact, so the same tree gives the
same bytes on every run.
"""

from __future__ import annotations

import gc
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from converters.errors import BadInputError

_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_SCAN = 16 * 1024 * 1024
_INT64 = (-(2**63), 2**64 - 1)


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


def read_json(file: Path | str, member: str, data: bytes) -> Any:
    """Parse one JSON member strictly; see the module docstring."""
    with gc_paused():
        try:
            tree = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise _invalid(file, member, exc) from None
        if _suspicious(data) or data.count(b":") != orjson.dumps(tree).count(b":"):
            _exact_check(file, member, data)
    return tree


def _suspicious(data: bytes) -> bool:
    """An escaped colon, or a run of 20 digits (a number orjson may have turned into a float).

    A regex over the whole document costs ~40 ms/MB; translating digits to
    ``0`` and searching for twenty of them runs at memory speed, in 16 MiB
    windows so no full copy is made.
    """
    if b"\\u003a" in data or b"\\u003A" in data:
        return True
    run = b"0" * 20
    for start in range(0, len(data), _SCAN):
        window = data[start : start + _SCAN + 19].translate(_DIGITS_TO_ZERO)
        if run in window:
            return True
    return False


def _invalid(file: Path | str, member: str, exc: json.JSONDecodeError) -> BadInputError:
    return BadInputError(
        file, f"{member}: invalid JSON at line {exc.lineno} column {exc.colno} (char {exc.pos}): {exc.msg}", member
    )


def _exact_check(file: Path | str, member: str, data: bytes) -> None:
    """The slow, exact parse: names the duplicate key or the out-of-range number."""

    def pairs(items: list[tuple[str, Any]]) -> dict:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                raise ValueError(f"key {key!r} (duplicate key)")
            seen.add(key)
        return dict(items)

    def integer(text: str) -> int:
        value = int(text)
        if not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(f"integer {text[:20]}... (out of 64-bit range)")
        return value

    def constant(text: str) -> None:
        raise ValueError(f"{text} (not JSON)")

    try:
        json.loads(data, object_pairs_hook=pairs, parse_int=integer, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise _invalid(file, member, exc) from None
    except (ValueError, RecursionError) as exc:
        raise BadInputError(file, f"{member}: invalid JSON at {exc}", member) from None


def dump_json(tree: Any) -> bytes:
    """Compact, sorted keys: byte-identical for the same tree."""
    with gc_paused():
        return orjson.dumps(tree, option=orjson.OPT_SORT_KEYS)
