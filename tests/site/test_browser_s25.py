"""Session 25's review of the site's readers (review U), in real Chromium over file://: no
"Share chart..." nor useless mode bar buttons, and no focusable control inside role=img (findings
01, 09); figures printed at the paper's width and back after (02); on a touch screen a swipe over a
figure scrolls the page, zoom stays in the mode bar, and the bar leaves the title readable (03, 11);
the catalog's count is a live region (04); compare figures offer their values as a table (05);
without JavaScript a figure says what it needs, the catalog lists its jobs and hides the controls
that need scripts (06, 07); Copy keeps the focus and says "Copied" (08); tap targets of 24 px on a
coarse pointer (10); no empty header in compare's log table (12); a log's line numbers are not Tab
stops and "Skip past this log" passes it (13).

The example data_store (6 jobs a project), built once with examples/catalog.toml.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.site.test_browser import CHROMIUM, Page, browser  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WIDE = {"width": 1280, "height": 800}
PHONE = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}
USELESS = ["sendDataToCloud", "select2d", "lasso2d", "toggleSpikelines", "hoverClosestCartesian", "hoverCompareCartesian"]


@pytest.fixture(scope="module")
def site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s25-browser")
    build_site(example_store, root / "site", BuildOptions(show_progress=False, config_file=EXAMPLES / "catalog.toml"))
    return root / "site"


def _job_with_figures(site: Path) -> Path:
    """A job page with a heatmap (a colour bar to cut) and a line figure, and an error log."""
    return site / "default_project" / "j5.html"


def _compare(site: Path) -> str:
    return "#jobs=j1,j5"


def _wait(tab: Page, expression: str, timeout_ms: int = 10000) -> None:
    """Poll ``expression`` until true: wait_for_function would need 'unsafe-eval', which the CSP forbids."""
    for _ in range(timeout_ms // 50):
        if tab.page.evaluate(expression):
            return
        tab.page.wait_for_timeout(50)
    raise AssertionError(f"never true: {expression}")


def _draw_all(tab: Page) -> None:
    boxes = tab.page.locator("div.figure")
    for i in range(boxes.count()):
        boxes.nth(i).scroll_into_view_if_needed()
        boxes.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    tab.page.evaluate("window.scrollTo(0, 0)")


def _open(browser, path: Path, hash_: str = "", **context) -> Page:  # noqa: F811
    tab = Page(browser.new_context(**(context or {"viewport": WIDE})))
    tab.open(path, hash_)
    return tab


def _pages(site: Path) -> list[tuple[Path, str]]:
    return [(_job_with_figures(site), ""), (site / "default_project" / "compare.html", _compare(site)),
            (site / "default_project" / "trends.html", "")]


def test_figures_have_no_share_button_and_no_control_inside_an_image(browser, site: Path) -> None:  # noqa: F811
    for path, hash_ in _pages(site):
        tab = _open(browser, path, hash_)
        _wait(tab, "document.querySelectorAll('div.figure').length > 0")
        _draw_all(tab)
        buttons = tab.page.eval_on_selector_all(".modebar-btn", "bs => bs.map(b => b.getAttribute('data-attr') === 'zoom' ? "
                                                "'zoom' + b.getAttribute('data-val') : b.getAttribute('data-title'))")
        assert buttons, path
        assert not any(name in (b or "") for b in buttons for name in ("Share", "Select", "Lasso", "spike", "hover")), buttons
        assert tab.page.eval_on_selector_all(".modebar-btn", "bs => bs.filter(b => /sendChartToCloud|select|lasso/i"
                                             ".test(b.getAttribute('data-attr') + b.getAttribute('data-val'))).length") == 0
        nested = tab.page.evaluate("""() => [...document.querySelectorAll('[role=img]')].filter(img =>
            [...img.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')].some(e => e.tabIndex >= 0)).length""")
        assert nested == 0, path
        # the drawing is the image, named as its box; the box (with the mode bar) is a group or, on trends, an application
        named = tab.page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].map(box => {
            const svg = box.querySelector('svg.main-svg');
            return [box.getAttribute('role'), svg.getAttribute('role'), svg.getAttribute('aria-label') === box.getAttribute('aria-label').split(';')[0]
              || box.getAttribute('aria-label').startsWith(svg.getAttribute('aria-label'))]; })""")
        assert all(role in ("group", "application") and svg == "img" and same for role, svg, same in named), named
        assert tab.errors == [], tab.errors
        tab.page.context.close()


def test_printing_draws_every_figure_at_the_papers_width_and_back_after(browser, site: Path) -> None:  # noqa: F811
    for path, hash_ in _pages(site):
        tab = _open(browser, path, hash_)
        _wait(tab, "document.querySelectorAll('div.figure').length > 0")
        tab.page.wait_for_timeout(500)  # the figures near the top are drawn; the others wait to be scrolled to
        wide = tab.page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(b => b._fullLayout.width)")
        assert all(width > 700 for width in wide), wide  # drawn at the window's width
        tab.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        printed = tab.page.evaluate("""() => [...document.querySelectorAll('div.figure')].map(b =>
            b._fullLayout ? Math.max(b._fullLayout.width, ...[...b.querySelectorAll('svg.main-svg')].map(s => s.getBoundingClientRect().width)) : -1)""")
        assert printed and all(0 < width <= 600 for width in printed), printed  # every figure drawn, none wider than the paper
        # on paper (Letter, 816 CSS px), nothing of a figure passes the page's right edge
        tab.page.set_viewport_size({"width": 816, "height": 1056})
        tab.page.emulate_media(media="print")
        right = tab.page.evaluate("() => Math.max(...[...document.querySelectorAll('svg.main-svg')].map(s => s.getBoundingClientRect().right))")
        assert right <= 816, right
        tab.page.emulate_media(media="screen")
        tab.page.set_viewport_size(WIDE)
        tab.page.evaluate("window.dispatchEvent(new Event('afterprint'))")
        tab.page.wait_for_timeout(300)
        after = tab.page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(b => [b._fullLayout.width, b.clientWidth])")
        assert len(after) == len(printed) and all(abs(width - box) < 1 and box > 700 for width, box in after), after  # the window's width again
        tab.page.pdf()  # the browser's own print: beforeprint and afterprint, no error
        assert tab.errors == [], tab.errors
        tab.page.context.close()


def _ranges(tab: Page) -> str:
    return tab.page.evaluate("() => { const f = document.querySelector('.js-plotly-plot'); "
                             "return JSON.stringify([f._fullLayout.xaxis.range, f._fullLayout.yaxis.range]); }")


def test_on_a_touch_screen_a_swipe_scrolls_the_page_and_the_mode_bar_zooms(browser, site: Path) -> None:  # noqa: F811
    tab = _open(browser, _job_with_figures(site), **PHONE)
    first = tab.page.locator("div.figure").first
    first.scroll_into_view_if_needed()
    first.locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    assert tab.page.evaluate("document.querySelector('.js-plotly-plot')._fullLayout.dragmode") is False
    cdp = tab.page.context.new_cdp_session(tab.page)
    before, top = _ranges(tab), tab.page.evaluate("window.scrollY")
    x, y = tab.page.evaluate("() => { const r = document.querySelector('.js-plotly-plot .nsewdrag').getBoundingClientRect();"
                             " return [r.x + r.width / 2, r.y + r.height * 0.7]; }")
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 11):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y - 16 * step}]})
        tab.page.wait_for_timeout(16)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    tab.page.wait_for_timeout(600)
    assert tab.page.evaluate("window.scrollY") > top + 50 and _ranges(tab) == before  # the page moved, the axes did not
    # zoom stays a tap away: the mode bar's "Zoom in"
    tab.page.locator(".js-plotly-plot").first.locator('.modebar-btn[data-attr="zoom"][data-val="in"]').first.tap()
    tab.page.wait_for_timeout(300)
    assert _ranges(tab) != before
    assert tab.errors == [], tab.errors
    tab.page.context.close()


def test_on_a_touch_screen_the_mode_bar_leaves_every_title_readable(browser, site: Path) -> None:  # noqa: F811
    tab = _open(browser, _job_with_figures(site), **PHONE)
    _draw_all(tab)
    overlaps = tab.page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].filter(f => f.querySelector('.gtitle')).map(f => {
        const t = f.querySelector('.gtitle').getBoundingClientRect(), m = f.querySelector('.modebar').getBoundingClientRect();
        return m.width > 0 && !(m.right <= t.left || m.left >= t.right || m.bottom <= t.top || m.top >= t.bottom); })""")
    assert overlaps and not any(overlaps), overlaps
    tab.page.context.close()


