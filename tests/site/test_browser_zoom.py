"""In real Chromium over file://: a long line figure shows the file's own points once zoomed into
a short stretch (its zoom file loaded by <script src>), and the overview again on autorange; on a
job page and on a split job's node page."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from reportgen.site.build import BuildOptions, build_site
from reportgen.site.render import CSP
from tests.readers.builders import Node, Out, simple_job, times
from tests.site.test_browser import Page, browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
N = 200_000
SPLIT_NODES = 65  # one more than jobpage.SPLIT_NODES: a node table and a page per node


def _values(n: int = N) -> np.ndarray:
    """Float64 values no float32 holds (the zoom file sends them as float64), with a NaN gap."""
    y = np.sin(np.arange(n) / 700.0) + np.arange(n) / 3.0e5 + 1e-9
    y[123_456] = np.nan
    return y


@pytest.fixture(scope="module")
def zoom_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``j1``: one 200,000-point output against its times (a date axis); ``big``: a split job whose
    node ``n64`` holds one against the set number (no times)."""
    root = tmp_path_factory.mktemp("zoom")
    store = root / "store"
    simple_job(store, "proj", "j1", [Node("QPU", [Out("trace", _values(), times(N)), Out("few", np.arange(5.0))])])
    nodes = [Node(f"n{i:02d}", [Out("o", np.arange(3.0))]) for i in range(SPLIT_NODES - 1)]
    simple_job(store, "proj", "big", [*nodes, Node("n64", [Out("trace", _values(), [])])])
    x, y = _scan()
    simple_job(store, "proj", "scan", [Node("QPU", [Out("freq", x), Out("signal", y)])])
    (root / "views.toml").write_text('[[views]]\noutput = "/QPU/signal"\nx = "freq"\nx_log = true\n')
    build_site(store, root / "site", BuildOptions(workers=1, show_progress=False, config_file=root / "views.toml"))
    return root / "site"


