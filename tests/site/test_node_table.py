"""The node table of a job split into node pages: a warning count per node, and, with
``nodetable.js``, a page of rows at a time with a filter, while every row stays in the HTML (no
JavaScript needed to reach a node) and ``job.html#node-<slug>`` still lands on its row."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from reportgen.site.build import STATIC_FILES, BuildOptions, build_site
from reportgen.site.jobpage import SPLIT_NODES
from tests.readers.builders import HEADER, Node, Out, metadata, times, write_job, write_log
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

NODES = 250  # three pages of 100 rows
ROW = re.compile(r'<tr class="row-link" id="(node-n\d+)"><td><a href="([^"]+)"')


def _log(i: int) -> str:
    """n007: 3 warning lines; n011: an error line and a warning; every other node: done."""
    extra = {7: "WARNING drift 1\nWARNING drift 2\nUserWarning: slow\n", 11: "ERROR lost\nWARNING late\n"}
    return HEADER.format(node=f"n{i:03d}") + extra.get(i, "") + "done\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nodetable")
    nodes = [Node(f"n{i:03d}", [Out("o", np.arange(3.0), times(3))]) for i in range(NODES)]
    write_job(root / "store" / "proj" / "big.hdf5", metadata("proj", "big"), nodes)
    write_job(root / "store" / "proj" / "small.hdf5", metadata("proj", "small"), nodes[:2])
    for i in range(NODES):
        write_log(root / "store" / "proj" / "big" / f"n{i:03d}.log", _log(i))
    build_site(root / "store", root / "site", BuildOptions(workers=1, show_progress=False))
    return root / "site"


def _row(text: str, anchor: str) -> str:
    return re.search(rf'id="{anchor}">.*?</tr>', text).group(0)


def test_the_table_counts_each_nodes_warning_lines(site: Path) -> None:
    text = (site / "proj" / "big.html").read_text()
    assert '<th scope="col">warnings</th>' in text
    assert '<span class="status log-warnings">3</span>' in _row(text, "node-n007")
    n011 = _row(text, "node-n011")
    assert "1 error line" in n011 and '<span class="status log-warnings">1</span>' in n011
    assert _row(text, "node-n000").endswith('<td class="num">0</td></tr>')


def test_every_row_stays_in_the_html_and_the_script_comes_only_with_a_table(site: Path) -> None:
    assert NODES > SPLIT_NODES
    text = (site / "proj" / "big.html").read_text()
    rows = ROW.findall(text)
    assert [anchor for anchor, _ in rows] == [f"node-n{i:03d}" for i in range(NODES)]
    assert all((site / "proj" / href).is_file() for _, href in rows)
    assert '<script src="../assets/nodetable.js"></script>' in text
    assert 'id="node-table-controls" role="search" hidden>' in text  # shown by the script only
    assert "nodetable.js" not in (site / "proj" / "small.html").read_text()
    assert "nodetable.js" in STATIC_FILES and (site / "assets" / "nodetable.js").is_file()


def _visible(tab: Page) -> list[str]:
    return tab.page.eval_on_selector_all("table.node-table tbody tr:not([hidden])", "rows => rows.map(r => r.id)")


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_pages_filters_and_old_anchors_land_on_their_row(browser, site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    page = site / "proj" / "big.html"
    tab.open(page)
    assert _visible(tab) == [f"node-n{i:03d}" for i in range(100)]
    assert "page 1 of 3" in tab.page.inner_text("#node-table-pager")
    tab.page.click("#node-table-pager button:has-text('last')")
    assert _visible(tab)[0] == "node-n200" and len(_visible(tab)) == NODES - 200

    tab.page.keyboard.press("/")  # keys.js focuses the search box, here the node filter
    tab.page.keyboard.type("n123")
    assert _visible(tab) == ["node-n123"]
    tab.page.fill("#catalog-search", "")
    tab.page.check("#node-table-problems")
    assert _visible(tab) == ["node-n007", "node-n011"]

    tab.open(page, "#node-n187")  # a link to a row on page 2, made when the table had no pages
    row = tab.page.locator("#node-n187")
    assert row.is_visible() and tab.page.evaluate("document.getElementById('node-n187').getBoundingClientRect().top") >= 0
    assert "page 2 of 3" in tab.page.inner_text("#node-table-pager")

    tab.open(page)
    for _ in range(101):  # j past the last row of page 1: page 2 is shown, its first row current
        tab.page.keyboard.press("j")
    assert tab.page.evaluate("document.querySelector('tr.row-link.current').id") == "node-n100"
    assert "node-n100" in _visible(tab)
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url(re.compile(r"big~node-n100\.html$"))
    assert tab.errors == []
    tab.page.close()
