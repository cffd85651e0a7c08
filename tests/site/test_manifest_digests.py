"""The manifest's hashes match the files on disk, though the build no longer reads them back.

Workers hash each file from the bytes they write (``write.take_digests``) and the
parent uses those digests; a digest that did not match its file would make the next
build trust a damaged page, or rebuild an intact one.
"""

from __future__ import annotations

from pathlib import Path

from reportgen.site.build import BuildOptions, build_site
from reportgen.site.manifest import build_written, load_manifest, owners_written
from tests.site.test_incremental_repair import QUIET, full_site, site  # noqa: F401 (fixtures)


def assert_manifest_matches_disk(root: Path) -> int:
    manifest, why = load_manifest(root)
    assert manifest is not None, why
    owners = 0
    for owner, written in owners_written(manifest):
        if written.files:
            assert build_written(written.files, lambda name: root / name) == written, owner
            owners += 1
    return owners


def test_a_full_build_on_two_workers_records_the_hashes_of_its_files(example_store: Path, tmp_path: Path) -> None:
    root = tmp_path / "two"
    build_site(example_store, root, BuildOptions(workers=2, show_progress=False, full=True))
    assert assert_manifest_matches_disk(root) > 10  # home, projects and every job


def test_a_repaired_job_records_the_hashes_of_its_new_files(example_store: Path, site: Path) -> None:
    page = site / "default_project" / "j1.html"
    page.write_text(page.read_text().replace("<body", "<body data-edited"))
    report = build_site(example_store, site, QUIET)
    assert (report.built, report.repaired) == (1, 1)
    assert_manifest_matches_disk(site)
