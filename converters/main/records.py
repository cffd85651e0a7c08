"""Frozen records of the main_XXXX work; ``Problem`` is the one of converters.validate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from converters.validate import Problem

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Loss:
    """What a downgrade step cannot carry into the older version."""

    step: str  # "main_0001 -> 0.13"
    what: str  # one sentence
    count: int
    details: tuple[str, ...] = ()  # what exactly, one line each (at most 20, then "and N more")



__all__ = ["Loss", "Problem", "Severity"]
