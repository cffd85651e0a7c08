"""Zoom detail of long line figures: the whole series cut into tiles, loaded by the page on zoom.

A job page draws a line of more than ``MAX_POINTS`` points as ``MAX_POINTS`` MinMaxLTTB points, so
a box zoom into a short stretch showed the same few points, stretched.  For such a figure the
worker writes ``<job>/<node>~<output>~zoom.js`` beside the job's other downloads: the series (x as
the figure draws it) cut by index into ``T`` contiguous tiles, each downsampled on its own to at
most ``MAX_POINTS`` (so a tile of no more points is exact).  ``render.js`` loads the file with a
``<script src>`` (``fetch`` fails on ``file://``) when a zoom covers few tiles, and draws those
tiles' points between the overview points outside them.

Tiles are cut by index, never by x: the figure's x is sorted, but a tile's x range is its own
min..max either way.  ``T = min(ceil(N / MAX_POINTS), MAX_TILES)``, fewer while the file would
pass its byte budget (``OUTPUT_BYTES``, and what is left of ``JOB_BYTES`` for the job); under two
tiles there is no file and the note says why.  Numbers are plotly.js typed arrays as the figures
send them: y as float32 when every value survives the round trip (float16/float32 outputs,
small integers, booleans), else float64; x omitted when it is the set index and the tile is
exact (the page counts from ``i0``), int32 set indices when not, float64 otherwise (epoch ms).
Pure: ``build_*`` and ``render_*`` only; ``jobpage.write_zoom_files`` writes.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from reportgen.site.figures import MAX_POINTS, LineSeries, build_downsample_index, build_typed_array

MAX_TILES = 64
OUTPUT_BYTES = 6 * 1024**2  # one output's zoom file at most: 64 exact tiles of float64 x and y (256,000 points) fit
JOB_BYTES = 16 * 1024**2  # all of a job's zoom files at most
ZOOM_SUFFIX = "~zoom.js"  # "~" never occurs in a slug: no clash with a download or a job's page
_TILE_OVERHEAD = 96  # bytes of JSON around one tile's two arrays (keys, dtypes, i0)
_FILE_OVERHEAD = 256  # the registry assignment around the tiles


@dataclass(frozen=True)
class Tile:
    """Points ``start``..``stop`` (exclusive) of the series: ``lo``..``hi`` its x range, ``keep``
    the indices (into the whole series) of the points it holds, ``first``..``last`` the slice of
    the overview's points that fall in it."""

    start: int
    stop: int
    lo: float
    hi: float
    keep: np.ndarray
    first: int
    last: int


@dataclass(frozen=True)
class ZoomPlan:
    """What one figure's zoom file holds, and the figure's words about it."""

    tiles: tuple[Tile, ...]
    x_dtype: str  # "" (set index), "i4" or "f8"
    y_dtype: str  # "f4" or "f8"
    exact: bool  # every tile holds every one of its points
    total: int


def wants_zoom(figure: dict[str, Any] | None) -> LineSeries | None:
    """The series of a one-trace line figure drawn from more than ``MAX_POINTS`` points, else None."""
    if not figure or len(figure.get("data", ())) != 1 or figure["data"][0].get("type") != "scatter":
        return None
    series = figure.get("series")
    if not isinstance(series, LineSeries) or len(series.y) <= MAX_POINTS:
        return None
    keep = series.keep
    # the overview in index order (MinMaxLTTB may repeat an index: a bucket's min and max at one point)
    return series if len(keep) and bool(np.all(keep[1:] >= keep[:-1])) else None


def build_zoom_plan(series: LineSeries, budget: int) -> ZoomPlan | None:
    """The tiles of ``series`` within ``budget`` bytes; None when fewer than two tiles fit."""
    n = len(series.y)
    x_dtype, y_dtype = _x_dtype(series), _y_dtype(series.y)
    count = min(math.ceil(n / MAX_POINTS), MAX_TILES)
    while count >= 2 and estimate_bytes(n, count, x_dtype, y_dtype) > budget:
        count -= 1
    if count < 2:
        return None
    edges = (np.arange(count + 1, dtype=np.int64) * n) // count  # integer cut: the same on every machine
    tiles = tuple(_tile(series, int(a), int(b)) for a, b in itertools.pairwise(edges))
    exact = all(len(t.keep) == t.stop - t.start for t in tiles)
    return ZoomPlan(tiles, "" if x_dtype == "i4" and exact else x_dtype, y_dtype, exact, n)


