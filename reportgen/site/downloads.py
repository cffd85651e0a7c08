"""Full-data downloads of an output: NPY and CSV bytes built from ``OutputData``.

Pure builders; the worker writes what they return, or puts a small one in the
page itself as a ``data:`` URI (``build_data_uri``).  Strings and JSON get CSV
only (an NPY of Python objects would need pickle to load, which no one should
run on a downloaded file).  Over the size budgets the copy is skipped and the
page says so; the h5py snippet opens the dataset in place either way.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import re
from datetime import datetime
from typing import Any

import numpy as np
import orjson

from reportgen.records import Output, OutputData, TimeColumn
from reportgen.site.jsonsafe import replace_surrogates_text
from reportgen.timetext import render_time_grid

MAX_NPY_BYTES = 32 * 1024**2
MAX_CSV_BYTES = 8 * 1024**2  # declared value bytes; the text is 2-3x larger
# A download this small goes into the page as a data: URI instead of a file of its own, within
# a budget per page.  Why: most outputs are a few numbers, and each file is an inode to allocate,
# the largest single cost of a site of thousands of jobs on some file systems (and of copying it).
INLINE_MAX_BYTES = 4096
INLINE_PAGE_BYTES = 64 * 1024
_MEDIA_TYPES = {"npy": "application/octet-stream", "csv": "text/csv;charset=utf-8", "ipynb": "application/x-ipynb+json"}


def build_download_plan(output: Output, data: OutputData | None) -> tuple[list[str], str]:
    """Which of "npy"/"csv" to write, and a note when a copy is skipped."""
    if data is None or output.kind in ("empty", "missing"):
        return [], "" if output.kind in ("empty", "missing") else "values not read: no download"
    if not data.complete:
        return [], "too large to copy into the site: use the h5py snippet"
    if isinstance(data.values, np.ndarray) and data.values.dtype.hasobject:
        return [], "no NPY or CSV copy of this dtype (references or variable-length fields): use the h5py snippet"
    if isinstance(data.values, np.ndarray) and data.values.ndim and not len(data.values):
        return [], ""  # no set at all (a null dataspace): nothing to copy
    numeric = isinstance(data.values, np.ndarray)
    formats = []
    if numeric and output.nbytes <= MAX_NPY_BYTES:
        formats.append("npy")
    if output.nbytes <= MAX_CSV_BYTES:
        formats.append("csv")
    note = ""
    if not formats:
        note = f"{output.nbytes:,} bytes: over the download budget, use the h5py snippet"
    elif "csv" not in formats:
        note = "CSV skipped (over its size budget)"
    elif numeric and (field := _first_non_number_field(data.values.dtype)):
        formats.remove("csv")
        note = f"no CSV copy: field {field!r} is not a number (the NPY keeps it)"
    return formats, note


def _first_non_number_field(dtype: np.dtype, prefix: str = "") -> str:
    """The first field of a compound dtype that is not a plain number or bool, else ""."""
    for name in dtype.names or ():
        field = dtype.fields[name][0]
        base = field.subdtype[0] if field.subdtype else field
        found = (_first_non_number_field(base, f"{prefix}{name}.") if base.names is not None
                 else "" if base.kind in "biufc" else prefix + name)
        if found:
            return found
    return ""


def build_npy_bytes(values: np.ndarray) -> bytes:
    """NPY without pickle; h5py's dtype metadata (enum names, string info) is dropped, as NPY cannot keep it."""
    buffer = io.BytesIO()
    if not values.flags.c_contiguous:  # (np.ascontiguousarray would also make a 0-d array 1-d)
        values = np.ascontiguousarray(values)
    if _has_metadata(values.dtype):
        values = values.view(_plain_dtype(values.dtype))
    np.save(buffer, values, allow_pickle=False)
    return buffer.getvalue()


def _has_metadata(dtype: np.dtype) -> bool:
    if dtype.metadata:
        return True
    if dtype.names is not None:
        return any(_has_metadata(dtype.fields[name][0]) for name in dtype.names)
    return dtype.subdtype is not None and _has_metadata(dtype.subdtype[0])


