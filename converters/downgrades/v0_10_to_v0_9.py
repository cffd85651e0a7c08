"""0.10 -> 0.9: the ``jsonb`` declarations of Node attributes/extras and Group extras removed.

Metadata only; the data is kept.  Note: 0.9 readers older than aiida-core
1.5 choke on non-empty Group extras (the reason 0.10 exists, aiida-core
issue 4560); they are kept because 0.9 archives written by 1.2-1.4 carry them.
"""

from converters.migrations._base import Draft, fields_info

SOURCE, TARGET = "0.10", "0.9"
LOSES = "nothing"


def downgrade(draft: Draft) -> None:
    info = fields_info(draft)
    for entity, names in (("Node", ("attributes", "extras")), ("Group", ("extras",))):
        fields = info.get(entity)
        if isinstance(fields, dict):
            for name in names:
                fields.pop(name, None)
