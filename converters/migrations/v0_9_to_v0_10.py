"""0.9 -> 0.10: metadata only; attributes, extras and Group extras declared ``jsonb``.

The bump exists so that older AiiDA refuses archives carrying group extras
(aiida-core issue 4560).
"""

from converters.migrations._base import Draft, fields_info

JSONB = {"convert_type": "jsonb"}


def migrate(draft: Draft) -> None:
    info = fields_info(draft)
    node = info.setdefault("Node", {})
    node["attributes"] = dict(JSONB)
    node["extras"] = dict(JSONB)
    info.setdefault("Group", {})["extras"] = dict(JSONB)
