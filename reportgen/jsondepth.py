"""JSON from the data_store, parsed with a bound on how deeply it nests.

A value nested past about 255 levels parses with ``json.loads`` but breaks what
comes after it: orjson, which writes the archive's ``data.json``, stops at 255
levels (the export then failed its own validate), and a record nested past
Python's recursion limit cannot be pickled back from a reader's worker (the
whole job became corrupt).  A value nested deeper than MAX_JSON_DEPTH is
therefore not taken as JSON: an output row stays text, a parameters file is
carried only as the file it is.
"""

from __future__ import annotations

import json
from typing import Any

from converters.main.jsonvalue import nested_deeper

# The bound leaves room for the levels the archive adds around a value (attributes, a list of sets).
MAX_JSON_DEPTH = 128


def load_json(text: str | bytes) -> Any:
    """``json.loads``; ValueError for a value nested deeper than MAX_JSON_DEPTH (RecursionError
    still for one Python cannot parse at all)."""
    value = json.loads(text)
    brackets = text.count("[") + text.count("{") if isinstance(text, str) else text.count(b"[") + text.count(b"{")
    if brackets > MAX_JSON_DEPTH and nested_deeper(value, MAX_JSON_DEPTH):  # the count: a cheap bound first
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value