def test_the_catalogs_count_is_one_live_region_updated_per_redraw(browser, site: Path) -> None:  # noqa: F811
    tab = _open(browser, site / "default_project" / "index.html")
    info = tab.page.locator("#catalog-info")
    assert info.get_attribute("role") == "status"
    tab.page.evaluate("window.reportgenInfo = document.getElementById('catalog-info')")
    tab.page.fill("#catalog-search", "zzzz-no-such-job")
    _wait(tab, "document.getElementById('catalog-info').textContent.includes('0 of')")
    assert info.inner_text().endswith("0 of 6 jobs: No job matches.")
    tab.page.fill("#catalog-search", "")
    _wait(tab, "document.getElementById('catalog-info').textContent.includes('6 of 6')")
    # the same element all along (a live region made anew is not read out), in the pager between its buttons
    assert tab.page.evaluate("window.reportgenInfo === document.getElementById('catalog-info')")
    assert tab.page.eval_on_selector_all("#catalog-pager > *", "es => es.map(e => e.tagName)") == ["BUTTON", "BUTTON", "SPAN", "BUTTON", "BUTTON"]
    assert tab.errors == []
    tab.page.context.close()


def test_compare_figures_offer_their_values_as_a_table(browser, site: Path) -> None:  # noqa: F811
    tab = _open(browser, site / "default_project" / "compare.html", _compare(site))
    tab.page.wait_for_selector("body[data-compare=ready]")
    sections = tab.page.locator("#compare-series .compare-output")
    assert sections.count() > 0
    for i in range(sections.count()):
        assert sections.nth(i).locator("button.figure-table-toggle").count() == 1
    section = sections.first
    section.locator("div.figure").scroll_into_view_if_needed()
    section.locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    section.locator("button.figure-table-toggle").click()
    table = section.locator("table.figure-data")
    heads = table.locator("thead th").all_inner_texts()
    assert heads[0] == "set" and heads[1:] == ["A (j1)", "B (j5)"]
    # each job's column holds the values its line draws, at its set numbers
    drawn = tab.page.evaluate("""() => { const f = document.querySelector('#compare-series .js-plotly-plot');
        return f._fullData.map(t => Object.fromEntries([...t.x].map((x, i) => [String(x), String(t.y[i])]))); }""")
    rows = [row.locator("th, td").all_inner_texts() for row in table.locator("tbody tr").all()]
    assert rows
    for row in rows:
        for job, value in enumerate(row[1:]):
            assert value == drawn[job].get(row[0], ""), (row, job)
    assert tab.errors == [], tab.errors
    tab.page.context.close()


