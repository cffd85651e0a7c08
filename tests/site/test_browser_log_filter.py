"""In real Chromium over file://, under the page CSP: the filter box of a node log (logs.js) is
made only when a log is opened, hides the lines without its text (any case) or, ticked, the
lines that are not errors or warnings; a link to a line it hides clears it. Warning lines carry
a sign with an accessible name, readable in light, dark and print."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.site.one_job_store import build, new_store
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
LOG = ["start", "Slow fridge, WARNING: drift", "ERROR: lost lock", "step 3", "/x.py:3: UserWarning: slow",
       "done slowly"]
ORPHAN_LOGS = 300  # logs without a node group: a page of hundreds of folded logs


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("log-filter")
    store, f, _ = new_store(root)
    f.close()
    (store / "p" / "j1" / "n.log").write_text("\n".join(LOG) + "\n")
    for i in range(ORPHAN_LOGS):
        (store / "p" / "j1" / f"extra{i:03d}.log").write_text("".join(f"line {k} of {i}\n" for k in range(40)))
    build(store, root / "site")
    return root / "site" / "p" / "j1.html"


def node_log(tab: Page):
    return tab.page.locator("details.log").first


def shown(tab: Page) -> list[str]:
    """The texts (without their numbers) of the node log's visible lines."""
    return node_log(tab).evaluate("""log => [...log.querySelectorAll('.log-text .ln')]
        .filter(l => l.checkVisibility()).map(l => l.lastChild.textContent.trim())""")


def open_tab(browser, site: Path, hash_: str = "") -> Page:  # noqa: F811
    tab = Page(browser)
    tab.open(site, hash_)
    if not hash_:  # the job is incomplete and n.log has an error line: its log is open at load (session 22)
        tab.page.evaluate("document.querySelectorAll('details.log[open]').forEach(d => { d.open = false; })")
    return tab


def test_no_filter_box_until_a_log_is_opened(browser, site: Path) -> None:  # noqa: F811
    tab = open_tab(browser, site)
    assert tab.page.locator("details.log").count() == ORPHAN_LOGS + 1
    assert tab.page.locator(".log-filter").count() == 0  # nothing built at load for 301 logs
    node_log(tab).locator("summary").click()
    assert tab.page.locator(".log-filter").count() == 1
    box = node_log(tab).get_by_role("search")
    assert box.get_attribute("aria-label") == "Filter the lines of n.log"
    node_log(tab).locator("summary").click()
    node_log(tab).locator("summary").click()
    assert tab.page.locator(".log-filter").count() == 1  # once per log
    assert tab.errors == [] and tab.dialogs == []


def test_filter_text_and_only_errors_and_warnings(browser, site: Path) -> None:  # noqa: F811
    tab = open_tab(browser, site)
    node_log(tab).locator("summary").click()
    text = node_log(tab).get_by_role("searchbox")
    text.fill("SLOW")  # plain substring, any case
    assert shown(tab) == ["Slow fridge, WARNING: drift", "/x.py:3: UserWarning: slow", "done slowly"]
    assert node_log(tab).locator(".log-filter-count").text_content() == "3 of 6 lines shown"
    text.fill("3")  # the line's text, not its number
    assert shown(tab) == ["step 3", "/x.py:3: UserWarning: slow"]
    text.fill("")
    node_log(tab).get_by_label("Only errors and warnings").check()
    assert shown(tab) == ["Slow fridge, WARNING: drift", "ERROR: lost lock", "/x.py:3: UserWarning: slow"]
    text.fill("slow")
    assert shown(tab) == ["Slow fridge, WARNING: drift", "/x.py:3: UserWarning: slow"]
    node_log(tab).get_by_label("Only errors and warnings").uncheck()
    text.fill("")
    assert len(shown(tab)) == len(LOG) and node_log(tab).locator(".log-filter-count").text_content() == ""
    assert tab.errors == []


