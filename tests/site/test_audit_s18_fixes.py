"""Audit s18, in real Chromium over file://: compare's log-end sides stay two distinct jobs when the
address changes (F3); "Clear ticks" hands focus on instead of dropping it to <body> (F6); a
heatmap's table shows float32 cells as the shortest decimal (F4) and a line of int64 past 2^53
its exact integers (F7)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.readers.builders import Node, Out, metadata, write_job, write_log
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)
from tests.site.test_compare import _wait_ready, compare_site  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
BIG = [2**53 + 1, 2**62 + 3, -(2**60) - 1, 7]


def test_log_end_sides_stay_distinct_jobs_after_the_address_changes(browser, compare_site: Path) -> None:  # noqa: F811
    slugs = sorted(p.name.split("~")[0] for p in (compare_site / "default_project").glob("*~compare.js"))
    tab = Page(browser)
    tab.open(compare_site / "default_project" / "compare.html", "#jobs=" + ",".join(slugs))
    _wait_ready(tab)
    tab.page.select_option("#compare-log-left", "2")
    tab.page.select_option("#compare-log-right", "3")
    tab.page.evaluate(f"location.hash = '#jobs={slugs[2]},{slugs[0]}'")  # C stays, as A now
    tab.page.wait_for_function("document.querySelectorAll('#compare-jobs li').length === 2")
    sides = tab.page.evaluate("['left', 'right'].map(s => document.getElementById('compare-log-' + s).value)")
    assert sides == ["0", "1"]  # C kept (now A); D gone: the other job, never the same one
    tab.page.evaluate(f"location.hash = '#jobs={slugs[0]},{slugs[1]}'")  # neither side's job is left
    tab.page.wait_for_function(f"document.querySelector('#compare-jobs li a').href.includes('{slugs[0]}')")
    sides = tab.page.evaluate("['left', 'right'].map(s => document.getElementById('compare-log-' + s).value)")
    assert sides[0] != sides[1] and tab.errors == []
    tab.page.close()


def test_clear_ticks_moves_focus_to_tick_all(browser, compare_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(compare_site / "default_project" / "index.html")
    tab.page.evaluate("sessionStorage.clear()")
    for key in "jxjx":
        tab.page.keyboard.press(key)
    tab.page.focus("#compare-clear")
    tab.page.keyboard.press("Enter")
    assert tab.page.evaluate("document.activeElement.id") == "compare-tick-page"
    assert tab.page.locator("input.compare-tick:checked").count() == 0 and tab.errors == []
    tab.page.close()


@pytest.fixture(scope="module")
def table_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s18-tables")
    store = root / "store"
    nodes = [Node("n", [Out("heat", np.arange(60.0).reshape(30, 2) * 0.1 + 0.1),  # > 20 sets: a heatmap
                        Out("ids", np.array(BIG, dtype=np.int64))])]
    write_job(store / "p" / "j.hdf5", metadata("p", "j", workflow_eui="", parameters_eui=""), nodes)
    write_log(store / "p" / "j" / "n.log", "hi\n")
    build_site(store, root / "site", BuildOptions(workers=1, show_progress=False))
    return root / "site" / "p"


def _table(tab: Page, path: str) -> list[list[str]]:
    section = tab.page.locator(f'section.output[data-ds="{path}"]')
    section.locator("button.figure-table-toggle").click()
    return section.evaluate("s => [...s.querySelector('table.figure-data').tBodies[0].rows]"
                            ".map(r => [...r.cells].slice(1).map(c => c.textContent))")


def test_float32_cells_are_the_shortest_decimal_and_int64_cells_are_exact(browser, table_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(table_site / "j.html")
    heat = _table(tab, "/n/heat")
    assert heat[0] == ["0.1", "0.2"] and heat[2] == ["0.5", "0.6"]  # not 0.10000000149011612
    for r, row in enumerate(heat):
        for c, text in enumerate(row):
            assert np.float32(text) == np.float32(np.float64(r * 2 + c) * 0.1 + 0.1) and len(text) <= 10
    note = tab.page.locator('section.output[data-ds="/n/heat"] div.figure-table p.note')
    assert "float32" in note.inner_text() and note.locator("a").inner_text() == "The CSV download"
    assert [row[0] for row in _table(tab, "/n/ids")] == [str(v) for v in BIG]
    assert tab.errors == []
    tab.page.close()
