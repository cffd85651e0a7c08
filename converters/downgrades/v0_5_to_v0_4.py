"""0.5 -> 0.4: Node ``nodeversion`` and ``public`` and Computer ``transport_params`` return.

The forward step drops them whatever their value, so any value round-trips;
the ones written are aiida-core's defaults (``nodeversion`` 1, ``public``
false, ``transport_params`` ``{}``).  Loses nothing.
"""

from converters.migrations._base import Draft, entities, fields_info

SOURCE, TARGET = "0.5", "0.4"
LOSES = "nothing (the restored fields carry aiida-core's defaults)"
DEFAULTS = {"Node": {"nodeversion": 1, "public": False}, "Computer": {"transport_params": {}}}


def downgrade(draft: Draft) -> None:
    info = fields_info(draft)
    for entity, fields in DEFAULTS.items():
        for row in entities(draft, entity).values():
            for name, value in fields.items():
                row.setdefault(name, value if not isinstance(value, dict) else {})
        entity_info = info.get(entity)
        if isinstance(entity_info, dict):
            for name in fields:
                entity_info.setdefault(name, {})
