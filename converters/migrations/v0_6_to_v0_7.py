"""0.6 -> 0.7: process nodes are sealed; Attribute and Link leave the metadata.

Every ``process.*`` node gets ``sealed = True`` and loses ``_sealed``,
``_finished``, ``_failed``, ``_aborted`` and ``_do_abort``.  A process still
``created``, ``running`` or ``waiting`` cannot be sealed and is refused, as
are attributes of a node that is not in ``export_data.Node``.

Deliberate difference from aiida-core: aiida-core 2.9.4 intends to raise
``CorruptStorage`` here but crashes with ``AttributeError`` in its violation
logger and writes ``./migration-*.log`` into the working directory.  reportgen
gives one error line naming the nodes and writes nothing.
"""

from converters.migrations._base import Draft, entities, refuse

ACTIVE = ("created", "running", "waiting")
OLD_KEYS = ("_sealed", "_finished", "_failed", "_aborted", "_do_abort")


def migrate(draft: Draft) -> None:
    nodes = entities(draft, "Node")
    active = []
    for pk, attrs in (draft.data.get("node_attributes") or {}).items():
        if pk not in nodes:
            raise refuse(draft, f"attributes of node {pk} which is not in export_data.Node (orphan)")
        if not (nodes[pk].get("node_type") or "").startswith("process."):
            continue
        if attrs.get("process_state") in ACTIVE:
            active.append(f"{pk} ({attrs['process_state']})")
            continue
        attrs["sealed"] = True
        for key in OLD_KEYS:
            attrs.pop(key, None)
    if active:
        raise refuse(draft, f"active process nodes cannot be sealed: {', '.join(active[:5])}")
    for key in ("unique_identifiers", "all_fields_info"):
        for name in ("Attribute", "Link"):
            draft.metadata.get(key, {}).pop(name, None)
