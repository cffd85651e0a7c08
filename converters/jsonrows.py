"""One pass over a large JSON document, yielding the rows of chosen sections.

``data.json`` of a legacy archive is one object whose sections
(``export_data.Node``, ``node_attributes``, ``links_uuid``, ...) hold
hundreds of thousands of small rows.  Parsing it whole costs about six times
its size in memory; an event parser (ijson) builds every value in Python and
ran at ~25 MB/s per pass here.  This reader walks only the outer levels
itself and hands each row to the C scanner of the standard ``json`` module
(``JSONDecoder.scan_once``), which parses one value and says where it ended:
the rows come out as ordinary dicts and lists at C speed, one chunk of the
file in memory at a time.

Reading a row that straddles the end of the buffer fails inside the scanner;
such a failure near the end of the buffer (or an unterminated string) means
"read more and try again", anywhere else it is malformed JSON.  A parse that
ends in a number at the end of the buffer is retried too (``6.02e`` may be
``6.02e+23``).  Rows are bounded by ``max_row`` characters
so a hostile file cannot make the buffer grow without limit.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import IO, Any

from converters.errors import BadInputError

CHUNK = 4 << 20  # bytes read and decoded at a time
MAX_ROW = 512 << 20  # the largest single row (or key) accepted
_TAIL = 1024  # an error this close to the end of the buffer may be a cut token
_WS = re.compile(r"[ \t\n\r]*")
_NEXT_KEY = re.compile(r'[ \t\n\r]*,[ \t\n\r]*"')
_NEXT_ITEM = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
_NUMBER_CHARS = re.compile(r"[0-9.eE+\-]*")
_COLON = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")

Path_ = tuple[str, ...]


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class RowReader:
    """Yield ``(section, key, value)`` for every row of the wanted sections.

    ``rows(sections)`` names the containers whose children are rows, as dotted paths
    (``"export_data.Node"``, ``"links_uuid"``); ``key`` is the member name for
    an object and the index for an array.  Everything else is parsed child by
    child and dropped, so memory stays at one row whatever the document holds.
    """

    def __init__(
        self, stream: IO[bytes], file: str, member: str = "data.json", max_row: int = MAX_ROW, chunk: int = CHUNK
    ) -> None:
        self._stream = stream
        self._chunk = chunk
        self._file = file
        self._member = member
        self._max_row = max_row
        self._decode = codecs.getincrementaldecoder("utf-8")("strict").decode
        self._buf = ""
        self._pos = 0
        self._base = 0  # characters dropped from the front of the buffer
        self._eof = False
        decoder = json.JSONDecoder(parse_constant=_reject_constant)
        self._scan = decoder.scan_once
        self._string = json.decoder.scanstring

    # ------------------------------------------------------------ the walk
    def rows(self, sections: set[str]) -> Iterator[tuple[str, Any, Any]]:
        wanted = {tuple(s.split(".")) for s in sections}
        prefixes = {w[:i] for w in wanted for i in range(1, len(w))}
        self._skip_ws()
        if self._peek() != "{":
            raise self._error("the document is not a JSON object")
        yield from self._container((), wanted, prefixes)
        self._skip_ws()
        if self._peek() != "":
            raise self._error("data after the end of the document")

    def _container(self, path: Path_, wanted: set[Path_], prefixes: set[Path_]) -> Iterator[tuple[str, Any, Any]]:
        """At ``{`` or ``[``: walk its children, yielding rows of wanted paths."""
        is_object = self._take() == "{"
        close = "}" if is_object else "]"
        dotted = ".".join(path)
        index = 0
        self._skip_ws()
        if self._peek() == close:
            self._take()
            return
        while True:
            key: Any = self._key() if is_object else index
            index += 1
            child = (*path, str(key))
            self._skip_ws()
            if path in wanted:
                yield dotted, key, self._value()
                index += yield from self._fast_rows(dotted, is_object, index)
            elif (not path or path in prefixes) and self._peek() in ("{", "["):
                # on the way to a wanted section, or a section nobody wants: walked one
                # level down, so even an unwanted section costs one row of memory
                yield from self._container(child, wanted, prefixes)
            else:
                self._value()
            self._skip_ws()
            ch = self._take()
            if ch == close:
                return
            if ch != ",":
                raise self._error(f"expected ',' or {close!r} after {dotted or 'the top level'}[{key!r}]", back=1)
            self._skip_ws()

    def _fast_rows(self, dotted: str, is_object: bool, index: int) -> Iterator[tuple[str, Any, Any]]:
        """The rows after the first, in one tight loop while they lie wholly inside the buffer.

        Stops at the end of the section, near the end of the buffer or on
        anything unusual, with the position just after the last row it read;
        the general walk carries on from there.  Returns the number of rows read.
        """
        scan, string = self._scan, self._string
        next_row = (_NEXT_KEY if is_object else _NEXT_ITEM).match
        buf, pos, start = self._buf, self._pos, index
        limit = len(buf) - _TAIL
        try:
            while pos < limit:
                found = next_row(buf, pos)
                if found is None:
                    break
                if is_object:
                    key, end = string(buf, found.end())
                    found = _COLON.match(buf, end)
                    if found is None:
                        break
                else:
                    key = index
                value, end = scan(buf, found.end())
                if end >= limit:
                    break
                pos = self._pos = end
                index += 1
                yield dotted, key, value
        except (StopIteration, ValueError, RecursionError):
            pass
        return index - start

    # ------------------------------------------------------------ tokens
    def _key(self) -> str:
        self._skip_ws()
        if self._take() != '"':
            raise self._error("expected a member name in double quotes", back=1)
        key = self._parse(self._string)
        self._skip_ws()
        if self._take() != ":":
            raise self._error(f"expected ':' after member name {key!r}", back=1)
        return key

    def _value(self) -> Any:
        return self._parse(self._scan)

    def _parse(self, parse) -> Any:
        """``parse(buf, pos) -> (value, end)``, reading more while the value may be cut off."""
        while True:
            try:
                value, end = parse(self._buf, self._pos)
            except StopIteration as stop:  # the scanner's "no value starts here", possibly inside the row
                at = stop.value if isinstance(stop.value, int) else self._pos
                if self._more_if_cut(at):
                    continue
                raise self._error("Expecting value", at=at) from None
            except json.JSONDecodeError as exc:
                if ("Unterminated string" in exc.msg or exc.pos >= len(self._buf) - _TAIL) and self._more():
                    continue
                raise self._error(exc.msg, at=exc.pos) from None
            except ValueError as exc:  # NaN / Infinity, or integer strings too long to convert
                raise self._error(str(exc)) from None
            except RecursionError:
                raise self._error("nested too deeply") from None
            if self._may_go_on(value, end) and self._more():
                continue
            self._pos = end
            return value

    def _may_go_on(self, value: Any, end: int) -> bool:
        """A number read up to the end of the buffer (``6.02e`` of ``6.02e+23``) may continue in the next chunk."""
        if end >= len(self._buf):
            return True
        return type(value) in (int, float) and _NUMBER_CHARS.match(self._buf, end).end() == len(self._buf)

    # ------------------------------------------------------------ the buffer
    def _more_if_cut(self, pos: int) -> bool:
        return pos >= len(self._buf) - _TAIL and self._more()

    def _more(self) -> bool:
        """Append the next chunk, dropping what has been read; False at the end of the stream."""
        if self._eof:
            return False
        if len(self._buf) - self._pos > self._max_row:
            raise self._error(f"a row longer than {self._max_row >> 20} MiB")
        text = ""
        while not text and not self._eof:  # a chunk may end inside a multi-byte character
            raw = self._stream.read(self._chunk)
            try:
                text = self._decode(raw, final=not raw)
            except UnicodeDecodeError as exc:
                raise self._error(f"not UTF-8 ({exc.reason})") from None
            self._eof = not raw
        self._base += self._pos
        self._buf = self._buf[self._pos :] + text
        self._pos = 0
        return True

    def _skip_ws(self) -> None:
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()
            if self._pos < len(self._buf) or not self._more():
                return

    def _peek(self) -> str:
        if self._pos >= len(self._buf):
            self._more()
        return self._buf[self._pos : self._pos + 1]

    def _take(self) -> str:
        ch = self._peek()
        self._pos += len(ch)
        return ch

    def _error(self, reason: str, at: int | None = None, back: int = 0) -> BadInputError:
        where = self._base + (self._pos - back if at is None else at)
        return BadInputError(self._file, f"{self._member}: invalid JSON at char {where}: {reason}", self._member)


def iter_rows(stream: IO[bytes], file: str, sections: set[str], member: str = "data.json") -> Iterator[tuple[str, Any, Any]]:
    """``(section, key, value)`` of every row under ``sections``, in document order."""
    return RowReader(stream, file, member).rows(sections)
