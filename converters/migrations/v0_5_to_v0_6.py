"""0.5 -> 0.6: attributes and extras become JSONB; the ``*_conversion`` shadow trees go.

Every attribute or extra whose shadow leaf is ``"date"`` gets ``+00:00``
appended (the value was UTC without a zone); any other non-null leaf is
refused.  Both conversion trees are then deleted.  Legacy JobCalculation
``state`` values of CalcJobNodes become ``process_state`` / ``exit_status`` /
``process_status`` and ``process_label = 'Legacy JobCalculation'``.

Deliberate difference from aiida-core: aiida-core pairs list elements with
``zip()``, so a list longer than its shadow silently loses elements, and a
key missing from a shadow dict crashes.  Here a missing shadow means "no
conversion": nothing is dropped.
"""

from __future__ import annotations

from typing import Any

from converters.jsonio import dumps
from converters.migrations._base import Draft, entities, refuse

CALC_JOB = "process.calculation.calcjob.CalcJobNode."
KILLED = ("NEW", "TOSUBMIT", "SUBMITTING", "WITHSCHEDULER", "COMPUTED", "RETRIEVING", "PARSING")
EXCEPTED = ("SUBMISSIONFAILED", "RETRIEVALFAILED", "PARSINGFAILED")


def _legacy_state(state: str) -> dict[str, Any]:
    if state in KILLED:
        return {"process_state": "killed", "process_status": f"Legacy `JobCalculation` with state `{state}`"}
    if state in EXCEPTED:
        return {"process_state": "excepted", "process_status": f"Legacy `JobCalculation` with state `{state}`"}
    if state == "FAILED":
        return {"process_state": "finished", "exit_status": 2}
    return {"process_state": "finished", "exit_status": 0}  # FINISHED


STATES = frozenset(KILLED + EXCEPTED + ("FAILED", "FINISHED"))


def deserialize(draft: Draft, value: Any, shadow: Any, path: str) -> Any:
    """``value`` with ``+00:00`` added wherever ``shadow`` says ``"date"``; edits in place."""
    if shadow is None:
        return value
    if isinstance(shadow, str):
        if shadow != "date":
            raise refuse(draft, f"unknown convert_type {shadow!r} at {path}")
        return f"{value}+00:00" if isinstance(value, str) else value
    if isinstance(value, dict) and isinstance(shadow, dict):
        for key in value:
            value[key] = deserialize(draft, value[key], shadow.get(key), f"{path}.{key}")
    elif isinstance(value, list) and isinstance(shadow, list):
        for index in range(min(len(value), len(shadow))):
            value[index] = deserialize(draft, value[index], shadow[index], f"{path}[{index}]")
    return value


def _has_string_leaf(shadow: Any) -> bool:
    """Whether any leaf is a string (most shadows are all ``null``); see ``string_leaf_in``."""
    return string_leaf_in(dumps(shadow))


def string_leaf_in(dumped: bytes) -> bool:
    """Whether a compact dump holds a string leaf: more quotes than its keys account for.

    At C speed, this spares the Python walk over shadows that convert nothing.
    """
    return dumped.count(b'"') > 2 * dumped.count(b'":')


def _convert(draft: Draft, values_key: str, shadow_key: str) -> None:
    values = draft.data.get(values_key) or {}
    shadows = draft.data.pop(shadow_key, None) or {}
    for pk, shadow in shadows.items():
        if pk in values and shadow and _has_string_leaf(shadow):
            deserialize(draft, values[pk], shadow, f'$.{values_key}["{pk}"]')


def _legacy_job_states(draft: Draft) -> None:
    calc_jobs = {pk for pk, row in entities(draft, "Node").items() if row.get("node_type") == CALC_JOB}
    for pk, attrs in (draft.data.get("node_attributes") or {}).items():
        if pk in calc_jobs and isinstance(attrs, dict) and attrs.get("state") in STATES:
            attrs.update(_legacy_state(attrs.pop("state")))
            attrs["process_label"] = "Legacy JobCalculation"


def migrate(draft: Draft) -> None:
    _convert(draft, "node_attributes", "node_attributes_conversion")
    _convert(draft, "node_extras", "node_extras_conversion")
    _legacy_job_states(draft)
