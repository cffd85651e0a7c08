"""In real Chromium: pages reflow at 320 and 375 px with long tokens (no sideways scrolling), and
keep their layout on a wide screen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.readers.builders import Node, Out, metadata, write_job, write_log
from tests.site.test_browser import Page, browser, small_site  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


LONG_OUTPUT = "estimated_parameter_frequency_calibration_result_qubit_17"


LONG_PATH = "/data/experiments/2024/01/01/run_000123/calibration/readout_histogram.json"


@pytest.fixture(scope="module")
def narrow_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One job with realistic long tokens: a long node and output name, a units
    string, string values that are file paths, and two problems (no commit attributes)."""
    root = tmp_path_factory.mktemp("narrow")
    node_name = "calibration_node_for_the_second_qubit_readout"
    stamps = ["2024-01-01T00:00:00.000Z"] * 2
    outputs = [Out(LONG_OUTPUT, np.array([1.0, 2.0]), stamps, units="MHz/(V*s)"),
               Out("result_file", [LONG_PATH] * 2, stamps, units="path")]
    attrs = metadata("proj", "j1", workflow_eui="", parameters_eui="", creation_timestamp="2024-01-01T00:00:00+00:00")
    write_job(root / "store" / "proj" / "j1.hdf5", attrs, [Node(node_name, outputs)])
    write_log(root / "store" / "proj" / "j1" / f"{node_name}.log", "ok\n")
    build_site(root / "store", root / "site", BuildOptions(show_progress=False))
    return root / "site"


def _page_width(tab: Page) -> int:
    return tab.page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("width", [320, 375])
def test_a_job_page_with_long_tokens_does_not_scroll_sideways(browser, narrow_site: Path, width: int) -> None:  # noqa: F811
    tab = Page(browser)
    tab.page.set_viewport_size({"width": width, "height": 800})
    tab.open(narrow_site / "proj" / "j1.html")
    assert LONG_PATH in tab.page.inner_text("main") and LONG_OUTPUT in tab.page.inner_text("main")
    assert _page_width(tab) <= width
    problems = tab.page.locator("table.grid").first  # the problems table scrolls inside itself
    assert problems.evaluate("t => t.getBoundingClientRect().right") <= width
    assert tab.errors == []
    tab.page.close()


def test_catalog_home_and_diff_pages_reflow_at_320_px(browser, small_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.page.set_viewport_size({"width": 320, "height": 800})
    project = small_site / "default_project"
    diff = sorted(project.glob("*~params-diff.html"))[0]
    job = sorted(p for p in project.glob("*.html") if "~" not in p.name and p.name not in ("index.html", "compare.html"))[0]
    for page in (small_site / "index.html", project / "index.html", diff, job):
        tab.open(page)
        assert _page_width(tab) <= 320, page.name
    assert tab.errors == []
    tab.page.close()


def test_the_layout_is_unchanged_on_a_wide_screen(browser, narrow_site: Path) -> None:  # noqa: F811
    """Wrapping anywhere only acts when a token does not fit: at 1400 px the output heading is one line."""
    tab = Page(browser)
    tab.page.set_viewport_size({"width": 1400, "height": 800})
    tab.open(narrow_site / "proj" / "j1.html")
    heading = tab.page.locator("h4 code", has_text=LONG_OUTPUT)
    line = tab.page.evaluate("parseFloat(getComputedStyle(document.querySelector('h4 code')).lineHeight) || 20")
    assert heading.bounding_box()["height"] < 1.5 * line
    tab.page.close()
