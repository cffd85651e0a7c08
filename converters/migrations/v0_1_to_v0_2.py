"""0.1 -> 0.2: the Django backend moved from ``aiida.djsite`` to ``aiida.backends.djsite``.

Entity names in ``export_data``, ``unique_identifiers`` and ``all_fields_info``
(and every ``requires`` value) change prefix.  Archives that already use the
new prefix (aiida-core's own 0.1 test archive does) pass through unchanged.
"""

from converters.migrations._base import Draft, rename_entities

OLD, NEW = "aiida.djsite", "aiida.backends.djsite"


def _rename(name: str) -> str:
    return NEW + name[len(OLD) :] if name.startswith(OLD) else name


def migrate(draft: Draft) -> None:
    rename_entities(draft, _rename)
