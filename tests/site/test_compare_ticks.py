"""Compare runs in the catalog, in Chromium: the ticks kept per project page in the tab's
sessionStorage (a reload and Back from compare.html find them; hostile storage is ignored;
storage that throws breaks nothing), the ``x`` key, and "Tick all on this page" with its limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportgen.site.contexts import CatalogRow
from tests.site.helpers import write_catalog_page
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)
from tests.site.test_compare import compare_site  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
STORAGE_THROWS = """Object.defineProperty(window, 'sessionStorage', {
  get() { throw new DOMException('The operation is insecure.', 'SecurityError'); } });"""


def _ticked(tab: Page) -> list[str]:
    return [box.get_attribute("value") for box in tab.page.locator("input.compare-tick:checked").all()]


def _stored(tab: Page) -> list[str] | None:
    """The ticks this page stored: the one key of the tab's sessionStorage that names the catalog."""
    found = tab.page.evaluate("""() => Object.keys(sessionStorage).filter(k => k.startsWith('reportgen-compare-ticks:'))
                                   .map(k => [k, sessionStorage.getItem(k)])""")
    assert len(found) <= 1
    if not found:
        return None
    key, value = found[0]
    assert key.endswith("/default_project/") or key.endswith("/p/")  # the page's path: file:// is one origin
    return json.loads(value)


def _store(tab: Page, text: str) -> None:
    tab.page.evaluate("""text => sessionStorage.setItem(
        'reportgen-compare-ticks:' + location.pathname.replace(/index\\.html$/, ''), text)""", text)


def _twelve_rows(folder: Path) -> Path:
    rows = [CatalogRow(id=f"j{i:02d}", href=f"j{i:02d}.html", description="", end=f"2024-01-01 00:00:{i:02d}", start="",
                       status="ok", nodes=1, outputs=1, workflow="", params="", log_errors=0) for i in range(12)]
    return write_catalog_page(folder, rows)


def test_ticks_survive_a_reload_and_back_and_clear_empties_storage(browser, compare_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    catalog = compare_site / "default_project" / "index.html"
    tab.open(catalog)
    boxes = tab.page.locator("#catalog-table input.compare-tick")
    slugs = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
    tab.page.keyboard.press("j")  # the row cursor on the first row, then x ticks it
    tab.page.keyboard.press("x")
    tab.page.keyboard.press("j")
    tab.page.keyboard.press("x")
    assert _ticked(tab) == slugs[:2] and _stored(tab) == slugs[:2]
    tab.page.keyboard.press("x")  # x again: unticked
    assert _ticked(tab) == slugs[:1]
    tab.page.keyboard.press("?")
    assert "tick or untick the current row" in tab.page.inner_text("#keys-help")
    tab.page.keyboard.press("Escape")
    boxes.nth(2).click()
    tab.page.reload()
    assert _ticked(tab) == [slugs[0], slugs[2]] and tab.page.inner_text("#compare-link") == "Compare (2)"
    tab.page.click("#compare-link")
    tab.page.wait_for_selector("body[data-compare=ready]", state="attached", timeout=10_000)
    tab.page.go_back()
    tab.page.wait_for_selector("#catalog-table")
    assert sorted(_ticked(tab)) == sorted([slugs[0], slugs[2]])
    assert tab.page.get_attribute("#compare-link", "href") == f"compare.html#jobs={slugs[0]},{slugs[2]}"
    tab.page.click("#compare-clear")
    assert _ticked(tab) == [] and _stored(tab) is None
    tab.page.reload()
    assert _ticked(tab) == [] and tab.page.inner_text("#compare-link") == "Compare (0)"

    # storage written by anyone: only this catalog's slugs, once each; garbage is no ticks
    for stored, expected in ((["gone", slugs[1], slugs[1], 7, None, {}, slugs[3]], [slugs[1], slugs[3]]),
                             ({"0": slugs[0]}, []), ("not json[", []), ("null", [])):
        _store(tab, stored if isinstance(stored, str) else json.dumps(stored))
        tab.page.reload()
        assert _ticked(tab) == expected, stored
    assert tab.errors == [] and tab.dialogs == []
    tab.page.close()


def test_tick_all_on_this_page_stops_at_eight_and_storage_that_throws_breaks_nothing(browser, tmp_path: Path) -> None:  # noqa: F811
    page = _twelve_rows(tmp_path)
    tab = Page(browser)
    tab.open(page)
    tab.page.locator("#catalog-table input.compare-tick").nth(11).click()  # one ticked already: 7 more are added
    tab.page.click("#compare-tick-page")
    assert len(_ticked(tab)) == 8 and tab.page.inner_text("#compare-link") == "Compare (8)"
    assert tab.page.inner_text("#compare-hint") == ("Ticked 7 more; at most 8 jobs are compared, "
                                                    "so 4 of this page are left unticked.")
    unticked = tab.page.locator("input.compare-tick:not(:checked)").first
    unticked.click()  # a ninth by hand is refused too, and says why
    assert not unticked.is_checked() and len(_ticked(tab)) == 8
    assert "untick one to tick" in tab.page.inner_text("#compare-hint")
    assert len(_stored(tab)) == 8
    _store(tab, json.dumps([f"j{i:02d}" for i in range(12)]))  # more than 8 stored: the first 8
    tab.page.reload()
    assert sorted(_ticked(tab)) == [f"j{i:02d}" for i in range(8)]
    assert tab.errors == []
    tab.page.close()

    tab = Page(browser)  # sessionStorage throws on access (disabled, sandboxed): the catalog still works
    tab.page.add_init_script(STORAGE_THROWS)
    tab.open(page)
    boxes = tab.page.locator("#catalog-table input.compare-tick")
    boxes.nth(0).click()
    boxes.nth(1).click()
    assert tab.page.inner_text("#compare-link") == "Compare (2)" and len(_ticked(tab)) == 2
    tab.page.click("button[data-sort=id]")  # sorted: the ticks stay (the script holds them)
    assert len(_ticked(tab)) == 2
    tab.page.click("#compare-clear")
    assert _ticked(tab) == [] and tab.errors == []
    tab.page.close()
