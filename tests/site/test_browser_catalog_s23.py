"""Session 23's lab-lead review, in real Chromium over file://: the catalog's "First error" column
(searchable, sortable with the empty cells last, hideable), its End from/to filter kept in the
hash, the ``c`` key that follows the enabled Compare link, and search.html finding a node by its
name, listing the newest matches first across projects, and saying "1 job matches".

The example data_store (6 jobs a project: default_project's j5 failed with a traceback in
correction_1), built once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("catalog-s23-browser") / "site"
    build_site(example_store, site, BuildOptions(show_progress=False))
    return site


def _rows(site: Path, project: str) -> list[dict]:
    text = (site / project / "catalog-data.js").read_text("utf-8")
    data = json.loads(text[text.index("=") + 1:].rstrip().rstrip(";"))
    return [dict(zip(data["columns"], row)) for row in data["rows"]]


def _ids(tab: Page) -> list[str]:
    return tab.page.locator("#catalog-table tbody tr td:first-child a").all_inner_texts()


def _catalog(browser, site: Path, hash_: str = "") -> Page:  # noqa: F811
    tab = Page(browser)
    tab.open(site / "default_project" / "index.html", hash_)
    tab.page.locator("#catalog-table").wait_for()
    return tab


def test_the_first_error_column_is_searched_sorted_with_empty_cells_last_and_hideable(browser, site: Path) -> None:  # noqa: F811
    tab = _catalog(browser, site, "#q=linalgerror")
    assert _ids(tab) == ["j5"]
    heads = tab.page.locator("#catalog-table thead th").all_inner_texts()
    assert "First error" in heads
    cell = tab.page.locator("#catalog-table tbody td.first-error").first
    assert (cell.get_attribute("title") or cell.inner_text()).startswith("correction_1: ")
    failing = {r["id"] for r in _rows(site, "default_project") if r["first_error"]}
    for direction in ("asc", "desc"):  # the jobs with an error first either way
        tab.open(site / "default_project" / "index.html", f"#sort=first_error&dir={direction}")
        assert set(_ids(tab)[:len(failing)]) == failing
    tab.open(site / "default_project" / "index.html", "#hide=first_error")
    assert "First error" not in tab.page.locator("#catalog-table thead th").all_inner_texts()
    assert not tab.page.locator('#catalog-columns input[data-column="first_error"]').is_checked()
    assert tab.errors == []
    tab.page.close()


def test_the_end_date_range_filters_rows_and_stays_in_the_address(browser, site: Path) -> None:  # noqa: F811
    rows = _rows(site, "default_project")
    days = sorted({r["end"][:10] for r in rows if r["end"]})
    assert len(days) >= 3  # a range that leaves jobs out on both sides
    low, high = days[1], days[-2]
    want = {r["id"] for r in rows if r["end"] and low <= r["end"][:10] <= high}
    tab = _catalog(browser, site, f"#from={low}&to={high}")
    assert set(_ids(tab)) == want and 0 < len(want) < len(rows)
    assert f"from={low}" in tab.page.url and f"to={high}" in tab.page.url
    assert tab.page.input_value("#catalog-from") == low and tab.page.input_value("#catalog-to") == high
    tab.page.fill("#catalog-to", "")  # cleared: no upper bound
    tab.page.dispatch_event("#catalog-to", "change")
    assert set(_ids(tab)) == {r["id"] for r in rows if r["end"] and r["end"][:10] >= low}
    assert "to=" not in tab.page.url.split("#")[1]
    tab.page.go_back()  # one history entry, undone by Back
    tab.page.wait_for_function(f"location.hash.includes('to={high}')")
    assert set(_ids(tab)) == want
    assert tab.errors == []
    tab.page.close()


def test_c_follows_the_compare_link_once_enabled_and_is_in_the_help(browser, site: Path) -> None:  # noqa: F811
    tab = _catalog(browser, site)
    tab.page.evaluate("sessionStorage.clear()")
    tab.page.keyboard.press("j")
    tab.page.keyboard.press("x")
    tab.page.keyboard.press("c")  # one job ticked: the link is disabled, nothing happens
    tab.page.wait_for_timeout(100)
    assert "compare.html" not in tab.page.url
    tab.page.keyboard.press("?")
    help_text = tab.page.locator("#keys-help").inner_text()
    assert re.search(r"^c\s*\n?\s*open Compare with the ticked jobs", help_text, re.M)
    tab.page.keyboard.press("Escape")
    tab.page.keyboard.press("j")
    tab.page.keyboard.press("x")
    with tab.page.expect_navigation():
        tab.page.keyboard.press("c")
    assert re.search(r"/compare\.html#jobs=[^,]+,[^,]+$", tab.page.url)
    assert tab.errors == []
    tab.page.close()


def _search(browser, site: Path, hash_: str) -> tuple[Page, str]:  # noqa: F811
    tab = Page(browser)
    tab.open(site / "search.html", hash_)
    tab.page.wait_for_function("document.getElementById('search-results').getAttribute('data-pending') === '0'"
                               " && /searched (\\d+) of \\1 /.test(document.getElementById('search-status').textContent)")
    return tab, tab.page.locator("#search-status").inner_text()


def test_search_finds_a_node_by_name_newest_first_across_projects(browser, site: Path) -> None:  # noqa: F811
    tab, status = _search(browser, site, "#q=correction_1")
    projects = [p.name for p in sorted(site.iterdir()) if (p / "catalog-data.js").exists()]
    ends = {(r["id"], p): r["end"] for p in projects for r in _rows(site, p)}
    assert status.startswith(f"{len(ends)} jobs match")  # every job has the node; most have no marked line
    heads = tab.page.locator("li.search-result p.search-head")
    got = [(heads.nth(i).locator(".search-job").inner_text(), heads.nth(i).locator(".search-project").inner_text())
           for i in range(heads.count())]
    assert [ends[key] for key in got] == sorted(ends.values(), reverse=True)  # newest first, projects mixed
    assert len({project for _, project in got[:len(projects) + 1]}) > 1
    tab.open(site / "search.html", "#q=LinAlgError%20correction_1&scope=logs")
    tab.page.wait_for_function("/searched/.test(document.getElementById('search-status').textContent)")
    assert "0 jobs" not in tab.page.locator("#search-status").inner_text()
    assert tab.errors == []
    tab.page.close()


def test_one_match_is_one_job_that_matches(browser, site: Path) -> None:  # noqa: F811
    tab, status = _search(browser, site, "#q=j5&project=default_project&scope=id")
    assert status.startswith("1 job matches;") and "1 job match;" not in status
    assert tab.errors == []
    tab.page.close()