def estimate_bytes(n: int, count: int, x_dtype: str, y_dtype: str) -> int:
    """The size of a file of ``count`` tiles of ``n`` points: each at most ``MAX_POINTS`` points of
    x and y in base64 (an exact tile of the set index carries no x)."""
    points = min(math.ceil(n / count), MAX_POINTS)
    exact_index = x_dtype == "i4" and points == math.ceil(n / count)
    width = (0 if exact_index else _SIZES[x_dtype]) + _SIZES[y_dtype]
    return _FILE_OVERHEAD + count * (_TILE_OVERHEAD + 4 * math.ceil(points * width / 3) + 8)


_SIZES = {"i4": 4, "f4": 4, "f8": 8}


def _x_dtype(series: LineSeries) -> str:
    return "i4" if series.x_is_index and len(series.x) < 2**31 else "f8"


def _y_dtype(y: np.ndarray) -> str:
    """float32 when every value survives float64 -> float32 -> float64 (NaN and +-inf do)."""
    with np.errstate(over="ignore", invalid="ignore"):
        narrow = y.astype(np.float32).astype(np.float64)
    same = (narrow == y) | (np.isnan(narrow) & np.isnan(y))
    return "f4" if bool(same.all()) else "f8"


def _tile(series: LineSeries, start: int, stop: int) -> Tile:
    x = series.x[start:stop]
    keep = build_downsample_index(x, series.y[start:stop]) + start
    finite = x[np.isfinite(x)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (math.nan, math.nan)
    first, last = np.searchsorted(series.keep, [start, stop])
    return Tile(start, stop, lo, hi, np.asarray(keep, dtype=np.int64), int(first), int(last))


def build_zoom_spec(plan: ZoomPlan, src: str, key: str) -> dict[str, Any]:
    """What the figure's JSON says of its zoom file: where it is, its registry key, and per tile
    [x lo, x hi, points held, first, last overview point] for choosing tiles before loading any."""
    return {"src": src, "key": key, "total": plan.total, "exact": plan.exact,
            "tiles": [[_json_number(t.lo), _json_number(t.hi), len(t.keep), t.first, t.last] for t in plan.tiles]}


def _json_number(value: float) -> float | int | None:
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def build_zoom_note(plan: ZoomPlan | None, why_not: str) -> str:
    """The figure note's clause about zoom detail."""
    if plan is None:
        return f"no zoom detail ({why_not})"
    if plan.exact:
        return "zoom in for detail (every point)"
    longest = max(t.stop - t.start for t in plan.tiles)
    return (f"zoom in for more detail (at most {MAX_POINTS:,} points per stretch of {longest:,}: "
            "zoom detail limited by the size budget)")


ZOOM_TABLE_NOTE = "This table lists the overview points, not the detail a zoom draws. "


def render_zoom_js(plan: ZoomPlan, series: LineSeries, key: str) -> str:
    """The zoom file: one assignment into ``window.reportgenZoom`` (no call: nothing in it runs).

    ``key`` is made of slugs and ``~`` only (``[a-z0-9._~/-]``), so it needs no escaping."""
    tiles = [_render_tile(plan, series, tile) for tile in plan.tiles]
    body = orjson.dumps({"total": plan.total, "tiles": tiles}).decode("ascii")
    return ("window.reportgenZoom = window.reportgenZoom || {};\n"
            f"window.reportgenZoom[{orjson.dumps(key).decode('ascii')}] = {body};\n")


def _render_tile(plan: ZoomPlan, series: LineSeries, tile: Tile) -> dict[str, Any]:
    spec: dict[str, Any] = {"i0": tile.start}
    if plan.x_dtype:
        x = tile.keep if plan.x_dtype == "i4" else series.x[tile.keep]
        spec["x"] = build_typed_array(x, plan.x_dtype)
    spec["y"] = build_typed_array(series.y[tile.keep], plan.y_dtype)
    return spec
