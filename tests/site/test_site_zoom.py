"""Zoom detail of long line figures (reportgen/site/zoom.py): the tiles hold the file's own values,
stay within their byte budgets, come out byte-identical, are named by the figure and its note, and
belong to their job (an incremental build rewrites, removes and repairs them as a full build would)."""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from reportgen.records import Output, OutputData
from reportgen.site import figures, zoom
from reportgen.site.build import BuildOptions, build_site
from tests.readers.builders import Node, Out, simple_job, times
from tests.site.helpers import site_digest

QUIET = BuildOptions(workers=1, show_progress=False)
MAX = figures.MAX_POINTS


def _output(n: int, dtype: str = "float64", name: str = "trace") -> Output:
    return Output(name, f"/node/{name}", "desc", "V", "float", dtype, (n,), n, 8 * n, (), False, None)


def _series(values: np.ndarray, stamps: tuple = ()) -> figures.LineSeries:
    figure = figures.build_figure(_output(len(values), str(values.dtype)), OutputData("/node/trace", "float", values, stamps),
                                  series=True)
    series = zoom.wants_zoom(figure)
    assert series is not None
    return series


def read_zoom_js(text: str) -> dict:
    """The tiles of a zoom file, as the page reads them (one JSON value after the registry key)."""
    head = "window.reportgenZoom = window.reportgenZoom || {};\nwindow.reportgenZoom["
    assert text.startswith(head) and text.endswith(";\n")
    return json.loads(text[len(head):-2].split("] = ", 1)[1])


