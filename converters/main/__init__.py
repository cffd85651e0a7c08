"""AiiDA 2.x archives (main_0000 ... main_0001): read, validate, inspect, write, convert.

``convert`` reaches any supported version from any other along the shared
step table, including the downgrades (``converters.downgrades``).
"""

from __future__ import annotations

from converters.main.schema import HEAD, MAIN_REVISIONS

__all__ = ["HEAD", "MAIN_REVISIONS", "convert"]


def convert(*args, **kwargs):
    from converters.main.runner import convert as _convert

    return _convert(*args, **kwargs)
