"""The home page says when: per project its latest run and its latest failure, linked, with their
times (from the data, never the build's clock: the page stays byte-identical across builds)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, build_site
from reportgen.site.contexts import CatalogRow, build_row_values
from reportgen.site.feeds import build_latest_runs
from reportgen.site.manifest import load_manifest


def row(job_id: str, end: str, status: str = "ok", start: str = "") -> tuple:
    return build_row_values(CatalogRow(job_id, f"{job_id}.html", "", end, start, status, 1, 1, "", "", 0))


def test_the_newest_run_and_the_newest_failure_by_end_time_then_natural_id() -> None:
    rows = [
        row("j2", "2022-06-25 10:00:00", "failed-nodes"),
        row("j9", "2022-06-26 08:00:00"),
        row("j10", "2022-06-26 08:00:00"),  # the same second as j9: j10 comes after j9 (natural order)
        row("j3", "2022-06-25 12:00:00", "corrupt"),
        row("j4", "2022-06-24 09:00:00", "incomplete"),
        row("j5", "", "no-data"),  # no time at all: never "latest", it could be any age
    ]
    newest, failing = build_latest_runs(rows)
    assert newest[0] == "j10" and failing[0] == "j3"


def test_an_approximate_start_stands_in_for_a_missing_end_and_none_fail() -> None:
    newest, failing = build_latest_runs([row("a", "2022-06-25 10:00:00"), row("b", "", "unknown", "2022-06-25 11:00:00")])
    assert newest[0] == "b" and failing is None
    assert build_latest_runs([]) == (None, None)
    assert build_latest_runs([row("c", "")]) == (None, None)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp("home-latest")
    write_example(root / "data_store", seed=0, jobs_per_project=6)
    build_site(root / "data_store", root / "site", BuildOptions(workers=1, show_progress=False))
    return root / "site"


CELL = re.compile(r'<td><a href="([^"]+)">([^<]+)</a> <span class="when">(?:<time datetime="[^"]+">)?([^<]+)(?:</time>)?</span> '
                  r'<span class="status status-([a-z-]+)">')


def test_each_project_row_links_its_latest_run_and_failure(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Latest run <span data-tz>(UTC)</span>" in home and "Latest failure <span data-tz>(UTC)</span>" in home
    manifest = load_manifest(site)[0]
    checked_failures = 0
    for folder, entries in manifest.jobs.items():
        slug = manifest.projects[folder]["slug"]
        rows = [CatalogRow(*entry.row) for entry in entries.values()]
        line = next(line for line in home.splitlines() if f'href="{slug}/index.html"' in line)
        cells = CELL.findall(line)
        newest = max(rows, key=lambda r: r.end)  # the example's end times are distinct
        assert cells[0] == (f"{slug}/{newest.href}", newest.id, newest.end, newest.status)
        failing = [r for r in rows if r.status in ("failed-nodes", "incomplete", "corrupt")]
        if failing:
            latest = max(failing, key=lambda r: r.end)
            assert cells[1] == (f"{slug}/{latest.href}", latest.id, latest.end, latest.status)
            checked_failures += 1
        else:
            assert len(cells) == 1 and '<span class="none">none</span>' in line
        for href, *_ in cells:
            assert (site / href).is_file(), href
    assert checked_failures  # the example has failed jobs: the failure column was really checked
