"""Figure specs: records and ``OutputData`` -> plain, deterministic plotly dicts.

No I/O and no plotly.py here: a spec is ``{"data": [...], "layout": {...}}``
(plus ``"steps"`` for stacked heatmaps) that ``render.js`` hands to
``Plotly.newPlot``.  Numeric arrays travel as plotly.js typed arrays
(``{"dtype", "bdata"}``, little-endian base64), which is compact and
byte-stable.  Budgets (why: the site must stay light in a browser):

* a line trace has at most ``MAX_POINTS`` points, chosen by MinMaxLTTB so
  spikes survive;
* a heatmap has at most ``MAX_CELLS`` cells over all its steps, mean-pooled,
  sent as float32;
* every label is HTML-escaped first, because plotly renders pseudo-HTML.
"""

from __future__ import annotations

import base64
import html
import math
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
from tsdownsample import NaNMinMaxLTTBDownsampler

from reportgen.records import Output, OutputData, TimeColumn
from reportgen.timetext import render_utc

MAX_POINTS = 4000
MAX_CELLS = 1_000_000
MAX_SIDE = 1000
MAX_OVERLAID_SETS = 20  # more sets of a 1-D array become a heatmap
MAX_STEPS = 16  # stacked 2-D sets kept for the step-through slider
MAX_INDEX_TICKS = 20  # an axis of at most this many indices (heatmap cells, overlay x) gets a tick each
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class LineSeries:  # zoom: what a one-trace line figure was downsampled from (zoom.py cuts it into tiles)
    """The whole series as the figure draws it: ``x`` (set number, epoch ms or a view's x) and ``y``
    as float64 in drawing order, ``keep`` the indices of the points the figure shows, ``x_is_index``
    when x is the set index itself (0, 1, 2, ...).  Kept under the figure's ``"series"`` only when
    the caller asks (``series=True``); never in a page's JSON."""

    x: np.ndarray
    y: np.ndarray
    keep: np.ndarray
    x_is_index: bool


def build_figure(output: Output, data: OutputData, series: bool = False) -> dict[str, Any] | None:
    """The automatic view of one numeric output, or None when it has no figure.
    ``series``: keep the figure's ``LineSeries`` under ``"series"`` (zoom)."""
    values = data.values
    if not isinstance(values, np.ndarray) or values.size == 0 or values.dtype.kind not in "biufc":
        return None
    figure = _figure_of_reals(output, data, np.abs(values) if values.dtype.kind == "c" else values)
    if figure is not None and (not series or values.dtype.kind == "c"):  # zoom: |z| is not the file's line
        figure.pop("series", None)
    if figure is not None and values.dtype.kind == "c":  # IQ data: the magnitude, the one view without a choice
        figure["note"] = "; ".join(filter(None, [COMPLEX_NOTE, figure["note"]]))
    if figure is not None and values.ndim == 1 and 0 < len(output.labels) <= MAX_ENUM_TICKS:
        _name_enum_ticks(figure, output.labels)
    return figure


MAX_ENUM_TICKS = 32  # beyond this many names the axis would be unreadable: the dtype line still lists them


def _name_enum_ticks(figure: dict[str, Any], labels: tuple[tuple[int, str], ...]) -> None:
    """An enum's values plotted on an axis that shows their names (RED, not 0)."""
    axis = figure["layout"]["yaxis"]
    axis["tickvals"] = [value for value, _ in labels]
    axis["ticktext"] = [html.escape(name) for _, name in labels]


COMPLEX_NOTE = "complex values: magnitude |z| shown (the downloads hold real and imaginary parts)"


def _figure_of_reals(output: Output, data: OutputData, values: np.ndarray) -> dict[str, Any] | None:
    exact = _beyond_float64(values)
    figure = _figure_of_floats(output, data, values.astype(np.float64), exact)
    if figure is not None and exact is not None and values.ndim > 1:
        figure["table_note"] = "Integers past 2^53 are rounded to float64 in this figure and its table. "
    return figure


def _beyond_float64(values: np.ndarray) -> np.ndarray | None:
    """``values`` when they are 64-bit integers float64 cannot all hold (past 2^53), else None.

    Why: IDs, counters and ns timestamps are int64; the figure rounds them (plotly has no int64
    array), and its table would show a wrong last digit with no word of it."""
    if values.dtype.kind not in "iu" or values.dtype.itemsize < 8:
        return None
    return values if int(values.max()) > _EXACT or int(values.min()) < -_EXACT else None


