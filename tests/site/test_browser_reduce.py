"""Reductions of array outputs in real Chromium over file://: trends.html draws ``/QPU/signal · mean``
(a ``[[reduce]]`` of a 1,000-sample array set per run) as one point per job, with its "Show data as
table" rows and the filter box; compare.html draws the example data's reductions and links each
job's workflow diff next to its workflow commit.

The trends store is written here with h5py (the expected numbers computed from the arrays read
back); the compare test uses the example data_store built with examples/catalog.toml."""

from __future__ import annotations

import json
import math
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import h5py
import numpy as np
import pytest
from playwright.sync_api import expect

from reportgen.site.build import BuildOptions, build_site
from tests.site.one_job_store import write_node, write_output, write_root_attrs
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
T0 = datetime(2023, 3, 1, 8, 0, 0, tzinfo=timezone.utc)
JOBS = 6
NAN_LAST = "j4"  # its last set is NaN only: no number to show as its last value
MEAN = "/QPU/signal \u00b7 mean"
CONFIG = '[[reduce]]\noutput = "/QPU/signal"\nhow = ["mean", "max"]\n'


def _signal(i: int) -> np.ndarray:
    """2 + i sets of 1,000 samples (a noisy tone), a few NaN in the first set."""
    t = np.linspace(0.0, 1.0, 1000)
    sets = np.array([np.sin(2 * np.pi * 5 * t) * (1 + k) + i for k in range(2 + i)])
    sets += np.random.default_rng(i).normal(scale=0.1, size=sets.shape)
    sets[0, ::97] = np.nan
    if f"j{i}" == NAN_LAST:
        sets[-1, :] = np.nan
    return sets


@pytest.fixture(scope="module")
def reduce_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reduce-browser")
    store = root / "store"
    for i in range(1, JOBS + 1):
        job = f"j{i}"
        (store / "p" / job).mkdir(parents=True)
        (store / "p" / job / "QPU.log").write_bytes(b"ok\n")
        with h5py.File(store / "p" / f"{job}.hdf5", "w") as f:
            write_root_attrs(f, job, (T0 + timedelta(days=i)).isoformat())
            write_output(write_node(f, "QPU"), "signal", _signal(i), units="V")
    (root / "reduce.toml").write_text(CONFIG)
    build_site(store, root / "site", BuildOptions(workers=1, show_progress=False, config_file=root / "reduce.toml"))
    return root


def _last_means(root: Path) -> dict[str, float]:
    """Job id -> the mean of its last set, from the arrays read back with h5py (NaN: no value)."""
    means = {}
    for i in range(1, JOBS + 1):
        with h5py.File(root / "store" / "p" / f"j{i}.hdf5", "r") as f:
            last = f["QPU"]["signal"][-1]
        finite = last[~np.isnan(last)]
        means[f"j{i}"] = float(finite.mean()) if finite.size else math.nan
    return means


def _open_trends(tab: Page, root: Path, hash_: str = "") -> None:
    tab.open(root / "site" / "p" / "trends.html", hash_)
    tab.page.wait_for_selector("body[data-trends=ready]", state="attached", timeout=15_000)


