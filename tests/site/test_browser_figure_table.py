"""In real Chromium over file://: every figure offers its values as a table (built only when asked,
bounded, inert for hostile names, themed, printed only when opened), and ``#ds=/path`` permalinks
land on an output's section, on a split job through its node's pages."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from reportgen.site import jobpage
from reportgen.site.build import BuildOptions, build_site
from tests.readers.builders import Node, Out, metadata, times, write_job, write_log
from tests.site.test_browser import Page, browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
HOSTILE = '<img src=x onerror=alert(1)>'
QUIET = BuildOptions(workers=1, show_progress=False)


def _job(store: Path, job_id: str, nodes: list[Node]) -> None:
    write_job(store / "proj" / f"{job_id}.hdf5", metadata("proj", job_id, workflow_eui="", parameters_eui=""), nodes)
    for node in nodes:
        write_log(store / "proj" / job_id / f"{node.name}.log", "hi\n")


def build_table_site(root: Path) -> Path:
    """``one``: a figure of each kind on one page; ``big``: split (3 nodes over a limit of 2), node
    ``QPU`` on three pages of 3 outputs."""
    store = root / "store"
    _job(store, "one", [Node("n", [
        Out("a_volt", np.array([1.5, -2.0, 3.25]), units="V"),
        Out("b_overlay", np.arange(15.0).reshape(3, 5)),  # three sets of a 1-D array: three lines on one x
        Out("c_long", np.arange(1500.0), times(1500)),  # 1,500 points: more rows than a table shows
        Out("d_wide", np.ones((30, 150))),  # a heatmap of 150 columns
        Out("e_stack", np.arange(24.0).reshape(4, 3, 2)),  # stacked 2-D sets: a heatmap with steps
        Out("f_extreme", np.array([1e-310, 5e-324, 1e308, -1e308])),  # plotly refuses to draw it
        Out(HOSTILE, np.array([1.0, 2.0]), units=HOSTILE),
    ])])
    qpu = Node("QPU", [Out(f"o{i}", np.array([float(i), 1.0])) for i in range(7)])
    _job(store, "big", [Node("A", [Out("x", np.array([1.0, 2.0]))]), qpu, Node("z", [Out("y", np.array([3.0, 4.0]))])])
    with pytest.MonkeyPatch.context() as patch:  # small limits: a split job of a few outputs
        patch.setattr(jobpage, "SPLIT_NODES", 2)
        patch.setattr(jobpage, "OUTPUTS_PER_PAGE", 3)
        build_site(store, root / "site", QUIET)
    return root / "site" / "proj"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_table_site(tmp_path_factory.mktemp("figure-table"))


def _section(tab: Page, path: str):
    return tab.page.locator(f'section.output[data-ds="{path}"]')


def _open_table(tab: Page, path: str):
    """Opens the output's table from the keyboard: focus its button, press Enter."""
    section = _section(tab, path)
    button = section.locator("button.figure-table-toggle")
    button.focus()
    tab.page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true" and button.inner_text() == "Hide data table"
    return section.locator("table.figure-data")


def _draw(section) -> None:
    """Scrolls a stacked figure's output to the screen (figures are drawn as they near it) and waits
    until it is drawn: its step bar stands from load, its buttons enabled once drawn."""
    section.scroll_into_view_if_needed()
    section.locator(".steps button:enabled").first.wait_for()


def _cells(table) -> list[list[str]]:
    return table.evaluate("t => [...t.rows].slice(0, 4).map(r => [...r.cells].map(c => c.textContent))")


