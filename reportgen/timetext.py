"""Set times as text at numpy speed: one calendar routine shared by the site's CSV and the export's ``times.npy``.

A monitor's ``<name>_time`` has a row per set, millions of them; formatting
a ``datetime`` per row costs ten times the read, so both writers start from
this grid of ASCII digits and add their own suffix.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from reportgen.records import TimeColumn

_DAY_MS = 86_400_000


def render_utc(moment: datetime, sep: str = "T", timespec: str = "seconds") -> str:
    """``moment`` in UTC as ISO 8601 without an offset (a naive one is taken as UTC already).

    isoformat, never strftime: strftime's %Y is not zero-padded below year 1000, and the
    '1-01-01' it wrote made an export fail its own validate.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(sep, timespec)


def render_time_grid(column: TimeColumn) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SS.mmm`` of every row as an (n, 23) uint8 array of ASCII; zeros where not valid.

    The proleptic Gregorian calendar by integer arithmetic (H. Hinnant's
    civil_from_days), which is what ``datetime`` prints, at numpy speed.
    """
    days, rest = np.divmod(column.millis, _DAY_MS)
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    day = doy - (153 * mp + 2) // 5 + 1
    fields = ((year, 4), (month, 2), (day, 2), (rest // 3_600_000, 2), (rest // 60_000 % 60, 2),
              (rest // 1000 % 60, 2), (rest % 1000, 3))
    grid = np.empty((len(column.millis), 23), np.uint8)
    place_at = 0
    for (value, width), separator in zip(fields, "--T::. ", strict=True):
        value = value.astype(np.int32)  # small numbers: half the memory traffic of int64
        for place in range(width):
            grid[:, place_at + place] = value // 10 ** (width - 1 - place) % 10 + 48
        place_at += width
        if place_at < 23:
            grid[:, place_at] = ord(separator)
            place_at += 1
    grid[~column.valid] = 0
    return grid
