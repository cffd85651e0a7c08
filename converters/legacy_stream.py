"""Forward legacy migrations from 0.4 on, with ``data.json`` streamed in batches.

The in-memory chain (``converters.migrate``) parses ``data.json`` whole, about
six times its size in memory.  From 0.4 on every step can run on a few
thousand rows at a time, so here ``data.json`` is read once as an outline of
sections and rows (``RowReader.outline``), each batch of rows goes through the
registered step functions themselves on a small ``Draft`` holding just that
batch (plus the facts it needs from elsewhere in the document), and the result
is written out as it comes.  Memory is one batch, plus the few facts below.

**Facts from other sections.**  Three steps look beyond the rows they edit:

* 0.5 -> 0.6 converts each attribute and extra with its conversion shadow
  (``node_attributes_conversion``, ``node_extras_conversion``) and rewrites
  the states of legacy CalcJobs (it needs each node's type);
* 0.6 -> 0.7 seals process nodes (node types) and refuses attributes of nodes
  not in ``export_data.Node``;
* 0.11 -> 0.12 renames ``parser_name`` of nodes in ``export_data.Node``.

So the *producers* (``export_data.Node``, the conversion sections) leave a
``Context``: every node's pk, the types of process nodes, and the shadows that
hold a string leaf (a date), kept as compact JSON.  A *consumer*
(``node_attributes``, ``node_extras``) met before its producers are complete
is spooled to a temporary file as compact JSON lines and migrated at the end;
its output goes to a second file and is spliced in at its place, so the
output keeps the input's order whatever order the sections come in.

**The output** is the compact JSON ``orjson.dumps`` gives for the migrated
tree (``jsonio.dumps``: integers beyond 64 bits written exactly, which orjson
refuses), section by section and batch by batch, byte for byte what the
in-memory chain writes (the tests compare the two).

**Strictness.**  A section of the wrong shape (``links_uuid`` an object, an
entity's rows a list) is refused, as the in-memory path refuses it
(``versions.check_sections``).  The in-memory reader refuses duplicate keys;
so does this one, cheaply: a batch whose dict is shorter
than the rows read, a key seen in an earlier batch of the section, a colon
count that differs from the batch's dump (a key dropped inside a row), or a
value orjson cannot write (a lone surrogate), sends the section through the exact (slow) reader,
which names the place.  An integer beyond 64 bits is no doubt: the reader read it exactly and
``jsonio.dumps`` writes it so.  ``checked_outline`` is that reader with these checks;
``--to main_XXXX`` stages its rows through it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from converters import progress
from converters.containers import Archive
from converters.errors import BadInputError
from converters.jsonio import ExactJson, dumps, gc_paused, json_kind, loads, refusal
from converters.jsonrows import LEGACY_WALK, Path_, RowReader
from converters.migrations import STEPS, run_step, shape_error
from converters.migrations._base import Draft, RepoView
from converters.migrations.v0_5_to_v0_6 import _has_string_leaf, string_leaf_in
from converters.versions import LEGACY_VERSIONS, section_shape, shape_refusal, version_index
from converters.workfile import WorkFile

FIRST_STREAMED = "0.4"  # the steps before it need the whole document (links deleted by node type, ...)
BATCH = 5000  # rows migrated at a time
WALK = LEGACY_WALK  # walked containers: every container inside one is a section
NODES: Path_ = ("export_data", "Node")
ATTRIBUTES, EXTRAS = ("node_attributes",), ("node_extras",)
SHADOWS: dict[Path_, Path_] = {ATTRIBUTES: ("node_attributes_conversion",), EXTRAS: ("node_extras_conversion",)}


def streams(source: str, steps: list[tuple[str, str]]) -> bool:
    """Whether a plan runs here: from 0.4 on, forward legacy steps (or none: a change of container)."""
    first = version_index(FIRST_STREAMED)
    return (
        source in LEGACY_VERSIONS
        and version_index(source) >= first
        and all(a in LEGACY_VERSIONS and b in LEGACY_VERSIONS and first <= version_index(a) < version_index(b) for a, b in steps)
    )


# ---------------------------------------------------------------- facts from other sections
@dataclass
class Context:
    """What consumers need from producers; filled as the producers stream past."""

    node_pks: set[str] = field(default_factory=set)
    process_types: dict[str, str] = field(default_factory=dict)  # only process.* nodes: the rest need none
    shadows: dict[Path_, dict[str, bytes]] = field(default_factory=dict)  # per conversion section, string-leaf shadows

    def learn(self, path: Path_, batch: dict | list, dumped: bytes) -> None:
        """Facts from a producer's raw batch; ``dumped`` is its compact dump, already made."""
        if path == NODES and isinstance(batch, dict):
            self.node_pks.update(batch)
            for pk, row in batch.items():
                node_type = row.get("node_type") if isinstance(row, dict) else None
                if isinstance(node_type, str) and node_type.startswith("process."):
                    self.process_types[pk] = node_type
        elif path in SHADOWS.values() and isinstance(batch, dict):
            kept = self.shadows.setdefault(path, {})
            if not string_leaf_in(dumped):  # the common case: a whole batch of all-null shadows
                return
            for pk, shadow in batch.items():
                if shadow and _has_string_leaf(shadow):  # most shadows are all null: nothing to convert
                    kept[pk] = dumps(shadow)

    def nodes_for(self, batch: dict) -> dict[str, dict]:
        return {pk: {"node_type": self.process_types.get(pk, "")} for pk in batch if pk in self.node_pks}

    def shadows_for(self, section: Path_, batch: dict) -> dict[str, Any]:
        kept = self.shadows.get(section, {})
        return {pk: loads(kept[pk]) for pk in batch if pk in kept}


