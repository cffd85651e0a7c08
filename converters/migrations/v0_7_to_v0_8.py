"""0.7 -> 0.8: the link label ``_return`` becomes ``result``."""

from converters.migrations._base import Draft


def migrate(draft: Draft) -> None:
    for link in draft.data.get("links_uuid", []):
        if link.get("label") == "_return":
            link["label"] = "result"