def _figure_of_floats(output: Output, data: OutputData, values: np.ndarray,
                      exact: np.ndarray | None) -> dict[str, Any] | None:
    title = _label(output)
    if values.ndim == 1:
        return _line_figure(title, values, data.times, output.units, exact)
    if values.ndim == 2:
        if values.shape[0] <= MAX_OVERLAID_SETS:
            step = data.value_strides[0] if data.value_strides else 1
            return _overlay_figure(title, values, output.units, data.stride, step)
        return _heatmap_figure(title, [values], "index", "set")
    if values.ndim == 3:
        return _stacked_heatmap_figure(title, values, data.stride)
    return None


def _label(output: Output) -> str:
    text = output.name + (f" [{output.units}]" if output.units else "")
    return html.escape(text)


def build_typed_array(values: np.ndarray, dtype: str = "f8") -> dict[str, Any]:
    """A plotly.js typed-array spec; the shape is kept for 2-D arrays."""
    array = np.ascontiguousarray(values, dtype=np.dtype("<" + dtype))
    spec: dict[str, Any] = {"dtype": dtype, "bdata": base64.b64encode(array.tobytes()).decode("ascii")}
    if array.ndim == 2:
        spec["shape"] = f"{array.shape[0]},{array.shape[1]}"
    return spec


