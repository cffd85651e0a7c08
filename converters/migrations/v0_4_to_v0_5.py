"""0.4 -> 0.5: Node ``nodeversion`` and ``public`` and Computer ``transport_params`` dropped.

Removed from the rows and from ``all_fields_info``; missing keys are ignored.
"""

from converters.migrations._base import Draft, drop_fields


def migrate(draft: Draft) -> None:
    drop_fields(draft, "Node", ("nodeversion", "public"))
    drop_fields(draft, "Computer", ("transport_params",))
