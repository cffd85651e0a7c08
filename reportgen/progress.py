"""Progress on a terminal, silence in CI.

A bar only when stderr is a terminal and ``CI`` is not set; pipelines and CI
logs get the one-line summaries the commands print instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

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
