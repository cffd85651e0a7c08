"""In real Chromium: one figure plotly refuses says so, and no longer stops the others, on screen
and printed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.readers.builders import Node, Out, metadata, write_job, write_log
from tests.site.test_browser import Page, browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def extreme_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One job: a set of subnormal and extreme finite values (plotly: "Something went wrong with
    axis scaling") between ordinary sets, written as Entropy's writer lays a job out."""
    root = tmp_path_factory.mktemp("extreme")
    stamps = [f"2024-01-01T00:00:0{i}.000Z" for i in range(4)]
    sets = [("a_normal", [1.0, 2.0, 3.0, 4.0]), ("b_extreme", [1e-310, 5e-324, 1e308, -1e308]),
            ("c_normal", [4.0, 3.0, 2.0, 1.0])]
    attrs = metadata("proj", "j1", workflow_eui="", parameters_eui="", creation_timestamp="2024-01-01T00:00:00+00:00")
    write_job(root / "store" / "proj" / "j1.hdf5", attrs, [Node("n", [Out(name, np.array(v), stamps) for name, v in sets])])
    write_log(root / "store" / "proj" / "j1" / "n.log", "hi\n")
    build_site(root / "store", root / "site", BuildOptions(show_progress=False))
    return root / "site"


def _figures(tab: Page) -> list[str]:
    return tab.page.evaluate(
        "[...document.querySelectorAll('div.figure')].map(f => f.classList.contains('figure-failed') ? 'failed'"
        " : (f.querySelector('.main-svg') ? 'drawn' : 'blank'))"
    )


@pytest.mark.parametrize("when", ["on screen", "printed"])
def test_a_figure_plotly_refuses_says_so_and_the_others_draw(browser, extreme_site: Path, when: str) -> None:  # noqa: F811
    tab = Page(browser)
    tab.page.set_viewport_size({"width": 1000, "height": 3000})  # every figure near the screen at load
    tab.open(extreme_site / "proj" / "j1.html")
    if when == "printed":
        tab.page.emulate_media(media="print")
        tab.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    tab.page.wait_for_function("[...document.querySelectorAll('div.figure')].every(f =>"
                               " f.querySelector('.main-svg') || f.classList.contains('figure-failed'))")
    states = _figures(tab)
    assert states.count("drawn") == len(states) - 1 and states.count("failed") == 1, states
    assert "could not be drawn" in tab.page.locator(".figure-failed").inner_text()
    assert tab.errors == []  # no uncaught page error
    tab.page.close()
