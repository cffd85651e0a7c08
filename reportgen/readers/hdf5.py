"""Entropy job files (``<job id>.hdf5``) -> records.  The only h5py importer for reading.

Layout: reference ``entropyhub-layout.md`` section 2.3.  Every file goes
through ``check_file`` before a single byte of data is read: external links,
external raw storage, virtual datasets with sources in other files and unknown
filters refuse the whole file (HDF5 would otherwise read other files for us);
datasets declared larger than ``ReadLimits.max_dataset_bytes`` are marked
``too_large`` and never read.  After that only shapes, dtypes and a bounded
slice of the first rows are read (D7); ``<name>_time`` datasets are read in
slices to summarise them.

libhdf5 is not safe on hostile files, so ``reportgen.readers.sandbox`` calls
``read_hdf5_job`` in worker processes with a memory limit and a timeout.
"""

from __future__ import annotations

import codecs
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

# Read by libhdf5 when it first looks for a filter plugin: "::" disables
# plugin loading, so a file naming an unknown filter can never make us dlopen
# a library.  (The allowlist in check_file refuses such files first anyway.)
os.environ["HDF5_PLUGIN_PRELOAD"] = "::"

import h5py  # noqa: E402  (after the environment variable above)
import numpy as np  # noqa: E402
from h5py import h5a, h5d, h5i, h5l, h5o, h5s, h5t  # noqa: E402

from reportgen.errors import BadInputError, InputMissingError  # noqa: E402
from reportgen.jsondepth import load_json
from reportgen.records import (  # noqa: E402
    NodeGroup,
    Output,
    OutputData,
    OutputKind,
    Problem,
    ReadLimits,
    ReadRefusal,
    TimeColumn,
    Timestamps,
)

# Filters built into libhdf5/h5py; anything else would need a plugin.
ALLOWED_FILTERS = {1: "gzip", 2: "shuffle", 3: "fletcher32", 5: "nbit", 6: "scaleoffset", 32000: "lzf"}
TIME_SUFFIX = "_time"
TIME_FORMAT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
TIME_SLICE_ROWS = 65536
PREVIEW_ELEMENTS = 8192  # numbers per preview row at most (a (N,1024,1024) row is 1 M)
NESTED_NAMES_SHOWN = 5  # member names a nested-group warning lists
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
VLEN_STR = h5py.string_dtype("utf-8")
VLEN_STR_TYPE = h5t.py_create(VLEN_STR)


@dataclass(frozen=True)
class Hdf5Job:
    """What one job file holds, as far as it could be read."""

    root_attrs: tuple[tuple[str, str], ...]
    nodes: tuple[NodeGroup, ...]
    problems: tuple[Problem, ...]
    readable: bool  # False: not opened, refused or root unreadable -> status "corrupt"
    # Root attributes libhdf5 could not read: shown as "<unreadable attribute: ...>", never checked as values.
    unreadable_attrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refusal:
    code: str
    member: str
    reason: str


# ---------------------------------------------------------------- text
def fix_text(text: str) -> str:
    """A str h5py decoded with surrogateescape -> valid UTF-8 text with U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def decode_bytes(raw: bytes, cap: int) -> tuple[str, bool]:
    """UTF-8 with replacement, at most ``cap`` bytes; True when cut."""
    if len(raw) <= cap:
        return raw.decode("utf-8", "replace"), False
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    return decoder.decode(raw[:cap], final=False), True


def attr_text(value: Any, cap: int) -> str:
    """Any attribute value as bounded text; never raises on bad bytes.

    Other writers (``attrs[k] = [v]``, MATLAB) store a scalar as a 1-element
    array: it reads as its element, so ``[b'#/j1']`` is ``#/j1``.  Longer arrays
    read as lists with their strings decoded (``['M', 'Hz']``); an empty
    attribute (``h5py.Empty``, no dataspace) is "".
    """
    if isinstance(value, h5py.Empty):
        return ""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]  # np.bytes_ is bytes, np.str_ is str; a vlen element is an array
    if isinstance(value, bytes):
        return decode_bytes(value, cap)[0]
    if isinstance(value, str):
        return fix_text(value[:cap])
    if isinstance(value, np.generic):
        value = value.item()  # a compound element becomes a tuple
    if isinstance(value, np.ndarray | list | tuple):
        value = _decoded_list(value, cap)
    if isinstance(value, bytes):
        return decode_bytes(value, cap)[0]
    return fix_text(str(value)[:cap])


def _decoded_list(value: Any, cap: int) -> Any:
    """Nested lists of an array attribute with bytes as text and inner arrays as lists."""
    if isinstance(value, bytes):
        return decode_bytes(value, cap)[0]
    if isinstance(value, np.ndarray):
        return _decoded_list(value.tolist(), cap)
    if isinstance(value, list | tuple):
        return [_decoded_list(item, cap) for item in value]
    return value.item() if isinstance(value, np.generic) else value


def read_attrs(obj: h5py.HLObject, cap: int, unreadable: dict[str, str] | None = None
               ) -> tuple[tuple[str, str], ...]:
    """Every attribute as text, sorted by name; those that could not be read go to ``unreadable`` (name: why).

    Scalar vlen strings (all Entropy writes) are read through the low-level
    API as bytes: half the cost of ``obj.attrs[name]`` and no surrogates.  An
    attribute libhdf5 cannot read (damaged heap, a dtype h5py cannot convert)
    is shown as ``<unreadable attribute: why>``: text for people, never a value.
    """
    found = {}
    names = _attr_names(obj)
    for raw_name in names:
        attr = h5a.open(obj.id, raw_name)
        name = raw_name.decode("utf-8", "replace")
        try:
            found[name] = attr_text(_read_attr(obj, attr, raw_name), cap)
        except Exception as exc:  # an attribute of a dtype h5py cannot convert
            found[name] = f"<unreadable attribute: {_short(exc)}>"
            if unreadable is not None:
                unreadable[name] = _short(exc)
    total = h5a.get_num_attrs(obj.id)
    if total > len(names) and unreadable is not None:  # past MAX_ATTRS: said once, not per attribute
        unreadable["..."] = f"{total - len(names):,} more attributes past the {MAX_ATTRS:,} read per object"
    return tuple(sorted(found.items()))


# Entropy writes about a dozen attributes per object; past this many the file is broken or hostile,
# and each one still costs libhdf5 a lookup.
MAX_ATTRS = 4096
# The attributes the layout gives a meaning to (root, node, output): read even past MAX_ATTRS.
LAYOUT_ATTRS = (b"project", b"job_eui", b"job_description", b"workflow_eui", b"parameters_eui",
                b"creation_timestamp", b"workflow_commit", b"parameters_commit", b"type", b"description",
                b"bin", b"units", b"entropy_role")


def _attr_names(obj: h5py.HLObject) -> list[bytes]:
    """The first MAX_ATTRS attribute names in one pass (H5Aiterate), and those of LAYOUT_ATTRS.
    Not by index: libhdf5 walks its dense attribute storage from the start for each index, so
    15,000 attributes took minutes."""
    names: list[bytes] = []

    def collect(name: bytes) -> int | None:
        names.append(name)
        return 1 if len(names) >= MAX_ATTRS else None  # anything but None ends the iteration

    if h5a.get_num_attrs(obj.id):
        h5a.iterate(obj.id, collect)
    if len(names) >= MAX_ATTRS:
        seen = set(names)
        names += [name for name in LAYOUT_ATTRS if name not in seen and h5a.exists(obj.id, name)]
    return names


def unreadable_problems(rel: str, member: str, unreadable: dict[str, str], severity: str, code: str
                        ) -> list[Problem]:
    """One problem per attribute that could not be read; nothing checks its placeholder text."""
    return [Problem(severity, code, rel, f"{member}@{name}", f"attribute cannot be read ({why})")  # type: ignore[arg-type]
            for name, why in sorted(unreadable.items())]


def _read_attr(obj: h5py.HLObject, attr: h5a.AttrID, raw_name: bytes) -> Any:
    kind = attr.get_type()
    if kind.get_class() == h5t.STRING and kind.is_variable_str() and attr.shape == ():
        buffer = np.empty((), dtype=VLEN_STR)
        attr.read(buffer, mtype=VLEN_STR_TYPE)
        return buffer[()]
    return obj.attrs[raw_name.decode("utf-8", "surrogateescape")]


# ---------------------------------------------------------------- safety
def check_links(f: h5py.File) -> list[Refusal]:
    """External links anywhere in the file; walking links opens no object."""
    external: list[bytes] = []

    def visit_link(raw: bytes, info: h5l.LinkInfo) -> None:
        # Low-level visit (what ``visititems_links`` does underneath) without building a
        # Python link object per link: only external links are looked at further.
        if info.type == h5l.TYPE_EXTERNAL:
            external.append(raw)

    f.id.links.visit(visit_link, info=True)
    refusals = []
    for raw in external:
        name = _h5py_name(raw)
        link = f.get(name, getlink=True)
        target = fix_text(f"{link.filename}:{link.path}")
        refusals.append(Refusal("hdf5-external-link", "/" + fix_text(name), f"external link to {target!r} not allowed"))
    return refusals


def _h5py_name(raw: bytes) -> str | bytes:
    """A link name as ``visititems_links`` passes it: text when UTF-8, else the bytes."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def check_dataset(ds: h5py.Dataset, member: str) -> Refusal | None:
    """External storage, virtual sources in other files, unknown filters: from the creation plist only."""
    plist = ds.id.get_create_plist()
    if plist.get_external_count():
        return Refusal("hdf5-external-storage", member, "external storage not allowed")
    if plist.get_layout() == h5d.VIRTUAL:
        files = sorted({fix_text(src.file_name) for src in ds.virtual_sources()})
        if files != ["."]:
            return Refusal("hdf5-virtual-dataset", member, f"virtual dataset with sources in {files!r} not allowed")
    for index in range(plist.get_nfilters()):
        code = plist.get_filter(index)[0]
        if code not in ALLOWED_FILTERS:
            return Refusal("hdf5-unknown-filter", member, f"filter {code} not allowed (only built-in filters)")
    return None


