"""Writing ``data.json`` in bounded memory, and the legacy entity names.

Reading it in bounded memory is ``converters.jsonrows``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

import orjson

from converters import jsonio

ENTITIES: tuple[str, ...] = ("User", "Computer", "Group", "Node", "Log", "Comment")


class JsonObjectWriter:
    """Write one JSON object key by key: ``{"k": v, ...}`` without holding it.

    Used to write ``data.json`` from SQLite rows in bounded memory.  A value that ``dumps``
    (orjson's) refuses for an integer beyond 64 bits is written by ``jsonio.dumps``, exactly;
    ``exact`` then says so, for a reader of the result (``jsonio.loads(..., exact=True)``).
    """

    def __init__(self, out: IO[bytes], dumps: Callable[[Any], bytes] = orjson.dumps) -> None:
        self._out = out
        self._dumps = dumps
        self._first: list[bool] = []
        self.exact = False

    def _sep(self) -> None:
        if self._first and not self._first[-1]:
            self._out.write(b",")
        if self._first:
            self._first[-1] = False

    def open_object(self, key: str | None = None) -> None:
        self._sep()
        if key is not None:
            self._out.write(self._dumps(key) + b":")
        self._out.write(b"{")
        self._first.append(True)

    def open_array(self, key: str) -> None:
        self._sep()
        self._out.write(self._dumps(key) + b":[")
        self._first.append(True)

    def item(self, value: Any, key: str | None = None) -> None:
        self._sep()
        if key is not None:
            self._out.write(self._dumps(key) + b":")
        try:
            dumped = self._dumps(value)
        except orjson.JSONEncodeError:  # the rare value orjson cannot write: raised again unless exact
            dumped = jsonio.dumps(value)
            self.exact = True
        self._out.write(dumped)

    def close_object(self) -> None:
        self._first.pop()
        self._out.write(b"}")

    def close_array(self) -> None:
        self._first.pop()
        self._out.write(b"]")
