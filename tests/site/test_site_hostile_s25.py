"""A live site written to by someone else between builds (review S: F04-F07).

Whoever can write the site folder (a shared web root, a CI cache restore) could plant a
``.part`` link the no-change build wrote through, point the manifest at ``/dev/zero``, feed it
records that crashed the build, or empty its per-job problems so ``--fail-on`` passed.
SITE.lock sits beside the site, so it vouches for the manifest the last build wrote.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from reportgen.site.build import BuildOptions, build_site
from reportgen.site.manifest import MANIFEST_NAME
from tests.invariants import run_cli
from tests.site.test_repos_state_s25 import small_store as two_job_store

OPTIONS = BuildOptions(workers=1, show_progress=False)


def small_store(root: Path, corrupt: bool = False) -> Path:
    """test_repos_state_s25's store of two jobs; with ``corrupt``, j2's HDF5 file is not HDF5."""
    store, _ = two_job_store(root)
    if corrupt:
        (store / "p" / "j2.hdf5").write_bytes(b"not an HDF5 file at all" * 10)
    return store


def test_a_planted_part_link_is_not_written_through(tmp_path: Path):
    store, site = small_store(tmp_path / "store"), tmp_path / "site"
    build_site(store, site, OPTIONS)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    (site / "build-report.json.part").symlink_to(victim)
    report = build_site(store, site, OPTIONS)
    assert report.up_to_date
    assert victim.read_text() == "mine\n"
    assert not (site / "build-report.json").is_symlink() and not (site / "build-report.json.part").exists()
    os.link(victim, site / "build-report.json.part")  # a hard link of it: the same inode
    build_site(store, site, OPTIONS)
    assert victim.read_text() == "mine\n"


def test_a_manifest_that_is_a_link_to_dev_zero_means_a_full_build(tmp_path: Path):
    store, site = small_store(tmp_path / "store"), tmp_path / "site"
    build_site(store, site, OPTIONS)
    (site / MANIFEST_NAME).unlink()
    (site / MANIFEST_NAME).symlink_to("/dev/zero")
    run = run_cli("build", store, "-o", site, "--force", timeout=120)
    assert run.code == 0, run.stderr
    assert not (site / MANIFEST_NAME).is_symlink()
    assert json.loads((site / MANIFEST_NAME).read_bytes())["format"] == 4


def test_manifest_records_of_the_wrong_shape_mean_a_full_build_not_a_crash(tmp_path: Path):
    store, site = small_store(tmp_path / "store"), tmp_path / "site"
    build_site(store, site, OPTIONS)
    good = json.loads((site / MANIFEST_NAME).read_bytes())
    for edit in ("problems-strings", "problems-short", "home-files-list"):
        manifest = json.loads(json.dumps(good))
        if edit == "problems-strings":
            manifest["jobs"]["p"]["j1"]["problems"] = ["x"]
        elif edit == "problems-short":
            manifest["jobs"]["p"]["j1"]["problems"] = [["warning", "x"]]
        else:
            manifest["files"] = []
        (site / MANIFEST_NAME).write_text(json.dumps(manifest))
        run = run_cli("build", store, "-o", site)
        assert run.code == 0, (edit, run.stderr)
        assert "0 kept" in run.stdout + run.stderr or "2 built" in run.stdout + run.stderr, (edit, run.stdout)


def test_emptied_problems_in_an_edited_manifest_do_not_fool_fail_on(tmp_path: Path):
    store, site = small_store(tmp_path / "store", corrupt=True), tmp_path / "site"
    assert run_cli("build", store, "-o", site, "--fail-on", "error").code == 65
    manifest = json.loads((site / MANIFEST_NAME).read_bytes())
    for entries in manifest["jobs"].values():
        for entry in entries.values():
            entry["problems"] = []
    (site / MANIFEST_NAME).write_text(json.dumps(manifest))
    run = run_cli("build", store, "-o", site, "--fail-on", "error")
    assert run.code == 65, run.stdout + run.stderr
    report = json.loads((site / "build-report.json").read_bytes())
    assert report["counts"]["problems"]["error"] >= 1