def check_datasets(datasets: dict[str, h5py.Dataset], limits: ReadLimits) -> tuple[list[Refusal], set[str]]:
    """Refusals that forbid reading the file, and the paths of datasets over budget."""
    refusals, too_large = [], set()
    for path, ds in datasets.items():
        refusal = check_dataset(ds, path)
        if refusal:
            refusals.append(refusal)
        elif declared_bytes(ds) > limits.max_dataset_bytes:
            too_large.add(path)
    return refusals, too_large


def check_file(f: h5py.File, limits: ReadLimits) -> tuple[list[Refusal], set[str]]:
    """Every link and every dataset of the file checked (for ``read_output_data``)."""
    refusals = check_links(f)
    if refusals:  # never open objects while external links exist
        return refusals, set()
    datasets = {}

    def visit_object(name: str, obj: h5py.HLObject) -> None:
        if isinstance(obj, h5py.Dataset):
            datasets["/" + fix_text(name)] = obj

    f.visititems(visit_object)
    return check_datasets(datasets, limits)


def declared_bytes(ds: h5py.Dataset) -> int:
    shape = ds.shape
    return math.prod(shape) * ds.dtype.itemsize if shape is not None else 0


# ---------------------------------------------------------------- job files
def read_hdf5_job(path: Path, rel: str, limits: ReadLimits = ReadLimits()) -> Hdf5Job:
    """Read one job file into records; every failure becomes a Problem."""
    try:
        f = h5py.File(path, "r", locking=False)
    except PermissionError:
        return _unreadable(rel, "hdf5-permission", "permission denied")
    except FileNotFoundError:
        return _unreadable(rel, "changed-during-read", "changed during read (file vanished)")
    except OSError as exc:
        if OPEN_FOR_WRITE in str(exc):
            return _unreadable(rel, "hdf5-being-written", BEING_WRITTEN, "warning")
        return _unreadable(rel, "hdf5-corrupt", f"not a valid HDF5 file ({_short(exc)})")
    try:
        with f:
            return _read_open_file(f, rel, limits)
    except MemoryError:
        return _unreadable(rel, "hdf5-memory", "HDF5 reader ran out of its memory budget")
    except Exception as exc:  # libhdf5 reports damage as many exception types
        # libhdf5's own words say what is damaged; the Python class it came as means nothing to a reader
        return _unreadable(rel, "hdf5-corrupt", f"not a valid HDF5 file ({_short(exc)})")


# libhdf5's words for a file whose SWMR writer still holds it (or died without closing it).
OPEN_FOR_WRITE = "file is already open for write"
BEING_WRITTEN = ("open for writing by another process (the job is still running, or its writer died "
                 "without closing the file: h5clear -s clears the flag); not read")


def _unreadable(rel: str, code: str, reason: str, severity: str = "error") -> Hdf5Job:
    return Hdf5Job((), (), (Problem(severity, code, rel, "", reason),), readable=False)  # type: ignore[arg-type]


def _short(exc: BaseException) -> str:
    return fix_text(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:200]


@dataclass
class NodeObjects:
    """A node group and its datasets, opened but not read."""

    name: str
    group: h5py.Group
    datasets: dict[str, h5py.Dataset]


def _read_open_file(f: h5py.File, rel: str, limits: ReadLimits) -> Hdf5Job:
    """Open every object, check them all, and only then read attributes and data."""
    refusals = check_links(f)
    problems: list[Problem] = []
    nodes = [] if refusals else collect_nodes(f, rel, problems)
    if not refusals:
        every = {f"/{n.name}/{d}": ds for n in nodes for d, ds in n.datasets.items()}
        refusals, too_large = check_datasets(every, limits)
    if refusals:
        return Hdf5Job((), (), tuple(Problem("error", r.code, rel, r.member, r.reason) for r in refusals), readable=False)
    problems.extend(
        Problem("error", "hdf5-too-large", rel, p, f"dataset larger than budget ({limits.max_dataset_bytes} bytes); not read")
        for p in sorted(too_large)
    )
    unreadable: dict[str, str] = {}
    root_attrs = read_attrs(f, limits.preview_string_bytes, unreadable)
    problems.extend(unreadable_problems(rel, "", unreadable, "error", "root-attr-unreadable"))
    groups = tuple(read_node(n, rel, limits, too_large, problems) for n in nodes)
    return Hdf5Job(root_attrs, groups, tuple(problems), readable=True, unreadable_attrs=tuple(sorted(unreadable)))


