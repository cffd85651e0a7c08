"""The built sites in headless Chromium over file://: no console error, no CSP violation,
every figure draws, the catalog sorts/filters/searches with its state in the URL hash, and
the XSS payloads of the edge-case data stay inert."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, build_site

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
WATCH_CSP = """document.addEventListener('securitypolicyviolation',
  e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"""
ALLOWED_SCRIPTS = re.compile(r"^(\.\./)*(assets/(plotly\.min|render|theme|keys|catalog|compare|logs|trends|nodetable|search|times)\.js|catalog-data\.js\?v=[0-9a-f]{8})$")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp("browser")
    write_example(root / "data_store", seed=0, jobs_per_project=4)
    build_site(root / "data_store", root / "site", BuildOptions(show_progress=False))
    return root / "site"


@pytest.fixture(scope="module")
def edge_site(edge_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("edge-site") / "site"
    build_site(edge_store, site, BuildOptions(show_progress=False))
    return site


class Page:
    """A browser tab that records console errors, page errors and dialogs."""

    def __init__(self, browser) -> None:
        self.page = browser.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.add_init_script(WATCH_CSP)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: Path, hash_: str = "") -> None:
        self.page.goto(path.resolve().as_uri() + hash_)
        self.page.wait_for_load_state("load")

    def assert_figures_drawn(self) -> None:
        """Every figure draws once it is scrolled to (they are drawn as they near the screen)."""
        boxes = self.page.locator("div.figure")
        for i in range(boxes.count()):
            boxes.nth(i).scroll_into_view_if_needed()
            boxes.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=5000)


def _catalog_ids(tab: Page) -> list[str]:
    return tab.page.locator("#catalog-table tbody tr td:first-child").all_inner_texts()


def test_pages_load_without_errors_and_figures_draw(browser, small_site: Path) -> None:
    tab = Page(browser)
    tab.open(small_site / "index.html")
    project = tab.page.locator("#projects a").first.get_attribute("href")
    tab.open(small_site / project)
    assert len(_catalog_ids(tab)) >= 4
    job_pages = sorted(p for p in (small_site / project).parent.glob("*.html")
                       if p.name not in ("index.html", "compare.html") and "~" not in p.name)
    for job in job_pages[:2]:
        tab.open(job)
        assert tab.page.locator("div.figure").count() > 0
        tab.assert_figures_drawn()
    tab.page.click("text=Parameters diff against")  # the diff page sits next to the job page
    assert tab.page.url.endswith("~params-diff.html") and tab.page.locator("h1").inner_text().startswith("Parameters of")
    tab.page.locator(".crumbs a").nth(2).click()  # and links back to it
    assert tab.page.url == job_pages[1].resolve().as_uri()
    tab.page.click("#theme-toggle")  # plotly relayout on theme switch must not error
    assert tab.errors == [] and tab.dialogs == []


def test_downloads_in_the_page_and_in_files_save_the_dataset(browser, small_site: Path) -> None:
    """Small downloads are data: URIs in the page, larger ones files; both save the exact values."""
    import h5py
    import numpy as np

    store = small_site.parent / "data_store"
    tab = Page(browser)
    seen = set()
    for job in sorted(small_site.glob("*/j*.html")):
        if "~" in job.name:
            continue
        tab.open(job)
        for link in tab.page.locator("a.download").all():
            href, name = link.get_attribute("href"), link.get_attribute("download")
            kind = ("inline" if href.startswith("data:") else "file", name.rsplit(".", 1)[1])
            if kind in seen:
                continue
            with tab.page.expect_download() as info:
                link.click()
            body = Path(info.value.path()).read_bytes()
            # saved under its download name (session 22: <project>_<job>_<node>_<output>); from file://
            # Chromium ignores the attribute on a link to another file and keeps the file's own name
            # (over http it applies: tests/site/test_browser_jobpage_s22.py)
            assert info.value.suggested_filename == (name if kind[0] == "inline" else Path(href).name)
            if kind[0] == "file":
                assert body == (job.parent / href).read_bytes()
            if kind[1] == "ipynb":  # the job's notebook (tests/site/test_notebook.py runs it)
                # saved as <project>_<job>.ipynb (session 22); the example's names need no change
                assert json.loads(body)["nbformat"] == 4 and name == f"{job.parent.name}_{job.stem}.ipynb"
            elif kind[1] == "npy":  # the values the output's own h5py snippet opens
                snippet = link.locator("xpath=ancestor::section[1]").locator("textarea.copy-source").input_value()
                file, dataset = re.search(r"h5py.File\('([^']+)', \"r\"\)\['([^']+)'\]\[\(\)\]$", snippet).groups()
                with h5py.File(store / file, "r") as f:
                    expected = f[dataset][()]
                assert np.array_equal(np.load(io.BytesIO(body), allow_pickle=False), expected)
            else:
                assert body.decode("utf-8").startswith("set,time")
            seen.add(kind)
        if len(seen) == 5:
            break
    assert seen == {("inline", "npy"), ("inline", "csv"), ("file", "npy"), ("file", "csv"), ("inline", "ipynb")}
    assert tab.errors == []


def test_catalog_sorts_filters_searches_and_keeps_state_in_the_hash(browser, small_site: Path) -> None:
    tab = Page(browser)
    catalog = small_site / "default_project" / "index.html"
    tab.open(catalog)
    tab.page.click("button[data-sort=id]")
    ascending = _catalog_ids(tab)
    assert ascending == sorted(ascending)
    tab.page.click("button[data-sort=id]")
    assert _catalog_ids(tab) == sorted(ascending, reverse=True)
    tab.page.select_option("#catalog-status", "ok")
    statuses = tab.page.locator("#catalog-table tbody .status").all_inner_texts()
    assert statuses and set(statuses) == {"ok"}
    tab.page.keyboard.press("/")
    assert tab.page.evaluate("document.activeElement.id") == "catalog-search"
    tab.page.fill("#catalog-search", ascending[0])
    for _ in range(50):  # wait_for_function would need 'unsafe-eval', which the CSP forbids
        if "q=" in tab.page.evaluate("location.hash"):
            break
        tab.page.wait_for_timeout(50)
    hash_ = tab.page.evaluate("location.hash")
    view = _catalog_ids(tab)
    assert view and all(ascending[0] in job for job in view)
    tab.open(catalog, hash_)  # a shared link restores the view
    assert _catalog_ids(tab) == view
    assert tab.page.input_value("#catalog-search") == ascending[0]
    assert tab.page.input_value("#catalog-status") == "ok"
    assert tab.errors == []


class _Inert(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.bad: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.bad.append(f"{tag} {name}")
            if name in ("href", "src", "action") and value and re.match(r"\s*(javascript|vbscript):", value, re.I):
                self.bad.append(f"{tag} {name}={value}")
        if tag == "script" and values.get("type") != "application/json":
            if not ALLOWED_SCRIPTS.match(values.get("src") or ""):
                self.bad.append(f"script {values}")


def test_xss_payloads_stay_inert(browser, edge_site: Path) -> None:
    pages = sorted(edge_site.rglob("*.html"))
    for path in pages:
        parser = _Inert()
        parser.feed(path.read_text(encoding="utf-8"))
        assert parser.bad == [], path
    tab = Page(browser)
    hostile = [p for p in pages if "alert(" in p.read_text(encoding="utf-8")]
    assert hostile, "the edge-case data should carry the XSS payloads"
    for path in [edge_site / "index.html", *hostile]:
        tab.open(path)
        for summary in tab.page.locator("summary").all()[:40]:
            summary.click()
        tab.page.mouse.move(200, 300)
    catalog = next(p for p in pages if p.name == "index.html" and p.parent.name == "edge_cases")
    tab.open(catalog, "#q=%3Cscript")
    tab.page.locator("#catalog-table tbody tr").first.hover()
    assert tab.dialogs == []
    assert [e for e in tab.errors if "CSP" in e] == []
    assert tab.errors == []


def test_catalog_of_10000_rows_stays_responsive(browser, tmp_path: Path) -> None:
    from reportgen.site.contexts import CatalogRow
    from tests.site.helpers import write_catalog_page

    rows = [CatalogRow(f"j{i}", f"j{i}.html", f"scan {i % 97}", f"2024-01-{1 + i % 28:02d} 00:00:{i % 60:02d}", "",
                       "ok" if i % 7 else "failed-nodes", 6, 5, "abc1234 workflow", "def5678 params", i % 3)
             for i in range(10_000)]
    tab = Page(browser)
    tab.open(write_catalog_page(tmp_path, rows))
    assert tab.page.locator("#catalog-table tbody tr").count() == 50  # only the current page is in the DOM
    elapsed = tab.page.evaluate("""() => { const t = performance.now();
        document.querySelector('button[data-sort=description]').click(); return performance.now() - t; }""")
    assert elapsed < 1000, f"sorting 10,000 rows took {elapsed:.0f} ms"
    assert tab.errors == []


def test_phone_width_keyboard_focus_and_dark_print(browser, small_site: Path) -> None:
    """At 360 px the page keeps its width (a wide table scrolls on its own); a focused sort button
    shows its outline; printing in the dark theme gives dark text on white."""
    tab = Page(browser)
    tab.page.set_viewport_size({"width": 360, "height": 740})
    for page in (small_site / "index.html", small_site / "default_project" / "index.html"):
        tab.open(page)
        assert tab.page.evaluate("document.documentElement.scrollWidth") <= 360, page
    tab.page.keyboard.press("Tab")
    for _ in range(40):  # tab to the first sort button
        if tab.page.evaluate("document.activeElement.matches('.grid th button')"):
            break
        tab.page.keyboard.press("Tab")
    assert tab.page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    tab.page.evaluate("document.documentElement.dataset.theme = 'dark'")
    tab.page.emulate_media(media="print")
    colours = tab.page.evaluate("[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]")
    assert colours == ["rgb(255, 255, 255)", "rgb(0, 0, 0)"]
    assert tab.errors == []


def test_search_matches_what_the_table_shows_not_the_page_links(browser, small_site: Path) -> None:
    tab = Page(browser)
    tab.open(small_site / "default_project" / "index.html", "#q=.html")
    assert _catalog_ids(tab) == []  # every row's hidden link ends in .html; no shown cell does
    assert tab.errors == []


def test_log_line_numbers_link_to_their_line_and_a_linked_line_opens_its_log(browser, small_site: Path) -> None:
    """A line number is a link a user copies (as in a CI log viewer); opening that link opens the
    folded log, scrolls to the line and marks it."""
    job = next(p for p in sorted(small_site.glob("*/j*.html")) if "~" not in p.name)
    tab = Page(browser)
    tab.open(job)
    first_log = tab.page.locator("details.log").first
    assert first_log.evaluate("d => d.open") is False
    for _ in range(3):  # scrolled to, the log brings figures above it near the screen: a stacked one drawn
        first_log.locator("summary").click()  # then adds its step bar, which can move the summary from under the click
        if first_log.evaluate("d => d.open"):
            break
    assert first_log.evaluate("d => d.open") is True
    number = first_log.locator("a.lnum").nth(2)
    line_id = number.evaluate("a => a.parentElement.id")
    number.click()
    assert tab.page.url.endswith("#" + line_id)
    assert tab.page.evaluate("id => getComputedStyle(document.getElementById(id)).outlineStyle", line_id) == "solid"

    fresh = Page(browser)
    fresh.open(job, "#" + line_id)
    # open and in view within a few seconds, not at one instant: on a loaded machine the page's
    # scripts may still be revealing it when the load event has fired. A figure drawn above it as it
    # nears the screen may move it by a fraction of a pixel (Chromium's scroll anchoring keeps it
    # in place to within that)
    fresh.page.wait_for_function(
        "id => { const d = document.querySelector('details.log'), r = document.getElementById(id).getBoundingClientRect();"
        " return d.open && r.top >= -1 && r.bottom <= window.innerHeight + 1; }", arg=line_id, timeout=5000)
    fresh.open(job, "#%E0%A4%A")  # a mistyped link: no error, nothing opened
    assert tab.errors == [] and fresh.errors == []
