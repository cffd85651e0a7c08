"""In real Chromium over file://, a failed job's page (session 22): the "What failed" box is on the
first screen at 1280x800, its link lands on the exception line a third down the window, and a
printed page keeps the workflow and parameters files folded unless the reader opened one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def failed_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's first job with a traceback in a node log (seed 0: default_project/j10)."""
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp("s22-browser")
    write_example(root / "data_store", seed=0, jobs_per_project=8)
    build_site(root / "data_store", root / "site", BuildOptions(workers=1, show_progress=False))
    failed = sorted((root / "site" / "default_project").glob("j*.html"))
    return next(p for p in failed if "~" not in p.name and 'id="failure"' in p.read_text("utf-8"))


def open_page(browser, path: Path) -> Page:  # noqa: F811
    tab = Page(browser)
    tab.page.set_viewport_size({"width": 1280, "height": 800})
    tab.open(path)
    return tab


def test_the_failure_box_is_on_the_first_screen_and_its_link_lands_a_third_down(browser, failed_page: Path) -> None:  # noqa: F811
    tab = open_page(browser, failed_page)
    box = tab.page.locator("#failure").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800
    link = tab.page.locator("#failure a.failure-line").first
    target = link.get_attribute("href")[1:]
    assert "Error" in link.inner_text()
    link.click()
    tab.page.wait_for_timeout(300)
    top = tab.page.evaluate(f"document.getElementById({target!r}).getBoundingClientRect().top")
    assert 0.2 * 800 <= top <= 0.45 * 800, top  # the traceback's frames above it stay in view
    assert tab.page.evaluate(f"document.getElementById({target!r}).closest('details').open")
    assert tab.errors == []
    tab.page.close()


def test_a_line_permalink_opened_directly_lands_a_third_down(browser, failed_page: Path) -> None:  # noqa: F811
    """As search.html links it: no click, the browser's own #hash navigation (CSS, no script)."""
    tab = Page(browser)
    tab.page.set_viewport_size({"width": 1280, "height": 800})
    anchor = re.search(r'<span class="ln ln-error" id="([^"]+)">', failed_page.read_text("utf-8")).group(1)
    tab.page.goto(failed_page.resolve().as_uri() + "#" + anchor)
    tab.page.wait_for_timeout(500)
    top = tab.page.evaluate(f"document.getElementById({anchor!r}).getBoundingClientRect().top")
    assert 0.2 * 800 <= top <= 0.45 * 800, top
    tab.page.close()


def test_print_keeps_workflow_files_folded_unless_the_reader_opened_one(browser, failed_page: Path) -> None:  # noqa: F811
    tab = open_page(browser, failed_page)
    files = tab.page.locator("details.gitfile")
    assert files.count() >= 2
    files.nth(1).locator("summary").click()  # the reader opens one file: it prints
    tab.page.emulate_media(media="print")
    tab.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # what Chromium fires before printing
    shown = tab.page.evaluate("""[...document.querySelectorAll('details.gitfile')].map(d =>
        [d.querySelector('summary').checkVisibility(), [...d.children].some(e => e.tagName !== 'SUMMARY' && e.checkVisibility())])""")
    assert all(summary for summary, _ in shown)  # every file's name prints
    assert [content for _, content in shown] == [i == 1 for i in range(len(shown))]
    assert tab.page.evaluate("[...document.querySelectorAll('details.log')].every(d => d.open && d.querySelector('pre').checkVisibility())")
    tab.page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert tab.errors == []
    tab.page.close()


def test_served_downloads_save_under_their_project_job_node_and_output(browser, failed_page: Path) -> None:  # noqa: F811
    """Over http a linked file (over 4 KiB) saves under its download name too; from file:// Chromium
    keeps the file's own name for a link to another file (tests/site/test_browser.py)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    site = failed_page.parent.parent
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        context = browser.new_context(accept_downloads=True)
        tab = context.new_page()
        tab.goto(f"http://127.0.0.1:{server.server_port}/default_project/{failed_page.name}")
        saved = {}
        for selector in ("section.output a.download[href^='data:']", f"section.output a.download[href^='{failed_page.stem}/']"):
            link = tab.locator(selector).first
            with tab.expect_download() as info:
                link.click()
            saved[link.get_attribute("download")] = info.value.suggested_filename
        context.close()
    finally:
        server.shutdown()
        server.server_close()
    assert len(saved) == 2 and all(name == got and name.startswith(f"default_project_{failed_page.stem}_")
                                   for name, got in saved.items()), saved
