"""0.10 -> 0.11: Computer ``name`` becomes ``label`` (rows and ``all_fields_info``)."""

from converters.migrations._base import Draft, rename_field


def migrate(draft: Draft) -> None:
    rename_field(draft, "Computer", "name", "label")
