"""Session 22's UX review, catalog side, in real Chromium over file://: no page scrolls sideways
(a wide table scrolls in its own box, the job id column stays in view, commit cells are one line),
the header's one-word controls never split at 360 px (with and without a lab's templates), the
catalog's search box links to the site's search, compare opens the log of the node whose health
differs and marks its error lines, the catalog prints landscape with every column, and the trends
legend keeps off the x axis title.

The example data_store (6 jobs a project: default_project's j5 failed with a traceback in
correction_1, j1 is ok), built with examples/catalog.toml, once plain and once with
examples/theme.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WIDE, PHONE = {"width": 1280, "height": 800}, {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def sites(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("catalog-s22")
    config = EXAMPLES / "catalog.toml"
    build_site(example_store, root / "site", BuildOptions(show_progress=False, config_file=config))
    build_site(example_store, root / "theme", BuildOptions(show_progress=False, config_file=config,
                                                           templates=EXAMPLES / "theme"))
    return {"plain": root / "site", "theme": root / "theme"}


def _pages(site: Path) -> dict[str, tuple[Path, str]]:
    project = site / "default_project"
    return {"home": (site / "index.html", ""), "catalog": (project / "index.html", ""),
            "job": (project / "j5.html", ""), "compare": (project / "compare.html", "#jobs=j1,j5"),
            "trends": (project / "trends.html", ""), "search": (site / "search.html", "#q=LinAlgError")}


def _tab(browser, viewport: dict) -> Page:  # noqa: F811
    tab = Page(browser)
    tab.page.set_viewport_size(viewport)
    return tab


def test_no_page_scrolls_sideways_and_the_wide_catalog_scrolls_in_its_box(browser, sites) -> None:  # noqa: F811
    for viewport in (WIDE, PHONE):
        tab = _tab(browser, viewport)
        for name, (path, hash_) in _pages(sites["plain"]).items():
            tab.open(path, hash_)
            tab.page.wait_for_timeout(150)
            width = tab.page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
            assert width[0] <= width[1], (name, viewport, width)
        assert tab.errors == []
        tab.page.close()
    tab = _tab(browser, WIDE)
    tab.open(sites["plain"] / "default_project" / "index.html")
    box = tab.page.locator("#catalog .table-scroll")
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")  # the configured columns are wider than 1280 px
    heads = tab.page.locator("#catalog-table thead th")
    assert heads.last.inner_text().startswith("Instrument")
    box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
    tab.page.wait_for_timeout(50)
    left = box.evaluate("b => b.getBoundingClientRect().left")
    first = tab.page.locator("#catalog-table tbody tr").first.locator("td").first
    assert abs(first.evaluate("td => td.getBoundingClientRect().left") - left) < 2  # the job id stays in view
    assert heads.last.evaluate("th => th.getBoundingClientRect().right") <= box.evaluate("b => b.getBoundingClientRect().right") + 1
    commit = tab.page.locator("#catalog-table td.commit").first
    line = commit.locator(".one-line")
    assert commit.get_attribute("title") == line.text_content() and re.match(r"[0-9a-f]{7} \S", line.text_content())
    height = line.evaluate("e => [e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).lineHeight)]")
    assert height[0] <= height[1] * 1.2  # one line
    rows = tab.page.evaluate("[...document.querySelectorAll('#catalog-table tbody tr')].map(r => r.getBoundingClientRect().height)")
    assert max(rows) <= 60  # one or two lines a row: a four-line row was 98 px
    tab.page.close()


JS_LINES = """e => { const r = document.createRange(); r.selectNodeContents(e);
  return new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top))).size; }"""


@pytest.mark.parametrize("kind", ["plain", "theme"])
def test_header_controls_are_never_split_at_360_px(browser, sites, kind: str) -> None:  # noqa: F811
    tab = _tab(browser, PHONE)
    for name, (path, hash_) in _pages(sites[kind]).items():
        tab.open(path, hash_)
        for selector in (".top .search-link", "#theme-toggle"):
            assert tab.page.locator(selector).evaluate(JS_LINES) == 1, (kind, name, selector)
        assert tab.page.evaluate("document.querySelector('.top').scrollWidth <= innerWidth"), (kind, name)
    assert tab.errors == []
    tab.page.close()


def test_the_catalog_search_links_to_the_site_search_of_logs_and_parameters(browser, sites) -> None:  # noqa: F811
    tab = _tab(browser, WIDE)
    tab.open(sites["plain"] / "default_project" / "index.html", "#q=Traceback")  # s23: LinAlgError is a catalog column now
    assert tab.page.locator("#catalog-table tbody tr").count() == 0
    assert "any field" not in tab.page.get_attribute("#catalog-search", "placeholder")
    empty = tab.page.locator("#catalog p.empty a")
    assert empty.count() == 1 and "Traceback" in empty.inner_text()
    assert empty.get_attribute("href") == "../search.html#q=Traceback&project=default_project"
    under = tab.page.locator("#catalog-search-more a")
    assert under.is_visible() and under.get_attribute("href") == empty.get_attribute("href")
    empty.click()
    tab.page.wait_for_selector("#search-results[data-pending='0'] .search-result")
    assert tab.page.input_value("#search-q") == "Traceback"
    assert tab.page.input_value("#search-project") == "default_project"
    assert "j5" in tab.page.locator("#search-results .search-job").all_inner_texts()
    tab.page.go_back()
    tab.page.fill("#catalog-search", "")
    tab.page.wait_for_timeout(300)
    assert tab.page.locator("#catalog-search-more").is_hidden()  # nothing typed, no link
    assert tab.errors == []
    tab.page.close()


def test_compare_opens_the_node_whose_log_differs_and_marks_its_errors(browser, sites) -> None:  # noqa: F811
    tab = _tab(browser, WIDE)
    tab.open(sites["plain"] / "default_project" / "compare.html", "#jobs=j1,j5")
    tab.page.wait_for_selector("body[data-compare='ready']")
    first = tab.page.evaluate("document.querySelector('#compare-log-node option').value")
    assert first != "correction_1"  # so opening on it is a choice, not the first node
    assert tab.page.input_value("#compare-log-node") == "correction_1"
    start = tab.page.locator("#compare-log-table td.ln-traceback", has_text="Traceback (most recent call last):")
    assert start.count() == 1 and start.locator(".ln-mark").inner_text() == "\u2716"
    error = tab.page.locator("#compare-log-table td.ln-error", has_text="LinAlgError")
    assert error.count() >= 1 and error.first.locator(".ln-mark").inner_text() == "\u2716"
    widths = tab.page.evaluate("[...document.querySelectorAll('#compare-log-table thead th')].map(t => t.getBoundingClientRect().width)")
    assert abs(widths[2] - widths[4]) < 2, widths  # the two sides are equal halves
    tab.page.select_option("#compare-log-node", "QPU")
    tab.page.evaluate("location.hash = '#jobs=j5,j1'")
    tab.page.wait_for_timeout(300)
    assert tab.page.input_value("#compare-log-node") == "QPU"  # the reader's choice is kept
    tab.page.set_viewport_size(PHONE)
    tab.page.wait_for_timeout(200)
    split = tab.page.evaluate("""() => { const c = document.createElement('canvas').getContext('2d'); const bad = [];
      for (const td of document.querySelectorAll('#compare-table td')) { if (!td.getClientRects().length) continue;
        const cs = getComputedStyle(td); c.font = cs.font;
        const w = td.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
        for (const word of td.innerText.split(/[\\s]+/)) if (word && c.measureText(word).width > w + 1) bad.push(word); }
      return bad; }""")
    # a word is never split ("Quick sani|ty run", "202|2-|06-|20"); a token longer than a phone's
    # column (a 40-digit hash, an ISO time with microseconds and zone) wraps, as it must
    assert [word for word in split if len(word) <= 20] == [], split
    widths = tab.page.evaluate("[...document.querySelectorAll('#compare-table tr.differs td')].map(t => t.getBoundingClientRect().width)")
    assert min(widths) >= 9 * 16 - 1  # a job column is at least 9rem
    box = tab.page.evaluate("document.querySelector('#compare-table-box .table-scroll').clientWidth")
    key = tab.page.evaluate("document.querySelector('#compare-table tr.differs th').getBoundingClientRect().width")
    assert key + min(widths) <= box  # the sticky field name and one job's value fit side by side
    assert tab.page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    assert tab.errors == []
    tab.page.close()


def _media_box(pdf: bytes) -> tuple[float, float]:
    match = re.search(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]", pdf)
    assert match, "no MediaBox"
    return float(match.group(1)), float(match.group(2))


def test_the_catalog_prints_landscape_with_every_column_and_job_pages_portrait(browser, sites) -> None:  # noqa: F811
    tab = _tab(browser, WIDE)
    project = sites["plain"] / "default_project"
    tab.open(project / "index.html")
    width, height = _media_box(tab.page.pdf(format="A4", prefer_css_page_size=True))
    assert width > height  # A4 landscape
    tab.page.set_viewport_size({"width": 1047, "height": 740})  # 297 mm less the 10 mm margins, in CSS px
    tab.page.emulate_media(media="print")
    heads = tab.page.evaluate("[...document.querySelectorAll('#catalog-table thead th')].map(t => t.getBoundingClientRect().right)")
    assert len(heads) == 16 and max(heads) <= 1047  # with Duration (session 22, task L), First error (s23)
    assert tab.page.locator("#catalog-table .compare-tick").first.is_hidden()
    assert tab.page.evaluate("getComputedStyle(document.querySelector('#catalog-table th[aria-sort] button'), '::after').content") == "none"
    clamp = tab.page.locator("#catalog-table .clamp").first
    assert clamp.evaluate("e => e.getBoundingClientRect().height <= 2.2 * parseFloat(getComputedStyle(e).lineHeight)")
    tab.open(project / "j5.html")
    width, height = _media_box(tab.page.pdf(format="A4", prefer_css_page_size=True))
    assert width < height  # other pages print as before
    assert tab.errors == []
    tab.page.close()


def test_the_trends_legend_keeps_off_the_x_title(browser, sites) -> None:  # noqa: F811
    tab = _tab(browser, PHONE)
    trends = sites["plain"] / "default_project" / "trends.html"
    tab.open(trends)
    figure = tab.page.locator("#trends-summary-figure")
    figure.locator(".legend").wait_for(state="attached", timeout=5000)
    boxes = figure.evaluate("""f => [f.querySelector('.legend'), f.querySelector('.g-xtitle text')].map(e => {
        const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })""")
    legend, title = boxes
    assert not (legend[0] < title[2] and title[0] < legend[2] and legend[1] < title[3] and title[1] < legend[3]), boxes
    tab.page.set_viewport_size(WIDE)
    tab.open(trends)
    figure.locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    sizes = figure.evaluate("f => [f.getBoundingClientRect().height, f.querySelector('.main-svg').getBoundingClientRect().height]")
    assert sizes[0] <= sizes[1] + 2, sizes  # no blank band under the chart
    assert tab.errors == []
    tab.page.close()
