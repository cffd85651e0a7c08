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
import warnings
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
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def build_figure(output: Output, data: OutputData) -> dict[str, Any] | None:
    """The automatic view of one numeric output, or None when it has no figure."""
    values = data.values
    if not isinstance(values, np.ndarray) or values.size == 0 or values.dtype.kind not in "biufc":
        return None
    figure = _figure_of_reals(output, data, np.abs(values) if values.dtype.kind == "c" else values)
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
    layout = _layout(title, {"title": {"text": "index"}}, {"title": {"text": html.escape(units)}})
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
    figure: dict[str, Any] = {
        "data": [trace],
        "layout": _layout(title, {"title": {"text": x_title}}, {"title": {"text": y_title}}),
        "note": _pool_note(frames[0].shape, pooled[0].shape),
    }
    if len(pooled) > 1:
        figure["steps"] = [build_typed_array(p, "f4") for p in pooled]
        figure["step_labels"] = labels or [str(i) for i in range(len(pooled))]
    return figure


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