def collect_nodes(f: h5py.File, rel: str, problems: list[Problem]) -> list[NodeObjects]:
    nodes = []
    for name, obj in _members(f, "", rel, problems):
        if isinstance(obj, h5py.Group):
            datasets = {}
            for member_name, member in _members(obj, "/" + name, rel, problems):
                if isinstance(member, h5py.Dataset):
                    datasets[member_name] = member
                else:
                    problems.append(Problem("warning", "hdf5-unexpected", rel, f"/{name}/{member_name}", _nested_reason(member)))
            nodes.append(NodeObjects(name, obj, datasets))
        else:
            problems.append(Problem("warning", "hdf5-unexpected", rel, "/" + name, "dataset at the root; Entropy writes groups only"))
    return nodes


def _nested_reason(group: h5py.Group) -> str:
    """Why a group inside a node group is passed over, naming what it holds: a lab's own writer
    may nest data there, and a bare "nested group" would hide that it is left out."""
    names = [raw.decode("utf-8", "replace") for _, raw in zip(range(NESTED_NAMES_SHOWN), group.id)]
    count = group.id.get_num_objs()
    held = ", ".join(repr(n) for n in names[:NESTED_NAMES_SHOWN]) + (f" and {count - NESTED_NAMES_SHOWN:,} more" if count > NESTED_NAMES_SHOWN else "")
    what = f"holds {count:,} member{'s' if count != 1 else ''} ({held})" if count else "empty"
    return f"nested group, {what}; Entropy writes none, so it is not shown or exported (the HDF5 file keeps it)"


def _members(group: h5py.Group, base: str, rel: str, problems: list[Problem]) -> Iterator[tuple[str, h5py.HLObject]]:
    """(display name, object) of every hard-linked member; soft links are reported, never followed."""
    for raw in group.id:  # bytes names, in name order
        name = raw.decode("utf-8", "replace")
        member = f"{base}/{name}"
        if name.encode("utf-8") != raw:
            problems.append(Problem("warning", "name-not-utf8", rel, member, "name is not valid UTF-8 (shown escaped)"))
        if group.id.links.get_info(raw).type != h5l.TYPE_HARD:
            problems.append(Problem("warning", "hdf5-soft-link", rel, member, "soft link not followed"))
            continue
        oid = h5o.open(group.id, raw)
        kind = h5i.get_type(oid)
        if kind == h5i.GROUP:
            yield name, h5py.Group(oid)
        elif kind == h5i.DATASET:
            yield name, h5py.Dataset(oid, readonly=True)  # read-only: h5py then keeps its shape (asked ~5 times per dataset)
        else:
            problems.append(Problem("warning", "hdf5-unexpected", rel, member, "named datatype; Entropy writes none"))


def read_node(node: NodeObjects, rel: str, limits: ReadLimits, too_large: set[str], problems: list[Problem]) -> NodeGroup:
    unreadable: dict[str, str] = {}
    attrs = read_attrs(node.group, limits.preview_string_bytes, unreadable)
    values = dict(attrs)
    path = "/" + node.name
    problems.extend(unreadable_problems(rel, path, unreadable, "warning", "attr-unreadable"))
    for key in ("type", "description", "bin"):
        if key not in values:
            problems.append(Problem("warning", "node-attr-missing", rel, path, f"node attribute {key!r} missing"))
    outputs = []
    for out_name, value_ds, time_ds in pair_outputs(node.datasets):
        out_path = f"{path}/{out_name}"
        unreadable.clear()
        try:
            output = read_output(out_name, out_path, value_ds, time_ds, limits, too_large, unreadable)
        except MemoryError:
            raise
        except Exception as exc:
            problems.append(Problem("error", "hdf5-read-error", rel, out_path, f"cannot read dataset ({_short(exc)})"))
            continue
        outputs.append(output)
        problems.extend(unreadable_problems(rel, out_path, unreadable, "warning", "attr-unreadable"))
        if value_ds is None:
            problems.append(Problem("warning", "aborted-flush", rel, out_path, f"{out_name}_time exists without {out_name} (aborted flush)"))
        elif output.times is not None and output.shape and output.times.count != output.n_sets:
            problems.append(Problem("warning", "time-count-mismatch", rel, out_path,
                                    f"{out_name}_time has {output.times.count} stamps for {output.n_sets} sets"))
        if time_ds is not None:
            problems.extend(time_problems(rel, out_path + TIME_SUFFIX, time_ds, output.times, value_ds is not None))
    return NodeGroup(
        name=node.name,
        hdf5_path=path,
        type=values.get("type", ""),
        description=values.get("description", ""),
        bin=values.get("bin", ""),
        attrs=attrs,
        outputs=tuple(outputs),
    )


def time_problems(rel: str, member: str, ds: h5py.Dataset, times: Timestamps | None, paired: bool) -> list[Problem]:
    """Warnings about an output's ``_time`` dataset: stamps that are not times, attributes Entropy never writes."""
    found = []
    if times is not None and times.unparsable:
        if times.unparsable_example:
            reason = describe_unparsable(times.unparsable, times.count - times.unread, times.unparsable_example)
        else:
            reason = (f"{times.unparsable} stamps not read: the dataset is not 1-D text "
                      f"({fix_text(str(ds.dtype))[:60]}, shape {ds.shape})")
        found.append(Problem("warning", "time-unparsable", rel, member, reason))
    if paired and h5a.get_num_attrs(ds.id):
        found.append(Problem("warning", "hdf5-unexpected", rel, member,
                             "_time dataset has attributes (Entropy writes none); used as the times of "
                             f"{member[: -len(TIME_SUFFIX)].rsplit('/', 1)[-1]!r}, its attributes not shown"))
    return found


def is_time_dataset(name: str, ds: h5py.Dataset) -> bool:
    """``<out>_time`` carries no attributes; a value dataset has @description and @units."""
    return _is_time_name(name) and h5a.get_num_attrs(ds.id) == 0


def _is_time_name(name: str) -> bool:
    return name.endswith(TIME_SUFFIX) and len(name) > len(TIME_SUFFIX)


def pair_outputs(datasets: dict[str, h5py.Dataset]) -> list[tuple[str, h5py.Dataset | None, h5py.Dataset | None]]:
    """(output name, values, times) in name order; values None for an aborted flush.

    ``<out>_time`` next to ``<out>`` is the times of ``<out>`` and never an
    output of its own, even when another writer gave it attributes (``read_node``
    reports those).  Alone, it is an aborted flush when it has no attributes,
    else an output named so.
    """
    pairs = []
    for name in sorted(datasets):
        ds = datasets[name]
        if _is_time_name(name):
            stem = name[: -len(TIME_SUFFIX)]
            if stem in datasets:
                continue
            if is_time_dataset(name, ds):
                pairs.append((stem, None, ds))
                continue
        pairs.append((name, ds, datasets.get(name + TIME_SUFFIX)))
    pairs.sort(key=lambda pair: pair[0])
    return pairs


# ---------------------------------------------------------------- outputs
def classify(ds: h5py.Dataset) -> tuple[OutputKind, str]:
    """(kind, dtype text) from dtype and shape alone; "str" may become "json" later."""
    dtype, shape = ds.dtype, ds.shape
    if h5py.check_string_dtype(dtype) is not None:
        kind, text = "str", "str"
    elif ref_text := _reference_text(dtype):  # shown and exported as the paths they point to
        kind, text = "str", ref_text
    elif dtype.kind == "b" or _is_enum_bool(dtype):
        kind, text = "bool", "bool"
    elif dtype == np.int64:
        kind, text = "int", "int64"
    elif dtype == np.float64:
        kind, text = "float", "float64"
    else:
        kind, text = "other", render_dtype_text(dtype)
    if not shape:  # a scalar string is text like any other; a scalar number has no sets to plot
        return ("str" if kind == "str" else "other"), text
    if shape[0] == 0:
        return "empty", text
    return kind, text


