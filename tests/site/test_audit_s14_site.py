"""Audit s14 of ``reportgen build``: job ids that clash as page and folder (F2), a catalog
that stays stale behind a cached ``catalog-data.js`` (F9), duplicate element ids on a job
page (F13).  Real data_stores (``reportgen example`` and h5py), real builds, real Chromium."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import h5py
import pytest

from reportgen.site.contexts import CatalogRow, build_project_context
from reportgen.site.paths import build_slugs
from tests.invariants import run_cli
from tests.site.helpers import site_digest, writable_copy

STR = h5py.string_dtype("utf-8")


def catalog_rows(site: Path, project: str) -> list[dict]:
    text = (site / project / "catalog-data.js").read_text(encoding="utf-8")
    data = json.loads(text.split(" = ", 1)[1].rstrip(";\n"))
    return [dict(zip(data["columns"], row)) for row in data["rows"]]


# ----------------------------------------------------------------- F2: job X next to job X.html
def test_slugs_never_make_a_page_that_is_another_jobs_folder() -> None:
    names = ["j2", "j2.html", "j2.html.html", "index.html", "a.b", "plain", "x-1.0"]
    slugs = build_slugs(names)
    folders, pages = set(slugs.values()), {slug + ".html" for slug in slugs.values()}
    assert len(folders) == len(names) and not folders & pages
    assert slugs["j2"] == "j2" and slugs["plain"] == "plain" and slugs["x-1.0"] == "x-1.0"  # ordinary names kept


def test_jobs_x_and_x_html_build_full_and_incremental_to_the_same_site(example_store: Path, tmp_path: Path) -> None:
    store = writable_copy(example_store, tmp_path / "store")
    project = store / "default_project"
    aside = tmp_path / "aside"
    aside.mkdir()
    shutil.copy2(project / "j1.hdf5", aside / "j2.html.hdf5")
    shutil.copytree(project / "j1", aside / "j2.html")  # its logs: the job gets a folder
    first = run_cli("build", store, "-o", tmp_path / "incremental")  # without j2.html
    assert first.code == 0, first.stderr
    for name in ("j2.html.hdf5", "j2.html"):
        (aside / name).rename(project / name)
    incremental = run_cli("build", store, "-o", tmp_path / "incremental")
    assert incremental.code == 0 and "(1 built," in incremental.stdout, incremental.stdout + incremental.stderr
    full = run_cli("build", store, "-o", tmp_path / "full")
    assert full.code == 0, full.stderr
    assert site_digest(tmp_path / "incremental") == site_digest(tmp_path / "full")
    again = run_cli("build", store, "-o", tmp_path / "incremental")  # and it stays settled
    assert again.code == 0 and "up to date" in again.stdout, again.stdout + again.stderr
    site = tmp_path / "full" / "default_project"
    rows = {row["id"]: row["href"] for row in catalog_rows(tmp_path / "full", "default_project")}
    assert rows["j2"] == "j2.html" and rows["j2.html"] != "j2.html"
    for job_id, href in rows.items():
        assert (site / href).is_file(), (job_id, href)
    assert "<title>j2 (default_project)</title>" in (site / "j2.html").read_text(encoding="utf-8")
    assert "<title>j2.html (default_project)</title>" in (site / rows["j2.html"]).read_text(encoding="utf-8")
    assert (site / rows["j2.html"].removesuffix(".html")).is_dir()  # its own folder, with its logs


# ----------------------------------------------------------------- F9: versioned catalog-data.js URL
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


# ----------------------------------------------------------------- F13: unique element ids
class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value is not None)


def write_clashing_job(store: Path) -> None:
    """Node ``A`` slugs to ``a-559aead0``, which is another node's plain name; the end of
    node ``x``'s long log is numbered ``node-x-tail-L<n>``, as node ``x-tail``'s lines are."""
    (store / "proj" / "j1").mkdir(parents=True)
    with h5py.File(store / "proj" / "j1.hdf5", "w") as f:
        for key, value in (("project", "proj"), ("job_eui", "#/j1"), ("job_description", "d"), ("workflow_eui", ""),
                           ("parameters_eui", ""), ("creation_timestamp", "2024-01-01T00:00:00+00:00")):
            f.attrs.create(key, value, dtype=STR)
        for name in ("A", "a-559aead0", "x", "x-tail"):
            group = f.create_group(name)
            for key in ("type", "description", "bin"):
                group.attrs.create(key, "t", dtype=STR)
            group.create_dataset("o_time", data=["2024-01-01T00:00:00.000Z"], dtype=STR)
            group.create_dataset("o", data=[1.0])
            text = "".join(f"{name} line {i} " + "." * 3000 + "\n" for i in range(100)) if name == "x" else \
                "".join(f"{name} line {i}\n" for i in range(200))
            (store / "proj" / "j1" / f"{name}.log").write_text(text)


def test_job_page_element_ids_are_unique(tmp_path: Path) -> None:
    write_clashing_job(tmp_path / "store")
    run = run_cli("build", tmp_path / "store", "-o", tmp_path / "site")
    assert run.code == 0, run.stderr
    text = (tmp_path / "site" / "proj" / "j1.html").read_text(encoding="utf-8")
    parser = _Ids()
    parser.feed(text)
    assert parser.ids["node-x-tail-L100"] == 1  # the tail of x's log is on the page
    assert [name for name, count in parser.ids.items() if count > 1] == []
    for target in re.findall(r'href="#([^"]+)"', text):  # and every in-page link has a target
        assert parser.ids[target] == 1, target


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


# ----------------------------------------------------------------- F8: a traceback at the end of a long log
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
