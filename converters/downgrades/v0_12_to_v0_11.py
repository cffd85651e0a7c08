"""0.12 -> 0.11: the ``core.`` prefix of built-in entry points removed again.

Node types of the 24 built-in data classes, the four arithmetic /
templatereplacer process types, the six scheduler types and the CalcJob
attribute ``parser_name`` (reportgen's forward step renames it as intended).
Loses: values already in the old spelling at 0.12 (the upgrade would rename them).
"""

from converters.downgrades._common import declare, inverse_map
from converters.migrations._base import Draft, entities
from converters.migrations.v0_11_to_v0_12 import NODE_TYPES, PARSERS, PROCESS_TYPES, SCHEDULERS

SOURCE, TARGET = "0.12", "0.11"
LOSES = "nothing, except values already spelt the 0.11 way (the upgrade would prefix them)"


def downgrade(draft: Draft) -> None:
    ambiguous = inverse_map(draft, "Node", "node_type", NODE_TYPES)
    ambiguous += inverse_map(draft, "Node", "process_type", PROCESS_TYPES)
    ambiguous += inverse_map(draft, "Computer", "scheduler_type", SCHEDULERS)
    back = {new: old for old, new in PARSERS.items()}
    attributes = draft.data.get("node_attributes") or {}
    for pk in entities(draft, "Node"):
        attrs = attributes.get(pk)
        if isinstance(attrs, dict) and isinstance(attrs.get("parser_name"), str):
            if attrs["parser_name"] in back:
                attrs["parser_name"] = back[attrs["parser_name"]]
            elif attrs["parser_name"] in PARSERS:
                ambiguous += 1
    declare(draft, f"{SOURCE} -> {TARGET}", [("values already without the core. prefix", ambiguous)])