def _plain_dtype(dtype: np.dtype) -> np.dtype:
    """The same memory layout without metadata (numpy warns that NPY does not save it)."""
    if dtype.names is not None:
        return np.dtype({
            "names": list(dtype.names),
            "formats": [_plain_dtype(dtype.fields[name][0]) for name in dtype.names],
            "offsets": [dtype.fields[name][1] for name in dtype.names],
            "itemsize": dtype.itemsize,
        })
    if dtype.subdtype is not None:
        return np.dtype((_plain_dtype(dtype.subdtype[0]), dtype.subdtype[1]))
    return np.dtype(dtype.str)


def build_data_uri(body: bytes, fmt: str) -> str:
    """A download inside the page: base64, with a media type that no browser runs."""
    return f"data:{_MEDIA_TYPES[fmt]};base64," + base64.b64encode(body).decode("ascii")


def _time_texts(times: tuple[datetime | None, ...] | TimeColumn, count: int) -> list[str]:
    """The CSV time of each of ``count`` sets: ``datetime.isoformat()``, "" when unparsable or missing."""
    if isinstance(times, TimeColumn):
        stamps = _iso_texts(times[:count])
    else:
        stamps = [moment.isoformat() if moment else "" for moment in times[:count]]
    return stamps + [""] * (count - len(stamps))


_UTC_SUFFIX = np.frombuffer(b"+00:00", np.uint8)


def _iso_texts(column: TimeColumn) -> list[str]:
    """``isoformat()`` of each parsed time (UTC, milliseconds) at numpy speed: ``...:SS+00:00`` on a
    whole second, else ``...:SS.mmm000+00:00``, as ``datetime`` prints them."""
    grid = render_time_grid(column)
    iso = np.zeros((len(grid), 32), np.uint8)
    iso[:, :23] = grid
    iso[:, 23:26] = ord("0")
    iso[:, 26:] = _UTC_SUFFIX
    whole = column.millis % 1000 == 0
    iso[whole, 19:25] = _UTC_SUFFIX
    iso[whole, 25:] = 0
    iso[~column.valid] = 0
    return iso.view("S32").ravel().astype("U32").tolist()


def _text_cell(value: Any, kind: str) -> str:
    """A string or JSON value as one CSV field, quoted only when it must be (as ``csv.QUOTE_MINIMAL``).

    Why not ``csv.writer``: it walks a field character by character, ~12 us for
    the kilobytes of a base64 image; ``replace`` and a regex run at memory speed.
    """
    if kind == "json":
        try:
            text = orjson.dumps(value).decode("utf-8")
        except orjson.JSONEncodeError:  # integers beyond 64 bits
            text = json.dumps(value, ensure_ascii=False)
        if "null" in text and _has_non_finite(value):  # orjson writes NaN and Infinity as null
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))  # NaN, Infinity as stored
    else:
        text = render_text_field(value if isinstance(value, str) else str(value))
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


