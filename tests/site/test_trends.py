"""Trends across jobs: ``<project>/trends.html`` draws, in Chromium over file://, one point per job
(its end time, the output's last value) from the catalog's rows and the jobs' ``~compare.js`` files;
the build only adds the page, its script and the links to it."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import h5py
import numpy as np
import pytest
from playwright.sync_api import expect

from reportgen.site.build import PROJECT_FILES, STATIC_FILES, BuildOptions, build_site
from reportgen.site.paths import build_slug
from tests.site.one_job_store import write_node, write_output, write_root_attrs
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

HOSTILE = "<img src=x onerror=alert(1)>&amp;\u2028"  # an output name: no "/" (an HDF5 path separator)
T0 = datetime(2023, 3, 1, 8, 0, 0, tzinfo=timezone.utc)
JOBS = 7
FAILED = "j3"  # its log ends in a traceback
GONE = "j5"  # its data file is deleted from the built site


def _values(i: int) -> np.ndarray:
    return np.random.default_rng(i).normal(size=5 + i) * 10 + i


def _end(i: int) -> datetime:
    return T0 + timedelta(days=i, hours=i)


def _write_store(root: Path) -> Path:
    store = root / "store"
    for i in range(1, JOBS + 1):
        job = f"j{i}"
        (store / "p" / job).mkdir(parents=True)
        log = b"start\nTraceback (most recent call last):\nValueError: x\n" if job == FAILED else b"ok\n"
        (store / "p" / job / "n.log").write_bytes(log)
        with h5py.File(store / "p" / f"{job}.hdf5", "w") as f:
            write_root_attrs(f, job, _end(i).isoformat())
            node = write_node(f)
            write_output(node, "volt", _values(i), units="V")
            write_output(node, HOSTILE, np.arange(3, dtype=np.float64) + i)
    return store


@pytest.fixture(scope="module")
def trends_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trends")
    build_site(_write_store(root), root / "site", BuildOptions(workers=1, show_progress=False))
    (root / "site" / "p" / f"{GONE}~compare.js").unlink()
    return root / "site"


def _expected_points(site: Path, output: str) -> dict[str, tuple[str, float]]:
    """Job id -> (end time as the catalog shows it, the output's last value), read back with h5py."""
    store = site.parent / "store"
    points = {}
    for i in range(1, JOBS + 1):
        with h5py.File(store / "p" / f"j{i}.hdf5", "r") as f:
            end = datetime.fromisoformat(f.attrs["creation_timestamp"]).astimezone(timezone.utc)
            points[f"j{i}"] = (end.strftime("%Y-%m-%d %H:%M:%S"), float(f["n"][output][-1]))
    return points


# ---------------------------------------------------------------- the build
def test_trends_is_a_reserved_slug_and_a_project_file() -> None:
    assert build_slug("trends") != "trends" and build_slug("trends.x").startswith("trends.x-")
    assert "trends.html" in PROJECT_FILES and "trends.js" in STATIC_FILES


def test_each_project_has_a_trends_page_owned_by_it_and_linked(trends_site: Path) -> None:
    manifest = json.loads((trends_site / "build-manifest.json").read_text())
    assert "p/trends.html" in manifest["projects"]["p"]["files"]["files"]
    page = (trends_site / "p" / "trends.html").read_text()
    catalog = (trends_site / "p" / "index.html").read_text()
    data_js = catalog.split('<script src="catalog-data.js?v=')[1].split('"')[0]
    assert f'<script src="catalog-data.js?v={data_js}"></script>' in page  # the catalog's rows, as fresh as its page
    assert '<script src="../assets/trends.js"></script>' in page and (trends_site / "assets" / "trends.js").is_file()
    assert 'href="trends.html"' in catalog
    assert 'href="p/trends.html"' in (trends_site / "index.html").read_text()


# ---------------------------------------------------------------- in Chromium
def _open(tab: Page, site: Path, hash_: str = "", state: str = "ready") -> None:
    tab.open(site / "p" / "trends.html", hash_)
    tab.page.wait_for_selector(f"body[data-trends={state}]", state="attached", timeout=15_000)


def _figure(tab: Page, key: str):
    section = tab.page.locator(".trends-output").filter(has=tab.page.locator("p.meta", has_text=key)).first
    box = section.locator(".trends-figure")
    box.scroll_into_view_if_needed()
    box.locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    return section, box


def _markers(box) -> dict[str, list]:
    """Status -> [[x, y, href, symbol], ...] of the figure's marker traces."""
    return box.evaluate("""box => Object.fromEntries(box.data.filter(t => t.mode === 'markers').map(t =>
        [t.name, t.x.map((x, i) => [x, t.y[i], t.customdata[i], t.marker.symbol])]))""")


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_points_are_each_jobs_last_value_at_its_end_time_marked_by_status(browser, trends_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    _open(tab, trends_site)
    assert tab.page.evaluate("location.hash") == "#jobs=200"  # the default, spelled out
    assert tab.page.inner_text("#trends-status-box") == f"Loaded {JOBS} of {JOBS}"
    notes = tab.page.inner_text("#trends-notes")
    assert f"No data file for 1 of the {JOBS} jobs" in notes and notes.endswith(f": {GONE}.")
    assert "failed-nodes 1" in tab.page.inner_text("#trends-counts")

    section, box = _figure(tab, "/n/volt")
    expected = _expected_points(trends_site, "volt")
    markers = _markers(box)
    drawn = {href.removesuffix(".html"): (x, y, symbol) for status in markers for x, y, href, symbol in markers[status]}
    assert set(drawn) == set(expected) - {GONE}
    for job, (x, y, _) in drawn.items():
        assert (x, pytest.approx(y, rel=1e-12)) == expected[job]
    assert [p[2] for p in markers["failed-nodes"]] == [f"{FAILED}.html"] and drawn[FAILED][2] == "x"
    assert {drawn[j][2] for j in drawn if j != FAILED} == {"circle"}
    assert "not in 1 of the 6 jobs" not in section.inner_text()  # every loaded job has it

    hostile, hostile_box = _figure(tab, HOSTILE)  # found by its text: the name stayed text
    assert hostile.locator("h3").evaluate("h => h.textContent") == "n / " + HOSTILE
    assert tab.page.locator("#main img").count() == 0
    assert all("<img" not in t for t in hostile_box.evaluate("box => box.data.map(t => t.name + (t.hovertext || []).join())"))
    assert [p[1] for p in _markers(hostile_box)["ok"]] == [2.0 + i for i in range(1, JOBS + 1) if f"j{i}" not in (FAILED, GONE)]

    before = box.evaluate("box => box._fullLayout.paper_bgcolor")
    tab.page.click("#theme-toggle")  # the plotly colours follow the theme
    assert box.evaluate("box => box._fullLayout.paper_bgcolor") != before
    assert tab.page.locator("#trends-summary-figure").evaluate("box => box._fullLayout.paper_bgcolor") != before

    box.evaluate("box => box.emit('plotly_click', {points: [{customdata: 'javascript:alert(1)'}]})")  # not a job page
    box.evaluate(f"box => box.emit('plotly_click', {{points: [{{customdata: '{FAILED}.html'}}]}})")
    tab.page.wait_for_url(f"**/p/{FAILED}.html")
    assert [e for e in tab.errors if "Failed to load resource" not in e] == [] and tab.dialogs == []
    tab.page.close()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_the_view_lives_in_the_hash_and_filters_outputs_and_jobs(browser, trends_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    _open(tab, trends_site, "#jobs=7&status=failed-nodes&y=mean&band=1&q=VOLT")
    assert tab.page.evaluate("location.hash") == "#jobs=200&status=failed-nodes&y=mean&band=1&q=VOLT"  # 7: not a choice
    assert tab.page.input_value("#trends-status") == "failed-nodes" and tab.page.is_checked("#trends-band")
    assert tab.page.locator(".trends-output").count() == 1  # the filter is a substring of the name, any case
    _, box = _figure(tab, "/n/volt")
    assert list(_markers(box)) == ["failed-nodes"]
    values = _values(int(FAILED[1:]))
    assert _markers(box)["failed-nodes"][0][1] == pytest.approx(values.mean())
    band = box.evaluate("box => box.data.filter(t => t.fill === 'tonexty').map(t => t.y)")
    assert band == [[pytest.approx(values.min())]]

    tab.page.fill("#trends-filter", "")
    expect(tab.page).to_have_url(re.compile(r"#jobs=200&status=failed-nodes&y=mean&band=1$"))  # after the debounce
    assert tab.page.locator(".trends-output").count() == 2
    tab.page.select_option("#trends-y", "last")
    tab.page.select_option("#trends-status", "")
    tab.page.wait_for_selector("body[data-trends=ready]", state="attached")
    assert tab.page.evaluate("location.hash") == "#jobs=200&band=1"
    tab.page.fill("#trends-filter", "no such output")
    tab.page.wait_for_selector("text=No output name holds")
    assert tab.page.locator("#trends-figures .trends-figure").count() == 0

    tab.page.evaluate("location.hash = '#jobs=50&status=corrupt'")  # an edited address redraws the page
    tab.page.wait_for_selector("body[data-trends=empty]", state="attached")
    assert "No job to show with status corrupt" in tab.page.inner_text("#trends-notes")
    assert tab.page.input_value("#trends-jobs") == "50" and tab.page.input_value("#trends-filter") == ""
    assert [e for e in tab.errors if "Failed to load resource" not in e] == [] and tab.dialogs == []
    tab.page.close()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_only_the_latest_jobs_are_loaded_and_missing_files_are_counted(browser, trends_site: Path,  # noqa: F811
                                                                      tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(trends_site, site)
    catalog = site / "p" / "catalog-data.js"
    prefix = "window.REPORTGEN_CATALOG = "
    data = json.loads(catalog.read_text().removeprefix(prefix).removesuffix(";\n"))
    at = {name: i for i, name in enumerate(data["columns"])}
    for n in range(60):  # older jobs whose data files were never built, and one with no end time
        row = list(data["rows"][0])
        row[at["id"]], row[at["href"]] = f"old{n:02d}", f"old{n:02d}.html"
        row[at["end"]] = "" if n == 59 else (T0 - timedelta(days=n + 1)).strftime("%Y-%m-%d %H:%M:%S")
        data["rows"].append(row)
    catalog.write_text(prefix + json.dumps(data) + ";\n")
    tab = Page(browser)
    _open(tab, site, "#jobs=50")
    assert tab.page.inner_text("#trends-status-box") == "Loaded 50 of 50"
    notes = tab.page.inner_text("#trends-notes")
    assert "1 job has no end time and is left out." in notes  # one job: singular (review s23 F11)
    named = [f"old{n:02d}" for n in range(19)]  # the newest first of the old ones, after the real missing one
    assert f"No data file for 44 of the 50 jobs" in notes and f"{GONE}, {', '.join(named)} and 24 more." in notes
    _, box = _figure(tab, "/n/volt")
    assert sum(len(v) for v in _markers(box).values()) == JOBS - 1
    tab.page.close()
