"""0.8 -> 0.9: Group ``type_string`` values move to the ``core`` namespace.

``user`` -> ``core``, ``data.upf`` -> ``core.upf``, ``auto.import`` ->
``core.import``, ``auto.run`` -> ``core.auto``.
"""

from converters.migrations._base import Draft, map_values

GROUP_TYPES = {"user": "core", "data.upf": "core.upf", "auto.import": "core.import", "auto.run": "core.auto"}


def migrate(draft: Draft) -> None:
    map_values(draft, "Group", "type_string", GROUP_TYPES)