def test_without_javascript_figures_say_so_and_the_catalog_lists_its_jobs(browser, site: Path) -> None:  # noqa: F811
    tab = _open(browser, _job_with_figures(site), java_script_enabled=False, viewport=WIDE)
    boxes = tab.page.evaluate("""() => [...document.querySelectorAll('div.figure[data-figure]')].map(b =>
        [Math.round(b.getBoundingClientRect().height), b.innerText])""")
    assert boxes and all(height < 100 and "JavaScript" in text and "download" in text for height, text in boxes), boxes
    hidden = ["#theme-toggle", "#times-toggle"]
    assert all(not tab.page.is_visible(sel) for sel in hidden)
    assert "Press ?" not in tab.page.inner_text("footer")
    tab.open(site / "default_project" / "index.html")
    for sel in ("#catalog-search", "#catalog-status", "#catalog-from", "#catalog-size", "#compare-link", "#compare-tick-page"):
        assert not tab.page.is_visible(sel), sel
    links = tab.page.eval_on_selector_all("#catalog a[href]", "as => as.map(a => a.getAttribute('href'))")
    jobs = sorted(p.name for p in (site / "default_project").glob("*.html") if "~" not in p.name
                  and p.name not in ("index.html", "compare.html", "trends.html", "runs.html"))
    assert sorted(h for h in links if h != "runs.html") == jobs and "runs.html" in links
    tab.page.click("#catalog a[href='runs.html']")
    assert tab.page.url.endswith("/runs.html")
    assert sorted(tab.page.eval_on_selector_all("main td a", "as => as.map(a => a.getAttribute('href'))")) == jobs
    tab.page.context.close()
    # with scripts, the same controls show, and the catalog's list gives way to its table
    tab = _open(browser, site / "default_project" / "index.html")
    for sel in ("#theme-toggle", "#times-toggle", "#catalog-search", "#compare-tick-page"):
        assert tab.page.is_visible(sel), sel
    assert tab.page.locator("#catalog a[href='runs.html']").count() == 0 and "Press ?" in tab.page.inner_text("footer")
    tab.page.context.close()


def _copy(browser, site: Path, **context) -> tuple[list, str, str]:  # noqa: F811
    tab = _open(browser, _job_with_figures(site), viewport=WIDE, **context)
    tab.page.locator("details.snippet summary").first.click()
    button = tab.page.locator("details.snippet button.copy").first
    button.focus()
    tab.page.keyboard.press("Enter")
    _wait(tab, "document.querySelector('.copy-status').textContent !== ''")
    focus = tab.page.evaluate("() => { const e = document.activeElement; return [e.tagName, e.className, e.getAttribute('aria-hidden')]; }")
    said = tab.page.inner_text(".copy-status") if tab.page.locator(".copy-status[role=status]").count() else ""
    text = button.inner_text()
    tab.page.context.close()
    return focus, said, text


def test_copy_keeps_the_focus_on_its_button_and_says_copied(browser, site: Path) -> None:  # noqa: F811
    focus, said, text = _copy(browser, site, permissions=["clipboard-read", "clipboard-write"])
    assert focus == ["BUTTON", "copy", None] and said == "Copied" and text == "Copied"
    # the clipboard API refused: the select-and-execCommand fallback gives the focus back at once
    focus, said, text = _copy(browser, site)
    assert focus == ["BUTTON", "copy", None] and said in ("Copied", "Could not copy: select the snippet and copy it yourself")


