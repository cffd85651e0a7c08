"""Progress on a terminal, silence in CI.

A bar only when stderr is a terminal and ``CI`` is not set; pipelines and CI
logs get the one-line summaries the commands print instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from converters.progress import UNCOMPRESSED

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
        scaled = unit in ("B", UNCOMPRESSED)  # bytes as kB/MB/GB; files and entries as plain counts
        # an archive being written counts its members' bytes before compression (as its total would,
        # when one is known): the bar says so, or its MB would read as the archive's own size
        postfix = "uncompressed" if unit == UNCOMPRESSED else None
        return tqdm(desc=description, total=total, unit="B" if scaled else unit, unit_scale=scaled,
                    unit_divisor=1024 if scaled else 1000, postfix=postfix, leave=False, file=sys.stderr,
                    dynamic_ncols=True)  # fmt: skip

    return bar