def producers(steps: list[tuple[str, str]]) -> dict[Path_, set[Path_]]:
    """For each consumer section, the sections whose facts its steps need."""
    plan = set(steps)
    needs: dict[Path_, set[Path_]] = {}
    if plan & {("0.5", "0.6"), ("0.6", "0.7"), ("0.11", "0.12")}:
        needs[ATTRIBUTES] = {NODES}
    if ("0.5", "0.6") in plan:
        needs[ATTRIBUTES].add(SHADOWS[ATTRIBUTES])
        needs[EXTRAS] = {SHADOWS[EXTRAS]}
    return needs


# ---------------------------------------------------------------- the steps on one batch
class BatchSteps:
    """The registered step functions run on a Draft holding one batch (and its facts)."""

    def __init__(self, steps: list[tuple[str, str]], file: str, context: Context | None) -> None:
        self._functions = [(step, STEPS[step]) for step in steps]
        self._file = file
        self._context = context

    def __call__(self, path: Path_, batch: Any) -> tuple[bool, Any]:
        """``(kept, new)``: whether the section (or value) at ``path`` outlives the steps, and its batch after them."""
        data = self._mini_data(path, batch)
        draft = Draft(self._file, {}, data, RepoView(lambda names: {}, (), self._file))
        for (source, _), function in self._functions:
            try:
                function(draft)
            except BadInputError:
                raise
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise shape_error(self._file, source, exc, f"data.json: $.{'.'.join(path)}") from None
        return _take(draft.data, path)

    def _mini_data(self, path: Path_, batch: Any) -> dict:
        data = _nest(path, batch)
        if path not in (ATTRIBUTES, EXTRAS) or not isinstance(batch, dict):
            return data
        if self._context is None:  # no facts gathered: every row is assumed to have its node
            data["export_data"] = {"Node": {pk: {} for pk in batch}}
        else:
            data[SHADOWS[path][0]] = self._context.shadows_for(SHADOWS[path], batch)
            data["export_data"] = {"Node": self._context.nodes_for(batch) if path == ATTRIBUTES else {}}
        return data


