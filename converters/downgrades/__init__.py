"""Downward steps: one module per step, each the inverse of its forward step.

Each module has ``downgrade(draft)`` (registered in the shared step table
``converters.migrations.STEPS``) and a ``LOSES`` sentence.  The contract is
the round trip: upgrading the result with the forward step gives back the
input.  Where that cannot hold for some rows (a value the older version
cannot express, or one the forward step would rewrite), the step counts
them and refuses unless the run allows loss (``--allow-loss``).
"""

from __future__ import annotations

from converters.downgrades import (
    v0_5_to_v0_4,
    v0_6_to_v0_5,
    v0_7_to_v0_6,
    v0_8_to_v0_7,
    v0_9_to_v0_8,
    v0_10_to_v0_9,
    v0_11_to_v0_10,
    v0_12_to_v0_11,
    v0_13_to_v0_12,
)

MODULES = (v0_13_to_v0_12, v0_12_to_v0_11, v0_11_to_v0_10, v0_10_to_v0_9, v0_9_to_v0_8, v0_8_to_v0_7,
           v0_7_to_v0_6, v0_6_to_v0_5, v0_5_to_v0_4)  # fmt: skip


def downgrade_steps() -> dict[tuple[str, str], object]:
    return {(m.SOURCE, m.TARGET): m.downgrade for m in MODULES}
