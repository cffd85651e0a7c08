"""0.6 -> 0.5: JSONB datetimes back to naive strings with ``*_conversion`` shadow trees.

Every attribute or extra string that is a UTC datetime
(``YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00``) loses its ``+00:00`` and gets the
shadow leaf ``"date"``; every other leaf gets ``null``.  Lists are mirrored
element by element.  The legacy JobCalculation ``state`` mapping of the
forward step replaced information that cannot be rebuilt, and is not undone.
Loses: CalcJob nodes that carry an old-style ``state`` attribute (the upgrade
would rewrite them).
"""

from __future__ import annotations

import re
from typing import Any

from converters.downgrades._common import declare
from converters.validate import is_date
from converters.migrations._base import Draft, entities
from converters.migrations.v0_5_to_v0_6 import CALC_JOB, STATES

SOURCE, TARGET = "0.6", "0.5"
LOSES = "nothing, except CalcJob nodes with a legacy 'state' attribute"
# ASCII digits ([0-9]: \d takes any script's); a string of this shape must also be a real moment
# (``is_date``): one that is not (2020-02-30) stays a string, which a 0.5 reader would fail to parse
UTC_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?\+00:00\Z")


def serialize(value: Any) -> tuple[Any, Any]:
    """(value without UTC offsets, its shadow tree)."""
    if isinstance(value, str) and is_date(value, UTC_DATE):
        return value[: -len("+00:00")], "date"
    if isinstance(value, dict):
        pairs = {k: serialize(v) for k, v in value.items()}
        return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
    if isinstance(value, list):
        pairs_list = [serialize(v) for v in value]
        return [p[0] for p in pairs_list], [p[1] for p in pairs_list]
    return value, None


def _shadow(draft: Draft, values_key: str, shadow_key: str) -> None:
    values = draft.data.get(values_key) or {}
    shadows = {}
    for pk, tree in values.items():
        values[pk], shadows[pk] = serialize(tree)
    draft.data[shadow_key] = shadows


def downgrade(draft: Draft) -> None:
    calc_jobs = {pk for pk, row in entities(draft, "Node").items() if row.get("node_type") == CALC_JOB}
    stateful = sum(
        1
        for pk, attrs in (draft.data.get("node_attributes") or {}).items()
        if pk in calc_jobs and isinstance(attrs, dict) and attrs.get("state") in STATES
    )
    declare(draft, f"{SOURCE} -> {TARGET}", [("CalcJob nodes with a legacy state attribute", stateful)])
    _shadow(draft, "node_attributes", "node_attributes_conversion")
    _shadow(draft, "node_extras", "node_extras_conversion")
