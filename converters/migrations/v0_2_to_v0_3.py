"""0.2 -> 0.3: links get a ``type``; entity names become backend-agnostic.

Each link's type follows from the kinds of its two ends (classified by the
node ``type`` prefix): code/data into a calculation or workflow is
``inputlink``, calculation to data ``createlink``, workflow to data
``returnlink``, workflow to calculation/workflow ``calllink``, anything else
``unspecified``.  A link to a node that is not in the archive is refused
(aiida-core: ``DanglingLinkError``).  ``aiida.backends.djsite.db.models.DbNode``
and its siblings become ``Node``, ``Link``, ``Group``, ``Computer``, ``User``,
``Attribute``.
"""

from converters.migrations._base import Draft, refuse, rename_entities

PREFIX = "aiida.backends.djsite.db.models."
SHORT = {f"{PREFIX}Db{n}": n for n in ("Node", "Link", "Group", "Computer", "User", "Attribute")}


def classify(node_type: str) -> str:
    if node_type.startswith(("calculation.job.", "calculation.inline.")):
        return "CALC"
    if node_type.startswith("code.Code"):
        return "CODE"
    if node_type.startswith("data."):
        return "DATA"
    if node_type.startswith("calculation.work."):
        return "WORK"
    return "NONE"


def link_type(source: str, target: str) -> str:
    if source in ("CODE", "DATA") and target in ("CALC", "WORK"):
        return "inputlink"
    if source == "CALC" and target == "DATA":
        return "createlink"
    if source == "WORK" and target == "DATA":
        return "returnlink"
    if source == "WORK" and target in ("CALC", "WORK"):
        return "calllink"
    return "unspecified"


def migrate(draft: Draft) -> None:
    nodes = draft.data.get("export_data", {}).get(f"{PREFIX}DbNode", {})
    kinds = {row["uuid"]: classify(row.get("type") or "") for row in nodes.values()}
    for index, link in enumerate(draft.data.get("links_uuid", [])):
        for end in ("input", "output"):
            if link.get(end) not in kinds:
                raise refuse(draft, f"dangling link: $.links_uuid[{index}].{end} {link.get(end)!r} is not a node")
        link["type"] = link_type(kinds[link["input"]], kinds[link["output"]])
    rename_entities(draft, lambda name: SHORT.get(name, name))
