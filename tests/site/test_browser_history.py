"""The catalog's view in the browser history, and the "?" help of keys.js, in headless Chromium
over file://: Back undoes a sort, a filter, a page change or a search (one entry per search, not
one per key); Forward re-applies; loading adds no entry; "?" opens an accessible help dialog on
every page that loads keys.js, in light and dark, never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.site.test_browser import Page, browser, small_site  # noqa: F401  (its module-scoped fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
RECORD_START = "window.__historyAtStart = history.length;"  # runs before the page's own scripts


@pytest.fixture(scope="module")
def site(small_site: Path) -> Path:  # noqa: F811  (the example store of test_browser, 4 jobs a project)
    return small_site


@pytest.fixture
def catalog(site: Path) -> Path:
    return site / "default_project" / "index.html"


def _ids(tab: Page) -> list[str]:
    return tab.page.locator("#catalog-table tbody tr td:first-child").all_inner_texts()


def _view(tab: Page) -> tuple[str, list[str]]:
    return tab.page.evaluate("location.hash"), _ids(tab)


def _history(tab: Page) -> int:
    return tab.page.evaluate("history.length")


def _wait_for_hash(tab: Page, fragment: str, present: bool = True) -> None:
    for _ in range(60):  # wait_for_function would need 'unsafe-eval', which the CSP forbids
        if (fragment in tab.page.evaluate("location.hash")) == present:
            return
        tab.page.wait_for_timeout(50)
    pytest.fail(f"the hash never {'got' if present else 'lost'} {fragment!r}: {tab.page.evaluate('location.hash')}")


def _back(tab: Page) -> None:
    """history.back() rather than page.go_back(): a same-document step has no load to wait for."""
    before = tab.page.evaluate("location.hash")
    tab.page.evaluate("history.back()")
    _wait_for_change(tab, before)


def _forward(tab: Page) -> None:
    before = tab.page.evaluate("location.hash")
    tab.page.evaluate("history.forward()")
    _wait_for_change(tab, before)


def _wait_for_change(tab: Page, before: str) -> None:
    for _ in range(60):
        if tab.page.evaluate("location.hash") != before:
            tab.page.wait_for_timeout(50)  # popstate has run: the table is drawn in the same task
            return
        tab.page.wait_for_timeout(50)
    pytest.fail("history did not move")


def test_back_undoes_a_filter_and_forward_reapplies_it(browser, catalog: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(catalog)
    loaded = _view(tab)
    tab.page.click("button[data-sort=id]")
    sorted_only = _view(tab)
    assert "sort=id" in sorted_only[0] and sorted_only[1] == sorted(sorted_only[1])
    tab.page.select_option("#catalog-status", "ok")
    filtered = _view(tab)
    assert "status=ok" in filtered[0] and len(filtered[1]) < len(sorted_only[1])

    _back(tab)
    assert _view(tab) == sorted_only  # the rows of the sort-only view, not only its address
    assert tab.page.input_value("#catalog-status") == ""
    assert tab.page.get_attribute("th:has(button[data-sort=id])", "aria-sort") == "ascending"
    _forward(tab)
    assert _view(tab) == filtered
    assert tab.page.input_value("#catalog-status") == "ok"
    _back(tab)
    _back(tab)
    assert _view(tab) == loaded
    tab.page.select_option("#catalog-size", "100")  # the page size is an entry too
    _back(tab)
    assert tab.page.input_value("#catalog-size") == "50" and _view(tab) == loaded
    assert tab.errors == []


def test_a_typed_search_is_one_entry_and_back_clears_the_box(browser, catalog: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(catalog)
    before, start = _view(tab), _history(tab)
    tab.page.click("#catalog-search")
    tab.page.keyboard.type("ion_t", delay=170)  # slower than the 120 ms pause: every key redraws
    _wait_for_hash(tab, "q=ion_t")
    assert _history(tab) == start + 1
    tab.page.keyboard.press("Enter")  # ends this search: the next typing is a new entry
    tab.page.keyboard.press("Backspace")
    _wait_for_hash(tab, "q=ion_t", present=False)
    assert _history(tab) == start + 2
    _back(tab)
    assert tab.page.input_value("#catalog-search") == "ion_t"
    _back(tab)
    assert _view(tab) == before and tab.page.input_value("#catalog-search") == ""
    assert tab.errors == []


def test_an_edited_address_is_read_and_loading_adds_no_entry(browser, catalog: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.page.add_init_script(RECORD_START)
    tab.open(catalog, "#status=ok&sort=id&dir=desc")
    assert _history(tab) == tab.page.evaluate("window.__historyAtStart")
    ids = _ids(tab)
    assert ids == sorted(ids, reverse=True) and set(tab.page.locator("#catalog-table .status").all_inner_texts()) == {"ok"}
    assert tab.page.input_value("#catalog-status") == "ok"
    tab.page.evaluate("location.hash = '#sort=id&dir=asc'")  # as if typed into the address bar
    _wait_for_hash(tab, "status=ok", present=False)
    tab.page.wait_for_timeout(50)
    assert _ids(tab) == sorted(_ids(tab)) and tab.page.input_value("#catalog-status") == ""
    tab.page.focus("a.skip")  # "#main" names a place in the page, not a view: the view stays
    tab.page.keyboard.press("Enter")
    _wait_for_hash(tab, "main")
    assert tab.page.evaluate("location.hash") == "#main" and tab.page.input_value("#catalog-status") == ""
    assert len(_ids(tab)) > len(ids)
    assert tab.errors == []


def test_question_mark_opens_the_help_and_escape_returns_focus(browser, catalog: Path, site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(catalog)
    tab.page.focus("button[data-sort=status]")
    tab.page.keyboard.press("?")
    help_ = tab.page.locator("dialog#keys-help")
    assert help_.evaluate("d => d.open && d.matches(':modal')")
    assert tab.page.get_attribute("#keys-help", "aria-labelledby") == "keys-help-title"
    assert tab.page.locator("#keys-help dt kbd").all_inner_texts() == ["/", "j", "k", "Enter", "x", "c", "?", "Esc"]  # s23: c opens Compare
    assert tab.page.evaluate("document.activeElement.textContent") == "Close"
    tab.page.keyboard.press("j")  # the page behind is inert: no row becomes current
    assert tab.page.locator("tr.current").count() == 0
    tab.page.keyboard.press("Escape")
    assert not help_.evaluate("d => d.open")
    assert tab.page.evaluate("document.activeElement.getAttribute('data-sort')") == "status"
    before = _history(tab)
    tab.page.keyboard.press("?")
    tab.page.click("#keys-help button")  # the close button closes it too
    assert not help_.evaluate("d => d.open") and _history(tab) == before

    tab.page.click("#catalog-search")  # typed into the search box, "?" is a character
    tab.page.keyboard.type("?")
    assert tab.page.input_value("#catalog-search") == "?" and not help_.evaluate("d => d.open")
    assert tab.errors == []


def test_help_works_on_job_and_diff_pages_in_both_themes_and_never_prints(browser, site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    job = next(p for p in sorted(site.glob("*/j*.html")) if "~" not in p.name)
    tab.open(job)
    tab.page.keyboard.press("?")
    assert tab.page.locator("#keys-help").evaluate("d => d.open")
    assert tab.page.locator("#keys-help dt kbd").all_inner_texts() == ["?", "Esc"]  # no search, no rows here
    colours = "d => [getComputedStyle(d).backgroundColor, getComputedStyle(d).color]"
    light = tab.page.locator("#keys-help").evaluate(colours)
    tab.page.evaluate("document.documentElement.dataset.theme = 'dark'")
    dark = tab.page.locator("#keys-help").evaluate(colours)
    assert light == ["rgb(255, 255, 255)", "rgb(27, 31, 36)"] and dark == ["rgb(13, 17, 23)", "rgb(230, 237, 243)"]
    tab.page.emulate_media(media="print")
    assert tab.page.locator("#keys-help").evaluate("d => getComputedStyle(d).display") == "none"
    tab.page.emulate_media(media="screen")
    tab.page.keyboard.press("Escape")
    diff = next(site.glob("*/*~params-diff.html"))
    tab.open(diff)
    tab.page.keyboard.press("?")
    assert tab.page.locator("#keys-help").evaluate("d => d.open")
    assert tab.errors == []


def test_back_undoes_a_page_change(browser, tmp_path: Path) -> None:  # noqa: F811
    from reportgen.site.contexts import CatalogRow
    from tests.site.helpers import write_catalog_page

    rows = [CatalogRow(f"j{i:03d}", f"j{i:03d}.html", "", f"2024-01-01 00:{i // 60:02d}:{i % 60:02d}", "", "ok",
                       1, 1, "", "", 0) for i in range(120)]
    tab = Page(browser)
    tab.open(write_catalog_page(tmp_path, rows))
    first = _view(tab)
    tab.page.click("text=next \u203a")
    assert "page=2" in tab.page.evaluate("location.hash") and _ids(tab)[0] == "j069"  # newest first
    _back(tab)
    assert _view(tab) == first and tab.page.inner_text("#catalog-info").startswith("page 1 of 3")
    assert tab.errors == []


@pytest.mark.parametrize("name", ["constructor", "__proto__", "href", "toString", "nope"])
def test_a_sort_that_is_no_shown_column_means_the_default(browser, catalog: Path, name: str) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(catalog, f"#sort={name}&dir=asc")
    assert tab.page.evaluate("location.hash") == "#sort=end&dir=asc"  # spelled out as the default column
    assert tab.page.get_attribute("th:has(button[data-sort=end])", "aria-sort") == "ascending"
    assert tab.page.locator("th[aria-sort]").count() == 1
    tab.open(catalog, f"#sort={name}")
    assert tab.page.evaluate("location.hash") == "#sort=end&dir=desc"
    assert tab.page.get_attribute("th:has(button[data-sort=end])", "aria-sort") == "descending"
    ends = tab.page.locator("#catalog-table tbody tr td:nth-child(3)").all_inner_texts()
    assert ends == sorted(ends, reverse=True) and len(ends) > 1
    assert tab.errors == []


def _press(tab: Page, **modifiers: bool) -> bool:
    """A synthetic "?" keydown on the page with these modifiers; True if the help is open after it."""
    tab.page.evaluate("m => document.body.dispatchEvent(new KeyboardEvent('keydown', "
                      "Object.assign({key: '?', bubbles: true, cancelable: true}, m)))", modifiers)
    return tab.page.evaluate("!!document.getElementById('keys-help') && document.getElementById('keys-help').open")


def test_question_mark_typed_with_altgr_opens_the_help(browser, catalog: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(catalog)
    assert not _press(tab, ctrlKey=True)  # Ctrl+? alone, Alt+? alone, Meta: a browser or OS shortcut
    assert not _press(tab, altKey=True)
    assert not _press(tab, ctrlKey=True, altKey=True, metaKey=True)
    assert _press(tab, ctrlKey=True, altKey=True)  # AltGr on Windows (AltGr+W on Brazilian ABNT2)
    assert tab.errors == []


def _focused(tab: Page) -> str:
    return tab.page.evaluate("(e => e.tagName + ':' + (e.getAttribute('data-sort') || e.getAttribute('data-pager') || ''))"
                             "(document.activeElement)")


def test_focus_stays_on_the_sort_or_pager_button_after_the_redraw(browser, tmp_path: Path) -> None:  # noqa: F811
    """Each change redraws the table and the pager; a keyboard user keeps their place."""
    from reportgen.site.contexts import CatalogRow
    from tests.site.helpers import write_catalog_page

    rows = [CatalogRow(f"j{i:03d}", f"j{i:03d}.html", "", f"2024-01-01 00:{i // 60:02d}:{i % 60:02d}", "", "ok",
                       1, 1, "", "", 0) for i in range(120)]
    tab = Page(browser)
    tab.open(write_catalog_page(tmp_path, rows))
    tab.page.focus("button[data-sort=id]")
    tab.page.keyboard.press("Enter")
    assert "sort=id" in tab.page.evaluate("location.hash") and _focused(tab) == "BUTTON:id"
    tab.page.keyboard.press("Enter")  # again: the same column, now descending
    assert "dir=desc" in tab.page.evaluate("location.hash") and _focused(tab) == "BUTTON:id"
    tab.page.focus("button[data-pager=next]")
    tab.page.keyboard.press("Enter")
    assert "page=2" in tab.page.evaluate("location.hash") and _focused(tab) == "BUTTON:next"
    tab.page.keyboard.press("Enter")  # to the last page: "next" is disabled there
    assert "page=3" in tab.page.evaluate("location.hash") and _focused(tab) == "BUTTON:first"
    assert tab.errors == []


def test_figures_are_drawn_as_they_near_the_screen_and_all_before_printing(browser, tmp_path: Path) -> None:  # noqa: F811
    """Each figure costs ~15 ms: a job of hundreds of outputs kept its page busy for seconds at load."""
    from reportgen.site.build import BuildOptions, build_site
    from tests.readers.builders import Node, Out, simple_job

    outputs = [Out(f"trace_{i:02d}", [float(i), float(i + 1)]) for i in range(40)]
    simple_job(tmp_path / "store", "p", "job1", [Node("QPU", outputs)])
    build_site(tmp_path / "store", tmp_path / "site", BuildOptions(show_progress=False))
    page = next((tmp_path / "site").glob("*/job1*.html"))
    tab = Page(browser)
    tab.open(page)
    drawn = "Array.prototype.filter.call(document.querySelectorAll('div.figure'), b => b.querySelector('.main-svg')).length"
    total = tab.page.locator("div.figure").count()
    assert total == 40
    tab.page.wait_for_timeout(300)
    assert tab.page.evaluate(drawn) < total
    tab.page.locator("div.figure").first.scroll_into_view_if_needed()
    tab.page.locator("div.figure").first.locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    assert 0 < tab.page.evaluate(drawn) < total  # the ones on and near the screen
    tab.page.locator("div.figure").nth(total - 1).scroll_into_view_if_needed()
    tab.page.locator("div.figure").nth(total - 1).locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    tab.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert tab.page.evaluate(drawn) == total
    assert tab.errors == []