_NEEDS_QUOTES = re.compile('[,"\r\n]')
# What a spreadsheet reads as a formula at the start of a cell (OWASP "CSV injection"):
# =HYPERLINK(...) from a data file would run when a reader opens the download.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def render_text_field(text: str) -> str:
    """A text cell that a spreadsheet would run as a formula, with a leading ``'`` (shown as text);
    the exact value stays in the .npy download, the notebook and the page."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _has_non_finite(value: Any) -> bool:
    """Whether a parsed JSON value holds NaN, Infinity or -Infinity (Python's json writes and reads them)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(map(_has_non_finite, value.values()))
    if isinstance(value, list | tuple):
        return any(map(_has_non_finite, value))
    return False


def _scalar_text(value: np.generic) -> str:
    """A numpy complex or long double as numpy prints it (round-trip digits), no parentheses."""
    text = str(value)
    return text[1:-1] if text.startswith("(") else text


def build_csv_text(data: OutputData) -> str:
    """One row per set: set number, time, then the values (arrays flattened in C order)."""
    values = data.values
    times = data.times
    if isinstance(values, np.ndarray) and not values.ndim:  # a scalar dataset: one set
        values = values.reshape(1)
    if isinstance(values, np.ndarray) and values.dtype.kind in "biufc":
        return _numeric_csv_text(values, times)
    if isinstance(values, np.ndarray) and values.dtype.names is not None:
        return _compound_csv_text(values, times)
    if isinstance(values, np.ndarray) and values.dtype.kind == "V":  # opaque bytes: hex, no raw control bytes
        flat = values.reshape(len(values), -1)
        rows = [[item.tobytes().hex() for item in row] for row in flat]
        return _grid_csv_text(rows, flat.shape[1], times)
    if isinstance(values, np.ndarray):
        flat = values.reshape(len(values), -1) if values.ndim > 1 else values.reshape(-1, 1)
        rows = [list(map(_cell, row.tolist())) for row in flat]
        return replace_surrogates_text(_grid_csv_text(rows, flat.shape[1], times))
    if data.kind == "str" and values and all(isinstance(value, list) for value in values):  # an (N, k, ...) output
        rows = [_flatten(value) for value in values]  # one column per element, in C order
        return replace_surrogates_text(_grid_csv_text(rows, max(map(len, rows), default=0), times))
    lines = ["set,time,value"]
    for number, (value, stamp) in enumerate(zip(values, _time_texts(times, len(values)))):
        lines.append(f"{number},{stamp},{_text_cell(value, data.kind)}")
    # A lone surrogate (a JSON "\\udcff" escape) cannot be UTF-8: U+FFFD, as on the page.
    return replace_surrogates_text("\n".join(lines) + "\n")


def _cell(value: Any) -> Any:
    """A CSV field: bytes (fixed-length or scalar strings) as UTF-8 text, never ``b'...'``."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return render_text_field(text) if isinstance(text, str) else text


def _flatten(value: Any) -> list[Any]:
    return [cell for item in value for cell in _flatten(item)] if isinstance(value, list) else [value]


def _grid_csv_text(rows: list[list[Any]], width: int, times: tuple[datetime | None, ...] | TimeColumn) -> str:
    """``set,time,v0 ... v{width-1}``, then one row of cells per set."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["set", "time", *[f"v{i}" for i in range(width)]])
    for number, (cells, stamp) in enumerate(zip(rows, _time_texts(times, len(rows)))):
        writer.writerow([number, stamp, *cells])
    return buffer.getvalue()


def _numeric_csv_text(values: np.ndarray, times: tuple[datetime | None, ...] | TimeColumn) -> str:
    """``build_csv_text`` of plain numbers: ``set,time,v0 ... v{k-1}``."""
    flat = values.reshape(len(values), -1) if values.ndim > 1 else values.reshape(-1, 1)
    return _columns_csv_text([f"v{i}" for i in range(flat.shape[1])], [flat], len(flat), times)


def _columns_csv_text(names: list[str], groups: list[np.ndarray], rows: int,
                      times: tuple[datetime | None, ...] | TimeColumn) -> str:
    """``set,time,<names>`` then ``rows`` rows: the cells of each 2-D group of numbers, side by side.

    Why not the csv module: ``csv.writer`` costs ~2 us a row and the worker writes a CSV per
    output of every job.  Numbers, booleans and ISO times never need quoting, so a row is its
    fields joined by commas; only the header (field names) is quoted where needed.
    """
    header = replace_surrogates_text(",".join(["set", "time", *(_text_cell(name, "str") for name in names)]))
    # One text form per group: orjson's and repr's differ (1e-7, 1e-07).
    finite = [group.dtype.kind != "f" or bool(np.isfinite(group).all()) for group in groups]
    parts = [header + "\n"]
    for start in range(0, rows, CSV_BLOCK_ROWS):
        stop = min(rows, start + CSV_BLOCK_ROWS)
        numbers, stamps = range(start, stop), _time_texts(times[start:stop], stop - start)
        cells = [_row_cells(group[start:stop], ok) for group, ok in zip(groups, finite) if group.shape[1]]
        if not cells:
            lines = [f"{number},{stamp}" for number, stamp in zip(numbers, stamps)]
        else:
            joined = cells[0] if len(cells) == 1 else [",".join(row) for row in zip(*cells)]
            lines = [f"{number},{stamp},{row}" for number, stamp, row in zip(numbers, stamps, joined)]
        parts.append("\n".join(lines) + "\n")
    return "".join(parts)


def _compound_csv_text(values: np.ndarray, times: tuple[datetime | None, ...] | TimeColumn) -> str:
    """A compound output (IQ pairs, records): one column per number, named after its field.

    ``i,q``; an array field is one column per element (``xy[0],xy[1]``); a
    nested compound joins the names with dots; when a set holds several
    records, each name starts with the record's ``v<k>``.  The caller made sure
    every field is a number (``build_download_plan``).
    """
    flat = values.reshape(len(values), -1)
    names, columns = [], []
    for record in range(flat.shape[1]):
        lead = f"v{record}." if flat.shape[1] > 1 or values.ndim > 1 else ""
        for name, column in _field_columns(flat[:, record], lead):
            names.append(name)
            columns.append(column)
    return _columns_csv_text(names, columns, len(flat), times)


def _field_columns(records: np.ndarray, prefix: str) -> list[tuple[str, np.ndarray]]:
    """(name, (n, 1) array) of every number of a 1-D array of records, in field order."""
    found = []
    for name in records.dtype.names:
        field = records[name]
        inner = field.shape[1:]
        for index in np.ndindex(*inner) if inner else [()]:
            label = prefix + name + ("[" + ",".join(map(str, index)) + "]" if inner else "")
            column = field[(slice(None), *index)]
            if column.dtype.names is not None:
                found.extend(_field_columns(column, label + "."))
            else:
                found.append((label, np.ascontiguousarray(column).reshape(-1, 1)))
    return found


# Rows formatted at a time: a million sets become a few pieces of text, not a list of a million
# lines, a million stamps and a million cells (about 300 MB of Python strings at once).
CSV_BLOCK_ROWS = 65536


def _row_cells(flat: np.ndarray, finite: bool) -> list[str]:
    """The cells of each row of a 2-D array, comma-joined: shortest round-trip text of every number.

    Why orjson: Python's ``repr`` of a float costs ~600 ns, and a job's outputs
    hold thousands; orjson formats numpy numbers in Rust at a tenth of that, with
    the same shortest round-trip digits (float32 as float32, so 0.2 stays 0.2).
    JSON has no NaN or infinity, and writes booleans lowercase, so those arrays
    take ``repr`` (``[1.5, nan]`` becomes ``1.5,nan``).  Complex numbers and long
    doubles, which neither knows, take numpy's own shortest text of their
    precision: ``1.5+2j``, ``nan+1j`` (Python's form without the parentheses,
    which ``complex()`` and numpy read back) and ``0.1``.  ``finite``: every float of the
    whole array is finite (the caller decides once, so a file has one text form).
    """
    if not len(flat):
        return []
    if flat.dtype.kind == "c" or (flat.dtype.kind == "f" and flat.dtype.itemsize > 8):
        return [",".join(map(_scalar_text, row)) for row in flat]
    if flat.dtype.kind in "iu" or (flat.dtype.kind == "f" and finite):
        try:
            text = orjson.dumps(np.ascontiguousarray(flat), option=orjson.OPT_SERIALIZE_NUMPY).decode("ascii")
            return text[2:-2].split("],[")
        except orjson.JSONEncodeError:  # a dtype orjson does not know (float128...)
            pass
    return [repr(row)[1:-1].replace(", ", ",") for row in flat.tolist()]
