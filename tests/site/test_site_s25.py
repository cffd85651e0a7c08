"""Session 25's review of the site's readers (review U), what the build writes: a project's jobs as
plain HTML for a reader without JavaScript (runs.html, and the newest 50 in the catalog's
<noscript>), never a job's slug, kept by incremental builds, the sitemap and --precompress as the
catalog is (finding 07); the controls that need scripts marked js-only (07); a figure box that says
what it needs without scripts, role=group rather than an image holding the mode bar (06, 09); a
"Skip past this log" link and its target in every log (13). The browser side is in
tests/site/test_browser_s25.py."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, build_site
from reportgen.site.contexts import NOSCRIPT_JOBS, CatalogRow, build_job_links
from reportgen.site.manifest import load_manifest
from reportgen.site.paths import build_slug, build_slugs
from tests.invariants import run_cli


@pytest.fixture(scope="module")
def site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s25-site")
    build_site(example_store, root / "site", BuildOptions(show_progress=False, precompress=("gz",)))
    return root / "site"


def _catalog_rows(site: Path, project: str) -> list[dict]:
    text = (site / project / "catalog-data.js").read_text()
    data = json.loads(text[text.index("=") + 1:].rstrip().rstrip(";"))
    return [dict(zip(data["columns"], row)) for row in data["rows"]]


class _Links(HTMLParser):
    """The rows of a job list table: [href, status, end] of each <tr class="row-link">."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("class") == "row-link":
            self.rows.append([])
        elif tag == "a" and self.rows and not self.rows[-1]:
            self.rows[-1].append(attrs["href"])
        elif tag == "td" and self.rows and self.rows[-1]:
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None


def _list_rows(html: str) -> list[list[str]]:
    parser = _Links()
    parser.feed(html)
    return parser.rows


def test_runs_html_lists_every_job_latest_first_as_plain_links(site: Path) -> None:
    for project in ("default_project", "qpu_bench", "ion_trap_scan"):
        page = (site / project / "runs.html").read_text(encoding="utf-8")
        assert "<script" not in page.split("</header>", 1)[1].split("<footer", 1)[0]  # the list itself needs none
        rows = _catalog_rows(site, project)
        listed = _list_rows(page)
        newest_first = sorted(rows, key=lambda r: r["end"], reverse=True)
        assert [r[0] for r in listed] == [r["href"] for r in newest_first]  # the example's ends are distinct
        assert [r[1] for r in listed] == [r["status"] for r in newest_first]
        assert [r[2] for r in listed] == [r["end"] for r in newest_first]
        assert all((site / project / r[0]).is_file() for r in listed)


def test_the_catalogs_noscript_holds_the_newest_jobs_and_links_to_all(site: Path) -> None:
    page = (site / "default_project" / "index.html").read_text(encoding="utf-8")
    noscript = page.split('<div id="catalog" class="catalog" data-empty="No job matches.">\n<noscript>', 1)[1].split("</noscript>", 1)[0]
    assert '<a href="runs.html">' in noscript
    runs = _list_rows((site / "default_project" / "runs.html").read_text(encoding="utf-8"))
    assert _list_rows(noscript) == runs[:NOSCRIPT_JOBS]


def test_job_links_order_ties_by_natural_id_and_puts_jobs_without_an_end_last() -> None:
    def row(job_id: str, end: str) -> CatalogRow:
        return CatalogRow(job_id, f"{job_id}.html", "", end, "", "ok", 0, 0, "", "", 0)

    rows = [row("j10", "2022-01-02 00:00:00"), row("x", ""), row("j9", "2022-01-02 00:00:00"),
            row("j1", "2022-01-03 00:00:00"), row("a", "")]
    assert [link.id for link in build_job_links(rows)] == ["j1", "j9", "j10", "a", "x"]
    assert build_job_links(rows) == build_job_links(list(reversed(rows)))  # the rows' order never shows


def test_no_job_can_own_the_name_of_the_plain_list() -> None:
    assert build_slug("runs") != "runs" and build_slug("runs.x") != "runs.x"
    assert "runs" not in build_slugs(["runs", "runs-1", "r"]).values()


def test_runs_html_is_a_project_file_of_the_manifest_precompressed_and_repaired(site: Path, example_store: Path,
                                                                                  tmp_path: Path) -> None:
    manifest, _ = load_manifest(site)
    for name, project in manifest.projects.items():
        files = project["files"]["files"]
        assert f"{project['slug']}/runs.html" in files, name
        if (site / project["slug"] / "runs.html").stat().st_size >= 1024:
            assert f"{project['slug']}/runs.html.gz" in files
    # a copy of the site whose list was deleted by hand: the next build puts it back, as for the catalog
    copy = tmp_path / "site"
    assert run_cli("build", example_store, "-o", copy).code == 0
    before = (copy / "default_project" / "runs.html").read_bytes()
    (copy / "default_project" / "runs.html").unlink()
    run = run_cli("build", example_store, "-o", copy)
    assert run.code == 0 and "1 repaired" in run.stdout, run.stdout
    assert (copy / "default_project" / "runs.html").read_bytes() == before


def test_controls_that_need_scripts_are_marked_and_figures_say_what_they_need(site: Path) -> None:
    job = (site / "default_project" / "j1.html").read_text(encoding="utf-8")
    for control in ('id="theme-toggle" class="theme-toggle js-only"', 'id="times-toggle" class="times-toggle js-only"'):
        assert control in job
    catalog = (site / "default_project" / "index.html").read_text(encoding="utf-8")
    assert 'class="catalog-controls js-only" id="catalog-controls"' in catalog
    assert 'class="compare-bar js-only" id="compare-bar"' in catalog
    boxes = re.findall(r'<div class="figure"[^>]*>(.*?)</div>', job)
    assert boxes and all("<noscript>" in box and "JavaScript" in box for box in boxes)
    assert 'role="img"' not in job  # the box holds the mode bar: it is a group; render.js labels the drawing
    assert len(re.findall(r'<div class="figure"[^>]* role="group" aria-label="Plot of ', job)) == len(boxes)


def test_every_log_has_a_skip_link_to_a_place_after_it(site: Path) -> None:
    job = (site / "default_project" / "j1.html").read_text(encoding="utf-8")
    logs = re.findall(r'<details class="log" id="log-([^"]+)"', job)
    assert logs
    for anchor in logs:
        assert f'<a class="log-skip" href="#end-of-log-{anchor}">Skip past this log</a>' in job
        after = job.split(f'id="log-{anchor}"', 1)[1].split("</details>", 1)[1]
        assert after.startswith(f'<span class="log-end" id="end-of-log-{anchor}" tabindex="-1"></span>')
