"""Axis labels a reader takes at their word: a log axis labels every tick with its own value (not
plotly's first-digit minor labels, which read "9 1 2 ... 9 10" bottom up), and a heatmap of a few
cells has a tick per cell (not -0.5, 0.5, 1.5: rows that do not exist)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.readers.builders import Node, Out, metadata, write_job, write_log
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

VIEWS = """\
[[views]]
output = "/QPU/counts"
y_log = true
[[views]]
output = "/QPU/spectrum"
x = "frequency"
x_log = true
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("axes")
    store = root / "store"
    outputs = [
        Out("counts", np.array([0.95, 2.0, 3.5, 6.0, 9.5])),  # within one decade: plotly's digit labels
        Out("frequency", np.array([0.02, 0.5, 3.0, 40.0, 700.0])),
        Out("spectrum", np.array([1.0, 2.0, 3.0, 4.0, 5.0])),
        Out("matrix", np.arange(12.0).reshape(3, 2, 2)),  # a 2x2 matrix per set: a stepped heatmap
        Out("rows", np.arange(90.0).reshape(30, 3)),  # 30 sets of 3: a heatmap of sets by index
        Out("few", np.arange(12.0).reshape(3, 4)),  # 3 sets of 4: a line per set over the index
    ]
    write_job(store / "lab" / "j1.hdf5", metadata("lab", "j1"), [Node("QPU", outputs)])
    write_log(store / "lab" / "j1" / "QPU.log", "done\n")
    config = root / "views.toml"
    config.write_text(VIEWS, encoding="utf-8")
    build_site(store, root / "site", BuildOptions(workers=1, show_progress=False, config_file=config))
    return root / "site"


def tick_labels(tab: Page, path: str, axis: str) -> list[str]:
    """The tick labels of one axis of the output's figure, in axis order (left to right, bottom up)."""
    section = tab.page.locator(f'section.output[data-ds="{path}"]')
    section.scroll_into_view_if_needed()
    section.locator(f".{axis}tick text").first.wait_for(state="attached", timeout=8000)
    return section.evaluate(f"""s => [...s.querySelectorAll('.{axis}tick text')]
        .map(t => [t.textContent, t.getBoundingClientRect()])
        .sort((a, b) => '{axis}' === 'x' ? a[1].left - b[1].left : b[1].top - a[1].top)
        .map(t => t[0])""")


def numbers(labels: list[str]) -> list[float]:
    return [float(label.replace("\u2212", "-")) for label in labels if label.strip()]


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_log_axis_labels_read_as_increasing_numbers(browser, site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(site / "lab" / "j1.html", "#ds=/QPU/counts")
    y = numbers(tick_labels(tab, "/QPU/counts", "y"))
    assert len(y) >= 3 and all(b > a for a, b in zip(y, y[1:])), y
    assert y[0] < 1 < y[-1]  # 0.9 is labelled 0.9, not 9
    x = numbers(tick_labels(tab, "/QPU/spectrum", "x"))  # a view's log x over several decades
    assert len(x) >= 3 and all(b > a for a, b in zip(x, x[1:])), x
    assert tab.errors == [] and tab.dialogs == []


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_few_indices_have_a_tick_each_and_none_between(browser, site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(site / "lab" / "j1.html", "#ds=/QPU/matrix")
    assert numbers(tick_labels(tab, "/QPU/matrix", "x")) == [0, 1]
    assert numbers(tick_labels(tab, "/QPU/matrix", "y")) == [0, 1]
    assert numbers(tick_labels(tab, "/QPU/rows", "x")) == [0, 1, 2]
    sets = numbers(tick_labels(tab, "/QPU/rows", "y"))  # 30 rows: plotly's own ticks, on whole rows
    assert sets and all(value.is_integer() for value in sets), sets
    assert numbers(tick_labels(tab, "/QPU/few", "x")) == [0, 1, 2, 3]
    assert tab.errors == [] and tab.dialogs == []
