"""Legacy steps applied row by row while streaming (0.7 -> ... -> 0.13 on the way to main).

A step is *local* when its effect on any subset of rows equals its effect on
the whole document: it looks at one row (or one node's attributes) at a time
and at nothing global.  For those, the registered step function itself runs
on a small Draft holding one batch of rows, so the streamed result is the
same code's result, not a re-implementation.  Steps that need the whole
document (0.3 -> 0.4 deletes links by node type, 0.6 -> 0.7 seals by node
type, 0.5 -> 0.6 walks the shadow trees) still go through the in-memory
chain first.

The one approximation: 0.11 -> 0.12 renames ``parser_name`` for attributes
whose node is in ``export_data.Node``; in a batch every attribute row is
assumed to have its node (orphan attributes are reported by validation).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from converters.migrations import STEPS, run_step
from converters.migrations._base import Draft, RepoView

LOCAL: tuple[tuple[str, str], ...] = (
    ("0.7", "0.8"),
    ("0.8", "0.9"),
    ("0.9", "0.10"),
    ("0.10", "0.11"),
    ("0.11", "0.12"),
    ("0.12", "0.13"),
)


def local_prefix(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The leading steps of a plan that can run row by row."""
    prefix = []
    for step in steps:
        if step not in LOCAL:
            break
        prefix.append(step)
    return prefix


def _mini(metadata: dict, data: dict) -> Draft:
    return Draft("stream", copy.deepcopy(metadata), data, RepoView(lambda names: {}, (), "stream"))


def apply_to_metadata(metadata: dict, steps: list[tuple[str, str]], tool: str) -> None:
    """Run the steps' metadata part (and the version bookkeeping) once, on an empty document."""
    draft = Draft("stream", metadata, {}, RepoView(lambda names: {}, (), "stream"))
    for source, target in steps:
        run_step(draft, source, target, tool)


def row_transformer(steps: list[tuple[str, str]], metadata: dict) -> Callable[[str, object], object]:
    """``transform(section, batch)``: a section's batch after every step (sections as in data.json)."""
    functions = [STEPS[step] for step in steps]

    def transform(section: str, batch):
        if not functions:
            return batch
        if section.startswith("export_data."):
            data = {"export_data": {section.split(".", 1)[1]: batch}}
        elif section in ("node_attributes", "node_extras"):
            data = {section: batch, "export_data": {"Node": {pk: {} for pk in batch}}}
        else:  # links_uuid (a list) or groups_uuid (a dict)
            data = {section: batch}
        draft = _mini(metadata, data)
        for function in functions:
            function(draft)
        if section.startswith("export_data."):
            return draft.data["export_data"][section.split(".", 1)[1]]
        return draft.data[section]

    return transform
