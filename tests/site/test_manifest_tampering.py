"""A tampered build-manifest.json is never trusted.

The site is copied, rsynced and restored from CI caches: whoever can write it
can edit its manifest.  A slug of ``../victim`` made the next incremental build
move that folder into its trash and delete it (the data_store too), and a
stored catalog row was published as it was.  Now such a manifest is unusable
and the build is a full one.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from reportgen.site.build import build_site
from tests.invariants import tree_digest
from tests.site.helpers import site_digest
from tests.site.test_incremental_repair import QUIET, full_site  # noqa: F401 (a fixture)


def _edit_manifest(site: Path, edit: Callable[[dict], None]) -> None:
    path = site / "build-manifest.json"
    manifest = json.loads(path.read_bytes())
    edit(manifest)
    path.write_text(json.dumps(manifest))


def _first_job(manifest: dict) -> dict:
    project = sorted(manifest["jobs"])[0]
    return manifest["jobs"][project][sorted(manifest["jobs"][project])[0]]


def _gone_project(manifest: dict) -> None:
    manifest["projects"]["gone"] = {"slug": "../victim", "repos": [], "problems": [], "files": []}
    manifest["jobs"]["gone"] = {}


def _gone_job(manifest: dict) -> None:
    project = sorted(manifest["jobs"])[0]
    entry = dict(_first_job(manifest))
    entry["slug"] = "../../victim"
    entry["row"] = ["gone-job", "../../victim.html", *entry["row"][2:]]
    manifest["jobs"][project]["gone-job"] = entry


def _script_href(manifest: dict) -> None:
    _first_job(manifest)["row"][1] = "javascript:document.title='PWNED'"


def _outside_file(manifest: dict) -> None:
    _first_job(manifest)["files"]["files"].append("../victim/data.txt")


TAMPERS = {"gone project '../victim'": _gone_project, "gone job '../../victim'": _gone_job,
           "javascript: href": _script_href, "recorded file outside": _outside_file}  # fmt: skip


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_a_tampered_manifest_gives_a_full_build_and_touches_nothing_outside(
        example_store: Path, full_site: Path, tmp_path: Path, tamper: str) -> None:  # fmt: skip
    site = tmp_path / "work" / "site"
    shutil.copytree(full_site, site)
    shutil.copy(full_site.with_name("site.lock"), site.with_name("site.lock"))
    victim = tmp_path / "work" / "victim"
    victim.mkdir()
    (victim / "data.txt").write_text("keep me")
    (tmp_path / "victim.html").write_text("keep me too")
    store_before = tree_digest(example_store)
    _edit_manifest(site, TAMPERS[tamper])
    report = build_site(example_store, site, QUIET)
    assert report.built == report.jobs and report.kept == 0  # the manifest was not used
    assert (victim / "data.txt").read_text() == "keep me" and (tmp_path / "victim.html").exists()
    assert tree_digest(example_store) == store_before
    assert site_digest(site) == site_digest(full_site)
    assert b"javascript:" not in b"".join(p.read_bytes() for p in site.rglob("catalog-data.js"))


def test_every_manifest_a_build_writes_passes_its_own_check(edge_store: Path, tmp_path: Path) -> None:
    """The check must not refuse what the build writes: the edge cases' odd names (slugs that
    begin with ``_``, hashed slugs, names that are not UTF-8) still give an incremental build."""
    site = tmp_path / "site"
    build_site(edge_store, site, QUIET)
    again = build_site(edge_store, site, QUIET)
    assert again.up_to_date and again.built == 0
