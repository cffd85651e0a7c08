"""Collecting problems without unbounded memory: the first few per code, and counts."""

from __future__ import annotations

from collections import Counter

from converters.errors import BadInputError
from converters.main.records import Problem, Severity

KEEP_PER_CODE = 20


class ProblemLog:
    """Problems of one run; in strict mode the first error raises instead of being kept."""

    def __init__(self, file: object, strict: bool = False) -> None:
        self.file = file
        self.strict = strict
        self.kept: list[Problem] = []
        self.counts: Counter[str] = Counter()

    def add(self, severity: Severity, code: str, path: str, reason: str, member: str = "") -> None:
        if self.strict and severity == "error":
            # the reason's consequence ("...; dropped") is what happens without --strict, not now
            cause = reason.rpartition("; ")[0] or reason
            raise BadInputError(self.file, f"{path}: {cause} (refused by --strict; without it this is reported and "
                                           "the conversion continues)", member or _member_of(path))
        self.counts[code] += 1
        if self.counts[code] <= KEEP_PER_CODE:
            self.kept.append(Problem(severity, code, path, reason))

    def summary(self) -> tuple[Problem, ...]:
        extra = [
            Problem("warning", code, "", f"{n - KEEP_PER_CODE} more problems of this kind not listed")
            for code, n in sorted(self.counts.items())
            if n > KEEP_PER_CODE
        ]
        return tuple(self.kept + extra)


def shown(value: object) -> str:
    """A stored value as an error line quotes it: its repr, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _member_of(path: str) -> str:
    """The archive member a problem's path lies in, when the caller named none: a JSON path
    (``$.links_uuid[3]``) is inside a legacy archive's data.json."""
    return "data.json" if path.startswith("$") else ""