def test_a_link_to_a_hidden_line_clears_the_filter(browser, site: Path) -> None:  # noqa: F811
    tab = open_tab(browser, site)
    first_id = node_log(tab).locator(".ln").first.get_attribute("id")
    assert first_id.endswith("-L1")
    node_log(tab).locator("summary").click()
    node_log(tab).get_by_role("searchbox").fill("lock")
    assert shown(tab) == ["ERROR: lost lock"]
    tab.page.evaluate(f"location.hash = '#{first_id}'")  # a hashchange
    tab.page.wait_for_function(f"document.getElementById('{first_id}').checkVisibility()")
    assert len(shown(tab)) == len(LOG) and node_log(tab).get_by_role("searchbox").input_value() == ""
    # the same hash again fires no hashchange: a click on a link to it still clears the filter
    node_log(tab).get_by_role("searchbox").fill("lock")
    tab.page.evaluate(f"""() => {{ const a = document.createElement('a'); a.href = '#{first_id}';
        a.id = 'again'; a.textContent = 'again'; document.querySelector('main').prepend(a); }}""")
    tab.page.click("#again")
    assert len(shown(tab)) == len(LOG)
    assert tab.page.locator(f"#{first_id}").is_visible() and tab.errors == []


def test_a_line_link_opened_from_outside_still_lands(browser, site: Path) -> None:  # noqa: F811
    tab = open_tab(browser, site)
    line_id = tab.page.locator("details.log .ln").nth(2).get_attribute("id")
    tab.open(site, f"#{line_id}")
    assert tab.page.locator(f"#{line_id}").is_visible()  # keys.js unfolds it; logs.js made its box
    assert tab.page.locator(".log-filter").count() == 1 and tab.errors == []


def contrast(colours: list[str]) -> float:
    """WCAG contrast of two computed ``rgb(r, g, b)`` colours."""
    def luminance(text: str) -> float:
        channels = [int(v) / 255 for v in text[text.index("(") + 1:text.index(")")].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    high, low = sorted(map(luminance, colours), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme, media", [("light", "screen"), ("dark", "screen"), ("dark", "print")])
def test_warning_lines_carry_a_named_sign_readable_in_every_theme(browser, site: Path, theme: str, media: str) -> None:  # noqa: F811
    tab = open_tab(browser, site)
    tab.page.evaluate(f"document.documentElement.setAttribute('data-theme', '{theme}')")
    tab.page.emulate_media(media=media)
    node_log(tab).evaluate("log => { log.open = true; }")
    warning = node_log(tab).locator(".ln-warning").first
    sign = warning.evaluate("l => getComputedStyle(l.querySelector('.lnum'), '::after').content")
    assert sign == '"⚠" / "warning"'
    # the sign's alternative text is part of the line link's accessible name: not colour only
    assert node_log(tab).get_by_role("link", name="2 warning", exact=True).count() == 1
    assert node_log(tab).get_by_role("link", name="3 error", exact=True).count() == 1
    assert node_log(tab).get_by_role("link", name="4", exact=True).count() == 1
    colours = warning.evaluate("l => [getComputedStyle(l).color, getComputedStyle(l).backgroundColor]")
    assert contrast(colours) >= 4.5, colours
    summary = node_log(tab).locator("summary .log-warnings")
    assert summary.text_content() == "2 warning lines"
    assert contrast([summary.evaluate("e => getComputedStyle(e).color"),
                     tab.page.evaluate("getComputedStyle(document.body).backgroundColor")]) >= 4.5
    tab.page.close()


def test_the_catalog_shows_log_warnings_as_a_number_column(browser, site: Path) -> None:  # noqa: F811
    tab = open_tab(browser, site.with_name("index.html"))
    header = tab.page.locator("#catalog-table thead th button", has_text="Log warnings")
    assert header.count() == 1
    column = tab.page.evaluate("""() => [...document.querySelectorAll('#catalog-table thead th')]
        .findIndex(th => th.textContent.includes('Log warnings'))""")
    cell = tab.page.locator("#catalog-table tbody tr").first.locator("td").nth(column)
    assert (cell.text_content(), cell.get_attribute("class")) == ("2", "num")
    assert tab.errors == []