def _reference_text(dtype: np.dtype) -> str:
    """"object reference" or "region reference" for a dataset of HDF5 references, else ""."""
    ref = h5py.check_ref_dtype(dtype)
    if ref is None:
        return ""
    return "region reference" if ref is h5py.RegionReference else "object reference"


def read_reference_paths(ds: h5py.Dataset, block: Any) -> Any:
    """References as the paths of what they point to (a region with its bounding box), nested lists.

    h5py.Reference objects cannot leave the sandboxed worker (they do not pickle)
    and mean nothing outside the file; the path is what a reader of the page or
    of the archive can follow in the raw HDF5 file, which export carries.
    """
    f = ds.file  # a new File object at each access: once
    paths = np.frompyfunc(lambda ref: _reference_path(f, ref), 1, 1)(np.asarray(block, dtype=object))
    return paths.tolist() if isinstance(paths, np.ndarray) else paths


def _reference_path(f: h5py.File, ref: Any) -> str:
    if not ref:  # a null reference: never set
        return ""
    try:
        name = f[ref].name or ""
        if isinstance(ref, h5py.RegionReference):
            start, end = h5py.h5r.get_region(ref, f.id).get_select_bounds()
            name += "[" + ", ".join(f"{a}:{b + 1}" for a, b in zip(start, end)) + "]"
    except (KeyError, ValueError, RuntimeError, OSError):  # dangling, or a region without a selection
        return "(unresolved reference)"
    return fix_text(name)


def read_enum_labels(dtype: np.dtype) -> tuple[tuple[int, str], ...]:
    """(value, name) of an HDF5 enum other than Flame's bool, by value; () for any other dtype."""
    mapping = h5py.check_enum_dtype(dtype)
    if mapping is None or _is_enum_bool(dtype):
        return ()
    return tuple(sorted((int(value), fix_text(str(name))[:64]) for name, value in mapping.items()))


def render_dtype_text(dtype: np.dtype) -> str:
    """numpy's name of the dtype, and an enum's names (the values alone would mean nothing), bounded."""
    text = fix_text(str(dtype))
    if labels := read_enum_labels(dtype):
        text = f"enum {text} (" + ", ".join(f"{name}={value}" for value, name in labels) + ")"
    return text if len(text) <= 100 else text[:99] + "…"


def _is_enum_bool(dtype: np.dtype) -> bool:
    mapping = h5py.check_enum_dtype(dtype)
    return mapping is not None and set(mapping) == {"FALSE", "TRUE"}


def read_output(
    name: str,
    path: str,
    value_ds: h5py.Dataset | None,
    time_ds: h5py.Dataset | None,
    limits: ReadLimits,
    too_large: set[str],
    unreadable: dict[str, str] | None = None,
) -> Output:
    times = read_times(time_ds, limits) if time_ds is not None else None
    if value_ds is None:
        return Output(
            name, path, "", "", "missing", "", (), times.count if times else 0, 0, (), False, times, ()
        )
    attrs = read_attrs(value_ds, limits.preview_string_bytes, unreadable)
    values = dict(attrs)
    kind, dtype_text = classify(value_ds)
    shape = tuple(int(n) for n in (value_ds.shape or ()))
    large = path in too_large
    if large:
        preview, truncated = (), True
    else:
        kind, preview, truncated = read_preview(value_ds, kind, limits)
    return Output(
        name=name,
        hdf5_path=path,
        description=values.get("description", ""),
        units=values.get("units", ""),
        kind=kind,
        dtype=dtype_text,
        shape=shape,
        n_sets=shape[0] if shape else int(value_ds.shape == ()),  # a scalar is one set; a null dataspace none
        nbytes=declared_bytes(value_ds),
        preview=preview,
        preview_truncated=truncated,
        times=times,
        attrs=attrs,
        too_large=large,
        labels=read_enum_labels(value_ds.dtype),
    )


def row_selection(shape: tuple[int, ...], rows: int) -> tuple[tuple[slice, ...], bool]:
    """Slices for the first ``rows`` rows with every further axis capped; True when cut."""
    inner = shape[1:]
    per_axis = max(1, int(PREVIEW_ELEMENTS ** (1 / len(inner)))) if inner else 1
    if math.prod(inner) <= PREVIEW_ELEMENTS:
        per_axis = max(inner, default=1)
    caps = tuple(min(n, per_axis) for n in inner)
    cut = rows < shape[0] or caps != inner
    return (slice(0, rows), *(slice(0, n) for n in caps)), cut


def read_preview(ds: h5py.Dataset, kind: OutputKind, limits: ReadLimits) -> tuple[OutputKind, tuple[Any, ...], bool]:
    """The first rows, bounded; a 1-D string output whose rows all parse as JSON is "json"."""
    shape = ds.shape  # a property that asks libhdf5 each time: read once
    if not shape and kind == "str":
        return kind, *read_scalar_text(ds, limits.preview_string_bytes)
    if kind in ("empty", "other") and (not shape or ds.dtype.kind not in "iufb"):
        return kind, (), bool(shape and shape[0])
    rows = min(limits.preview_rows, shape[0])
    selection, cut = row_selection(shape, rows)
    if _reference_text(ds.dtype):
        return kind, tuple(read_reference_paths(ds, ds[selection])), cut
    if kind != "str":
        block = ds[selection]
        if kind == "bool":
            block = block.astype(bool)
        return kind, tuple(block.tolist()), cut
    return read_string_preview(ds, selection, cut, limits)


def read_string_preview(
    ds: h5py.Dataset, selection: tuple[slice, ...], cut: bool, limits: ReadLimits
) -> tuple[OutputKind, tuple[Any, ...], bool]:
    cap = limits.preview_string_bytes
    budget = cap * max(1, limits.preview_rows)
    raw_rows: list[Any] = []
    read_row = row_reader(ds, selection)
    for index in range(selection[0].stop):  # row by row: a vlen row can be megabytes
        row = read_row(index)
        raw_rows.append(row)
        budget -= _raw_size(row)
        if budget <= 0:
            cut = cut or index + 1 < ds.shape[0]
            break
    if ds.ndim == 1:
        parsed = _parse_json_rows(raw_rows, cap)
        if parsed is not None:
            return "json", parsed[0], cut or parsed[1]
    texts = []
    for row in raw_rows:
        value, row_cut = _decode_tree(row, cap)
        texts.append(value)
        cut = cut or row_cut
    return "str", tuple(texts), cut


def read_scalar_text(ds: h5py.Dataset, cap: int) -> tuple[tuple[Any, ...], bool]:
    """A scalar string (or reference) dataset as its one set of text, and whether it was cut.

    Entropy writes sets as rows; other writers store one string as a scalar,
    which is still one set of text, not bytes.
    """
    if _reference_text(ds.dtype):
        return tuple(read_reference_paths(ds, np.asarray(ds[()]).reshape(1))), False
    value, cut = _decode_tree(ds[()], cap)
    return (value,), cut