def test_copy_puts_the_snippet_on_the_clipboard(browser, site: Path) -> None:  # noqa: F811
    tab = _open(browser, _job_with_figures(site), viewport=WIDE, permissions=["clipboard-read", "clipboard-write"])
    tab.page.locator("details.snippet summary").first.click()
    tab.page.locator("details.snippet button.copy").first.click()
    _wait(tab, "document.querySelector('.copy-status').textContent === 'Copied'")
    expected = tab.page.locator("textarea.copy-source").first.input_value()
    assert tab.page.evaluate("navigator.clipboard.readText()") == expected and "h5py.File" in expected
    tab.page.context.close()


SMALL = """(sel) => [...document.querySelectorAll(sel)].filter(e => e.getClientRects().length).map(e => {
    const r = e.getBoundingClientRect(); return [e.tagName + '.' + e.className, Math.round(r.width), Math.round(r.height)]; })
    .filter(t => t[1] < 24 || t[2] < 24)"""


def test_tap_targets_are_24_px_on_a_coarse_pointer(browser, site: Path) -> None:  # noqa: F811
    cases = [(site / "index.html", "main td a"), (site / "default_project" / "index.html", "input.compare-tick, #catalog td a"),
             (_job_with_figures(site), "a.download, details.gitfile > summary, .downloads a"),
             (site / "default_project" / "runs.html", "main td a")]
    for path, selector in cases:
        tab = _open(browser, path, **PHONE)
        tab.page.wait_for_timeout(300)
        assert tab.page.locator(selector).count() > 0, (path, selector)
        assert tab.page.evaluate(SMALL, selector) == [], path
        assert tab.page.evaluate("document.documentElement.scrollWidth") <= 375, path  # the page still reflows
        tab.page.context.close()
    # a mouse keeps the compact look: the catalog's tick box is not made bigger
    tab = _open(browser, site / "default_project" / "index.html")
    assert tab.page.evaluate("document.querySelector('input.compare-tick').getBoundingClientRect().width") < 20
    tab.page.context.close()


def test_compares_log_table_has_no_empty_header(browser, site: Path) -> None:  # noqa: F811
    tab = _open(browser, site / "default_project" / "compare.html", "#jobs=j1,j5,j10")
    tab.page.wait_for_selector("#compare-log-table")
    empty = tab.page.evaluate("""() => [...document.querySelectorAll('#compare-table th, #compare-log-table th')]
        .filter(th => !th.textContent.trim()).length""")
    assert empty == 0
    head = tab.page.locator("#compare-log-table thead th.diff-mark")
    assert head.text_content() == "differs" and head.locator(".visually-hidden").count() == 1  # read out, not shown
    marks = tab.page.eval_on_selector_all("#compare-log-table tbody tr.differs td.diff-mark", "ts => ts.map(t => t.textContent)")
    assert marks and all(m.startswith("\u2260") and len(m) > 1 for m in marks)  # the sign and why
    assert tab.page.locator("#compare-log-table tbody th.diff-mark").count() == 0
    tab.page.context.close()


def test_an_opened_logs_lines_are_no_tab_stops_and_its_skip_link_passes_it(browser, site: Path) -> None:  # noqa: F811
    tab = _open(browser, _job_with_figures(site))
    log = tab.page.locator("details.log").first
    log.locator("summary").focus()
    tab.page.keyboard.press("Enter")  # opened from the keyboard
    assert log.evaluate("d => d.open")
    stops = log.evaluate("""d => [...d.querySelectorAll('a[href], button, input, [tabindex]')]
        .filter(e => e.tabIndex >= 0 && e.getClientRects().length).map(e => e.className || e.tagName)""")
    assert stops and stops[0] == "log-skip" and "lnum" not in stops and len(stops) <= 5, stops
    tab.page.keyboard.press("Tab")
    assert tab.page.evaluate("document.activeElement.className") == "log-skip"
    assert tab.page.locator("a.log-skip:focus").is_visible()  # shown while it has the focus
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_timeout(200)
    landed = tab.page.evaluate("() => [document.activeElement.id, document.activeElement.previousElementSibling.id]")
    assert landed[0].startswith("end-of-log-") and landed[1] == landed[0].replace("end-of-", "")
    # a line's link still works by address
    line = log.locator("a.lnum").nth(1).get_attribute("href")
    tab.page.evaluate("h => { window.location.hash = h; }", line)
    tab.page.wait_for_timeout(200)
    assert tab.page.evaluate("h => document.querySelector(h).matches(':target')", line)
    assert tab.errors == [], tab.errors
    tab.page.context.close()
