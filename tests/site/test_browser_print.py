"""In real Chromium: printing opens every collapsed block, and closes them after."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.site.test_browser import Page, browser, small_site  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_printing_opens_every_collapsed_block_and_closes_them_after(browser, small_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    page = sorted(p for p in (small_site / "default_project").glob("*.html") if "~" not in p.name and p.name not in ("index.html", "compare.html"))[0]
    tab.open(page)
    closed = tab.page.evaluate("document.querySelectorAll('details:not([open])').length")
    assert closed > 0
    tab.page.emulate_media(media="print")
    tab.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert tab.page.evaluate("document.querySelectorAll('details:not([open])').length") == 0
    # workflow and parameters files print their names only unless the reader opened them (session 22:
    # tests/site/test_browser_jobpage_s22.py); every other block shows its content
    shut = tab.page.evaluate("[...document.querySelectorAll('details:not(.gitfile)')].filter(d =>"
                             " ![...d.children].some(e => e.tagName !== 'SUMMARY' && e.checkVisibility())).length")
    assert shut == 0  # each block shows its content (copy buttons are hidden in print on purpose)
    tab.page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert tab.page.evaluate("document.querySelectorAll('details:not([open])').length") == closed
    assert tab.errors == []
    tab.page.close()
