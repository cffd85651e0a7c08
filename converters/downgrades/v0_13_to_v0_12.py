"""0.13 -> 0.12: Computer ``transport_type`` ``core.local``/``core.ssh`` back to ``local``/``ssh``.

Loses: computers whose 0.13 transport is already ``local``/``ssh`` (the
forward step would rename them).
"""

from converters.downgrades._common import declare, inverse_map
from converters.migrations._base import Draft

SOURCE, TARGET = "0.13", "0.12"
FORWARD = {"local": "core.local", "ssh": "core.ssh"}
LOSES = "nothing, except a 0.13 transport_type of plain 'local'/'ssh' (the upgrade would prefix it)"


def downgrade(draft: Draft) -> None:
    ambiguous = inverse_map(draft, "Computer", "transport_type", FORWARD)
    declare(draft, f"{SOURCE} -> {TARGET}", [("computers with an unprefixed transport_type", ambiguous)])
