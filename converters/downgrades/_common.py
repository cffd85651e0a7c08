"""What every downgrade shares: inverting a value map and declaring losses."""

from __future__ import annotations

from converters.errors import BadInputError
from converters.migrations._base import Draft, entities


def inverse_map(draft: Draft, entity: str, name: str, forward: dict[str, str]) -> int:
    """Apply the inverse of ``forward``; return how many values the forward step would rewrite.

    A value in ``forward``'s domain but not its range (e.g. ``local`` at 0.13)
    is kept, but the forward step would change it on the way back up: that
    breaks the round trip, so it is counted as a loss.
    """
    back = {new: old for old, new in forward.items()}
    ambiguous = 0
    for row in entities(draft, entity).values():
        value = row.get(name)
        if not isinstance(value, str):
            continue
        if value in back:
            row[name] = back[value]
        elif value in forward:
            ambiguous += 1
    return ambiguous


def declare(draft: Draft, step: str, losses: list[tuple[str, int]]) -> None:
    """Record what the step loses; refuse unless the run allows loss."""
    found = [(what, n) for what, n in losses if n]
    if not found:
        return
    sentence = "; ".join(f"{n} {what}" for what, n in found)
    if not getattr(draft, "allow_loss", False):
        raise BadInputError(draft.file, f"downgrade {step} would lose information: {sentence} (use --allow-loss to accept)",
                             getattr(draft, "data_member", "data.json"))  # db.sqlite3 for a main_XXXX input
    draft.notes.append(f"{step} lost: {sentence}")
