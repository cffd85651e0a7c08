"""0.7 -> 0.6: process nodes' ``sealed`` back to ``_sealed``; Attribute and Link return to the metadata.

The forward step deleted ``_finished``, ``_failed``, ``_aborted`` and
``_do_abort``; they are not invented here.  Loses: process nodes whose
``sealed`` is not true (the upgrade seals every process node).
"""

from converters.downgrades._common import declare
from converters.migrations._base import Draft, entities

SOURCE, TARGET = "0.7", "0.6"
LOSES = "nothing, except process nodes that are not sealed"
LINK_INFO = {
    "input": {"requires": "Node", "related_name": "output_links"},
    "output": {"requires": "Node", "related_name": "input_links"},
    "label": {},
    "type": {},
}
ATTRIBUTE_INFO = {"dbnode": {"requires": "Node", "related_name": "dbattributes"}, "key": {}, "datatype": {}}


def downgrade(draft: Draft) -> None:
    nodes = entities(draft, "Node")
    unsealed = 0
    for pk, attrs in (draft.data.get("node_attributes") or {}).items():
        if not isinstance(attrs, dict) or not (nodes.get(pk, {}).get("node_type") or "").startswith("process."):
            continue
        if attrs.get("sealed") is not True:
            unsealed += 1
        if "sealed" in attrs:
            attrs["_sealed"] = attrs.pop("sealed")
    declare(draft, f"{SOURCE} -> {TARGET}", [("process nodes that are not sealed", unsealed)])
    draft.metadata.setdefault("unique_identifiers", {}).update({"Attribute": None, "Link": None})
    info = draft.metadata.setdefault("all_fields_info", {})
    info["Link"] = dict(LINK_INFO)
    info["Attribute"] = dict(ATTRIBUTE_INFO)
