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

**Rows in bulk.**  Row by row, the scanner's Python-side loop is most of the
cost; orjson parses a run of rows six times faster.  So a batch is read as
runs of about ``bulk`` characters: the run ends at a *likely* row boundary
(a separator shaped like the one between the rows just read, such as
``},"123":``), and the run, wrapped in ``{}`` or ``[]``, goes to
``orjson.loads``.  A cut that is not a real boundary (inside a string or a
nested value) cannot parse, since the run starts where a row starts and the
parse of a prefix from a known state is the parse it has in the document;
a run that does not parse, or holds a run of 19 digits (orjson would read an
integer beyond 64 bits as a float, silently), is read row by row instead,
which then finds and names whatever is wrong, and reads such an integer
exactly (aiida-core writes them: ``jsonio``).
"""

from __future__ import annotations

import codecs
import functools
import json
import re
from collections.abc import Iterator
from typing import IO, Any

import orjson

from converters.errors import BadInputError
from converters.jsonio import LONG_RUN, digit_run_in, escaped_colon_in, finite_float, plain_reason, unique_pairs

CHUNK = 4 << 20  # bytes read and decoded at a time
MAX_ROW = 512 << 20  # the largest single row (or key) accepted
_TAIL = 1024  # an error this close to the end of the buffer may be a cut token
_WS = re.compile(r"[ \t\n\r]*")
_NEXT_KEY = re.compile(r'[ \t\n\r]*,[ \t\n\r]*"')
_NEXT_ITEM = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
_NUMBER_CHARS = re.compile(r"[0-9.eE+\-]*")
_COLON = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")
BULK = 16 << 10  # characters of rows parsed by orjson at once (16-64 KiB measured equal; smaller wastes less on a bad cut)
# an integer orjson may not read exactly (beyond 64 bits, read as a float; -2**63 - 1 has 19
# digits): a regex costs ~5 ms/MB, so it runs only on runs of rows from a chunk where
# jsonio.digit_run_in (memory speed) found nineteen in a row; the scanner reads it as an int
_LONG_DIGITS = re.compile(f"[0-9]{{{LONG_RUN}}}")

Path_ = tuple[str, ...]
# the walked containers of a legacy data.json: every container inside one is a section
LEGACY_WALK: frozenset[Path_] = frozenset({(), ("export_data",)})


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class RowReader:
    """Yield ``(section, key, value)`` for every row of the wanted sections.

    ``rows(sections)`` names the containers whose children are rows, as dotted paths
    (``"export_data.Node"``, ``"links_uuid"``); ``key`` is the member name for
    an object and the index for an array.  Everything else is parsed child by
    child and dropped, so memory stays at one run of rows whatever the document
    holds.  A key repeated inside one bulk run comes out once (orjson builds a
    dict); the strict reader reads row by row and yields every row, which is
    what the exact check needs to name a repeated key.  ``outline`` is the
    other walk: sections in batches, for rewriting the whole document.
    """

    def __init__(
        self,
        stream: IO[bytes],
        file: str,
        member: str = "data.json",
        max_row: int = MAX_ROW,
        chunk: int = CHUNK,
        strict: bool = False,
        bulk: int | None = None,
    ) -> None:
        self._stream = stream
        self._chunk = chunk
        self._bulk = 0 if strict else BULK if bulk is None else bulk  # the strict reader sees every row itself
        self._file = file
        self._member = member
        self._max_row = max_row
        self._decode = codecs.getincrementaldecoder("utf-8")("strict").decode
        self._buf = ""
        self._pos = 0
        self._base = 0  # characters dropped from the front of the buffer
        self._eof = False
        if strict:  # the slow, exact parse that names a duplicate key
            decoder = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=unique_pairs, parse_float=finite_float)
        else:  # orjson, which reads the bulk runs, refuses 1e400 itself
            decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_float=finite_float)
        self._scan = decoder.scan_once
        self._string = json.decoder.scanstring
        self._sep = _separator(False, [])  # the likely separator between rows (see _separator)
        self._row_chars = 64  # characters per row, as the last run measured them
        self._raw_tail = b""  # the end of the last chunk read: a run of digits may straddle chunks
        self._digits_until = 0  # text before here (absolute) may hold a run of 19 digits
        self._escapes_until = 0  # ... or an escaped colon

    # ------------------------------------------------------------ the walk
    def rows(self, sections: set[str] | set[Path_]) -> Iterator[tuple[str, Any, Any]]:
        wanted = {s if isinstance(s, tuple) else tuple(s.split(".")) for s in sections}
        prefixes = {w[:i] for w in wanted for i in range(1, len(w))}
        return self._document(self._container((), wanted, prefixes))

    def _document(self, walk: Iterator) -> Iterator:
        """``walk`` over the top-level object: refuses anything else, and anything after it."""
        self._skip_ws()
        if self._peek() == "\ufeff":
            raise self._error("a byte-order mark before the document (JSON must be plain UTF-8, RFC 8259)")
        if self._peek() != "{":
            raise self._error("the document is not a JSON object")
        yield from walk
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
                if path and path not in prefixes:  # the rows of a section nobody wants
                    self._skip_rows(is_object)
            self._skip_ws()
            ch = self._take()
            if ch == close:
                return
            if ch != ",":
                raise self._error(f"expected ',' or {close!r} after {dotted or 'the top level'}[{key!r}]", back=1)
            self._skip_ws()

    def _fast_rows(self, dotted: str, is_object: bool, index: int) -> Iterator[tuple[str, Any, Any]]:
        """The rows after the first, gathered by ``_fast_batch`` about 1024 at a time while they
        lie wholly inside the buffer.

        Stops at the end of the section, near the end of the buffer or on
        anything unusual, with the position just after the last row it read;
        the general walk carries on from there.  Returns the number of rows read.
        """
        start = index
        while True:
            out: list = []  # (key, value) pairs for an object's rows: a repeated key is yielded again
            read = self._fast_batch(out, is_object, 1024)[0]
            for key, value in out if is_object else enumerate(out, index):
                yield dotted, key, value
            index += read
            if read < 1024:
                return index - start

    def _skip_rows(self, is_object: bool) -> None:
        """Read past rows in the fast loop (the general walk is ~50 % slower), about 1024 at a time."""
        while self._fast_batch({} if is_object else [], is_object, 1024)[0] >= 1024:
            pass

    def _fast_batch(self, out: dict | list, is_object: bool, room: int) -> tuple[int, int]:
        """Add about ``room`` rows to ``out`` (a dict for an object's rows, or a list of
        ``(key, value)`` pairs that keeps a repeated key; a list for an array's rows)
        while they lie wholly inside the buffer, in runs parsed by orjson where it can
        (see the module docstring) and row by row where not; returns how many rows were
        read (a dict may hold fewer: a repeated key; a run may overshoot ``room``) and the
        colons of their text (``_span_colons``).

        Stops like ``_fast_rows``, with the position just after the last row it read.
        """
        buf, first = self._buf, self._pos
        limit = len(buf) - _TAIL
        read = 0
        while read < room:
            if out:  # the rows just read show what the separator between rows looks like
                self._sep = _separator(is_object, out)
            got, until = self._run(out, is_object, room - read, limit)
            if not got:
                got = self._row_by_row(out, is_object, room - read, until, limit)
                if not got:
                    break
            read += got
        return read, self._span_colons(first, self._pos)

    def _run(self, out: dict | list, is_object: bool, room: int, limit: int) -> tuple[int, int]:
        """One run of rows parsed by orjson at once: ``(rows, end)``, or ``(0, until)`` where
        the rows up to ``until`` must be read row by row (a run that would not parse)."""
        size = min(self._bulk, room * self._row_chars)
        if size < self._bulk // 4 or not size:  # too few rows wanted to be worth a run
            return 0, limit
        buf, pos = self._buf, self._pos
        lead = _NEXT_ITEM.match(buf, pos)  # the ',' before the next row
        cut = self._sep.search(buf, pos + size, limit) if lead else None
        if cut is None:
            return 0, limit
        start, end = lead.end(), cut.start()
        if self._base + start < self._digits_until and _LONG_DIGITS.search(buf, start, end):
            return 0, end
        try:
            rows = orjson.loads(("{" if is_object else "[") + buf[start:end] + ("}" if is_object else "]"))
        except orjson.JSONDecodeError:  # not a row boundary after all, or something to name
            return 0, end
        if isinstance(out, dict):
            out.update(rows)
        else:
            out.extend(rows.items() if is_object else rows)
        self._pos = end
        self._row_chars = max(1, (end - pos) // max(1, len(rows)))
        return len(rows), end

    def _row_by_row(self, out: dict | list, is_object: bool, room: int, until: int, limit: int) -> int:
        """Rows added to ``out`` one at a time by the scanner, up to ``room`` rows or the first
        row ending at or after ``until``; stops before a row reaching ``limit``."""
        scan, string = self._scan, self._string
        next_row = (_NEXT_KEY if is_object else _NEXT_ITEM).match
        pairs = is_object and isinstance(out, list)
        buf = self._buf
        pos = self._pos
        read = 0
        try:
            while pos < until and read < room:
                found = next_row(buf, pos)
                if found is None:
                    break
                if is_object:
                    key, end = string(buf, found.end())
                    found = _COLON.match(buf, end)
                    if found is None:
                        break
                    value, end = scan(buf, found.end())
                    if end >= limit:
                        break
                    if pairs:
                        out.append((key, value))  # type: ignore[union-attr]
                    else:
                        out[key] = value  # type: ignore[index]
                else:
                    value, end = scan(buf, found.end())
                    if end >= limit:
                        break
                    out.append(value)  # type: ignore[union-attr]
                pos = end
                read += 1
        except (StopIteration, ValueError, RecursionError):
            pass
        self._pos = pos
        return read

    # ------------------------------------------------------------ the outline walk
    def outline(self, walk: set[Path_] | frozenset[Path_], size: int) -> Iterator[tuple]:
        """The whole document as events, for rewriting it row by row in bounded memory.

        Containers at a path in ``walk`` (``()`` is the top level) are walked;
        each other container directly inside one is a *section*, whose rows
        come in batches.  The events, in document order:

        * ``("open", path, is_object)`` and ``("close", path, is_object)`` around a walked
          container or a section;
        * ``("rows", path, batch, count, colons)``: up to ``size`` rows of a
          section, a dict (object) or list (array).  ``count`` is the number of
          rows read, so a dict shorter than it lost a duplicate key; ``colons``
          is the number of ``:`` in the rows' text, escaped ones included,
          which equals the count in the compact dump of ``batch`` unless a key
          inside a row was dropped as a duplicate;
        * ``("value", path, value)``: a scalar inside a walked container.

        A key repeated in a walked container is refused here.
        """
        return self._document(self._walk((), walk, size))

    def _walk(self, path: Path_, walk: set[Path_] | frozenset[Path_], size: int) -> Iterator[tuple]:
        is_object, close = self._open()
        yield "open", path, is_object
        seen: set[str] = set()
        index = 0
        while self._peek() != close:
            key = self._key() if is_object else str(index)
            if key in seen:
                raise self._error(f"duplicate key {key!r} in {'.'.join(path) or 'the top level'}")
            seen.add(key)
            index += 1
            child = (*path, key)
            self._skip_ws()
            if self._peek() == "{" and child in walk:
                yield from self._walk(child, walk, size)
            elif self._peek() in ("{", "["):
                yield from self._section(child, size)
            else:
                yield "value", child, self._value()
            self._after_child(close, path, key)
        self._take()
        yield "close", path, is_object

    def _section(self, path: Path_, size: int) -> Iterator[tuple]:
        is_object, close = self._open()
        yield "open", path, is_object
        batch: dict | list = {} if is_object else []
        count = colons = 0
        while self._peek() != close:
            if is_object:
                key = self._key()
                colons += 1 + key.count(":")  # the decoded key: what its dump holds
                self._skip_ws()
            else:
                key = count
            start = self._base + self._pos  # _parse keeps the value's own text in the buffer
            value = self._value()
            if is_object:
                batch[key] = value  # type: ignore[index]
            else:
                batch.append(value)  # type: ignore[union-attr]
            colons += self._span_colons(start - self._base, self._pos)
            read, more = self._fast_batch(batch, is_object, size - count - 1)
            count, colons = count + 1 + read, colons + more
            if count >= size:
                yield "rows", path, batch, count, colons
                batch, count, colons = ({} if is_object else []), 0, 0
            self._after_child(close, path, key)
        if count:
            yield "rows", path, batch, count, colons
        self._take()
        yield "close", path, is_object

    def _open(self) -> tuple[bool, str]:
        """At ``{`` or ``[``: take it and the blanks after it."""
        is_object = self._take() == "{"
        self._skip_ws()
        return is_object, "}" if is_object else "]"

    def _after_child(self, close: str, path: Path_, key: Any) -> None:
        """After a child: ``,`` and the blanks after it, or stop in front of ``close``."""
        self._skip_ws()
        ch = self._peek()
        if ch == ",":
            self._take()
            self._skip_ws()
            if self._peek() == close:
                raise self._error(f"a trailing ',' before {close!r}")
        elif ch != close:
            raise self._error(f"expected ',' or {close!r} after {'.'.join(path) or 'the top level'}[{key!r}]")

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
                raise self._error(plain_reason(exc)) from None
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
        digits = escapes = False
        while not text and not self._eof:  # a chunk may end inside a multi-byte character
            raw = self._stream.read(self._chunk)
            try:
                text = self._decode(raw, final=not raw)
            except UnicodeDecodeError as exc:
                raise self._error(f"not UTF-8 ({exc.reason})") from None
            self._eof = not raw
            digits = digits or _has_long_digits(raw, self._raw_tail)
            escapes = escapes or _has_escaped_colon(raw, self._raw_tail)
            self._raw_tail = raw[-LONG_RUN:]  # a token may straddle two chunks
        self._base += self._pos
        self._buf = self._buf[self._pos :] + text
        self._pos = 0
        if digits:  # runs starting before here need the exact look for long numbers
            self._digits_until = self._base + len(self._buf)
        if escapes:  # spans starting before here need their escaped colons counted
            self._escapes_until = self._base + len(self._buf)
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

    def _span_colons(self, start: int, end: int) -> int:
        """``:`` in the buffer's ``[start:end]``, counting ``\\u003a`` as one: the colons its compact
        dump holds.  (``\\\\u003a``, an escaped backslash before ``u003a``, is over-counted; a
        mismatch only triggers the exact check, which then finds nothing.)  Escapes are looked
        for only where a chunk read held one."""
        buf = self._buf
        colons = buf.count(":", start, end)
        if self._base + start < self._escapes_until:
            colons += buf.count("\\u003a", start, end) + buf.count("\\u003A", start, end)
        return colons

    def _error(self, reason: str, at: int | None = None, back: int = 0) -> BadInputError:
        where = self._base + (self._pos - back if at is None else at)
        return BadInputError(self._file, f"{self._member}: invalid JSON at char {where}: {reason}", self._member)


def _separator(is_object: bool, rows: dict | list) -> re.Pattern[str]:
    """A pattern for the separator after a row like the last of ``rows``: after a dict row
    and before a digit key ``},"123":``, between dict items ``},{``; a cut found by it
    is only a guess, which the parse of the run checks."""
    if not rows:
        key, value = None, None
    elif isinstance(rows, dict):
        key, value = next(reversed(rows.items()))
    else:
        key, value = rows[-1] if is_object else (None, rows[-1])
    close = {dict: r"(?<=\})", list: r"(?<=\])"}.get(type(value), "")
    if is_object:
        lead = r'"[0-9]+"[ \t\n\r]*:' if isinstance(key, str) and key.isascii() and key.isdigit() else '"'
    else:
        lead = {dict: r"\{", list: r"\["}.get(type(value), "")
    return _compiled(close + r"[ \t\n\r]*,[ \t\n\r]*" + lead)


@functools.lru_cache(maxsize=32)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _has_long_digits(raw: bytes, tail: bytes) -> bool:
    """Nineteen digits in a row in ``raw`` or across its seam with the chunk before (``tail``)."""
    return digit_run_in(raw, LONG_RUN) or digit_run_in(tail + raw[:LONG_RUN], LONG_RUN)


def _has_escaped_colon(raw: bytes, tail: bytes) -> bool:
    """``\\u003a`` in ``raw`` or across its seam with the chunk before (``tail``)."""
    return escaped_colon_in(raw) or escaped_colon_in(tail + raw[:LONG_RUN])


def iter_batches(stream: IO[bytes], file: str, sections: set[str], size: int, member: str = "data.json") -> Iterator[tuple[str, dict | list]]:
    """``(section, batch)`` of about ``size`` rows of each wanted section, in document order:
    a dict for an object's rows (a repeated key keeps its last row), a list for an array's.

    The sections are the top-level containers and those of ``export_data``
    (``LEGACY_WALK``); every other one is read past in batches too, one at a time.
    """
    wanted = {tuple(s.split(".")) for s in sections}
    for event in RowReader(stream, file, member).outline(LEGACY_WALK, size):
        if event[0] == "rows" and event[1] in wanted:
            yield ".".join(event[1]), event[2]