def test_trends_draws_a_point_per_job_for_the_mean_of_each_set(browser, reduce_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    _open_trends(tab, reduce_site)
    keys = tab.page.locator(".trends-output").evaluate_all("s => s.map(x => x.getAttribute('data-key'))")
    assert keys == ["/QPU/signal \u00b7 max", MEAN]  # the array itself is no output of its own here
    section = tab.page.locator(f".trends-output[data-key='{MEAN}']")
    assert section.locator("h3").inner_text() == "QPU / signal \u00b7 mean"
    assert section.locator(".trends-derived").inner_text() == "mean of each set of /QPU/signal (1,000 values a set)"
    box = section.locator(".trends-figure")
    box.scroll_into_view_if_needed()
    box.locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    points = box.evaluate("""box => box.data.filter(t => t.mode === 'markers').flatMap(t =>
        t.y.map((y, i) => [t.customdata[i], y]))""")
    want = _last_means(reduce_site)
    drawn = {href.removesuffix(".html"): y for href, y in points}
    assert set(drawn) == set(want)  # every job is in the data; the one without a number has no marker
    assert drawn[NAN_LAST] is None
    assert box.locator(".scatterlayer path.point").count() == JOBS - 1
    for job, y in drawn.items():
        if job != NAN_LAST:
            assert y == pytest.approx(want[job], rel=1e-12)
    assert "1 job has no number to show" in section.inner_text()

    section.locator("button.figure-table-toggle").click()  # "Show data as table": a row per job, oldest first
    rows = section.locator("table.figure-data").evaluate("t => [...t.rows].map(r => [...r.cells].map(c => c.textContent))")
    assert rows[0] == ["job", "end (UTC)", "last value (V)", "status"]
    assert [r[0] for r in rows[1:]] == [f"j{i}" for i in range(1, JOBS + 1)]
    assert rows[1 + int(NAN_LAST[1:]) - 1][2] == "(not a number)"
    assert float(rows[1][2]) == pytest.approx(want["j1"], rel=1e-12)
    assert tab.errors == [] and tab.dialogs == []
    tab.page.close()


def test_the_filter_box_finds_a_reduction_by_its_name(browser, reduce_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    _open_trends(tab, reduce_site, "#jobs=200&y=mean&q=MEAN")
    assert tab.page.locator(".trends-output").evaluate_all("s => s.map(x => x.getAttribute('data-key'))") == [MEAN]
    assert tab.page.inner_text("#trends-count") == "Showing 1 of 1 outputs whose name holds \u201CMEAN\u201D (of 2)."
    box = tab.page.locator(".trends-output .trends-figure")
    box.locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    ys = box.evaluate("box => box.data.filter(t => t.mode === 'markers').flatMap(t => t.y)")
    assert len([y for y in ys if y is not None]) == JOBS  # the mean of each job's set means: every job has one
    tab.page.fill("#trends-filter", "signal")
    expect(tab.page.locator(".trends-output")).to_have_count(2)  # after the debounce
    assert tab.errors == [] and tab.dialogs == []
    tab.page.close()


# ----------------------------------------------------------------- compare: the example data
@pytest.fixture(scope="module")
def example_site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reduce-compare")
    build_site(example_store, root / "site", BuildOptions(show_progress=False, config_file=EXAMPLES / "catalog.toml"))
    return root / "site"


def _data(path: Path) -> dict:
    text = path.read_text()
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def test_compare_draws_the_reductions_and_links_each_jobs_workflow_diff(browser, example_site: Path) -> None:  # noqa: F811
    project = example_site / "default_project"
    slugs = sorted(p.name.removesuffix("~compare.js") for p in project.glob("*~compare.js"))[:3]
    tab = Page(browser)
    tab.open(project / "compare.html", "#jobs=" + ",".join(slugs))
    tab.page.wait_for_selector("body[data-compare='ready']", state="attached", timeout=10_000)

    key = "/final_report/estimated_parameter \u00b7 ptp"
    section = tab.page.locator(".compare-output").filter(has=tab.page.locator("p.meta", has_text=key))
    assert section.locator(".compare-derived").inner_text() == (
        "peak-to-peak (maximum \u2212 minimum) of each set of /final_report/estimated_parameter (100 values a set)")
    box = section.locator(".compare-figure")
    box.scroll_into_view_if_needed()
    box.locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    assert box.evaluate("box => box.data.length") == len(slugs)  # a line per job

    if tab.page.is_checked("#compare-only-diff"):  # the commit row may be the same for these jobs
        tab.page.uncheck("#compare-only-diff")
    row = tab.page.locator("#compare-table tr[data-key='workflow commit']")
    links = row.locator("a.compare-diff-link")
    assert links.count() == len(slugs)
    for i, slug in enumerate(slugs):
        href = links.nth(i).get_attribute("href")
        assert href == _data(project / f"{slug}~compare.js")["workflow_diff"] == f"{slug}~workflow-diff.html"
        assert (project / href).is_file()
    assert links.first.inner_text() == "workflow diff"
    links.first.click()
    tab.page.wait_for_url(f"**/default_project/{slugs[0]}~workflow-diff.html")
    assert "workflow" in tab.page.title().lower()
    assert tab.errors == [] and tab.dialogs == []
    tab.page.close()


def test_a_job_without_a_workflow_diff_gets_no_link(browser, example_site: Path, tmp_path: Path) -> None:  # noqa: F811
    """A data file whose workflow_diff is "" or not of the build's form (edited, hostile) gives no link."""
    site = tmp_path / "site"
    shutil.copytree(example_site, site)
    project = site / "default_project"
    slugs = sorted(p.name.removesuffix("~compare.js") for p in project.glob("*~compare.js"))[:2]
    for slug, value in zip(slugs, ["", "javascript:alert(1)"]):
        path = project / f"{slug}~compare.js"
        path.write_text(path.read_text().replace(f'"workflow_diff":"{slug}~workflow-diff.html"',
                                                 f'"workflow_diff":{json.dumps(value)}'))
        assert _data(path)["workflow_diff"] == value
    tab = Page(browser)
    tab.open(project / "compare.html", "#jobs=" + ",".join(slugs))
    tab.page.wait_for_selector("body[data-compare='ready']", state="attached", timeout=10_000)
    tab.page.uncheck("#compare-only-diff")
    row = tab.page.locator("#compare-table tr[data-key='workflow commit']")
    assert row.count() == 1 and row.locator("a").count() == 0
    assert tab.errors == [] and tab.dialogs == []
    tab.page.close()
