"""Times in UTC or local, in Chromium with a zone of its own (Europe/Moscow: +03:00 all year since
2014): the header's button switches every page's times and zone labels, the catalog keeps it
through sorting and paging, a reload keeps the choice; the catalog's Duration column and the
status filter's counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, build_site
from reportgen.site.contexts import CatalogRow, format_duration
from tests.site.helpers import write_catalog_page
from tests.site.test_browser import WATCH_CSP, browser  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
ZONE = "Europe/Moscow"


class Tab:
    """A tab in a context whose clock is in ZONE, recording console errors and CSP violations."""

    def __init__(self, context) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.add_init_script(WATCH_CSP)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, path: Path, hash_: str = "") -> None:
        self.page.goto(path.resolve().as_uri() + hash_)
        self.page.wait_for_load_state("load")

    def times(self, scope: str = "") -> list[str]:
        return self.page.locator(f"{scope} time".strip()).all_inner_texts()

    def zones(self) -> list[str]:
        return self.page.locator("[data-tz]").all_inner_texts()


@pytest.fixture()
def tab(browser):  # noqa: F811
    context = browser.new_context(timezone_id=ZONE)
    yield Tab(context)
    context.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp("times-browser")
    write_example(root / "data_store", seed=0, jobs_per_project=2)
    build_site(root / "data_store", root / "site", BuildOptions(workers=1, show_progress=False))
    return root / "site"


def moscow(utc: str) -> str:
    """A UTC text of the build in Moscow's zone, as times.js writes it (2022: +03:00)."""
    from datetime import datetime, timedelta

    moment = datetime.fromisoformat(utc) + timedelta(hours=3)
    return moment.isoformat(" ") + " +03:00"


def utc_texts(tab: Tab) -> list[str]:
    """What each <time> says in UTC: its datetime attribute as the build writes it."""
    return [t[:-1].replace("T", " ") for t in tab.page.eval_on_selector_all("time", "ts => ts.map(t => t.getAttribute('datetime'))")]


def test_utc_by_default_local_on_click_kept_on_reload_and_back(site: Path, tab: Tab) -> None:
    tab.open(site / "index.html")
    button = tab.page.locator("#times-toggle")
    assert button.inner_text() == "UTC" and "UTC+03:00" in button.get_attribute("title")
    assert tab.times() == utc_texts(tab) and tab.times()  # the build's texts, untouched
    assert tab.zones() == ["(UTC)", "(UTC)"]
    button.click()
    assert button.inner_text() == "Local" and "click for UTC" in button.get_attribute("aria-label")
    assert tab.times() == [moscow(t) for t in utc_texts(tab)]
    assert tab.zones() == [f"(local, {ZONE})"] * 2
    tab.page.reload()
    tab.page.wait_for_load_state("load")
    assert tab.page.locator("#times-toggle").inner_text() == "Local" and tab.times() == [moscow(t) for t in utc_texts(tab)]
    job = next(p for p in (site / "default_project").glob("j*.html") if "~" not in p.name)
    tab.open(job)
    assert len(tab.times()) >= 4 and tab.times() == [moscow(t) for t in utc_texts(tab)]
    start = tab.page.locator("table.kv tr", has_text="start time").first.inner_text()
    assert f"start time (local, {ZONE})" in start and "(approx., from" in start  # the approximation stays said
    tab.page.locator("#times-toggle").click()
    assert tab.times() == utc_texts(tab) and "end time (UTC)" in tab.page.locator("table.kv").first.inner_text()
    assert tab.errors == []


def test_compare_shows_its_times_local(site: Path, tab: Tab) -> None:
    slugs = sorted(p.stem for p in (site / "default_project").glob("j*.html") if "~" not in p.name)[:2]
    tab.open(site / "default_project" / "index.html")
    tab.page.locator("#times-toggle").click()
    tab.open(site / "default_project" / "compare.html", "#jobs=" + ",".join(slugs))
    tab.page.wait_for_selector("body[data-compare=ready]")
    tab.page.uncheck("#compare-only-diff")
    assert len(tab.times()) == 6  # "ended" of each job, then end and start of each in the table
    assert tab.times() == [moscow(t) for t in utc_texts(tab)]
    keys = tab.page.locator("#compare-table tbody th").all_inner_texts()
    assert any(k.endswith(f"end time (local, {ZONE})") for k in keys)
    assert any(k.endswith(f"start time (local, {ZONE}, approx.)") for k in keys)
    assert tab.errors == []


