"""Progress of long work, reported without the converters knowing who watches.

The converters never draw anything.  They open a *stage* ("reading data.json",
111 MB; "repository", 20,000 files) and advance it as bytes or files go by.
The CLI installs a sink with ``reporting``; its terminal sink turns each stage
into a bar, and in CI or a pipe no sink is installed.  Without a sink a stage
costs one test per chunk or file, so the library API stays silent and fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
# (description, total or None, unit) -> a bar: update(n), close()  (tqdm's own signature fits)
Sink = Callable[[str, "int | None", str], Any]
# the units of byte stages: "B" counts bytes as they are (read from a file, or its declared size),
# UNCOMPRESSED the bytes of members before the writer compresses them (an archive being written
# counts what it is given, so its count can pass the archive's size); anything else is a count noun
UNCOMPRESSED = "B, uncompressed"

_sink: Sink | None = None


@contextmanager
def reporting(sink: Sink | None) -> Iterator[None]:
    """Send every stage opened inside the block to ``sink`` (None: report nothing)."""
    global _sink
    previous, _sink = _sink, sink
    try:
        yield
    finally:
        _sink = previous


def _ignore(n: int = 1) -> None:
    return None


@contextmanager
def stage(description: str, total: int | None = None, unit: str = "B") -> Iterator[Callable[[int], None]]:
    """A stage of work; yields ``advance(n)``."""
    bar = _sink(description, total, unit) if _sink is not None else None
    try:
        yield bar.update if bar is not None else _ignore
    finally:
        if bar is not None:
            bar.close()


def counted(
    items: Iterable[T], description: str, total: int | None, unit: str, weigh: Callable[[T], int] | None = None
) -> Iterator[T]:
    """``items`` unchanged, each counted in a stage as 1 or as ``weigh(item)`` (``len`` for bytes).

    A plain pass-through without a sink."""
    if _sink is None:
        yield from items
        return
    with stage(description, total, unit) as advance:
        for item in items:
            advance(1 if weigh is None else weigh(item))
            yield item
