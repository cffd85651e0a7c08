"""0.8 -> 0.7: link labels are kept as they are.

The forward step renames ``_return`` to ``result``; a 0.8 ``result`` may be
such a rename or a label that was always ``result``, and both are valid at
0.7.  Keeping the label is the inverse that survives the round trip (the
upgrade leaves ``result`` alone).  Loses: 0.8 links labelled ``_return``
(the upgrade would rename them).
"""

from converters.downgrades._common import declare
from converters.migrations._base import Draft

SOURCE, TARGET = "0.8", "0.7"
LOSES = "nothing, except links labelled '_return' at 0.8"


def downgrade(draft: Draft) -> None:
    count = sum(1 for link in draft.data.get("links_uuid", []) if link.get("label") == "_return")
    declare(draft, f"{SOURCE} -> {TARGET}", [("links labelled '_return'", count)])
