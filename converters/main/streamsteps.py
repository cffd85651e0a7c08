"""Legacy steps applied row by row while streaming (0.7 -> ... -> 0.13 on the way to main).

A step is *local* when its effect on any subset of rows equals its effect on
the whole document: it looks at one row (or one node's attributes) at a time
and at nothing global.  For those, the registered step function itself runs
on a small Draft holding one batch of rows (``converters.legacy_stream.BatchSteps``),
so the streamed result is the same code's result, not a re-implementation.  Steps that need the whole
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

from converters.legacy_stream import BatchSteps, apply_to_metadata, migrated_events

__all__ = ["LOCAL", "local_prefix", "row_transformer", "apply_to_metadata", "stage_migrating"]

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


def row_transformer(steps: list[tuple[str, str]]) -> Callable[[str, object], object]:
    """``transform(section, batch)``: a section's batch after every step (sections as in data.json)."""
    batch_steps = BatchSteps(steps, "stream", context=None)

    def transform(section: str, batch):
        return batch_steps(tuple(section.split(".")), batch)[1] if steps else batch

    return transform


def stage_migrating(archive, metadata: dict, legacy: list[tuple[str, str]], workdir, strict: bool, tool: str,
                    keep_blobs: bool = True, observe: Callable[[str, object], None] | None = None):  # fmt: skip
    """Stage a legacy archive (0.4 or later) into SQLite with ``legacy`` steps run on the way.

    From 0.7 the steps are row-local and run as a cheap per-batch transform;
    from 0.4 three of them need facts from other sections, which
    ``converters.legacy_stream`` gathers (one more dump per batch, and a spool
    for attributes that come before their nodes).  ``keep_blobs``: see ``stage_legacy``.
    ``observe(section, batch)`` sees each batch of rows as the input holds it, before any step
    (``inspect --stream`` counts the archive on disk, not the migrated one).
    """
    from converters.main.legacy_to_main import stage_legacy

    # a deep copy: the steps append to conversion_info, and the caller's history is the input's
    migrated = copy.deepcopy(metadata)
    apply_to_metadata(migrated, legacy, tool)
    if local_prefix(legacy) == legacy:
        transform = row_transformer(legacy)
        if observe is not None:
            transform = _observed(transform, observe)
        return stage_legacy(archive, migrated, workdir, strict, transform, keep_blobs=keep_blobs)
    events = lambda opener: migrated_events(archive, legacy, workdir, opener, observe=observe)  # noqa: E731
    return stage_legacy(archive, migrated, workdir, strict, events=events, keep_blobs=keep_blobs)


def _observed(transform: Callable[[str, object], object], observe: Callable[[str, object], None]):
    """``transform`` that first shows each batch, unchanged, to ``observe``."""

    def both(section: str, batch):
        observe(section, batch)
        return transform(section, batch)

    return both
