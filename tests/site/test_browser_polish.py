"""Catalog and search polish (s21) in real Chromium over file://: attribute columns of numbers sort
as numbers, other texts in natural order, empty cells last; a long matched field shows a snippet
around its match with its whole text in the title; the "job id" scope finds by id only and lives
in the hash; a trend figure's points are reached by the arrow keys and read out.  One build of
test_site_polish.py's store and one of test_trends.py's for the module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)
from tests.site.test_site_polish import DOTTED, EMOJI, NOTE, polish_site  # noqa: F401 (fixture)
from tests.site.test_trends import FAILED, GONE, JOBS, _expected_points, _figure, _open, trends_site  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
EMPTY_LAST = ["fridge3", "j4"]  # no such attribute: last in both directions, by id among themselves


def _sorted_ids(tab: Page, column: str) -> list[str]:
    tab.page.click(f"button[data-sort='{column}']")
    return tab.page.locator("#catalog-table tbody tr td:first-child").all_inner_texts()


def test_attribute_columns_sort_as_numbers_or_in_natural_text_order(browser, polish_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(polish_site / "p" / "index.html")
    assert _sorted_ids(tab, "c-rank") == ["j1", "j2", "j3"] + EMPTY_LAST  # "9" < "10" < "100"
    assert "sort=c-rank" in tab.page.url and "dir=asc" in tab.page.url
    assert _sorted_ids(tab, "c-rank") == ["j3", "j2", "j1"] + EMPTY_LAST  # reversed, empty cells still last
    rank = tab.page.locator("#catalog-table tbody tr").first.locator("td").nth(-5)
    assert rank.inner_text() == "100" and "num" in rank.get_attribute("class")  # aligned as a number
    assert _sorted_ids(tab, "c-frac") == ["j2", "j1", "j3"] + EMPTY_LAST  # -1 < 2.5 < 10.25
    assert _sorted_ids(tab, "c-tag") == ["j3", "j2", "j1"] + EMPTY_LAST  # alpha, run9, run10
    assert _sorted_ids(tab, "c-tag") == ["j1", "j2", "j3"] + EMPTY_LAST
    assert _sorted_ids(tab, "c-strict") == ["j1", "j3", "j2"] + EMPTY_LAST  # "1e3" is text: 1e3, 3, 20
    assert _sorted_ids(tab, "c-level") == ["j1", "j3", "j2"] + EMPTY_LAST  # "n/a" makes it text: 5, 40, n/a
    level = tab.page.locator("#catalog-table tbody tr").first.locator("td").nth(-1)
    assert level.inner_text() == "5" and "num" not in (level.get_attribute("class") or "")
    # integers past 2^53 only: compared exactly; with a decimal text among them: all as doubles, one
    # rule for the column (mixed per pair, 2^53 + 1 sorted after 2^53 while both equal 2^53 + ".0",
    # and the order depended on the rows' order): three equal doubles, by job id both ways
    assert _sorted_ids(tab, "c-big") == ["j2", "j1", "j3"] + EMPTY_LAST
    assert _sorted_ids(tab, "c-mixed") == ["j1", "j2", "j3"] + EMPTY_LAST
    assert _sorted_ids(tab, "c-mixed") == ["j1", "j2", "j3"] + EMPTY_LAST
    tab.open(polish_site / "p" / "index.html", "#sort=c-rank&dir=desc")  # a shared link sorts the same
    assert tab.page.locator("#catalog-table tbody tr td:first-child").all_inner_texts() == ["j3", "j2", "j1"] + EMPTY_LAST
    assert tab.errors == []
    tab.page.close()


def _search(tab: Page, query: str) -> None:
    tab.page.fill("#search-q", query)
    tab.page.wait_for_selector("#search-results[data-pending='0']", state="attached", timeout=5000)


def _results(tab: Page) -> list[str]:
    return tab.page.locator("#search-results .search-job").all_inner_texts()


def test_a_long_field_shows_a_snippet_around_the_match_whole_in_its_title(browser, polish_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(polish_site / "search.html")
    _search(tab, "GLIMMER")
    assert _results(tab) == ["j2"]
    text = tab.page.locator(".search-snippet .search-text").first
    shown = text.inner_text()
    assert shown.startswith("\u2026alpha ") and shown.endswith(" omega\u2026")  # cut at both ends, between words
    assert 90 <= len(shown) <= 135 and len(shown) < len(NOTE) - 60
    assert shown.index("glimmer") < len(shown) / 2  # more of the room after the match than before it
    assert text.get_attribute("title") == NOTE  # the whole field
    assert text.locator("mark").all_inner_texts() == ["glimmer"]
    _search(tab, "glimmer omega")  # several words: the window of the first, every visible one marked
    marks = text.locator("mark").all_inner_texts()
    assert marks[0] == "glimmer" and marks[1:] == ["omega"] * text.inner_text().count("omega") and len(marks) > 3
    _search(tab, "zephyr")  # cut between two emoji, never inside one
    emoji = tab.page.locator(".search-snippet .search-text").first
    assert set(emoji.inner_text()) == set("\u2026\U0001F600zephyr") and emoji.get_attribute("title") == EMOJI
    assert emoji.locator("mark").all_inner_texts() == ["zephyr"]
    _search(tab, "quokka")  # after letters whose lower case is longer: still in the window, marked
    dotted = tab.page.locator(".search-snippet .search-text").first
    assert dotted.locator("mark").all_inner_texts() == ["quokka"] and dotted.get_attribute("title") == DOTTED
    assert dotted.inner_text().startswith("\u2026\u0130") and dotted.inner_text().endswith("x\u2026")
    _search(tab, "run10")  # a short field: whole, no title
    short = tab.page.locator(".search-snippet .search-text").first
    assert short.inner_text() == "tag=run10" and short.get_attribute("title") is None
    assert tab.errors == []
    tab.page.close()


def test_the_job_id_scope_finds_by_id_only_and_lives_in_the_hash(browser, polish_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(polish_site / "search.html", "#q=fridge3&scope=id")
    tab.page.wait_for_selector("#search-results[data-pending='0']", state="attached", timeout=5000)
    assert tab.page.input_value("#search-scope") == "id" and _results(tab) == ["fridge3"]
    assert tab.page.url.endswith("#q=fridge3&scope=id")
    tab.page.select_option("#search-scope", "metadata")  # the id and j1's attribute "site=fridge3 east"
    tab.page.wait_for_selector("#search-results[data-pending='0']", state="attached", timeout=5000)
    assert sorted(_results(tab)) == ["fridge3", "j1"] and tab.page.url.endswith("scope=metadata")
    tab.page.go_back()
    tab.page.wait_for_function("document.getElementById('search-scope').value === 'id'")
    assert _results(tab) == ["fridge3"]
    _search(tab, "j")  # a part of an id is enough, as in every scope; an attribute never
    assert sorted(_results(tab)) == ["j1", "j2", "j3", "j4"]
    _search(tab, "east")
    assert _results(tab) == [] and "0 jobs match" in tab.page.locator("#search-status").inner_text()
    tab.page.reload()
    tab.page.wait_for_selector("#search-results[data-pending='0']", state="attached", timeout=5000)
    assert tab.page.input_value("#search-scope") == "id" and tab.page.input_value("#search-q") == "east"
    assert tab.errors == []
    tab.page.close()


# ----------------------------------------------------------------- trends: the points by keyboard
def _said(tab: Page) -> str:
    return tab.page.locator("#trends-point").text_content()


def _label(box, job: str | None) -> None:
    """The hover label plotly draws shows ``job``'s point (None: no label); plotly throttles its
    hover (50 ms), so the label may follow the key a moment later"""
    labels = box.locator(".hoverlayer .hovertext")
    if job is None:
        expect(labels).to_have_count(0, timeout=2000)
    else:
        expect(labels).to_have_count(1, timeout=2000)
        expect(labels.first).to_have_text(re.compile("^" + re.escape(job) + "[^0-9]"), timeout=2000)


def test_the_arrow_keys_move_between_a_trend_figures_points_and_enter_opens_the_job(browser, trends_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    _open(tab, trends_site)
    _, box = _figure(tab, "/n/volt")
    expected = _expected_points(trends_site, "volt")
    jobs = [f"j{i}" for i in range(1, JOBS + 1) if f"j{i}" != GONE]  # by end time; GONE has no data file
    assert box.get_attribute("tabindex") == "0" and "arrow keys" in box.get_attribute("aria-label")
    box.focus()
    assert _said(tab) == ""
    _label(box, None)
    for n, job in enumerate(jobs[:3], 1):
        tab.page.keyboard.press("ArrowRight")
        head, value = _said(tab).split(", last value ")
        status = "failed-nodes" if job == FAILED else "ok"
        assert head == f"{job}, {status}, ended {expected[job][0]} UTC"
        number, rest = value.split(" V; ")
        assert float(number) == pytest.approx(expected[job][1], rel=1e-12) and rest == f"job {n} of {len(jobs)}"
        _label(box, job)  # the point itself is shown
    tab.page.keyboard.press("End")
    assert _said(tab).startswith(f"{jobs[-1]}, ") and _said(tab).endswith(f"job {len(jobs)} of {len(jobs)}")
    tab.page.keyboard.press("ArrowRight")  # past the last: stays
    assert _said(tab).startswith(f"{jobs[-1]}, ")
    tab.page.keyboard.press("Home")
    tab.page.keyboard.press("ArrowLeft")  # before the first: stays
    assert _said(tab).startswith(f"{jobs[0]}, ")
    _label(box, jobs[0])
    tab.page.keyboard.press("Escape")
    assert _said(tab) == ""
    _label(box, None)
    tab.page.keyboard.press("ArrowLeft")  # from no point: the last
    assert _said(tab).startswith(f"{jobs[-1]}, ")
    assert tab.page.evaluate("document.activeElement.id") == box.get_attribute("id")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url(f"**/p/{jobs[-1]}.html")
    assert [e for e in tab.errors if "Failed to load resource" not in e] == []
    tab.page.close()


def test_the_help_dialog_of_a_trends_page_lists_the_point_keys(browser, trends_site: Path) -> None:  # noqa: F811
    """keys.js lists a trend figure's keys on a trends page (known by its live region #trends-point)."""
    tab = Page(browser)
    _open(tab, trends_site)
    _figure(tab, "/n/volt")
    tab.page.locator("h1").click()
    tab.page.keyboard.press("?")
    keys = tab.page.locator("#keys-help dt kbd").all_inner_texts()
    assert keys[-7:] == ["\u2190", "\u2192", "Home", "End", "Enter", "?", "Esc"]
    assert "in a focused trend figure: open the point's job" in tab.page.locator("#keys-help dd").all_inner_texts()
    tab.page.close()
