"""Progress on a terminal, silence in CI.

A bar only when stderr is a terminal and ``CI`` is not set; pipelines and CI
logs get the one-line summaries the commands print instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def wants_bar() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


def progress(items: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
    """Yield ``items``, drawing a tqdm bar on stderr when a person is watching."""
    if not wants_bar():
        yield from items
        return
    from tqdm import tqdm  # imported lazily: start-up time matters for small commands

    yield from tqdm(items, total=total, desc=desc, unit="job", leave=False, file=sys.stderr)


def stage_bars():
    """A sink for ``converters.progress``: one tqdm bar per stage, or None when nobody watches."""
    if not wants_bar():
        return None
    from tqdm import tqdm

    def bar(description: str, total: int | None, unit: str) -> Any:
        scaled = unit == "B"  # bytes as kB/MB/GB; files and entries as plain counts
        return tqdm(desc=description, total=total, unit=unit, unit_scale=scaled, unit_divisor=1024 if scaled else 1000,
                    leave=False, file=sys.stderr, dynamic_ncols=True)  # fmt: skip

    return bar
