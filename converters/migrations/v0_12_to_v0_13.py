"""0.12 -> 0.13: Computer ``transport_type`` ``local``/``ssh`` gain ``core.``.

Added by aiida-core 2.1 (#5604); no AiiDA ever wrote 0.13 directly.
"""

from converters.migrations._base import Draft, map_values


def migrate(draft: Draft) -> None:
    map_values(draft, "Computer", "transport_type", {"local": "core.local", "ssh": "core.ssh"})
