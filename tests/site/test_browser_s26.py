"""Session 26's second look at the readers' review (helper V), in real Chromium over file://: jobs
that ended in the same second come in one order in the catalog's script, its <noscript> list and
runs.html (the build's natural order of ids, whatever the browser's language), and on a coarse
pointer the catalog's sort buttons and every check box are 24 px tap targets too."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.site.helpers import writable_copy
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
WIDE = {"width": 1280, "height": 800}
PHONE = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}
# copies of j1 (the same end time): case, punctuation, leading zeros, other scripts' digits, astral and private-use text
TIED = ["k2", "k10", "K3", "k1a", "k-1", "k_1", "k.1", "k007", "k7", "k\u0663", "k\uff11\uff12", "k\U0001d7d7",
        "k\ue000", "k\U0001f600"]
LISTED = re.compile(r'<tr class="row-link"><td><a href="[^"]+">([^<]+)</a>')


@pytest.fixture(scope="module")
def tied_site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s26-tied")
    store = writable_copy(example_store, root / "store")
    folder = store / "default_project"
    for name in TIED:
        shutil.copy2(folder / "j1.hdf5", folder / f"{name}.hdf5")
        shutil.copytree(folder / "j1", folder / name)
    build_site(store, root / "site", BuildOptions(show_progress=False))
    return root / "site"


def _open(browser, path: Path, hash_: str = "", **context) -> Page:  # noqa: F811
    tab = Page(browser.new_context(**(context or {"viewport": WIDE})))
    tab.open(path, hash_)
    return tab


def _shown_ids(tab: Page) -> list[str]:
    tab.page.wait_for_selector("#catalog-table tbody tr")
    return tab.page.eval_on_selector_all("#catalog-table tbody tr td:first-child a", "as => as.map(a => a.textContent)")


@pytest.mark.parametrize("locale", ["en-US", "sv-SE"])  # Swedish collation sorts "k" and "K3" otherwise
def test_tied_jobs_come_in_the_order_of_the_plain_lists(browser, tied_site: Path, locale: str) -> None:  # noqa: F811
    folder = tied_site / "default_project"
    runs = LISTED.findall((folder / "runs.html").read_text(encoding="utf-8"))
    noscript = LISTED.findall((folder / "index.html").read_text(encoding="utf-8"))
    tab = _open(browser, folder / "index.html", viewport=WIDE, locale=locale)
    shown = _shown_ids(tab)
    assert len(shown) == len(runs) and shown == runs == noscript, (shown, runs)
    tied = [job for job in shown if job in TIED or job == "j1"]
    assert tied[:6] == ["j1", "k1a", "k2", "K3", "k\u0663", "k007"], tied  # numbers as numbers, whatever the script
    assert tab.errors == [], tab.errors
    tab.page.context.close()


def test_the_end_sort_reversed_keeps_ties_in_natural_order(browser, tied_site: Path) -> None:  # noqa: F811
    tab = _open(browser, tied_site / "default_project" / "index.html", "#sort=end&dir=asc")
    shown = _shown_ids(tab)
    tied = [job for job in shown if job in TIED or job == "j1"]
    runs = LISTED.findall((tied_site / "default_project" / "runs.html").read_text(encoding="utf-8"))
    assert tied == [job for job in runs if job in TIED or job == "j1"]  # the ties' order is not reversed
    tab.page.context.close()


SMALL = """(sel) => [...document.querySelectorAll(sel)].filter(e => e.getClientRects().length).map(e => {
    const r = e.getBoundingClientRect(); return [e.tagName + '.' + e.className, Math.round(r.width), Math.round(r.height)]; })
    .filter(t => t[1] < 24 || t[2] < 24)"""


def test_sort_buttons_and_check_boxes_are_24_px_on_a_coarse_pointer(browser, tied_site: Path) -> None:  # noqa: F811
    catalog = tied_site / "default_project" / "index.html"
    tab = _open(browser, catalog, **PHONE)
    tab.page.wait_for_selector("#catalog-table thead th button")
    tab.page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")  # the Columns chooser
    assert tab.page.locator("#catalog-table thead th button").count() > 3
    assert tab.page.locator("input[type=checkbox]:not(.compare-tick)").count() > 3
    assert tab.page.evaluate(SMALL, "#catalog-table thead th button, input[type=checkbox]") == []
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= 375
    tab.page.goto((tied_site / "default_project" / "j1.html").resolve().as_uri())
    log = tab.page.locator("details.log").first
    log.locator("summary").click()  # opening a log makes its filter box
    assert log.locator("input.log-filter-only").count() == 1
    assert tab.page.evaluate(SMALL, "input[type=checkbox]") == []
    tab.page.context.close()
    # with a mouse the compact look stays
    tab = _open(browser, catalog)
    tab.page.wait_for_selector("#catalog-table thead th button")
    tab.page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    sizes = tab.page.evaluate("""() => [document.querySelector('#catalog-table thead th button').getBoundingClientRect().height,
        document.querySelector('input[type=checkbox]:not(.compare-tick)').getBoundingClientRect().width]""")
    assert sizes[0] < 24 and sizes[1] < 20, sizes
    tab.page.context.close()
