"""The theme button: auto (the system's look) -> the other look -> back -> auto, so its first click
always changes the page and a chosen theme can be given back to the system; its name says which
mode it is in, and auto follows the system as it changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.readers.builders import simple_job
from tests.site.test_browser import browser  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def page_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("theme")
    simple_job(root / "store", "lab", "j1")
    build_site(root / "store", root / "site", BuildOptions(workers=1, show_progress=False))
    return root / "site" / "index.html"


def state(page) -> tuple[str, str, str | None]:
    """(the look, the button's mode, what storage holds)."""
    return tuple(page.evaluate("""() => [document.documentElement.getAttribute('data-theme'),
        document.getElementById('theme-toggle').getAttribute('data-mode'),
        window.localStorage.getItem('reportgen-theme')]"""))


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize(("system", "other"), [("light", "dark"), ("dark", "light")])
def test_the_button_cycles_auto_other_back_auto(browser, page_path: Path, system: str, other: str) -> None:  # noqa: F811
    context = browser.new_context(color_scheme=system)
    page = context.new_page()
    page.goto(page_path.as_uri())
    assert state(page) == (system, "auto", None)
    assert "auto" in page.get_attribute("#theme-toggle", "aria-label")
    page.click("#theme-toggle")
    assert state(page) == (other, other, other)  # the first click changes the look
    page.reload()
    assert state(page) == (other, other, other)  # a choice is kept
    page.click("#theme-toggle")
    assert state(page) == (system, system, system)
    page.click("#theme-toggle")
    assert state(page) == (system, "auto", None)  # given back to the system
    page.emulate_media(color_scheme=other)  # the system changes: auto follows it
    for _ in range(50):  # the change event is asynchronous (wait_for_function would need eval: the CSP refuses it)
        if state(page)[0] == other:
            break
        page.wait_for_timeout(20)
    assert state(page) == (other, "auto", None)
    assert f"now {other}" in page.get_attribute("#theme-toggle", "title")
    context.close()
