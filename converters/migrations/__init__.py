"""The step table and the planner.

``STEPS`` maps ``(from_version, to_version)`` to a function editing a
``Draft`` in place.  It holds the legacy forward steps 0.1 -> ... -> 0.13;
later families (``main_0001``) and downward steps are added with
``register_step`` and the planner finds them: it searches the table for the
shortest path, so nothing here assumes "forward" or "legacy".

``run_step`` does the bookkeeping every step shares: it checks the version
the step gets, stamps the one it makes, and appends
``"Converted from version A to B with reportgen vX"`` to
``metadata["conversion_info"]``.  ``aiida_version`` is left as the writer
recorded it (aiida-core overwrites it with its own version at every step);
the history of who converted lives in ``conversion_info``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from converters.errors import BadInputError, UsageError
from converters.migrations import (
    v0_1_to_v0_2,
    v0_2_to_v0_3,
    v0_3_to_v0_4,
    v0_4_to_v0_5,
    v0_5_to_v0_6,
    v0_6_to_v0_7,
    v0_7_to_v0_8,
    v0_8_to_v0_9,
    v0_9_to_v0_10,
    v0_10_to_v0_11,
    v0_11_to_v0_12,
    v0_12_to_v0_13,
)
from converters.migrations._base import Draft
from converters.versions import KNOWN_VERSIONS, conversion_history, version_index

Step = Callable[[Draft], None]

STEPS: dict[tuple[str, str], Step] = {
    ("0.1", "0.2"): v0_1_to_v0_2.migrate,
    ("0.2", "0.3"): v0_2_to_v0_3.migrate,
    ("0.3", "0.4"): v0_3_to_v0_4.migrate,
    ("0.4", "0.5"): v0_4_to_v0_5.migrate,
    ("0.5", "0.6"): v0_5_to_v0_6.migrate,
    ("0.6", "0.7"): v0_6_to_v0_7.migrate,
    ("0.7", "0.8"): v0_7_to_v0_8.migrate,
    ("0.8", "0.9"): v0_8_to_v0_9.migrate,
    ("0.9", "0.10"): v0_9_to_v0_10.migrate,
    ("0.10", "0.11"): v0_10_to_v0_11.migrate,
    ("0.11", "0.12"): v0_11_to_v0_12.migrate,
    ("0.12", "0.13"): v0_12_to_v0_13.migrate,
}


def register_step(source: str, target: str, step: Step) -> None:
    """Add a step (a later format family, or a downgrade) to the table."""
    for version in (source, target):
        if version not in KNOWN_VERSIONS:
            KNOWN_VERSIONS.append(version)
    STEPS[(source, target)] = step


def plan(source: str, target: str, option: str = "--to") -> list[tuple[str, str]]:
    """The shortest chain of registered steps from ``source`` to ``target``; refuses with a sentence
    naming ``option``, the command-line option the user gave ``target`` with."""
    if target not in KNOWN_VERSIONS:
        raise UsageError(option, f"unknown target version {target!r} (known: {', '.join(KNOWN_VERSIONS)})")
    came_from: dict[str, str | None] = {source: None}
    queue = deque([source])
    while queue:
        here = queue.popleft()
        for a, b in sorted(STEPS, key=lambda s: version_index(s[1])):
            if a == here and b not in came_from:
                came_from[b] = a
                queue.append(b)
    if target not in came_from:
        direction = "down" if version_index(target) < version_index(source) else "up"
        raise UsageError(
            option, f"cannot migrate from {source} {direction} to {target}: no chain of registered steps leads there"
        )
    path = [target]
    while came_from[path[-1]] is not None:
        path.append(came_from[path[-1]])
    path.reverse()
    return list(zip(path, path[1:]))


def run_step(draft: Draft, source: str, target: str, tool: str) -> None:
    """Check, apply, stamp one step."""
    found = draft.metadata.get("export_version")
    if found != source:
        raise BadInputError(draft.file, f"step {source} -> {target} got an archive at version {found!r}", "metadata.json")
    try:
        STEPS[(source, target)](draft)
    except BadInputError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if not isinstance(draft, Draft):  # a database step: not a question of data.json's shape
            raise
        raise shape_error(draft.file, source, exc) from None  # steps trust their version's structure
    draft.metadata["export_version"] = target
    if conversion_history(draft.metadata) is None:  # not a list of strings: validate warned, a new one starts
        draft.metadata["conversion_info"] = []
    draft.metadata.setdefault("conversion_info", []).append(f"Converted from version {source} to {target} with reportgen v{tool}")


def shape_error(file: str, source: str, exc: Exception, where: str = "data.json") -> BadInputError:
    """A step's KeyError/TypeError/...: the input lacks the structure of its version (bad input, not a bug)."""
    return BadInputError(
        file,
        f"{where} does not have the structure of export version {source} "
        f"({type(exc).__name__}: {exc}); run 'reportgen archive validate' for every problem",
        "data.json",
    )
