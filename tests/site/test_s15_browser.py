"""Audit s15 in real Chromium: pages reflow at 320 and 375 px with long tokens (F14), an unknown
status in the catalog hash means all statuses (F15), and a search typed and cleared again leaves
no history step that does nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.readers.builders import Node, Out, metadata, write_job, write_log
from tests.site.test_browser import Page, browser, small_site  # noqa: F401 (fixtures)
from tests.site.test_browser_history import _back, _forward, _history, _view, _wait_for_hash

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LONG_OUTPUT = "estimated_parameter_frequency_calibration_result_qubit_17"
LONG_PATH = "/data/experiments/2024/01/01/run_000123/calibration/readout_histogram.json"


@pytest.fixture(scope="module")
def narrow_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One job with realistic long tokens (the audit's): a long node and output name, a units
    string, string values that are file paths, and two problems (no commit attributes)."""
    root = tmp_path_factory.mktemp("narrow")
    node_name = "calibration_node_for_the_second_qubit_readout"
    stamps = ["2024-01-01T00:00:00.000Z"] * 2
    outputs = [Out(LONG_OUTPUT, np.array([1.0, 2.0]), stamps, units="MHz/(V*s)"),
               Out("result_file", [LONG_PATH] * 2, stamps, units="path")]
    attrs = metadata("proj", "j1", workflow_eui="", parameters_eui="", creation_timestamp="2024-01-01T00:00:00+00:00")
    write_job(root / "store" / "proj" / "j1.hdf5", attrs, [Node(node_name, outputs)])
    write_log(root / "store" / "proj" / "j1" / f"{node_name}.log", "ok\n")
    build_site(root / "store", root / "site", BuildOptions(show_progress=False))
    return root / "site"


def _page_width(tab: Page) -> int:
    return tab.page.evaluate("document.documentElement.scrollWidth")


# ---------------------------------------------------------------- F14: reflow
@pytest.mark.parametrize("width", [320, 375])
def test_a_job_page_with_long_tokens_does_not_scroll_sideways(browser, narrow_site: Path, width: int) -> None:  # noqa: F811
    tab = Page(browser)
    tab.page.set_viewport_size({"width": width, "height": 800})
    tab.open(narrow_site / "proj" / "j1.html")
    assert LONG_PATH in tab.page.inner_text("main") and LONG_OUTPUT in tab.page.inner_text("main")
    assert _page_width(tab) <= width
    problems = tab.page.locator("table.grid").first  # the problems table scrolls inside itself
    assert problems.evaluate("t => t.getBoundingClientRect().right") <= width
    assert tab.errors == []
    tab.page.close()


def test_catalog_home_and_diff_pages_reflow_at_320_px(browser, small_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.page.set_viewport_size({"width": 320, "height": 800})
    project = small_site / "default_project"
    diff = sorted(project.glob("*~params-diff.html"))[0]
    job = sorted(p for p in project.glob("*.html") if "~" not in p.name and p.name != "index.html")[0]
    for page in (small_site / "index.html", project / "index.html", diff, job):
        tab.open(page)
        assert _page_width(tab) <= 320, page.name
    assert tab.errors == []
    tab.page.close()


def test_the_layout_is_unchanged_on_a_wide_screen(browser, narrow_site: Path) -> None:  # noqa: F811
    """Wrapping anywhere only acts when a token does not fit: at 1400 px the output heading is one line."""
    tab = Page(browser)
    tab.page.set_viewport_size({"width": 1400, "height": 800})
    tab.open(narrow_site / "proj" / "j1.html")
    heading = tab.page.locator("h4 code", has_text=LONG_OUTPUT)
    line = tab.page.evaluate("parseFloat(getComputedStyle(document.querySelector('h4 code')).lineHeight) || 20")
    assert heading.bounding_box()["height"] < 1.5 * line
    tab.page.close()


# ---------------------------------------------------------------- F15: unknown status
@pytest.mark.parametrize("status", ["nonexistent", "constructor", "OK"])
def test_an_unknown_status_in_the_hash_means_all(browser, small_site: Path, status: str) -> None:  # noqa: F811
    tab = Page(browser)
    catalog = small_site / "default_project" / "index.html"
    tab.open(catalog)
    every = tab.page.inner_text("#catalog-info")
    tab.open(catalog, f"#status={status}&sort=id&dir=asc")
    assert tab.page.evaluate("location.hash") == "#sort=id&dir=asc"  # spelled out without the status
    assert tab.page.input_value("#catalog-status") == ""
    assert tab.page.inner_text("#catalog-info") == every and "0 of" not in every
    tab.open(catalog, "#status=ok")
    assert tab.page.input_value("#catalog-status") == "ok"  # a known one still filters
    assert tab.errors == []
    tab.page.close()


# ---------------------------------------------------------------- a search typed and cleared
def _type_and_clear(tab: Page, text: str) -> None:
    tab.page.click("#catalog-search")
    tab.page.keyboard.type(text, delay=170)  # slower than the 120 ms pause: every key redraws
    _wait_for_hash(tab, "q=")
    for _ in text:
        tab.page.keyboard.press("Backspace")
        tab.page.wait_for_timeout(170)
    _wait_for_hash(tab, "q=", present=False)


def test_back_after_a_search_typed_and_cleared_changes_the_view_at_once(browser, small_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(small_site / "default_project" / "index.html")
    loaded = _view(tab)
    tab.page.click("button[data-sort=id]")
    sorted_view, start = _view(tab), _history(tab)
    _type_and_clear(tab, "j1")
    assert _view(tab) == sorted_view and _history(tab) == start + 1  # the one entry the search pushed
    _back(tab)  # one press: past the cleared search's entry, which shows the same view
    assert _view(tab) == loaded and tab.page.input_value("#catalog-search") == ""
    _forward(tab)
    assert _view(tab) == sorted_view
    assert tab.errors == []
    tab.page.close()


def test_the_next_change_reuses_the_entry_of_a_cleared_search(browser, small_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(small_site / "default_project" / "index.html")
    tab.page.click("button[data-sort=id]")
    sorted_view, start = _view(tab), _history(tab)
    _type_and_clear(tab, "j1")
    tab.page.keyboard.press("Enter")  # the search ends
    tab.page.select_option("#catalog-status", "ok")
    assert "status=ok" in tab.page.evaluate("location.hash")
    assert _history(tab) == start + 1  # no entry after the cleared one: it was reused
    _back(tab)
    assert _view(tab) == sorted_view and tab.page.input_value("#catalog-status") == ""
    _type_and_clear(tab, "j")
    tab.page.keyboard.type("j2", delay=170)  # typing on after clearing reuses the entry too
    _wait_for_hash(tab, "q=j2")
    assert _history(tab) == start + 1
    _back(tab)
    assert _view(tab) == sorted_view and tab.page.input_value("#catalog-search") == ""
    assert tab.errors == []
    tab.page.close()
