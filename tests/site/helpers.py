"""Helpers of the site tests: a writable copy of a data_store, and a tree digest minus timings."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

from tests.invariants import tree_digest


def writable_copy(store: Path, target: Path) -> Path:
    """A copy we may touch (the session stores are read-only); mtimes kept."""
    shutil.copytree(store, target, symlinks=True)
    for path in [target, *target.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return target


def site_digest(site: Path) -> dict[str, str]:
    """sha256 of every file, build-report.json without its timings (the one varying field)."""
    digest = {name: value[0] for name, value in tree_digest(site).items()}
    report = json.loads((site / "build-report.json").read_text())
    report.pop("timings")
    for key in ("built", "kept", "removed", "repaired"):  # how the same site was reached, not what it is
        report["counts"].pop(key)
    report.pop("up_to_date")
    digest["build-report.json"] = json.dumps(report, sort_keys=True)
    return digest


def write_catalog_page(folder: Path, rows: list) -> Path:
    """A site of one project whose catalog holds ``rows`` (``contexts.CatalogRow``), written
    straight from the renderers (no data_store needed for thousands of rows); its index.html."""
    from reportgen.site.build import write_assets
    from reportgen.site.contexts import build_project_context
    from reportgen.site.render import render_catalog_js, render_project

    write_assets(folder)
    (folder / "p").mkdir()
    (folder / "p" / "catalog-data.js").write_text(render_catalog_js("p", rows))
    (folder / "p" / "index.html").write_text(render_project(build_project_context("p", rows, ())))
    return folder / "p" / "index.html"
