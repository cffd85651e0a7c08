"""Job ids that would clash as page and folder (job ``X`` next to job ``X.html``) get slugs that
never do, and build the same site full and incremental."""

from __future__ import annotations

import shutil
from pathlib import Path

from reportgen.site.paths import build_slugs
from tests.invariants import run_cli
from tests.site.catalog_data import catalog_rows
from tests.site.helpers import site_digest, writable_copy


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