def build_downsample_index(x: np.ndarray, y: np.ndarray, n_out: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ``n_out`` points keeping every local min and max (MinMaxLTTB)."""
    if len(y) <= n_out:
        return np.arange(len(y))
    index = NaNMinMaxLTTBDownsampler().downsample(x, y, n_out=n_out)
    return np.asarray(index, dtype=np.int64)


def _epoch_ms(times: tuple[datetime | None, ...] | TimeColumn, count: int) -> np.ndarray | None:
    """Times as float milliseconds, or None unless every set has a time."""
    if isinstance(times, TimeColumn):
        return _column_ms(times) if len(times) == count and bool(times.valid.all()) else None
    if len(times) != count or any(t is None for t in times):
        return None
    return np.array([(t - _EPOCH).total_seconds() * 1000.0 for t in times], dtype=np.float64)  # type: ignore[operator]


_EXACT = 2**53  # integers up to here are exact float64s


def _column_ms(times: TimeColumn) -> np.ndarray:
    """``timedelta.total_seconds() * 1000.0`` of every time, bit for bit, in numpy.

    ``total_seconds`` divides the integer microseconds by 10**6, correctly
    rounded; numpy's float division is the same while the microseconds are
    exact float64s (within ~285 years of 1970).  Other times take Python's.
    """
    micros = times.millis * 1000
    ms = (micros / 1e6) * 1000.0
    far = np.flatnonzero(np.abs(micros) > _EXACT)
    ms[far] = [(int(m) / 10**6) * 1000.0 for m in micros[far]]
    return ms


def _format_ms(ms: float) -> str:
    return render_utc(datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc), " ", "milliseconds")


def _line_figure(title: str, values: np.ndarray, times: tuple, units: str,
                 exact: np.ndarray | None = None) -> dict[str, Any]:
    """A value set repeatedly: a line against its ``_time`` stamps (set index when missing).

    ``exact``: the integers ``values`` rounds; the shown ones travel as text too (``exact_y``),
    for the figure's table."""
    ms = _epoch_ms(times, len(values))
    if ms is None:
        x = np.arange(len(values), dtype=np.float64)
        order = np.arange(len(values))
    else:
        order = np.argsort(ms, kind="stable")  # the file does not promise time order
        x = ms[order]
    y = values[order]
    keep = build_downsample_index(x, y)
    x_spec: Any = [_format_ms(v) for v in x[keep]] if ms is not None else build_typed_array(x[keep])
    trace = {"type": "scatter", "mode": "lines+markers" if len(keep) <= 200 else "lines",
             "x": x_spec, "y": build_typed_array(y[keep]), "name": title}
    xaxis = {"title": {"text": "time (UTC)" if ms is not None else "set"}}
    if ms is not None:
        xaxis["type"] = "date"
    figure = {"data": [trace], "layout": _layout(title, xaxis, {"title": {"text": html.escape(units)}}),
              "note": _points_note(len(values), len(keep))}
    if exact is not None:
        figure["exact_y"] = [str(int(v)) for v in exact[order][keep]]
    figure["series"] = LineSeries(x, y, keep, ms is None)  # zoom
    return figure


def _points_note(total: int, kept: int) -> str:
    return "" if kept == total else f"{kept} of {total} points shown (MinMaxLTTB)"


def _overlay_figure(title: str, values: np.ndarray, units: str, stride: int = 1, step: int = 1) -> dict[str, Any]:
    """A few sets of a 1-D array: one line per set over the array index (the file's set numbers
    and indices when the reader kept every ``stride``-th set and every ``step``-th value)."""
    traces = []
    x = np.arange(values.shape[1], dtype=np.float64) * step
    for number, row in enumerate(values):
        keep = build_downsample_index(x, row)
        traces.append({"type": "scatter", "mode": "lines", "name": f"set {number * stride}",
                       "x": build_typed_array(x[keep]), "y": build_typed_array(row[keep])})
    layout = _layout(title, _index_axis("index", values.shape[1], step), {"title": {"text": html.escape(units)}})
    return {"data": traces, "layout": layout, "note": ""}


def build_pooled(matrix: np.ndarray, max_side: int) -> np.ndarray:
    """Mean-pool a 2-D array so that neither side exceeds ``max_side``; NaN-aware, float32."""
    rows, cols = matrix.shape
    fr, fc = max(1, math.ceil(rows / max_side)), max(1, math.ceil(cols / max_side))
    if fr == 1 and fc == 1:
        return matrix.astype(np.float32)
    padded = np.full((math.ceil(rows / fr) * fr, math.ceil(cols / fc) * fc), np.nan)
    padded[:rows, :cols] = matrix
    blocks = padded.reshape(padded.shape[0] // fr, fr, padded.shape[1] // fc, fc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks stay NaN, on purpose
        return np.nanmean(blocks, axis=(1, 3)).astype(np.float32)


def _heatmap_figure(title: str, frames: list[np.ndarray], x_title: str, y_title: str,
                    labels: list[str] | None = None) -> dict[str, Any]:
    side = max(1, min(MAX_SIDE, int(math.sqrt(MAX_CELLS / len(frames)))))
    pooled = [build_pooled(frame, side) for frame in frames]
    trace = {"type": "heatmap", "z": build_typed_array(pooled[0], "f4"), "colorscale": "Viridis"}
    rows, cols = pooled[0].shape
    figure: dict[str, Any] = {
        "data": [trace],
        "layout": _layout(title, _index_axis(x_title, cols), _index_axis(y_title, rows)),
        "note": _pool_note(frames[0].shape, pooled[0].shape),
    }
    if len(pooled) > 1:
        figure["steps"] = [build_typed_array(p, "f4") for p in pooled]
        figure["step_labels"] = labels or [str(i) for i in range(len(pooled))]
    return figure


def _index_axis(title: str, count: int, step: int = 1) -> dict[str, Any]:
    """An axis of array indices (a heatmap's cells, an overlay's x): a few get a tick each, or
    plotly's automatic ticks fall between them (-0.5, 0.5, 1.5 on a 2x2 matrix: rows that do not
    exist).  ``step``: the index of the file between two drawn values (a thinned read)."""
    axis: dict[str, Any] = {"title": {"text": title}}
    if count <= MAX_INDEX_TICKS:
        axis.update(tick0=0, dtick=step)
    return axis


def _pool_note(before: tuple[int, ...], after: tuple[int, ...]) -> str:
    if tuple(before) == tuple(after):
        return ""
    return f"pooled from {before[0]}x{before[1]} to {after[0]}x{after[1]} cells (mean)"


def _stacked_heatmap_figure(title: str, values: np.ndarray, stride: int) -> dict[str, Any]:
    """Stacked 2-D sets: one heatmap with a step-through over at most MAX_STEPS sets."""
    count = values.shape[0]
    chosen = np.unique(np.linspace(0, count - 1, min(count, MAX_STEPS)).round().astype(int))
    labels = [f"set {int(i) * stride}" for i in chosen]
    figure = _heatmap_figure(title, [values[i] for i in chosen], "column", "row", labels)
    if len(chosen) < count:
        figure["note"] = (figure["note"] + "; " if figure["note"] else "") + f"{len(chosen)} of {count} sets"
    return figure


def _layout(title: str, xaxis: dict[str, Any], yaxis: dict[str, Any]) -> dict[str, Any]:
    return {"title": {"text": title}, "xaxis": xaxis, "yaxis": yaxis, "autosize": True,
            "margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "height": 360}


# ----------------------------------------------------------------- views: a real x axis, log scales
MAX_MARKED_POINTS = 200  # up to this many points a line shows its markers (as _line_figure does)
HEATMAP_NOTE = "log axes do not apply to a heatmap"
# Within a decade or two plotly labels a log axis's minor ticks with their first digit only, in a
# smaller font ("9 1 2 ... 9 10" bottom up, where the first 9 is 0.9): read as numbers, not
# monotonic.  A tick format makes every label the tick's own value (0.9 1 2 ... 10, 0.01 0.1 1).
LOG_AXIS = {"type": "log", "tickformat": "~g"}


@dataclass(frozen=True)
class AxisView:
    """How one output is drawn instead of the automatic view: against another output of the same
    job (``x``, an absolute ``/<node>/<output>``; "" for none), with log axes.  ``source`` names
    where it came from in the figure's notes: ``view`` (the config's ``[[views]]``) or ``@axes``."""

    x: str = ""
    x_log: bool = False
    y_log: bool = False
    source: str = "view"


def build_axes_view(output: Output) -> AxisView | None:
    """The legacy NeXus convention: an ``@axes`` attribute naming sibling datasets (``:`` or ``,``
    separated, the first is the x); None when the output has none or it names no other output.

    Entropy's writer never writes it; other tools may.  An array attribute reads as its list's
    text (``['frequency', 'time']``), so brackets and quotes around a name are dropped."""
    text = next((value for key, value in output.attrs if key == "axes"), "")
    first = re.split(r"[:,]", text)[0].strip(" []'\"")
    if not first or first == "." or "/" in first or first == output.name:
        return None
    return AxisView(output.hdf5_path[: output.hdf5_path.index("/", 1) + 1] + first, source="@axes")


def build_view_figures(outputs: Mapping[str, Output], datas: Mapping[str, OutputData],
                       configured: Callable[[str], AxisView | None],
                       series: bool = False) -> dict[str, dict[str, Any] | None]:
    """The figure of every output a view applies to (``configured`` first, then ``@axes``), by path;
    the outputs left out are drawn by ``build_figure`` as always.  ``series``: as ``build_figure``'s (zoom)."""
    figures = {}
    for path, output in outputs.items():
        data = datas.get(path)
        view = configured(path) or build_axes_view(output)
        if view is not None and data is not None:
            figures[path] = build_view_figure(output, data, view, outputs.get(view.x), datas.get(view.x), series)
    return figures


def build_view_figure(output: Output, data: OutputData, view: AxisView, x_output: Output | None,
                      x_data: OutputData | None, series: bool = False) -> dict[str, Any] | None:
    """``output`` drawn as ``view`` says when it can be; otherwise its automatic figure, with a note
    saying why the view's x was not used (never an error: one job lacking the x is normal)."""
    against, why = None, ""
    if view.x:
        against, why = _figure_against_x(output, data, view.x, x_output, x_data)
    figure = against or build_figure(output, data, series=True)
    if figure is None:
        return None
    if not series:  # zoom
        figure.pop("series", None)
    notes = [figure["note"]]
    if why:
        drawn = "as a heatmap" if _is_heatmap(figure) else f"against {figure['layout']['xaxis']['title']['text']}"
        notes.insert(0, f"{view.source} not applied: {why}; drawn {drawn}")
    notes.extend(_apply_log_axes(figure, view, figure.pop("x_values", None), data.values))
    figure["note"] = "; ".join(filter(None, notes))
    return figure


def _apply_log_axes(figure: dict[str, Any], view: AxisView, x_values: np.ndarray | None, y: Any) -> list[str]:
    """Set the log axes the view asks for; the notes: what a log axis cannot show, what does not apply.
    ``x_values``: the x drawn when the figure is against the view's x, else None."""
    if not (view.x_log or view.y_log):
        return []
    if _is_heatmap(figure):
        return [HEATMAP_NOTE]
    notes = []
    if view.x_log and x_values is None:
        notes.append("x_log applies to a view's x only")
    elif view.x_log:
        figure["layout"]["xaxis"].update(LOG_AXIS)
        notes.append(_not_positive_note("x", x_values))
    if view.y_log:
        figure["layout"]["yaxis"].update(LOG_AXIS)
        notes.append(_not_positive_note("y", np.abs(y) if y.dtype.kind == "c" else y))
    return notes


def _is_heatmap(figure: dict[str, Any]) -> bool:
    return figure["data"][0]["type"] == "heatmap"


def _not_positive_note(axis: str, values: np.ndarray) -> str:
    count = int(np.count_nonzero(np.asarray(values, dtype=np.float64) <= 0))
    return f"log {axis} axis: {count:,} value{'s' if count != 1 else ''} <= 0 not shown" if count else ""


def _figure_against_x(output: Output, data: OutputData, x: str, x_output: Output | None,
                      x_data: OutputData | None) -> tuple[dict[str, Any] | None, str]:
    """(the figure against ``x``, "") or (None, why it cannot be drawn so)."""
    # a pattern view (output "/*/signal", x "signal") can resolve to the output itself
    why = (f"x {x} is this output" if x == output.hdf5_path else "") or _x_unusable(x, x_output, x_data) \
        or _y_unusable(data)
    if why:
        return None, why
    y, xs = data.values, x_data.values  # type: ignore[union-attr]
    x_title = _label(x_output)  # type: ignore[arg-type]
    if y.ndim == 1 and xs.ndim == 1:
        if x_output.n_sets != output.n_sets:  # type: ignore[union-attr]
            return None, f"x {x} has {x_output.n_sets:,} sets, this output {output.n_sets:,}"  # type: ignore[union-attr]
        return _scan_figure(output, data, x_data, x_title), ""  # type: ignore[arg-type]
    if y.ndim == 2:
        if y.shape[0] > MAX_OVERLAID_SETS:
            return None, f"{y.shape[0]} sets (a view's x is drawn for at most {MAX_OVERLAID_SETS})"
        rows = _x_rows(output, data, x_output, x_data)  # type: ignore[arg-type]
        if isinstance(rows, str):
            return None, f"x {x} {rows}"
        return _arrays_figure(output, data, rows, x_title), ""
    return None, f"x {x} has shape {_shape(x_output)}, this output {_shape(output)}"  # type: ignore[arg-type]


def _shape(output: Output) -> str:
    return "(" + ", ".join(str(n) for n in output.shape) + ")"


def _x_unusable(x: str, output: Output | None, data: OutputData | None) -> str:
    if output is None:
        return f"x {x} is not an output of this job"
    if output.too_large or output.kind in ("empty", "missing"):
        return f"x {x} has no values ({'over the read budget' if output.too_large else 'never set'})"
    if data is None:
        return f"x {x} could not be read"
    values = data.values
    if not isinstance(values, np.ndarray) or values.dtype.kind not in "iuf":
        kind = "complex" if isinstance(values, np.ndarray) and values.dtype.kind == "c" else "not numeric"
        return f"x {x} is {kind}"
    if not np.isfinite(values).any():
        return f"x {x} has no finite values"
    return ""


def _y_unusable(data: OutputData) -> str:
    values = data.values
    if not isinstance(values, np.ndarray) or values.dtype.kind not in "biuf":
        return "this output is complex" if isinstance(values, np.ndarray) and values.dtype.kind == "c" else \
            "this output is not numeric"
    if values.ndim == 0 or values.size == 0:
        return "this output has no sets"
    if values.ndim > 2:
        return f"each set of this output is {values.ndim - 1}-D (a view's x needs a value or a 1-D array per set)"
    return ""


def _set_numbers(data: OutputData) -> np.ndarray:
    """The file's numbers of the sets the reader kept (every ``stride``-th)."""
    return np.arange(len(data.values), dtype=np.int64) * data.stride


def _scan_figure(output: Output, data: OutputData, x_data: OutputData, x_title: str) -> dict[str, Any]:
    """A scalar set against a scalar set of x, matched by set number: one trace sorted by x (stable)."""
    _, iy, ix = np.intersect1d(_set_numbers(data), _set_numbers(x_data), assume_unique=True, return_indices=True)
    xs, ys = x_data.values[ix].astype(np.float64), data.values[iy]
    finite = np.isfinite(xs)
    order = np.flatnonzero(finite)[np.argsort(xs[finite], kind="stable")]
    x_sorted, exact = xs[order], _beyond_float64(ys)
    y_sorted = ys[order].astype(np.float64)
    keep = build_downsample_index(x_sorted, y_sorted)
    title = _label(output)
    trace = {"type": "scatter", "mode": "lines+markers" if len(keep) <= MAX_MARKED_POINTS else "lines",
             "x": build_typed_array(x_sorted[keep]), "y": build_typed_array(y_sorted[keep]), "name": title}
    notes = [_points_note(len(order), len(keep)), _left_out_note(len(data.values), len(iy), int((~finite).sum()))]
    figure = {"data": [trace], "layout": _layout(title, {"title": {"text": x_title}},
                                                 {"title": {"text": html.escape(output.units)}}),
              "note": "; ".join(filter(None, notes)), "x_values": x_sorted}
    if exact is not None:
        figure["exact_y"] = [str(int(v)) for v in exact[order][keep]]
    figure["series"] = LineSeries(x_sorted, y_sorted, keep, False)  # zoom
    if 0 < len(output.labels) <= MAX_ENUM_TICKS:
        _name_enum_ticks(figure, output.labels)
    return figure


def _left_out_note(read: int, matched: int, not_finite: int) -> str:
    parts = []
    if matched < read:
        parts.append(f"{read - matched:,} sets without an x set read (read with different strides)")
    if not_finite:
        parts.append(f"{not_finite:,} sets whose x is NaN or infinite")
    return "left out: " + ", ".join(parts) if parts else ""


def _x_rows(output: Output, data: OutputData, x_output: Output, x_data: OutputData) -> list[np.ndarray] | str:
    """The x values of each kept set of a 1-D array per set, at the array indices the reader kept;
    or why there are none: x is an axis written once (one set of the same length, or a 1-D dataset
    of that length, as other tools write one) or a set per set of the same length."""
    length, step = output.shape[1], (data.value_strides or (1,))[0]
    positions = np.arange(data.values.shape[1], dtype=np.int64) * step
    xs = x_data.values
    if xs.ndim == 2 and x_output.shape[1] == length and x_output.n_sets in (1, output.n_sets):
        x_step = (x_data.value_strides or (1,))[0]
        if np.any(positions % x_step):
            return "was read more thinly than this output"
        if x_output.n_sets == 1:
            return [xs[0][positions // x_step].astype(np.float64)] * len(data.values)
        sets_x = dict(zip(_set_numbers(x_data).tolist(), xs))
        rows = [sets_x.get(number) for number in _set_numbers(data).tolist()]
        if any(row is None for row in rows):
            return "was read with other strides than this output"
        return [row[positions // x_step].astype(np.float64) for row in rows]  # type: ignore[index]
    if xs.ndim == 1 and x_output.n_sets == length and not np.any(positions % x_data.stride):
        return [xs[positions // x_data.stride].astype(np.float64)] * len(data.values)
    return f"has shape {_shape(x_output)}, this output {_shape(output)}"


def _arrays_figure(output: Output, data: OutputData, rows: list[np.ndarray], x_title: str) -> dict[str, Any]:
    """A few sets of a 1-D array, each against its x (sorted by x, stable), named by set number."""
    traces, shown, total, not_finite = [], 0, 0, 0
    for number, x_row, y_row in zip(_set_numbers(data).tolist(), rows, data.values.astype(np.float64)):
        finite = np.flatnonzero(np.isfinite(x_row))
        order = finite[np.argsort(x_row[finite], kind="stable")]
        keep = build_downsample_index(x_row[order], y_row[order])
        shown, total, not_finite = shown + len(keep), total + len(order), not_finite + len(x_row) - len(finite)
        traces.append({"type": "scatter", "mode": "lines", "name": f"set {number}",
                       "x": build_typed_array(x_row[order][keep]), "y": build_typed_array(y_row[order][keep])})
    title = _label(output)
    layout = _layout(title, {"title": {"text": x_title}}, {"title": {"text": html.escape(output.units)}})
    x_values = rows[0] if all(row is rows[0] for row in rows) else np.concatenate(rows)  # an axis counts once
    notes = [_points_note(total, shown), f"left out: {not_finite:,} points whose x is NaN or infinite" if not_finite else ""]
    return {"data": traces, "layout": layout, "note": "; ".join(filter(None, notes)), "x_values": x_values}
