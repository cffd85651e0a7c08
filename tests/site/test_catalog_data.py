"""The catalog's data: its ``catalog-data.js`` URL carries a hash of the file, so a cached copy is
never shown stale (checked over file:// in real Chromium too), and its "Log errors" count a
traceback at the end of a long log."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from reportgen.site.contexts import CatalogRow, build_project_context
from tests.invariants import run_cli
from tests.site.catalog_data import catalog_rows
from tests.site.helpers import writable_copy


# ----------------------------------------------------------------- versioned catalog-data.js URL
def _row(job_id: str) -> CatalogRow:
    values = {name: "" for name in CatalogRow.__dataclass_fields__}
    values.update(id=job_id, href=f"{job_id}.html")
    return CatalogRow(**values)


def test_catalog_data_url_changes_with_the_data() -> None:
    one = build_project_context("p", [_row("j1")], ()).data_js
    two = build_project_context("p", [_row("j1"), _row("j2")], ()).data_js
    assert re.fullmatch(r"catalog-data\.js\?v=[0-9a-f]{8}", one) and one != two
    assert one == build_project_context("p", [_row("j1")], ()).data_js  # deterministic


def test_catalog_data_url_holds_the_hash_of_the_written_file(example_store: Path, tmp_path: Path) -> None:
    run = run_cli("build", example_store, "-o", tmp_path / "site")
    assert run.code == 0, run.stderr
    for page in (tmp_path / "site").glob("*/index.html"):
        written = hashlib.sha256((page.parent / "catalog-data.js").read_bytes()).hexdigest()[:8]
        assert f'<script src="catalog-data.js?v={written}"></script>' in page.read_text(encoding="utf-8")


# ----------------------------------------------------------------- the catalog in Chromium over file://
@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_versioned_catalog_loads_over_file_url(example_store: Path, tmp_path: Path) -> None:
    from tests.site.test_browser import CHROMIUM, Page

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    run = run_cli("build", example_store, "-o", tmp_path / "site")
    assert run.code == 0, run.stderr
    page_path = tmp_path / "site" / "default_project" / "index.html"
    assert "catalog-data.js?v=" in page_path.read_text(encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        tab = Page(browser)
        tab.open(page_path)
        shown = tab.page.locator("#catalog-table tbody tr td:first-child").all_inner_texts()
        browser.close()
    assert sorted(shown) == sorted(row["id"] for row in catalog_rows(tmp_path / "site", "default_project"))
    assert tab.errors == []


# ----------------------------------------------------------------- a traceback at the end of a long log
def test_log_errors_count_a_traceback_past_the_shown_head(example_store: Path, tmp_path: Path) -> None:
    """The catalog's "Log errors" counted the error lines of the first 256 KiB only: a long
    log whose traceback is at its end showed 0."""
    store = writable_copy(example_store, tmp_path / "ds")
    log = sorted((store / "default_project").glob("*/*.log"))[0]
    job = log.parent.name
    log.write_text("step ok\n" * 60_000 + "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: bad\n")
    site = tmp_path / "site"
    assert run_cli("build", store, "-o", site).code == 0
    row = next(r for r in catalog_rows(site, "default_project") if r["id"] == job)
    assert row["log_errors"] >= 1, row