def row(i: int, end: str, start: str, status: str = "ok") -> CatalogRow:
    return CatalogRow(f"j{i}", f"j{i}.html", "", end, start, status, 1, 1, "", "", 0)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 jobs (two pages): durations of 10 s, 3 min 12 s, 2 h 05 min, a start after the end and a
    missing start; statuses ok (57) and failed-nodes (3)."""
    rows = [row(1, "2022-06-25 12:00:10", "2022-06-25 12:00:00"), row(2, "2022-06-25 12:03:12", "2022-06-25 12:00:00"),
            row(3, "2022-06-25 14:05:00", "2022-06-25 12:00:00", "failed-nodes"),
            row(4, "2022-06-25 12:41:05", "2022-06-25 12:52:14"), row(5, "2022-06-25 12:00:00", "")]
    rows += [row(i, f"2022-06-2{i % 3} 0{i % 10}:00:00", f"2022-06-2{i % 3} 0{i % 10}:00:00",
                 "failed-nodes" if i in (8, 9) else "ok") for i in range(6, 61)]
    return write_catalog_page(tmp_path_factory.mktemp("times-catalog"), rows)


def cells(tab: Tab, column: int) -> list[str]:
    return tab.page.eval_on_selector_all(f"#catalog-table tbody tr td:nth-child({column})", "ts => ts.map(t => t.textContent)")


def test_the_catalog_stays_local_after_sorting_and_paging(catalog: Path, tab: Tab) -> None:
    tab.open(catalog)
    heads = tab.page.locator("#catalog-table thead th").all_inner_texts()
    assert heads[:5] == ["Job", "Description", "End (UTC)", "Start, approx. (UTC)", "Duration"]
    tab.page.locator("#times-toggle").click()
    assert tab.page.locator("#catalog-table thead th").all_inner_texts()[2] == f"End (local, {ZONE})"
    assert tab.times() == [moscow(t) for t in utc_texts(tab)] and len(tab.times()) > 50
    tab.page.click("button[data-sort=end]")  # a redraw: new cells, still local
    assert tab.page.evaluate("location.hash").startswith("#sort=end&dir=asc")
    assert tab.times() == [moscow(t) for t in utc_texts(tab)]
    assert cells(tab, 3)[0] == moscow("2022-06-20 00:00:00")  # sorted on the UTC values
    tab.page.click("button[data-pager=next]")
    assert tab.times() and tab.times() == [moscow(t) for t in utc_texts(tab)]
    tab.page.fill("#catalog-search", "2022-06-25 12:00")  # the search is on the UTC texts too
    for _ in range(50):  # wait_for_function would need 'unsafe-eval', which the CSP forbids
        if tab.page.locator("#catalog-table tbody tr").count() == 4:
            break
        tab.page.wait_for_timeout(50)
    assert tab.page.locator("#catalog-table tbody tr").count() == 4
    tab.page.locator("#times-toggle").click()
    assert tab.times() == utc_texts(tab)
    assert tab.errors == []


def test_duration_column_says_the_job_pages_text_and_sorts_by_seconds(catalog: Path, tab: Tab) -> None:
    tab.open(catalog, "#sort=duration&dir=asc&q=2022-06-25")
    ids, durations = cells(tab, 1), cells(tab, 5)
    assert ids == ["j4", "j1", "j2", "j3", "j5"]  # negative first, empty last
    assert durations == ["\u26a0 start after end", format_duration(10), format_duration(192), format_duration(7500), ""]
    assert durations[1:4] == ["10 s", "3 min 12 s", "2 h 05 min"]
    tab.open(catalog, "#sort=duration&dir=desc&q=2022-06-25")
    assert cells(tab, 1) == ["j3", "j2", "j1", "j4", "j5"]  # empty last either way
    tab.open(catalog, "#hide=duration")  # the chooser hides it like any column
    assert "Duration" not in tab.page.locator("#catalog-table thead th").all_inner_texts()
    assert tab.errors == []


def test_the_status_filter_counts_and_lists_only_statuses_some_job_has(catalog: Path, tab: Tab) -> None:
    tab.open(catalog)
    options = tab.page.locator("#catalog-status > option").all_inner_texts()
    assert options == ["all", "ok (57)", "failed-nodes (3)"]
    tab.page.select_option("#catalog-status", "failed-nodes")
    assert sorted(cells(tab, 1)) == ["j3", "j8", "j9"]
    tab.open(catalog, "#status=corrupt")  # an old link naming a status no job has: none, not all
    assert tab.page.input_value("#catalog-status") == "corrupt"
    assert tab.page.locator("#catalog-table tbody tr").count() == 0
    assert tab.page.locator("#catalog p.empty").inner_text().startswith("No job matches.")
    tab.open(catalog, "#status=nonsense")  # no status at all: all jobs, as before
    assert tab.page.input_value("#catalog-status") == "" and "60 of 60 jobs" in tab.page.inner_text("#catalog-info")
    assert tab.errors == []


def test_an_unreadable_datetime_keeps_its_text(catalog: Path, tab: Tab) -> None:
    tab.open(catalog)
    tab.page.locator("#times-toggle").click()
    texts = tab.page.evaluate("""() => ['garbage', '2022-02-30T10:00:00Z', '2022-06-25T12:00:00+03:00', '1999-01-01T00:00:00Z']
      .map(iso => { const t = document.createElement('time'); t.setAttribute('datetime', iso); t.textContent = 'as built';
                    document.body.appendChild(t); window.reportgenTimes.apply(document.body); return t.textContent; })""")
    assert texts == ["as built", "as built", "as built", "1999-01-01 03:00:00 +03:00"]  # local mode: a real one still moves
    assert tab.errors == []