def _array(spec: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<" + spec["dtype"])


def _tile_arrays(tile: dict) -> tuple[np.ndarray, np.ndarray]:
    y = _array(tile["y"]).astype(np.float64)
    x = _array(tile["x"]).astype(np.float64) if "x" in tile else tile["i0"] + np.arange(len(y), dtype=np.float64)
    return x, y


def _hostile(n: int) -> np.ndarray:
    y = np.cos(np.arange(n) * 0.37) * 1e3 + 1e-7
    y[[5, n // 2 + 3, n - 1]] = [np.nan, np.inf, -np.inf]
    return y


# ----------------------------------------------------------------- tiles: exact, bounded, deterministic
@pytest.mark.parametrize("values", [
    _hostile(MAX + 1),  # the first length with zoom detail: two tiles, both exact
    _hostile(40_000),
    (np.arange(30_000) % 17).astype(np.int64),
    (np.arange(30_000) % 3 == 0),
    np.linspace(-1, 1, 30_000).astype(np.float16),
], ids=["max+1", "nan-inf", "int64", "bool", "float16"])
def test_every_tile_of_at_most_max_points_holds_the_original_values(values: np.ndarray) -> None:
    series = _series(values)
    plan = zoom.build_zoom_plan(series, zoom.OUTPUT_BYTES)
    assert plan is not None and plan.exact and len(plan.tiles) == math.ceil(len(values) / MAX)
    body = read_zoom_js(zoom.render_zoom_js(plan, series, "j/n~o"))
    original = values.astype(np.float64)
    for tile, drawn in zip(plan.tiles, body["tiles"]):
        x, y = _tile_arrays(drawn)
        assert np.array_equal(y, original[tile.start:tile.stop], equal_nan=True)
        assert np.array_equal(x, np.arange(tile.start, tile.stop))
    assert body["total"] == len(values) and "x" not in body["tiles"][0]  # the set index travels as i0 only
    assert zoom._y_dtype(series.y) == ("f8" if values.dtype == np.float64 else "f4")


def test_times_that_go_backwards_and_repeat_are_cut_by_index_and_tiles_span_their_own_x() -> None:
    n = 9_000
    ms = np.repeat(np.arange(n // 3) * 10.0, 3)[::-1].copy()  # backwards, each stamp three times
    stamps = tuple(figures._EPOCH + np.timedelta64(int(v), "ms").astype(object) for v in ms)
    values = np.arange(n, dtype=np.float64) / 7
    series = _series(values, stamps)
    plan = zoom.build_zoom_plan(series, zoom.OUTPUT_BYTES)
    body = read_zoom_js(zoom.render_zoom_js(plan, series, "j/n~o"))
    order = np.argsort(ms, kind="stable")  # as the figure draws them
    drawn_ms = figures._epoch_ms(stamps, n)[order]
    assert np.allclose(drawn_ms, ms[order], rtol=0, atol=1e-3)
    for tile, drawn in zip(plan.tiles, body["tiles"]):
        x, y = _tile_arrays(drawn)
        assert np.array_equal(x, drawn_ms[tile.start:tile.stop]) and np.array_equal(y, values[order][tile.start:tile.stop])
        assert (tile.lo, tile.hi) == (x.min(), x.max())
    assert plan.tiles[0].first == 0 and plan.tiles[-1].last == len(series.keep)


def test_a_series_of_max_points_has_no_zoom_and_complex_or_overlays_are_excluded() -> None:
    assert zoom.wants_zoom(figures.build_figure(_output(MAX), OutputData("/node/trace", "float", np.ones(MAX), ()),
                                                series=True)) is None
    iq = np.ones(MAX * 2, dtype=np.complex128)
    assert "series" not in figures.build_figure(_output(len(iq), "complex128"), OutputData("/node/trace", "float", iq, ()),
                                                series=True)
    sets = np.ones((3, MAX * 2))
    overlay = figures.build_figure(Output("o", "/node/o", "", "", "float", "float64", sets.shape, 3, sets.nbytes, (), False, None),
                                   OutputData("/node/o", "float", sets, ()), series=True)
    assert len(overlay["data"]) == 3 and zoom.wants_zoom(overlay) is None
    assert "series" not in figures.build_figure(_output(MAX * 2), OutputData("/node/trace", "float", np.ones(MAX * 2), ()))


def test_a_long_series_is_64_tiles_within_the_byte_budget_and_fewer_past_it() -> None:
    series = _series(np.random.default_rng(1).normal(size=1_000_000))
    plan = zoom.build_zoom_plan(series, zoom.OUTPUT_BYTES)
    text = zoom.render_zoom_js(plan, series, "j/n~o")
    assert len(plan.tiles) == zoom.MAX_TILES and not plan.exact
    assert len(text) <= zoom.OUTPUT_BYTES and len(text) <= zoom.estimate_bytes(1_000_000, 64, "i4", "f8")
    assert all(len(t.keep) == MAX for t in plan.tiles)
    small = zoom.build_zoom_plan(series, 1024**2)
    assert len(small.tiles) < 64 and len(zoom.render_zoom_js(small, series, "j/n~o")) <= 1024**2
    assert zoom.build_zoom_plan(series, 50_000) is None  # not even two tiles
    assert "no zoom detail (why)" == zoom.build_zoom_note(None, "why")
    assert "zoom detail limited" in zoom.build_zoom_note(plan, "")
    assert zoom.render_zoom_js(plan, series, "j/n~o") == text  # deterministic


# ----------------------------------------------------------------- in a built site
def _store(root: Path, n: int = 20_000, shift: float = 0.0) -> Path:
    values = np.sin(np.arange(n) / 50.0) + shift
    simple_job(root, "proj", "j1", [Node("QPU", [Out("trace", values, times(n)), Out("few", np.arange(5.0))])])
    simple_job(root, "proj", "j2", [Node("QPU", [Out("trace", values[: MAX], times(MAX)), Out("long", values[::-1].copy())])])
    return root


def _zoom_files(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*~zoom.js"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("zoom-site")
    store = _store(root / "store")
    build_site(store, root / "site", QUIET)
    return store, root / "site"


def test_the_figure_names_its_zoom_file_and_says_so_in_its_note(built: tuple[Path, Path]) -> None:
    _, site = built
    assert _zoom_files(site) == ["proj/j1/qpu-7c7015c5~trace~zoom.js", "proj/j2/qpu-7c7015c5~long~zoom.js"]
    page = (site / "proj" / "j1.html").read_text()
    assert '<p class="note">4000 of 20000 points shown (MinMaxLTTB); zoom in for detail (every point)</p>' in page
    blocks = re.findall(r'<script type="application/json" id="fig-[^"]*">(.*?)</script>', page)
    (spec,) = [json.loads(block) for block in blocks if '"zoom":' in block]
    assert spec["zoom"]["src"] == "j1/qpu-7c7015c5~trace~zoom.js" and spec["zoom"]["total"] == 20_000
    assert len(spec["zoom"]["tiles"]) == 5 and spec["table_note"] == zoom.ZOOM_TABLE_NOTE
    body = read_zoom_js((site / "proj" / spec["zoom"]["src"]).read_text())
    assert body["total"] == 20_000 and len(body["tiles"]) == 5
    j2 = (site / "proj" / "j2.html").read_text()
    assert j2.count('"zoom":') == 1 and "zoom in for detail" in j2  # the output of exactly MAX_POINTS has none


def test_two_builds_are_byte_identical(built: tuple[Path, Path], tmp_path: Path) -> None:
    store, site = built
    build_site(store, tmp_path / "again", QUIET)
    assert site_digest(tmp_path / "again") == site_digest(site)


def test_past_the_jobs_budget_a_figure_says_it_has_no_zoom_detail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = np.sin(np.arange(12_000) / 50.0)
    simple_job(tmp_path / "store", "proj", "j1", [Node("QPU", [Out("a", values, times(12_000)), Out("b", values, times(12_000))])])
    monkeypatch.setattr(zoom, "JOB_BYTES", 400_000)  # a: 3 exact tiles (~256 kB); b: not even two
    build_site(tmp_path / "store", tmp_path / "site", QUIET)
    assert _zoom_files(tmp_path / "site") == ["proj/j1/qpu-7c7015c5~a~zoom.js"]
    assert "no zoom detail (a job&#39;s zoom files are at most 0 MiB)" in (tmp_path / "site" / "proj" / "j1.html").read_text()


# ----------------------------------------------------------------- owned by the job
@pytest.fixture()
def incremental(built: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the built store and site (with its lock) to change."""
    store, site = built
    shutil.copytree(store, tmp_path / "store")
    shutil.copytree(site, tmp_path / "site")
    shutil.copy(site.with_name("site.lock"), tmp_path / "site.lock")
    return tmp_path / "store", tmp_path / "site"


def _same_as_full(store: Path, site: Path) -> None:
    build_site(store, site, QUIET)
    full = site.with_name("full")
    build_site(store, full, QUIET)
    assert site_digest(site) == site_digest(full)


def test_an_unchanged_job_keeps_its_zoom_file(incremental: tuple[Path, Path]) -> None:
    store, site = incremental
    zoom_file = site / "proj" / "j1" / "qpu-7c7015c5~trace~zoom.js"
    before = os.stat(zoom_file)
    report = build_site(store, site, QUIET)
    after = os.stat(zoom_file)
    assert report.up_to_date and (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_a_changed_job_rewrites_its_zoom_file(incremental: tuple[Path, Path]) -> None:
    store, site = incremental
    zoom_file = site / "proj" / "j1" / "qpu-7c7015c5~trace~zoom.js"
    before = zoom_file.read_bytes()
    shutil.rmtree(store / "proj" / "j1")
    (store / "proj" / "j1.hdf5").unlink()
    values = np.cos(np.arange(30_000) / 50.0)
    simple_job(store, "proj", "j1", [Node("QPU", [Out("trace", values, times(30_000)), Out("few", np.arange(5.0))])])
    _same_as_full(store, site)
    assert zoom_file.read_bytes() != before and read_zoom_js(zoom_file.read_text())["total"] == 30_000


def test_a_removed_job_takes_its_zoom_file_along(incremental: tuple[Path, Path]) -> None:
    store, site = incremental
    shutil.rmtree(store / "proj" / "j2")
    (store / "proj" / "j2.hdf5").unlink()
    _same_as_full(store, site)
    assert _zoom_files(site) == ["proj/j1/qpu-7c7015c5~trace~zoom.js"]


def test_a_zoom_file_deleted_by_hand_is_repaired(incremental: tuple[Path, Path]) -> None:
    store, site = incremental
    zoom_file = site / "proj" / "j1" / "qpu-7c7015c5~trace~zoom.js"
    before = zoom_file.read_bytes()
    zoom_file.unlink()
    report = build_site(store, site, QUIET)
    assert report.repaired == 1 and zoom_file.read_bytes() == before