def _nest(path: Path_, value: Any) -> dict:
    for key in reversed(path[1:]):
        value = {key: value}
    return {path[0]: value}


def _take(data: dict, path: Path_) -> tuple[bool, Any]:
    here: Any = data
    for key in path:
        if not isinstance(here, dict) or key not in here:
            return False, None
        here = here[key]
    return True, here


def apply_to_metadata(metadata: dict, steps: list[tuple[str, str]], tool: str) -> None:
    """Run the steps' metadata part (and the version bookkeeping) once, on an empty document."""
    draft = Draft("stream", metadata, {}, RepoView(lambda names: {}, (), "stream"))
    for source, target in steps:
        run_step(draft, source, target, tool)


# ---------------------------------------------------------------- writing data.json
class _Writer:
    """Compact JSON written token by token, into ``main`` or (for a spooled section) ``late``."""

    def __init__(self, main: WorkFile, late: WorkFile) -> None:
        self.main, self.late = main, late
        self._first: list[bool] = []
        self.pieces: list[tuple[WorkFile, int, int]] = []  # data.json: regions of main and late, in order
        self._cut = 0  # where the current region of main begins

    def open(self, out: WorkFile, key: str | None, is_object: bool) -> None:
        self._member(out, key)
        out.write(b"{" if is_object else b"[")
        self._first.append(True)

    def close(self, out: WorkFile, is_object: bool) -> None:
        out.write(b"}" if is_object else b"]")
        self._first.pop()

    def rows(self, out: WorkFile, batch: dict | list) -> None:
        if batch:
            body = dumps(batch)
            self._sep(out)
            out.write(memoryview(body)[1:-1])

    def value(self, out: WorkFile, key: str, value: Any) -> None:
        self._member(out, key)
        out.write(dumps(value))

    def placeholder(self, key: str) -> int:
        """A member of main whose value is written later into late; returns its slot in ``pieces``."""
        self._member(self.main, key)
        self.pieces.append((self.main, self._cut, self.main.tell()))
        self._cut = self.main.tell()
        self.pieces.append((self.late, 0, 0))
        return len(self.pieces) - 1

    def finish(self) -> None:
        self.pieces.append((self.main, self._cut, self.main.tell()))

    def _member(self, out: WorkFile, key: str | None) -> None:
        if self._first:
            self._sep(out)
            if key is not None:
                out.write(orjson.dumps(key))
                out.write(b":")

    def _sep(self, out: WorkFile) -> None:
        if self._first[-1]:
            self._first[-1] = False
        else:
            out.write(b",")


@dataclass
class DataJson:
    """The migrated data.json: its size, and its bytes read back from the work files
    (each region begins where the last one of its file ended: both are read forward)."""

    size: int
    pieces: list[tuple[WorkFile, int, int]]

    def chunks(self) -> Iterator[bytes]:
        for work, start, end in self.pieces:
            yield from work.reader().read_range(start, end)
        for work in {id(work): work for work, _, _ in self.pieces}.values():
            work.close()


# ---------------------------------------------------------------- the walk
class _Spool:
    """A consumer section met before its producers: its batches as JSON lines, migrated at the end."""

    def __init__(self, path: Path_, is_object: bool, workdir: Path) -> None:
        self.path, self.is_object = path, is_object
        self.file = WorkFile(workdir)
        self.exact: list[bool] = []  # per line: written by jsonio's exact fallback, read back with it

    def add(self, dumped: bytes) -> None:
        self.file.write(dumped)
        self.file.write(b"\n")
        self.exact.append(isinstance(dumped, ExactJson))

    def batches(self) -> Iterator[Any]:
        """The spooled batches, as a stage of their own: the pass over data.json has ended by now,
        and migrating a big section (node_attributes) again takes a while."""
        with progress.stage(f"data.json: {'.'.join(self.path)}, once its facts are known", self.file.size) as advance:
            for line, exact in zip(self.file.reader(), self.exact, strict=True):
                advance(len(line))
                yield loads(line, exact)
        self.file.close()


