"""0.9 -> 0.8: Group ``type_string`` back from the ``core`` namespace.

``core`` -> ``user``, ``core.upf`` -> ``data.upf``, ``core.import`` ->
``auto.import``, ``core.auto`` -> ``auto.run``.  Loses: groups already typed
the 0.8 way at 0.9 (the upgrade would rename them).
"""

from converters.downgrades._common import declare, inverse_map
from converters.migrations._base import Draft
from converters.migrations.v0_8_to_v0_9 import GROUP_TYPES

SOURCE, TARGET = "0.9", "0.8"
LOSES = "nothing, except groups already typed the 0.8 way"


def downgrade(draft: Draft) -> None:
    ambiguous = inverse_map(draft, "Group", "type_string", GROUP_TYPES)
    declare(draft, f"{SOURCE} -> {TARGET}", [("groups with a pre-0.9 type_string", ambiguous)])