def test_every_figure_offers_its_values_as_a_table_built_only_when_asked(browser, site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(site / "one.html")
    assert tab.page.locator("button.figure-table-toggle").count() == tab.page.locator("div.figure[data-figure]").count() == 7
    assert tab.page.locator("table.figure-data").count() == 0  # nothing built at load

    volt = _open_table(tab, "/n/a_volt")
    assert volt.count() == 1
    rows = _cells(volt)
    assert rows[0] == ["time (UTC)", "V"] and rows[1][1:] == ["1.5"] and rows[3][1:] == ["3.25"]
    assert rows[1][0].startswith("2022-06-25 12:52:14")
    assert volt.evaluate("t => t.querySelector('tbody th').scope") == "row"

    overlay = _open_table(tab, "/n/b_overlay")  # three traces on one x: one table, a column each
    assert overlay.count() == 1
    assert _cells(overlay)[:2] == [["index", "set 0", "set 1", "set 2"], ["0", "0", "5", "10"]]

    hostile = _open_table(tab, f"/n/{HOSTILE}")  # a name from the file is text, never markup
    assert HOSTILE in hostile.locator("caption").inner_text()
    assert tab.page.locator("section.output table img").count() == 0 and tab.dialogs == []
    assert tab.errors == []
    tab.page.close()


def test_a_long_series_and_a_wide_heatmap_are_cut_with_a_note(browser, site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(site / "one.html")
    long = _open_table(tab, "/n/c_long")
    assert long.evaluate("t => t.tBodies[0].rows.length") == 1000
    note = _section(tab, "/n/c_long").locator("div.figure-table p.note")
    assert "500 of 1,500 rows" in note.inner_text() and note.locator("a").inner_text() == "The CSV download"
    wide = _open_table(tab, "/n/d_wide")
    assert wide.evaluate("t => [t.tBodies[0].rows.length, t.tHead.rows[0].cells.length]") == [30, 101]
    notes = _section(tab, "/n/d_wide").locator("div.figure-table p.note").all_inner_texts()
    assert "50 of 150 columns" in notes[0] and "float32" in notes[1]  # a heatmap travels as float32
    assert _cells(wide)[1][:3] == ["0", "1", "1"]  # row header, then the values
    assert tab.errors == []
    tab.page.close()


def test_a_stepped_heatmap_shows_the_current_step_and_a_failed_figure_its_values(browser, site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(site / "one.html")
    section = _section(tab, "/n/e_stack")
    _draw(section)
    table = _open_table(tab, "/n/e_stack")
    assert "(set 0)" in table.locator("caption").inner_text() and _cells(table)[1] == ["0", "0", "1"]
    section.locator(".steps button", has_text="next").click()
    assert "(set 1)" in table.locator("caption").inner_text() and _cells(table)[1] == ["0", "6", "7"]

    _section(tab, "/n/f_extreme").scroll_into_view_if_needed()
    tab.page.locator(".figure-failed").wait_for()
    failed = _open_table(tab, "/n/f_extreme")
    assert "could not be drawn" in _section(tab, "/n/f_extreme").locator(".figure-failed").inner_text()
    assert failed.evaluate("t => [...t.tBodies[0].rows].map(r => r.cells[1].textContent)") == [
        "1e-310", "5e-324", "1e+308", "-1e+308"]
    assert tab.errors == []
    tab.page.close()


def test_a_stepped_heatmaps_step_bar_takes_its_place_at_load_so_drawing_moves_nothing_below(browser, site: Path) -> None:  # noqa: F811
    """The bar used to be built when the figure was drawn, pushing the page below it down by its
    height as the reader scrolled (and moving a log's summary from under a click)."""
    tab = Page(browser)
    tab.open(site / "one.html")
    section = _section(tab, "/n/e_stack")
    box = section.locator("div.figure")
    assert box.evaluate("b => b.classList.contains('js-plotly-plot')") is False  # not drawn yet: far below
    bar = section.locator(".steps")
    assert bar.count() == 1 and bar.locator("button:disabled").count() == 2
    assert bar.locator("input[type=range]").evaluate("s => [s.disabled, s.max]") == [True, "3"]
    below = "s => s.querySelector('.figure-table-toggle').getBoundingClientRect().top - s.querySelector('.steps').getBoundingClientRect().bottom"
    gap = section.evaluate(below)
    bar.evaluate("b => { b.dataset.mark = 'kept'; }")
    _draw(section)
    assert section.locator(".steps").count() == 1 and section.locator(".steps").get_attribute("data-mark") == "kept"
    assert section.evaluate(below) == gap
    section.locator(".steps button", has_text="next").click()
    assert section.locator(".steps span").inner_text() == "set 1"
    assert tab.errors == []
    tab.page.close()


def test_a_step_bar_at_320_px_is_one_line_with_its_first_label_from_load(browser, site: Path) -> None:  # noqa: F811
    """audit-s20 05: at 320 px the label grew from "0" to "set 0" on draw and wrapped the bar."""
    tab = Page(browser)
    tab.page.set_viewport_size({"width": 320, "height": 600})
    tab.open(site / "one.html")
    section = _section(tab, "/n/e_stack")
    bar = section.locator(".steps")
    assert bar.locator("span").inner_text() == "set 0"  # before the figure is drawn
    height = bar.evaluate("b => b.getBoundingClientRect().height")
    _draw(section)
    assert bar.evaluate("b => b.getBoundingClientRect().height") == height
    tops = bar.evaluate("b => [...b.children].map(c => Math.round(c.getBoundingClientRect().top + c.getBoundingClientRect().height / 2))")
    assert max(tops) - min(tops) <= 2  # buttons, slider and label on one line
    assert bar.locator("button").first.evaluate("b => b.getClientRects().length") == 1  # "prev" not broken mid-word
    assert tab.errors == []
    tab.page.close()


def test_the_table_follows_the_theme_and_prints_only_when_opened(browser, site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(site / "one.html")
    table = _open_table(tab, "/n/a_volt")
    head = "t => getComputedStyle(t.querySelector('tbody th')).backgroundColor"
    before = table.evaluate(head)
    tab.page.click("#theme-toggle")
    assert table.evaluate(head) != before
    tab.page.emulate_media(media="print")
    tab.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # opens every <details>
    shown = tab.page.evaluate("[...document.querySelectorAll('div.figure-table')].map(d => d.checkVisibility())")
    assert shown == [False, True] + [False] * 5  # the one a reader opened prints (the hostile name sorts first)
    assert tab.page.locator("button.figure-table-toggle").first.is_hidden()
    assert tab.page.locator("table.figure-data").count() == 1  # printing built no other
    assert tab.errors == []
    tab.page.close()


def _in_view(tab: Page, path: str) -> bool:
    return _section(tab, path).evaluate("s => { const r = s.getBoundingClientRect();"
                                        " return r.top >= -1 && r.top < window.innerHeight; }")


def test_a_ds_permalink_lands_on_its_output_and_each_output_offers_one(browser, site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(site / "one.html", "#ds=/n/e_stack")
    target = _section(tab, "/n/e_stack")
    assert "ds-target" in target.get_attribute("class") and _in_view(tab, "/n/e_stack")
    assert target.evaluate("s => getComputedStyle(s).outlineStyle") == "solid"
    link = _section(tab, "/n/b_overlay").locator("h4 a.permalink")
    assert link.get_attribute("href") == "#ds=/n/b_overlay"
    link.click()  # the link to copy: the address bar now holds the permalink
    assert tab.page.url.endswith("one.html#ds=/n/b_overlay")
    tab.page.locator('section.output.ds-target[data-ds="/n/b_overlay"]').wait_for()  # on hashchange
    assert "ds-target" not in target.get_attribute("class")

    hostile = _section(tab, f"/n/{HOSTILE}").locator("a.permalink").get_attribute("href")
    assert hostile == "#ds=/n/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"
    tab.open(site / "one.html", hostile)
    assert "ds-target" in _section(tab, f"/n/{HOSTILE}").get_attribute("class")

    tab.open(site / "one.html", "#ds=/n/nope")  # an unknown path: a short note, no error
    assert "No output /n/nope" in tab.page.locator("#permalink-missing").inner_text()
    tab.open(site / "one.html", "#ds=%E0%A4%A")
    assert tab.page.locator("#permalink-missing").is_visible()
    assert tab.errors == [] and tab.dialogs == []
    tab.page.close()


def test_a_split_job_forwards_ds_and_old_output_links_to_the_node_page_holding_them(browser, site: Path) -> None:  # noqa: F811
    assert (site / "big~node-qpu-b1d5b2bc~3.html").is_file() or len(list(site.glob("big~node-qpu*~3.html"))) == 1
    tab = Page(browser)
    tab.open(site / "big.html", "#ds=/QPU/o4")  # outputs o3-o5 are on the node's second page
    tab.page.wait_for_url(re.compile(r"big~node-qpu-[0-9a-f]+~2\.html#ds=/QPU/o4$"))
    tab.page.wait_for_load_state("load")
    assert "ds-target" in _section(tab, "/QPU/o4").get_attribute("class")
    tab.open(site / "big.html", "#ds=/QPU/o0")  # the first page
    tab.page.wait_for_url(re.compile(r"big~node-qpu-[0-9a-f]+\.html#ds=/QPU/o0$"))
    tab.open(site / "big.html", "#ds=/z/y")
    tab.page.wait_for_url(re.compile(r"big~node-z\.html#ds=/z/y$"))
    tab.page.wait_for_load_state("load")
    assert _in_view(tab, "/z/y")
    last = next(site.glob("big~node-qpu*~3.html"))
    tab.open(last, "#ds=/QPU/o1")  # a node page sends it on to the page holding it
    tab.page.wait_for_url(re.compile(r"big~node-qpu-[0-9a-f]+\.html#ds=/QPU/o1$"))
    tab.open(site / "big.html", "#ds=/QPU/o9")  # no such output: the last page says so
    tab.page.wait_for_url(re.compile(r"~3\.html#ds=/QPU/o9$"))
    tab.page.locator("#permalink-missing").wait_for()
    tab.open(site / "big.html", "#ds=/nope/x")
    assert "No output /nope/x" in tab.page.locator("#permalink-missing").inner_text()

    first = next(p for p in site.glob("big~node-qpu*.html") if "~2" not in p.name and "~3" not in p.name)
    old = re.search(r'id="(out-qpu-o1-[0-9a-f]+)"', first.read_text()).group(1)
    tab.open(site / "big.html", "#" + old)  # a link made before the job was split
    tab.page.wait_for_url(re.compile(re.escape(first.name) + "#" + old + "$"))
    assert tab.errors == []
    tab.page.close()