def migrated_events(
    archive: Archive, steps: list[tuple[str, str]], workdir: Path, opener: Callable[[], IO[bytes]] | None = None,
    batch: int = BATCH, observe: Callable[[str, Any], None] | None = None,
) -> Iterator[tuple]:  # fmt: skip
    """The migrated document as events, in bounded memory (see the module docstring).

    ``observe(section, batch)``, when given, sees every batch of rows as the input holds it
    (dotted section name, before any step).

    ``("open", path, is_object)``, ``("rows", path, batch)``, ``("value", path, value)``,
    ``("close", path, is_object)`` in document order, except that a section
    waiting for facts leaves ``("later", path)`` at its place and comes whole
    after the document's last ``close``.  Sections the steps remove give no events.
    """
    file = str(archive.path)
    opener = opener or (lambda: archive.open_member("data.json"))
    context = Context()
    needs = producers(steps)
    wanted = set().union(*needs.values())  # the producers this plan needs facts from
    migrate = BatchSteps(steps, file, context)
    done: set[Path_] = set()
    spools: list[_Spool] = []
    open_: dict[Path_, Any] = {}  # open container -> "live", a _Spool, or None (dropped)
    with gc_paused():
        for event in checked_outline(file, opener, batch):
            kind, path = event[0], event[1]
            if kind == "rows":
                rows, dumped = event[2], event[3]
                if observe is not None:
                    observe(".".join(path), rows)
                if path in wanted:
                    context.learn(path, rows, dumped)
                target = open_[path]
                if target == "live":
                    yield "rows", path, migrate(path, rows)[1]
                elif target is not None:
                    target.add(dumped)
            elif kind == "open":
                if path not in WALK and not migrate(path, {} if event[2] else [])[0]:
                    open_[path] = None  # a section the steps remove (the conversion shadows at 0.5 -> 0.6)
                elif needs.get(path, set()) - done:
                    open_[path] = _Spool(path, event[2], workdir)
                    spools.append(open_[path])
                    yield "later", path
                else:
                    open_[path] = "live"
                    yield event
            elif kind == "close":
                done.add(path)
                if open_.pop(path) == "live":
                    yield event
            else:  # a scalar inside a walked container
                kept, value = migrate(path, event[2])
                if kept:
                    yield "value", path, value
        for spool in spools:
            yield "open", spool.path, spool.is_object
            for rows in spool.batches():
                yield "rows", spool.path, migrate(spool.path, rows)[1]
            yield "close", spool.path, spool.is_object


def migrated_batches(
    archive: Archive, steps: list[tuple[str, str]], workdir: Path, opener: Callable[[], IO[bytes]] | None = None
) -> Iterator[tuple[str, Any]]:
    """``(section, batch)`` of every migrated section (``"export_data.Node"``, ``"links_uuid"``, ...),
    for a consumer that does not care about order (staging into SQLite)."""
    for event in migrated_events(archive, steps, workdir, opener):
        if event[0] == "rows":
            yield ".".join(event[1]), event[2]


def stream_data_json(
    archive: Archive, steps: list[tuple[str, str]], workdir: Path, opener: Callable[[], IO[bytes]] | None = None,
    batch: int = BATCH,
) -> DataJson:  # fmt: skip
    """Migrate ``data.json`` through ``steps`` into work files under ``workdir``: its bytes and size."""
    main, late = WorkFile(workdir), WorkFile(workdir)
    writer = _Writer(main, late)
    slots: dict[Path_, int] = {}
    out = main
    for event in migrated_events(archive, steps, workdir, opener, batch):
        kind, path = event[0], event[1]
        if kind == "rows":
            writer.rows(out, event[2])
        elif kind == "open":
            if path in slots:  # a section that waited for its facts: written after the document
                out, start = late, late.tell()
            writer.open(out, None if not path or out is late else path[-1], event[2])
        elif kind == "close":
            writer.close(out, event[2])
            if path == ():
                writer.finish()
            elif path in slots:
                writer.pieces[slots[path]] = (late, start, late.tell())
        elif kind == "later":
            slots[path] = writer.placeholder(path[-1])
        else:
            writer.value(out, path[-1], event[2])
    return DataJson(sum(end - start for _, start, end in writer.pieces), writer.pieces)


