"""The catalog's state in the URL hash, in real Chromium: an unknown status means all statuses, and
a search typed and cleared again leaves no history step that does nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.site.test_browser import Page, browser, small_site  # noqa: F401 (fixtures)
from tests.site.test_browser_history import _back, _forward, _history, _view, _wait_for_hash

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


# ---------------------------------------------------------------- unknown status
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