def row_reader(ds: h5py.Dataset, selection: tuple[slice, ...]) -> Callable[[int], Any]:
    """``index -> ds[(index, *selection[1:])]`` through the low-level API.

    Why: ``Dataset.__getitem__`` costs ~50 us of selection machinery per call,
    five times the read of a small row; string previews are read row by row.
    """
    inner = tuple(s.stop - s.start for s in selection[1:])
    if 0 in inner:
        return lambda index: ds[(index, *selection[1:])]
    file_space = ds.id.get_space()
    memory_space = h5s.create_simple((1, *inner))
    dtype = ds.dtype

    def read(index: int) -> Any:
        file_space.select_hyperslab((index, *(s.start for s in selection[1:])), (1, *inner))
        buffer = np.empty((1, *inner), dtype=dtype)
        ds.id.read(memory_space, file_space, buffer)
        return buffer[0]

    return read


def _raw_size(row: Any) -> int:
    if isinstance(row, bytes | str):
        return len(row)
    return sum(_raw_size(item) for item in np.asarray(row, dtype=object).ravel())


def _decode_tree(row: Any, cap: int) -> tuple[Any, bool]:
    """bytes -> str, arrays -> nested lists of str; True when any string was cut."""
    if isinstance(row, bytes):
        return decode_bytes(row, cap)
    if isinstance(row, str):
        return decode_bytes(row.encode("utf-8", "surrogateescape"), cap)
    pairs = [_decode_tree(item, cap) for item in row]
    return [value for value, _ in pairs], any(cut for _, cut in pairs)


def _parse_json_rows(raw_rows: list[Any], cap: int) -> tuple[tuple[Any, ...], bool] | None:
    """Parsed rows (over-long rows kept as cut text), or None if any row is not JSON."""
    values, cut = [], False
    for raw in raw_rows:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else fix_text(str(raw))
        try:
            value = load_json(text)
        except (ValueError, RecursionError):
            return None
        if len(text) > cap:
            value, cut = decode_bytes(text.encode("utf-8"), cap)[0], True
        values.append(value)
    return tuple(values), cut


# ---------------------------------------------------------------- timestamps
# Byte positions of "YYYY-MM-DDTHH:MM:SS.mmmZ": digits, and the fixed separators.
_TIME_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22])
_TIME_SEPARATORS = {4: b"-", 7: b"-", 10: b"T", 13: b":", 16: b":", 19: b".", 23: b"Z"}
_TIME_LENGTH = 24
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_FIELD_PLACES = {  # field -> (first digit column in _TIME_DIGITS, number of digits)
    "year": (0, 4), "month": (4, 2), "day": (6, 2), "hour": (8, 2), "minute": (10, 2), "second": (12, 2),
    "milli": (14, 3),
}