def _scan(n: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """A scan out of order, every x twice: the figure draws it sorted by x (stable), on a log axis."""
    x = 1.0 + np.random.default_rng(0).permutation(n) // 2
    return x, np.sqrt(x) + np.arange(n) / n


def _figure(tab: Page, page: Path, output: str) -> str:
    """Open ``page``, draw the figure of ``output``; the id of its box."""
    tab.open(page)
    box = tab.page.locator(f'section.output[data-ds="{output}"] div.figure')
    box.scroll_into_view_if_needed()
    box.locator(".main-svg").first.wait_for(state="attached", timeout=10000)
    return box.get_attribute("id")


def _spec(tab: Page, box_id: str) -> dict:
    return json.loads(tab.page.evaluate(
        "id => document.getElementById(document.getElementById(id).getAttribute('data-figure')).textContent", box_id))


def _trace(tab: Page, box_id: str) -> tuple[list[float], list[float | None]]:
    x, y = tab.page.evaluate("id => { const t = document.getElementById(id)._fullData[0];"
                             " return [Array.from(t.x, Number), Array.from(t.y, v => isNaN(v) ? null : v)]; }", box_id)
    return x, y


def _relayout(tab: Page, box_id: str, update: dict) -> None:
    tab.page.evaluate("([id, update]) => window.Plotly.relayout(document.getElementById(id), update)", [box_id, update])


def _wait_points(tab: Page, box_id: str, count: int) -> None:
    tab.page.wait_for_function("([id, n]) => document.getElementById(id)._fullData[0].y.length === n",
                               arg=[box_id, count], timeout=8000)


def _status(tab: Page, box_id: str) -> str:
    return tab.page.locator(f"#{box_id} ~ p.zoom-status").inner_text()


def _assert_csp_intact(tab: Page) -> None:
    assert tab.page.evaluate("document.querySelector('meta[http-equiv=Content-Security-Policy]').content") == CSP
    inline = tab.page.evaluate("[...document.scripts].filter(s => !s.src && s.type !== 'application/json').length")
    assert inline == 0
    injected = tab.page.evaluate("[...document.scripts].map(s => s.getAttribute('src')).filter(s => s && /zoom/.test(s))")
    assert all(re.fullmatch(r"[a-z0-9._-]+/[a-z0-9._-]+~trace~zoom\.js", src) for src in injected), injected


def _zoom_and_back(tab: Page, box_id: str, stretch: tuple[float, float], expect_x: np.ndarray,
                   expect_y: np.ndarray | None = None, axis_range: list[float] | None = None) -> None:
    """Zoom into ``stretch`` (x as the figure draws it; ``axis_range``: as the axis takes it), check
    the tiles' original points are drawn, then autorange back to the overview."""
    spec = _spec(tab, box_id)
    overview = len(spec["data"][0]["y"]["bdata"]) * 3 // 4 // 8
    tiles = spec["zoom"]["tiles"]
    covered = [i for i, t in enumerate(tiles) if t[1] >= stretch[0] and t[0] <= stretch[1]]
    first, last = covered[0], covered[-1]
    held = sum(tiles[i][2] for i in covered)
    expected = overview - (tiles[last][4] - tiles[first][3]) + held
    _relayout(tab, box_id, {"xaxis.range": axis_range or list(stretch)})
    _wait_points(tab, box_id, expected)
    x, y = _trace(tab, box_id)
    total = len(expect_x)
    start = first * total // len(tiles)  # the tiles' cut (zoom.build_zoom_plan)
    stop = (last + 1) * total // len(tiles)
    drawn = slice(tiles[first][3], tiles[first][3] + held)
    values = _values() if expect_y is None else expect_y
    assert held == stop - start  # every point of the stretch
    assert y[drawn] == [None if np.isnan(v) else float(v) for v in values[start:stop]]
    assert np.array_equal(np.array(x[drawn]), expect_x[start:stop])
    assert _status(tab, box_id) == f"detail: {held:,} points of {total:,} (every point of this stretch)"
    _relayout(tab, box_id, {"xaxis.autorange": True})
    _wait_points(tab, box_id, overview)
    assert _status(tab, box_id).startswith(f"overview: {overview:,} of {total:,} points")


def test_zooming_a_long_line_draws_the_files_points_and_autorange_the_overview(browser, zoom_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    box_id = _figure(tab, zoom_site / "proj" / "j1.html", "/QPU/trace")
    assert "zoom in for detail" in tab.page.locator(f"#{box_id} ~ p.note").first.inner_text()
    ms = np.array([np.datetime64(t[:-1], "ms").astype(np.int64) for t in times(N)], dtype=np.float64)
    _zoom_and_back(tab, box_id, (ms[120_500], ms[127_000]), ms)  # two tiles, one with the NaN
    tiles = _spec(tab, box_id)["zoom"]["tiles"]
    _relayout(tab, box_id, {"xaxis.range": [tiles[10][0], tiles[10][1]]})  # one tile, then panned on to the next
    _wait_points(tab, box_id, 4000 - (tiles[10][4] - tiles[10][3]) + tiles[10][2])
    _relayout(tab, box_id, {"xaxis.range": [tiles[11][0] + 1, tiles[11][1] - 1]})
    _wait_points(tab, box_id, 4000 - (tiles[11][4] - tiles[11][3]) + tiles[11][2])
    tab.page.click("#theme-toggle")  # the theme swap (a relayout of colours) keeps the detail
    tab.page.wait_for_timeout(300)
    assert len(_trace(tab, box_id)[1]) == 4000 - (tiles[11][4] - tiles[11][3]) + tiles[11][2]
    assert "detail: 4,000 points" in _status(tab, box_id)
    tab.page.click(f"#{box_id} ~ button.figure-table-toggle")  # the table keeps the overview, and says so
    assert "overview points, not the detail" in tab.page.locator(f"#{box_id} ~ div.figure-table").inner_text()
    _assert_csp_intact(tab)
    assert tab.errors == [] and tab.dialogs == []
    tab.page.close()


def test_a_split_jobs_node_page_zooms_from_its_own_folder(browser, zoom_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    page = next((zoom_site / "proj").glob("big~node-n64*.html"))
    box_id = _figure(tab, page, "/n64/trace")
    _zoom_and_back(tab, box_id, (50_000.0, 52_000.0), np.arange(N, dtype=np.float64))
    _assert_csp_intact(tab)
    assert tab.errors == []
    tab.page.close()


def test_a_missing_zoom_file_says_so_and_keeps_the_overview(browser, zoom_site: Path, tmp_path: Path) -> None:  # noqa: F811
    site = tmp_path / "site"
    shutil.copytree(zoom_site, site)
    for zoom_file in (site / "proj" / "j1").glob("*~zoom.js"):
        zoom_file.unlink()
    tab = Page(browser)
    box_id = _figure(tab, site / "proj" / "j1.html", "/QPU/trace")
    spec = _spec(tab, box_id)
    tile = spec["zoom"]["tiles"][3]
    _relayout(tab, box_id, {"xaxis.range": [tile[0], tile[1]]})
    tab.page.wait_for_function("id => /could not be loaded/.test((document.querySelector('#' + id + ' ~ p.zoom-status')"
                               " || {}).textContent || '')", arg=box_id, timeout=8000)
    assert len(_trace(tab, box_id)[1]) == spec["zoom"]["tiles"][-1][4]  # the overview, untouched
    assert [e for e in tab.errors if "ERR_FILE_NOT_FOUND" not in e] == []
    tab.page.close()


def test_a_view_on_a_log_x_axis_zooms_in_the_axis_own_units(browser, zoom_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    box_id = _figure(tab, zoom_site / "proj" / "scan.html", "/QPU/signal")
    assert _spec(tab, box_id)["layout"]["xaxis"]["type"] == "log"
    x, y = _scan()
    order = np.argsort(x, kind="stable")
    stretch = (x[order][9_000], x[order][10_500])
    _zoom_and_back(tab, box_id, stretch, x[order], y[order], [float(np.log10(v)) for v in stretch])
    assert tab.errors == []
    tab.page.close()
