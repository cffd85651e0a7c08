"""An incremental build repairs what was changed in the site by hand: it checks the files the
last build wrote (stat against the records in SITE.lock, content against the manifest's hashes)
and rebuilds what owns a file that differs.  Each test compares with a full build of the same input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, BuildReport, build_site
from tests.invariants import assert_no_staging_left
from tests.site.helpers import site_digest

QUIET = BuildOptions(workers=1, show_progress=False)


@pytest.fixture(scope="module")
def full_site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference: a full build of the example store."""
    site = tmp_path_factory.mktemp("full") / "site"
    build_site(example_store, site, QUIET)
    return site


@pytest.fixture()
def site(full_site: Path, tmp_path: Path) -> Path:
    """A copy of the reference site with its lock file, as if built here (the records name the
    copy's own stats: the next build of an untouched copy checks by content once, then by stat)."""
    target = tmp_path / "site"
    shutil.copytree(full_site, target)
    shutil.copy(full_site.with_name("site.lock"), tmp_path / "site.lock")
    return target


def rebuild(store: Path, site: Path) -> BuildReport:
    report = build_site(store, site, QUIET)
    assert_no_staging_left(site.parent)
    return report


def first_job_page(site: Path, project: str) -> Path:
    return sorted(p for p in (site / project).glob("*.html")
                  if p.name not in ("index.html", "compare.html") and "~" not in p.name)[0]


def assert_same_as(site: Path, full_site: Path) -> None:
    assert site_digest(site) == site_digest(full_site)


def test_an_unchanged_site_rebuilds_nothing_and_a_second_build_trusts_the_stats(
        example_store: Path, full_site: Path, tmp_path: Path) -> None:
    site = tmp_path / "own"
    build_site(example_store, site, QUIET)
    lock = site.with_name("own.lock").read_bytes()
    report = rebuild(example_store, site)
    assert report.up_to_date and (report.built, report.repaired) == (0, 0)
    assert "(up to date)" in report.summary()
    assert site.with_name("own.lock").read_bytes() == lock  # nothing re-recorded: the stats matched
    assert_same_as(site, full_site)


def test_a_hand_edited_job_page_is_rebuilt(example_store: Path, full_site: Path, site: Path) -> None:
    page = site / "default_project" / "j1.html"
    page.write_text(page.read_text().replace("<body", "<body data-edited"))
    report = rebuild(example_store, site)
    assert (report.built, report.repaired) == (1, 1)  # its catalog and the home page list it: written too
    assert f"1 built, {report.kept} kept, 0 removed, 1 repaired" in report.summary()
    assert page.read_bytes() == (full_site / "default_project" / "j1.html").read_bytes()
    assert_same_as(site, full_site)
    again = rebuild(example_store, site)
    assert again.up_to_date and again.built == 0


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(example_store: Path, full_site: Path, site: Path) -> None:
    rebuild(example_store, site)  # records the copy's own stats
    page = first_job_page(site, "qpu_bench")
    before = page.stat()
    data = bytearray(page.read_bytes())
    data[100] ^= 0x20
    page.write_bytes(bytes(data))
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))  # only the ctime tells
    assert page.stat().st_size == before.st_size
    assert rebuild(example_store, site).built == 1
    assert_same_as(site, full_site)


def test_a_deleted_page_and_a_deleted_download_are_restored(example_store: Path, full_site: Path, site: Path) -> None:
    first_job_page(site, "ion_trap_scan").unlink()
    download = sorted((site / "default_project" / "j1").glob("*.npy"))[0]
    download.unlink()
    report = rebuild(example_store, site)
    assert report.built == 2 and not report.up_to_date
    assert download.read_bytes() == (full_site / download.relative_to(site)).read_bytes()
    assert_same_as(site, full_site)


def test_a_job_folder_replaced_by_a_symlink_is_rebuilt(example_store: Path, full_site: Path, site: Path,
                                                        tmp_path: Path) -> None:
    folder = site / "default_project" / "j1"
    os.rename(folder, tmp_path / "elsewhere")
    folder.symlink_to(tmp_path / "elsewhere")  # same files, same stats, but not in the site
    assert rebuild(example_store, site).built == 1
    assert folder.is_dir() and not folder.is_symlink()
    assert_same_as(site, full_site)


def test_a_truncated_catalog_and_an_edited_asset_are_restored(example_store: Path, full_site: Path,
                                                               site: Path) -> None:
    catalog = site / "qpu_bench" / "catalog-data.js"
    os.truncate(catalog, 10)
    (site / "assets" / "site.css").write_text("body { color: red }\n")
    report = rebuild(example_store, site)
    assert report.built == 0 and report.repaired == 2  # the catalog, the home page with its assets
    assert catalog.read_bytes() == (full_site / "qpu_bench" / "catalog-data.js").read_bytes()
    assert_same_as(site, full_site)


def test_a_project_folder_replaced_by_a_symlink_gets_a_full_build(example_store: Path, full_site: Path,
                                                                   site: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    os.rename(site / "qpu_bench", outside)
    (site / "qpu_bench").symlink_to(outside)
    before = sorted(p.name for p in outside.iterdir())
    report = rebuild(example_store, site)  # an incremental publish would write through the link
    assert report.kept == 0 and report.built == report.jobs
    assert not (site / "qpu_bench").is_symlink() and sorted(p.name for p in outside.iterdir()) == before
    assert_same_as(site, full_site)


def test_touched_files_are_checked_by_content_and_not_rebuilt(example_store: Path, full_site: Path,
                                                              site: Path) -> None:
    for path in site.rglob("*.html"):
        os.utime(path, ns=(0, 0))
    report = rebuild(example_store, site)
    assert report.up_to_date and report.built == 0
    assert_same_as(site, full_site)


def test_lost_records_mean_a_check_by_content(example_store: Path, full_site: Path, site: Path) -> None:
    site.with_name("site.lock").unlink()
    page = site / "default_project" / "j1.html"
    page.write_bytes(page.read_bytes()[:-1])
    report = rebuild(example_store, site)
    assert report.built == 1
    assert_same_as(site, full_site)
    assert rebuild(example_store, site).up_to_date


def test_files_the_build_did_not_write_are_left_alone(example_store: Path, full_site: Path, site: Path) -> None:
    (site / "robots.txt").write_text("User-agent: *\n")
    (site / "default_project" / "notes.txt").write_text("mine\n")
    assert rebuild(example_store, site).up_to_date
    assert (site / "robots.txt").is_file() and (site / "default_project" / "notes.txt").is_file()


def test_two_repairs_of_the_same_damage_are_byte_identical(example_store: Path, full_site: Path,
                                                           tmp_path: Path) -> None:
    digests = []
    for name in ("a", "b"):
        target = tmp_path / name / "site"
        shutil.copytree(full_site, target)
        (target / "index.html").write_text("gone")
        (target / "default_project" / "j1~params-diff.html").unlink()
        rebuild(example_store, target)
        digests.append(site_digest(target))
    assert digests[0] == digests[1] == site_digest(full_site)