def parse_time_column(raw: Any) -> TimeColumn:
    """The rows of a ``_time`` dataset as ``parse_time`` reads each one, in a few numpy calls.

    Why: a ``_time`` dataset has a row per set (millions for a monitor), and a
    regex and a ``datetime`` per row cost ten times reading it.  The checks are
    exactly the regex's and ``datetime``'s: 24 bytes of ASCII digits and the
    fixed separators, then year 1-9999, month 1-12, a day of that month (leap
    years), hour 0-23, minute and second 0-59.  Rows that fail them (another
    ISO 8601 form) and rows that are not bytes (h5py gives bytes; a caller may
    pass text) take ``parse_time`` one by one.
    """
    fixed = _time_grid(raw)
    if fixed is None:  # every row by parse_time
        return _parse_other_forms(raw, np.zeros(len(raw), np.int64), np.zeros(len(raw), bool))
    grid, valid = fixed
    digits = grid[:, _TIME_DIGITS]
    valid &= np.all((digits >= ord("0")) & (digits <= ord("9")), axis=1)
    for position, char in _TIME_SEPARATORS.items():
        valid &= grid[:, position] == char[0]
    number = digits.astype(np.int64) - ord("0")
    f = {name: sum(number[:, first + i] * 10 ** (width - 1 - i) for i in range(width))
         for name, (first, width) in _FIELD_PLACES.items()}
    year, month, day = f["year"], f["month"], f["day"]
    valid &= (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    valid &= day <= _MONTH_DAYS[np.where(valid, month, 0)] + (leap & (month == 2))
    valid &= (f["hour"] <= 23) & (f["minute"] <= 59) & (f["second"] <= 59)
    millis = (_days_from_civil(year, month, day) * 86_400_000 + f["hour"] * 3_600_000 + f["minute"] * 60_000
              + f["second"] * 1000 + f["milli"])
    return _parse_other_forms(raw, np.where(valid, millis, 0), valid)


def _parse_other_forms(raw: Any, millis: np.ndarray, valid: np.ndarray) -> TimeColumn:
    """The rows the fixed form did not read, given to ``parse_time`` one by one (other writers' ISO
    8601 forms): only those rows, so a column Entropy wrote costs one ``flatnonzero`` more."""
    for index in np.flatnonzero(~valid).tolist():
        when = _parse_time_row(raw[index])
        if when is not None:
            millis[index], valid[index] = (when - EPOCH) // timedelta(milliseconds=1), True
    return TimeColumn(millis, valid)


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's days_from_civil)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    return era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468


def _time_grid(raw: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(n, 24) bytes of the rows and whether each is exactly 24 bytes long; None unless all rows are bytes.

    h5py gives a vlen string dataset as an object array of ``bytes``, and a
    fixed-length one as an ``S<k>`` array, whose rows read without their
    trailing NULs (so a row is 24 long when bytes 24 on are NUL).
    """
    if isinstance(raw, np.ndarray) and raw.dtype.kind == "S":
        width = raw.dtype.itemsize
        grid = np.ascontiguousarray(raw).view(np.uint8).reshape(len(raw), width)
        if width < _TIME_LENGTH:
            return np.zeros((len(raw), _TIME_LENGTH), np.uint8), np.zeros(len(raw), bool)
        return grid[:, :_TIME_LENGTH], ~np.any(grid[:, _TIME_LENGTH:], axis=1)
    if not all(type(row) is bytes for row in raw):
        return None
    lengths = np.fromiter(map(len, raw), dtype=np.int64, count=len(raw))
    fixed = np.array(raw, dtype=f"S{_TIME_LENGTH}") if len(raw) else np.zeros(0, f"S{_TIME_LENGTH}")
    return fixed.view(np.uint8).reshape(len(raw), _TIME_LENGTH), lengths == _TIME_LENGTH


def read_times(ds: h5py.Dataset, limits: ReadLimits) -> Timestamps:
    """Summary of a ``_time`` dataset, read in slices within ``max_read_bytes``."""
    shape = ds.shape  # a property that asks libhdf5 each time: read once
    count = int(shape[0]) if shape else 0
    if h5py.check_string_dtype(ds.dtype) is None or not shape or len(shape) != 1:
        return Timestamps(count, None, None, True, 0, (), unparsable=count)
    readable = min(count, max(1, limits.max_read_bytes // 64))
    chunks, unparsable, preview, example = [], 0, (), ""
    for start in range(0, readable, TIME_SLICE_ROWS):
        raw = ds[start : min(readable, start + TIME_SLICE_ROWS)]
        if start == 0:
            preview = tuple(_stamp_text(r) for r in raw[: limits.preview_rows])
        column = parse_time_column(raw)
        chunks.append(column.millis[column.valid])
        bad = np.flatnonzero(~column.valid)
        if len(bad) and not unparsable:
            example = _stamp_text(raw[int(bad[0])])
        unparsable += len(bad)
    millis = np.concatenate(chunks) if chunks else np.zeros(0, np.int64)
    unread = count - readable  # not looked at: neither valid nor unparsable
    if not len(millis):
        return Timestamps(count, None, None, True, 0, preview, unparsable=unparsable, unread=unread,
                          unparsable_example=example)
    in_order = bool(np.all(millis[1:] >= millis[:-1]))
    return Timestamps(
        count=count,
        first=millis_to_datetime(int(millis.min())),
        last=millis_to_datetime(int(millis.max())),
        sorted=in_order,
        duplicates=count_repeats(millis if in_order else np.sort(millis)),
        preview=preview,
        unparsable=unparsable,
        unread=unread,
        unparsable_example=example,
    )


def _stamp_text(raw: Any) -> str:
    """One stored stamp as text for people (at most 64 bytes)."""
    return decode_bytes(raw, 64)[0] if isinstance(raw, bytes) else fix_text(str(raw))


def count_repeats(ordered: np.ndarray) -> int:
    """Rows of a sorted array equal to the row before: ``len - len(np.unique)`` without a second sort."""
    return int(np.count_nonzero(ordered[1:] == ordered[:-1]))


def millis_to_datetime(millis: int) -> datetime:
    return EPOCH + timedelta(milliseconds=millis)


# ---------------------------------------------------------------- on-demand values
def read_output_data(path: Path, hdf5_path: str, limits: ReadLimits = ReadLimits()) -> OutputData:
    """All values of one output (strided when over ``max_read_bytes``), with parsed times."""
    return read_outputs_data(path, (hdf5_path,), limits)[0]


def read_outputs_data(path: Path, hdf5_paths: tuple[str, ...] | list[str], limits: ReadLimits = ReadLimits()
                      ) -> tuple[OutputData, ...]:
    """``read_output_data`` for many outputs of one file: one open, one safety check.

    Opening a job file and checking every link and dataset costs more than
    reading a small output, so a caller that wants several outputs of a job
    (the export wants all of them) asks once.  Any refusal or missing output
    raises, exactly as the one-output call does for that output.
    """
    with open_checked(path, limits) as (f, too_large):
        return tuple(_read_values(f, path, hdf5_path, limits, too_large) for hdf5_path in hdf5_paths)


def read_outputs_available(path: Path, hdf5_paths: tuple[str, ...] | list[str], limits: ReadLimits = ReadLimits()
                           ) -> dict[str, OutputData]:
    """The outputs of ``hdf5_paths`` that can be read (one open); an unreadable output is left out.

    A refusal of the whole file (unsafe, not HDF5, missing) leaves every output out.
    """
    found = _read_each(path, hdf5_paths, limits, lambda f, hdf5_path, too_large: _read_values(
        f, path, hdf5_path, limits, too_large))
    return {hdf5_path: data for hdf5_path, data in found.items() if not isinstance(data, ReadRefusal)}


def _read_each(path: Path, hdf5_paths: tuple[str, ...] | list[str], limits: ReadLimits,
               read_one: Callable[[h5py.File, str, set[str]], Any]) -> dict[str, Any]:
    """``read_one(file, hdf5_path, too_large)`` of every output in one open; an output it refuses
    is a ``ReadRefusal`` with the reason, and a refusal of the whole file leaves every output out
    (the file's own problem is reported by ``read_hdf5_job``)."""
    try:
        with open_checked(path, limits) as (f, too_large):
            found: dict[str, Any] = {}
            for hdf5_path in hdf5_paths:
                try:
                    found[hdf5_path] = read_one(f, hdf5_path, too_large)
                except (BadInputError, InputMissingError) as exc:
                    found[hdf5_path] = ReadRefusal(exc.reason)
            return found
    except (BadInputError, InputMissingError):
        return {}


# ---------------------------------------------------------------- values in bounded blocks (export)
STREAM_BLOCK_BYTES = 4 * 1024**2  # values read from libhdf5 at a time when an output is streamed


@dataclass(frozen=True)
class ArrayBlocks:
    """One array as the export saves it: its shape, dtype and its values in C order, in blocks
    of at most ``STREAM_BLOCK_BYTES`` (whole rows when a row fits).  ``blocks()`` reads from the
    open file: call it only inside the ``save`` of ``read_outputs_streamed``."""

    shape: tuple[int, ...]
    dtype: np.dtype  # as read (h5py's enum metadata kept; the .npy writer drops it)
    blocks: Callable[[], Iterator[np.ndarray]]


@dataclass(frozen=True)
class TimeBlocks:
    """The first ``count`` rows of an output's ``<name>_time``, parsed, in slices of ``TIME_SLICE_ROWS``."""

    count: int
    blocks: Callable[[], Iterator[TimeColumn]]


@dataclass(frozen=True)
class OutputBlocks:
    """An output whose values are a plain array (numbers, bools, compounds of them), or a
    "missing" one (``values`` None: only its times), to be streamed rather than held whole."""

    hdf5_path: str
    kind: OutputKind
    values: ArrayBlocks | None
    times: TimeBlocks


class ShrunkWhileRead(BadInputError):
    """A dataset returned fewer rows than its shape said when the read began (rewritten meanwhile)."""


def read_outputs_streamed(path: Path, hdf5_paths: tuple[str, ...] | list[str], limits: ReadLimits,
                          save: Callable[[OutputBlocks], Any], block_bytes: int = STREAM_BLOCK_BYTES
                          ) -> dict[str, Any]:
    """``read_outputs_available`` for the export, in bounded memory whatever the dataset size.

    An output that would be read whole as a plain array (its values within
    ``max_read_bytes``, not references, strings or compounds holding strings;
    or a "missing" output, which is only times) is handed to ``save`` as
    ``OutputBlocks`` while the file is open, and what ``save`` returns is kept
    instead of an ``OutputData``.  An array over ``max_read_bytes`` is not read
    at all: an ``OutputData`` with ``complete=False`` and no values.  Anything
    else is read as ``read_outputs_available`` reads it (scalars, null
    dataspaces, strings, references).  An output that cannot be read, or that
    shrinks while ``save`` reads it, is a ``ReadRefusal`` saying why.
    """
    def read_one(f: h5py.File, hdf5_path: str, too_large: set[str]) -> Any:
        item = _output_blocks(f, path, hdf5_path, limits, too_large, block_bytes)
        return save(item) if isinstance(item, OutputBlocks) else item

    return _read_each(path, hdf5_paths, limits, read_one)


def _output_blocks(f: h5py.File, path: Path, hdf5_path: str, limits: ReadLimits, too_large: set[str],
                   block_bytes: int) -> OutputBlocks | OutputData:
    """The blocks of one output, or its ``OutputData`` when it is not a plain array (read as before)."""
    ds = _lookup(f, hdf5_path)
    time_ds = _lookup(f, hdf5_path + TIME_SUFFIX)
    if ds is None:
        if time_ds is None:
            raise InputMissingError(path, "no such output", hdf5_path)
        return OutputBlocks(hdf5_path, "missing", None, _time_blocks(path, hdf5_path, time_ds, None))
    kind, _ = classify(ds)
    shape = ds.shape
    if not shape or hdf5_path in too_large or kind in ("str", "empty", "missing") or _reference_text(ds.dtype):
        return _read_values(f, path, hdf5_path, limits, too_large)  # small, Python values, or refused there
    stride, inner = read_strides(shape, ds.dtype.itemsize, limits.max_read_bytes)
    if stride > 1 or any(s > 1 for s in inner):  # only whole values become data nodes: reading a part is waste
        note = f"not read: over the budget of {limits.max_read_bytes:,} bytes"
        return OutputData(hdf5_path, kind, np.zeros(0), (), complete=False, stride=stride, note=note)
    with refused_reads(path, hdf5_path):
        probe = ds[(slice(0, 0),)]  # the dtype and trailing shape a read gives (array dtypes add axes)
    if probe.dtype.hasobject:
        return _read_values(f, path, hdf5_path, limits, too_large)  # a compound with strings: Python values
    values = ArrayBlocks((shape[0], *probe.shape[1:]), np.dtype(bool) if kind == "bool" else probe.dtype,
                         lambda: _value_blocks(ds, path, hdf5_path, shape, kind == "bool", block_bytes))
    return OutputBlocks(hdf5_path, kind, values, _time_blocks(path, hdf5_path, time_ds, shape[0]))


def _value_blocks(ds: h5py.Dataset, path: Path, hdf5_path: str, shape: tuple[int, ...], as_bool: bool,
                  block_bytes: int) -> Iterator[np.ndarray]:
    for selection in plan_blocks(shape, ds.dtype.itemsize, block_bytes, ds.chunks):
        with refused_reads(path, hdf5_path):
            block = ds[selection]
        if block.shape[: len(selection)] != tuple(s.stop - s.start for s in selection):
            raise ShrunkWhileRead(path, "dataset shrank while it was read", hdf5_path)
        yield block.astype(bool) if as_bool else block


def plan_blocks(shape: tuple[int, ...], itemsize: int, block_bytes: int, chunks: tuple[int, ...] | None = None
                ) -> Iterator[tuple[slice, ...]]:
    """Selections that read an array of ``shape`` in C order, each one contiguous run of at most
    ``block_bytes`` (one element when a single one is larger).

    The run is cut along the first axis whose trailing elements fit in a block:
    whole rows when a row fits, else parts of a row (one huge ``set()``).  On
    that axis a block starts on a chunk boundary when a chunk fits, so that a
    compressed chunk is not decompressed once per block.
    """
    if not shape or math.prod(shape) == 0:
        return
    axis = next((a for a in range(len(shape)) if math.prod(shape[a + 1 :]) * itemsize <= block_bytes), len(shape) - 1)
    step = max(1, block_bytes // max(1, math.prod(shape[axis + 1 :]) * itemsize))
    if chunks and chunks[axis] <= step:
        step -= step % chunks[axis]
    for lead in itertools.product(*(range(n) for n in shape[:axis])):
        for start in range(0, shape[axis], step):
            yield (*(slice(i, i + 1) for i in lead), slice(start, min(shape[axis], start + step)))


def _time_blocks(path: Path, hdf5_path: str, ds: h5py.Dataset | None, rows: int | None) -> TimeBlocks:
    """The first ``rows`` (all when None) parsed times, as ``read_time_values`` gives them."""
    if ds is None or h5py.check_string_dtype(ds.dtype) is None or ds.ndim != 1:
        return TimeBlocks(0, lambda: iter(()))
    count = ds.shape[0] if rows is None else min(rows, ds.shape[0])

    def blocks() -> Iterator[TimeColumn]:
        for start in range(0, count, TIME_SLICE_ROWS):
            with refused_reads(path, hdf5_path + TIME_SUFFIX):
                raw = ds[start : min(count, start + TIME_SLICE_ROWS)]
            if len(raw) != min(count, start + TIME_SLICE_ROWS) - start:
                raise ShrunkWhileRead(path, "dataset shrank while it was read", hdf5_path + TIME_SUFFIX)
            yield parse_time_column(raw)

    return TimeBlocks(count, blocks)


@contextmanager
def open_checked(path: Path, limits: ReadLimits) -> Iterator[tuple[h5py.File, set[str]]]:
    """The open file and its over-budget datasets, after ``check_file`` found nothing to refuse."""
    try:
        f = h5py.File(path, "r", locking=False)
    except FileNotFoundError:
        raise InputMissingError(path, "file not found") from None
    except PermissionError:
        raise InputMissingError(path, "permission denied") from None
    except OSError as exc:
        raise BadInputError(path, f"not a valid HDF5 file ({_short(exc)})") from None
    with f:
        refusals, too_large = check_file(f, limits)
        if refusals:
            raise BadInputError(path, refusals[0].reason, refusals[0].member)
        yield f, too_large


@contextmanager
def refused_reads(path: Path, member: str) -> Iterator[None]:
    """A value read libhdf5 or h5py refuses, as ``BadInputError`` naming the file and the dataset.

    Why: a damaged chunk, a failed filter or checksum, or a dtype h5py cannot
    convert surfaces only when the values are read (the preview reads the first
    rows), as OSError, TypeError, ValueError or RuntimeError; its caller must
    leave that one output out, never take the error for its own (an OSError
    would pass for a write error).  Our own errors pass unchanged.
    """
    try:
        yield
    except RecursionError:
        raise
    except (OSError, TypeError, ValueError, RuntimeError) as exc:
        raise BadInputError(path, f"cannot read dataset ({_short(exc)})", member) from None


def _lookup(f: h5py.File, hdf5_path: str) -> h5py.Dataset | None:
    group: h5py.HLObject = f
    for part in [p for p in hdf5_path.split("/") if p]:
        if not isinstance(group, h5py.Group) or part not in group:
            return None
        if not isinstance(group.get(part, getlink=True), h5py.HardLink):
            return None
        group = group[part]
    return group if isinstance(group, h5py.Dataset) else None


def _read_values(f: h5py.File, path: Path, hdf5_path: str, limits: ReadLimits, too_large: set[str]) -> OutputData:
    ds = _lookup(f, hdf5_path)
    time_ds = _lookup(f, hdf5_path + TIME_SUFFIX)
    if ds is None and time_ds is None:
        raise InputMissingError(path, "no such output", hdf5_path)
    if ds is not None and hdf5_path in too_large:
        raise BadInputError(path, f"dataset larger than budget ({limits.max_dataset_bytes} bytes)", hdf5_path)
    if ds is None:
        with refused_reads(path, hdf5_path + TIME_SUFFIX):
            times = read_time_values(time_ds, 1, limits)
        return OutputData(hdf5_path, "missing", np.zeros(0), times, complete=True, note="values missing (aborted flush)")
    kind, _ = classify(ds)
    shape = ds.shape
    if shape is None:  # null dataspace (h5py.Empty): there is no value at all
        return OutputData(hdf5_path, kind, np.zeros(0), (), note="null dataspace: the dataset holds no value")
    n_sets = shape[0] if shape else 1
    stride, inner = read_strides(shape, ds.dtype.itemsize, limits.max_read_bytes)
    with refused_reads(path, hdf5_path):
        values, rows, kind, inner = _read_all_values(ds, kind, stride, inner, limits)
    with refused_reads(path, hdf5_path + TIME_SUFFIX):
        times = read_time_values(time_ds, stride, limits)[:rows] if time_ds is not None else ()
    thinned = any(s > 1 for s in inner)
    complete = stride == 1 and rows == n_sets and not thinned
    note = "" if complete else build_read_note(rows, n_sets, stride, inner, limits.max_read_bytes)
    return OutputData(hdf5_path, kind, values, times, complete=complete, stride=stride, note=note,
                      value_strides=inner if thinned else ())


def _read_all_values(ds: h5py.Dataset, kind: OutputKind, stride: int, inner: tuple[int, ...], limits: ReadLimits
                     ) -> tuple[Any, int, OutputKind, tuple[int, ...]]:
    """(values, rows read, kind, strides kept along the further axes) of one dataset with a dataspace."""
    shape = ds.shape
    if _reference_text(ds.dtype):
        block = ds[(slice(None, None, stride), *(slice(None, None, s) for s in inner))] if shape else ds[()]
        paths = read_reference_paths(ds, block)
        values, rows = (tuple(paths), len(paths)) if shape else ((paths,), 1)
    elif kind == "str" and not shape:
        values, rows = read_scalar_text(ds, limits.max_read_bytes)[0], 1
    elif kind == "str":
        values, rows, kind = read_string_values(ds, stride, limits)
        inner = ()
    elif kind in ("empty", "missing"):
        values, rows = np.zeros(0), 0
    else:  # a scalar dataset is one set: a 0-d array, never a bare numpy scalar
        values = ds[(slice(None, None, stride), *(slice(None, None, s) for s in inner))] if shape else np.asarray(ds[()])
        values = values.astype(bool) if kind == "bool" else values
        rows = len(values) if shape else 1
    return values, rows, kind, inner


def read_strides(shape: tuple[int, ...] | None, itemsize: int, budget: int) -> tuple[int, tuple[int, ...]]:
    """(stride over sets, strides along each further axis) that keep a read within ``budget`` bytes.

    Sets are thinned first; when the sets kept still hold more than the budget
    (one huge set: Entropy writes a single ``set()`` of a long list as (1, N))
    the values of each set are thinned too, the first further axes first.
    """
    if not shape:
        return 1, ()
    n_sets, inner_shape = shape[0], shape[1:]
    set_bytes = math.prod(inner_shape) * itemsize
    stride = max(1, min(n_sets, math.ceil(n_sets * set_bytes / budget))) if n_sets else 1
    kept = math.ceil(n_sets / stride) if n_sets else 0
    factor = max(1, math.ceil(kept * set_bytes / budget))
    inner = []
    for length in inner_shape:
        step = max(1, min(length, factor))
        inner.append(step)
        factor = math.ceil(factor / step)
    return stride, tuple(inner)


def build_read_note(rows: int, n_sets: int, stride: int, inner: tuple[int, ...], budget: int) -> str:
    """What a bounded read kept, in words that are true of it."""
    if stride > 1:
        text = f"kept {rows} of {n_sets} sets (every {ordinal(stride)} set)"
    elif rows < n_sets:
        text = f"kept the first {rows} of {n_sets} sets"
    else:
        text = f"kept all {n_sets} sets" if n_sets != 1 else "kept the one set"
    steps = [f"every {ordinal(s)} value along axis {axis}" for axis, s in enumerate(inner, start=1) if s > 1]
    if steps:
        text += (", thinned to " if n_sets == 1 else ", each thinned to ") + " and ".join(steps)
    return f"{text}, to stay within {budget:,} bytes"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 22nd ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def read_string_values(ds: h5py.Dataset, stride: int, limits: ReadLimits) -> tuple[tuple[Any, ...], int, OutputKind]:
    """Decoded rows in slices until ``max_read_bytes`` of string data; JSON rows parsed."""
    rows = list(_rows_within(ds, stride, limits.max_read_bytes))
    values, kind = _json_or_text(rows, ds.ndim)
    return values, len(rows), kind


# What a row costs beyond its characters (a Python str and its slot in the list): 130 million
# empty strings (a sparse dataset, a few kB on disk) then stop at the budget, not after minutes.
ROW_OVERHEAD_BYTES = 64


def _rows_within(ds: h5py.Dataset, stride: int, budget: int) -> Iterator[Any]:
    """Every ``stride``-th row decoded, read 1024 at a time, until ``budget`` bytes (one row at least)."""
    used, total = 0, ds.shape[0]
    for start in range(0, total, 1024 * stride):
        for row in ds[start : min(total, start + 1024 * stride) : stride]:
            if used and used + _raw_size(row) + ROW_OVERHEAD_BYTES > budget:
                return
            used += _raw_size(row) + ROW_OVERHEAD_BYTES
            yield _decode_tree(row, budget)[0]


def _json_or_text(rows: list[Any], ndim: int) -> tuple[tuple[Any, ...], OutputKind]:
    """The rows parsed, "json", when every row of a 1-D output is JSON; else as text, "str"."""
    if ndim == 1 and rows:
        try:
            return tuple(load_json(row) for row in rows), "json"
        except (ValueError, RecursionError, TypeError):
            pass
    return tuple(rows), "str"


def read_time_values(ds: h5py.Dataset | None, stride: int, limits: ReadLimits) -> TimeColumn | tuple[()]:
    """Every ``stride``-th row of a ``_time`` dataset, parsed; () when it is not a 1-D string dataset."""
    if ds is None or h5py.check_string_dtype(ds.dtype) is None or ds.ndim != 1:
        return ()
    parts = [parse_time_column(ds[start : start + TIME_SLICE_ROWS * stride : stride])
             for start in range(0, ds.shape[0], TIME_SLICE_ROWS * stride)]
    if not parts:
        return TimeColumn(np.zeros(0, np.int64), np.zeros(0, bool))
    return TimeColumn(np.concatenate([p.millis for p in parts]), np.concatenate([p.valid for p in parts]))


def _parse_time_row(raw: Any) -> datetime | None:
    return parse_time(raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw))


def parse_time(text: str) -> datetime | None:
    """A ``_time`` stamp in UTC, to the millisecond; None when it is not a time with a UTC offset.

    Entropy writes ``YYYY-MM-DDTHH:MM:SS.mmmZ``; other writers use any ISO 8601
    form ``datetime.fromisoformat`` reads (``+00:00``, microseconds, a space,
    another offset): taken when it names its offset (or Z), converted to UTC,
    cut to milliseconds as the column holds them.  A time without an offset is
    not guessed to be UTC: it is unparsable, and reported (``time-unparsable``).
    """
    if TIME_FORMAT.fullmatch(text):
        try:
            return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc)
        except ValueError:
            return None
    when = _iso_time_with_offset(text)
    return when.replace(microsecond=when.microsecond // 1000 * 1000) if when is not None else None


def _iso_time_with_offset(text: str) -> datetime | None:
    """``text`` read by ``datetime.fromisoformat`` and converted to UTC; None when it is not ISO 8601,
    names no offset, or its UTC is outside datetime's years (0001-01-01T00:30+01:00)."""
    try:
        when = datetime.fromisoformat(text.strip("\0"))  # fixed-length strings may come NUL padded
        return when.astimezone(timezone.utc) if when.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def describe_unparsable(count: int, total: int, example: str) -> str:
    """The reason of a ``time-unparsable`` problem: how many, and one stamp as stored."""
    reason = f"{count} of {total} stamps are not ISO 8601 times with a UTC offset or Z (e.g. {example[:64]!r})"
    try:
        naive = datetime.fromisoformat(example).tzinfo is None
    except ValueError:
        naive = False
    return reason + ("; a time without an offset is not assumed to be UTC" if naive else "")