def checked_outline(
    file: str, opener: Callable[[], IO[bytes]], batch: int = BATCH, keys_checked_elsewhere: frozenset[Path_] = frozenset()
) -> Iterator[tuple]:  # fmt: skip
    """``RowReader.outline`` of data.json with the strictness checks of the module docstring.

    The same events, except that ``("rows", path, batch, dumped)`` carries the
    batch's compact dump instead of the reader's counts.  Also the reader of
    ``--to main_XXXX`` (``converters.main.legacy_to_main``), so both refuse alike;
    there the sections in ``keys_checked_elsewhere`` go into a table whose primary
    key refuses a row key repeated in a later batch, so their keys are not kept here.
    """
    seen: set[str] | None = set()  # the row keys of the open section (None: not kept)
    with opener() as stream:
        for event in RowReader(stream, file).outline(WALK, batch):
            kind = event[0]
            if kind == "rows":
                path, rows = event[1], event[2]
                yield "rows", path, rows, checked_dump(file, opener, path, rows, event[3], event[4], seen)
                continue
            if kind == "open":
                if section_shape(event[1]) not in (None, event[2]):  # event[2]: True an object, False a list
                    raise shape_refusal(file, event[1], "an object" if event[2] else "a list")
                seen = None if event[1] in keys_checked_elsewhere else set()
            elif kind == "value":
                if section_shape(event[1]) is not None:  # a scalar (null too) where a section must be
                    raise shape_refusal(file, event[1], json_kind(event[2]))
                checked_value(file, event[1], event[2])
            yield event


def checked_dump(file: str, opener, path: Path_, rows: dict | list, count: int, colons: int, seen: set[str] | None) -> bytes:
    """The batch's compact dump, after the cheap checks that send a doubtful section to the exact reader."""
    doubtful = len(rows) != count
    if isinstance(rows, dict) and seen is not None:
        before = len(seen)
        seen.update(rows)
        doubtful = doubtful or len(seen) - before != len(rows)
    refused: orjson.JSONEncodeError | None = None
    try:
        dumped = dumps(rows)  # an integer beyond 64 bits is written exactly: no doubt
    except orjson.JSONEncodeError as exc:
        dumped, doubtful, refused = b"", True, exc
    if doubtful or dumped.count(b":") != colons:
        _exact_check(file, opener, path)
        if refused is not None:  # orjson refused what the exact reader let through
            raise BadInputError(file, f"data.json: {refusal('$.' + '.'.join(path), refused)}", "data.json")
    return dumped


def checked_value(file: str, path: Path_, value: Any) -> Any:
    try:
        dumps(value)
    except orjson.JSONEncodeError as exc:
        raise BadInputError(file, f"data.json: {refusal('$.' + '.'.join(path), exc)}", "data.json") from None
    return value


def _exact_check(file: str, opener, path: Path_) -> None:
    """Read one section again with the strict reader: names a duplicate key or a string orjson
    cannot write; returns if there is nothing wrong after all."""
    dotted = ".".join(path)
    seen: set[str] = set()
    with opener() as stream:
        for _, key, value in RowReader(stream, file, strict=True).rows({path}):
            if isinstance(key, str):
                if key in seen:
                    raise BadInputError(file, f"data.json: invalid JSON at $.{dotted}: duplicate key {key!r}", "data.json")
                seen.add(key)
            try:
                dumps(value)
            except orjson.JSONEncodeError as exc:
                raise BadInputError(file, f"data.json: {refusal(f'$.{dotted}[{key!r}]', exc)}", "data.json") from None
