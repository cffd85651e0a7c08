"""0.11 -> 0.10: Computer ``label`` back to ``name`` (rows and ``all_fields_info``). Loses nothing."""

from converters.migrations._base import Draft, rename_field

SOURCE, TARGET = "0.11", "0.10"
LOSES = "nothing"


def downgrade(draft: Draft) -> None:
    rename_field(draft, "Computer", "label", "name")
