"""Session 26's second look at the plain job list (runs.html, helper F's s25 work; helper V): a job
whose name is "runs", or folds to it, in a fresh build and in incremental builds of a site that had
no such job before and after it is gone: the same site as a fresh build, its page listed in
runs.html, the sitemap and the search index, and runs.html still the list."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from reportgen.site.build import BuildOptions, build_site
from tests.site.helpers import site_digest, writable_copy

RUNS_LIKE = ["runs", "RUNS", "Runs", "\uff52\uff55\uff4e\uff53", "runs.html", "runs.gz"]  # the last: fullwidth "runs"
BASE = "https://example.org/lab/"
LISTED = re.compile(r'<tr class="row-link"><td><a href="([^"]+)">')


def _build(store: Path, site: Path) -> None:
    build_site(store, site, BuildOptions(show_progress=False, base_url=BASE))


def _add_runs_like_jobs(store: Path) -> None:
    folder = store / "default_project"
    for name in RUNS_LIKE:
        shutil.copy2(folder / "j1.hdf5", folder / f"{name}.hdf5")
        shutil.copytree(folder / "j1", folder / name)


def _check_lists(site: Path) -> None:
    """runs.html is the plain list and names every job's page; the sitemap and the search index too."""
    manifest = json.loads((site / "build-manifest.json").read_text())
    jobs = manifest["jobs"]["default_project"]
    runs = (site / "default_project" / "runs.html").read_text(encoding="utf-8")
    assert "<h1>All jobs of default_project</h1>" in runs
    pages = sorted(f"{entry['slug']}.html" for entry in jobs.values())
    assert sorted(LISTED.findall(runs)) == pages
    assert all((site / "default_project" / page).is_file() for page in pages)
    sitemap = (site / "sitemap.xml").read_text()
    locs = re.findall(rf"<loc>{re.escape(BASE)}default_project/([^<]+)</loc>", sitemap)
    assert locs[:2] == ["index.html", "runs.html"] and sorted(locs[2:]) == pages
    search = (site / "default_project" / "search-data.js").read_text(encoding="utf-8")
    assert all(page in search for page in pages)


def test_jobs_named_like_runs_html_in_fresh_and_incremental_builds(example_store: Path, tmp_path: Path) -> None:
    store = writable_copy(example_store, tmp_path / "store")
    _build(store, tmp_path / "site")  # a site built before any such job existed
    _add_runs_like_jobs(store)
    _build(store, tmp_path / "site")
    _build(store, tmp_path / "fresh")
    manifest = json.loads((tmp_path / "fresh" / "build-manifest.json").read_text())
    slugs = {name: manifest["jobs"]["default_project"][name]["slug"] for name in RUNS_LIKE}
    assert "runs" not in slugs.values() and len(set(slugs.values())) == len(RUNS_LIKE), slugs
    _check_lists(tmp_path / "fresh")
    assert site_digest(tmp_path / "site") == site_digest(tmp_path / "fresh")
    _build(store, tmp_path / "again")
    assert site_digest(tmp_path / "again") == site_digest(tmp_path / "fresh")  # deterministic
    # and gone again: nothing of them is left behind
    for name in RUNS_LIKE:
        (store / "default_project" / f"{name}.hdf5").unlink()
        shutil.rmtree(store / "default_project" / name)
    _build(store, tmp_path / "site")
    shutil.rmtree(tmp_path / "fresh")
    _build(store, tmp_path / "fresh")
    _check_lists(tmp_path / "site")
    assert site_digest(tmp_path / "site") == site_digest(tmp_path / "fresh")
