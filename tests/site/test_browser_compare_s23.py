"""Session 23's review of compare and trends, in real Chromium over file://: changed log lines sit
side by side (F6); "Only differences" leaves out the attributes that name the run or repeat a row
above, and lists parameters before logs and attributes (F5); a compare of several runs opens its
log pane on the failed one, and field names wrap between their keys, not inside a word (F12);
trends keeps a from/to range of end days in its address (F3).

The example data_store (6 jobs a project, at least one failed with a traceback in correction_1),
built once with examples/catalog.toml.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WIDE = {"width": 1280, "height": 800}
MIRRORS = ["@creation_timestamp", "@job_description", "@job_eui", "@parameters_commit", "@workflow_commit"]


@pytest.fixture(scope="module")
def site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("compare-s23")
    build_site(example_store, root / "site", BuildOptions(show_progress=False, config_file=EXAMPLES / "catalog.toml"))
    return root / "site"


def _data(path: Path) -> dict:
    text = path.read_text()
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def _rows(site: Path, project: str = "default_project") -> list[dict]:
    text = (site / project / "catalog-data.js").read_text()
    data = json.loads(text[text.index("=") + 1:].rstrip().rstrip(";"))
    return sorted((dict(zip(data["columns"], row)) for row in data["rows"]), key=lambda r: r["end"])


def _failed_and_fine(site: Path) -> tuple[str, list[str]]:
    """A job whose correction_1 log ends in a traceback, and the jobs whose log of it does not."""
    bad, good = [], []
    for row in _rows(site):
        slug = row["href"][:-5]
        logs = dict(_data(site / "default_project" / f"{slug}~compare.js")["logs"])
        (bad if logs.get("correction_1: traceback") == "yes" else good).append(slug)
    assert bad and len(good) >= 3
    return bad[0], good


def _open(browser, path: Path, hash_: str) -> Page:  # noqa: F811
    tab = Page(browser)
    tab.page.set_viewport_size(WIDE)
    tab.open(path, hash_)
    tab.page.wait_for_selector("body[data-compare='ready']", state="attached", timeout=10_000)
    return tab


def test_changed_log_lines_sit_side_by_side(browser, site) -> None:  # noqa: F811
    failed, fine = _failed_and_fine(site)
    tab = _open(browser, site / "default_project" / "compare.html", f"#jobs={fine[0]},{failed}")
    tab.page.select_option("#compare-log-node", "correction_1")
    rows = tab.page.eval_on_selector_all("#compare-log-table tbody tr", """trs => trs.map(tr => [tr.className,
        ...[...tr.querySelectorAll('td.num')].map(td => td.textContent.trim())])""")
    changed = [r for r in rows if r[0] == "differs changed"]
    assert changed and all(r[1] and r[2] for r in changed)  # a line on both sides
    for side in (1, 2):  # each side's lines keep their order
        numbers = [int(r[side]) for r in rows if r[side]]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    lone = [r for r in rows if r[0] == "differs"]
    assert all(bool(r[1]) != bool(r[2]) for r in lone)  # the longer block's rest stays alone
    count = tab.page.inner_text("#compare-log-count")
    differing = sum(1 for r in rows if r[0].startswith("differs"))
    assert f"in {differing} of {len(rows)} rows" in count and "lines differ" in count
    title = tab.page.locator("#compare-log-table tr.changed td.diff-mark").first.get_attribute("title")
    assert title.startswith("changed: A (")
    assert tab.errors == []
    tab.page.close()


def test_only_differences_leaves_out_mirrors_and_lists_parameters_second(browser, site) -> None:  # noqa: F811
    failed, fine = _failed_and_fine(site)
    tab = _open(browser, site / "default_project" / "compare.html", f"#jobs={failed},{fine[0]},{fine[1]}")
    keys = tab.page.eval_on_selector_all("#compare-table tbody tr[data-key]", "trs => trs.map(tr => tr.dataset.key)")
    assert [k for k in keys if k in MIRRORS] == []  # not even hidden: a copy of the table carries none
    assert "end time (UTC)" in keys and "@project" in keys  # other same rows stay, hidden
    count = tab.page.inner_text("#compare-count")
    assert "@job_eui" in count and "@creation_timestamp" in count and "uncheck Only differences" in count
    shown = [k for k in keys if tab.page.locator(f'#compare-table tbody tr[data-key="{k}"]').is_visible()]
    assert int(count.split(" of ")[0]) == len(shown)  # the count is of the rows shown
    tab.page.click("#compare-only-diff")  # everything, in the order Job, Parameters, Logs, Attributes
    groups = tab.page.locator("#compare-table tr.compare-group th").all_inner_texts()
    assert groups == ["Job", "Parameters", "Logs", "Attributes"]
    eui = tab.page.locator('#compare-table tbody tr[data-key="@job_eui"]')
    assert eui.is_visible() and "folded" in eui.get_attribute("class")
    assert eui.locator("th").get_attribute("title") == "differs for every run: it names the run"
    stamp = tab.page.locator('#compare-table tbody tr[data-key="@creation_timestamp"] th')
    assert stamp.get_attribute("title") == "differs as \u201Cend time (UTC)\u201D does: it repeats that field"
    assert "uncheck" not in tab.page.inner_text("#compare-count")
    assert tab.errors == []
    tab.page.close()


def test_a_mirror_that_differs_alone_is_shown(browser, site, tmp_path: Path) -> None:  # noqa: F811
    """The same end written in another time zone: @creation_timestamp differs, the end time does not,
    so it is shown and counted; @job_eui, which names the run, is still left out."""
    _, fine = _failed_and_fine(site)
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    project = copy / "default_project"
    data = _data(project / f"{fine[0]}~compare.js")
    for slug, stamp in (("x1", "2022-06-20T12:00:00+00:00"), ("x2", "2022-06-20T14:00:00+02:00")):
        mine = {"@creation_timestamp": stamp, "@job_eui": f"#/{slug}"}
        one = dict(data, slug=slug, id=slug, meta=[[k, mine.get(k, v)] for k, v in data["meta"]])
        (project / f"{slug}~compare.js").write_text(f"window.reportgenCompare.add({json.dumps(one)});\n")
    tab = _open(browser, project / "compare.html", "#jobs=x1,x2")
    row = tab.page.locator('#compare-table tbody tr[data-key="@creation_timestamp"]')
    assert row.is_visible() and row.get_attribute("class") == "differs"
    assert tab.page.locator('#compare-table tbody tr[data-key="@job_eui"]').count() == 0
    assert tab.page.inner_text("#compare-count").startswith("1 of ")
    assert tab.errors == []
    tab.page.close()


def test_a_compare_of_several_opens_the_log_of_the_failed_run(browser, site) -> None:  # noqa: F811
    failed, fine = _failed_and_fine(site)
    tab = _open(browser, site / "default_project" / "compare.html", f"#jobs={fine[0]},{fine[1]},{fine[2]},{failed}")
    assert tab.page.input_value("#compare-log-node") == "correction_1"
    assert (tab.page.input_value("#compare-log-left"), tab.page.input_value("#compare-log-right")) == ("0", "3")
    assert tab.page.locator("#compare-log-table td.ln-traceback").count() == 1
    tab.page.select_option("#compare-log-right", "1")  # the reader's choice is kept on a hash change
    tab.page.evaluate(f"location.hash = '#jobs={fine[0]},{fine[1]},{fine[2]},{failed},{fine[3]}'")
    tab.page.wait_for_timeout(300)
    assert (tab.page.input_value("#compare-log-left"), tab.page.input_value("#compare-log-right")) == ("0", "1")
    assert tab.errors == []
    tab.page.close()


def test_field_names_wrap_between_their_keys(browser, site) -> None:  # noqa: F811
    failed, fine = _failed_and_fine(site)
    tab = _open(browser, site / "default_project" / "compare.html", f"#jobs={fine[0]},{failed}")
    tab.page.click("#compare-only-diff")  # every row
    split = tab.page.evaluate("""() => { const bad = [], long = [];
      for (const th of document.querySelectorAll('#compare-table tbody th[scope=row]')) {
        if (th.innerText.length > 30) long.push(th.innerText);
        const walk = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
        for (let t = walk.nextNode(); t; t = walk.nextNode()) {  /* each word of each text node on one line */
          for (const m of t.textContent.matchAll(/\\S+/g)) {
            const r = document.createRange(); r.setStart(t, m.index); r.setEnd(t, m.index + m[0].length);
            const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
            if (tops.size > 1) bad.push(m[0]);
          }
        } }
      return [bad, long]; }""")
    assert split[1], "no long field name to wrap"
    assert split[0] == [], split[0]  # "parameters.json:calibra|tion_1.instrumentAddre|ss" was split
    assert tab.errors == []
    tab.page.close()


def test_trends_keeps_a_range_of_end_days_in_its_address(browser, site) -> None:  # noqa: F811
    rows = _rows(site)
    days = sorted({row["end"][:10] for row in rows})
    assert len(days) >= 3
    first, last = days[1], days[-2]
    want = [row["id"] for row in rows if first <= row["end"][:10] <= last]
    assert 0 < len(want) < len(rows)
    tab = Page(browser)
    trends = site / "default_project" / "trends.html"
    tab.open(trends, f"#from={first}&to={last}")
    tab.page.wait_for_selector("body[data-trends='ready']", state="attached", timeout=10_000)
    assert tab.page.inner_text("#trends-counts").startswith(f"{len(want)} jobs, ended {first}")
    assert tab.page.evaluate("location.hash") == f"#jobs=200&from={first}&to={last}"  # kept, spelt out
    assert (tab.page.input_value("#trends-from"), tab.page.input_value("#trends-to")) == (first, last)
    median = tab.page.locator(".trends-median").first.inner_text()
    assert median.startswith("median of the last values: ") and median.endswith(f"(n = {len(want)})")
    tab.page.fill("#trends-from", "")  # the input's change: the range loses its start
    tab.page.wait_for_selector(f"body[data-trends='ready'] >> text=/^{len([r for r in rows if r['end'][:10] <= last])} jobs/",
                               state="attached", timeout=10_000)
    assert tab.page.evaluate("location.hash") == f"#jobs=200&to={last}"
    tab.open(trends, "#from=2022-02-30&to=junk&status=ok")  # not days: dropped
    tab.page.wait_for_selector("body[data-trends='ready']", state="attached", timeout=10_000)
    assert tab.page.evaluate("location.hash") == "#jobs=200&status=ok"
    tab.open(trends, "#from=2031-01-01")  # no job in the range: said so
    tab.page.wait_for_selector("body[data-trends='empty']", state="attached", timeout=10_000)
    assert "No job to show that ended on or after 2031-01-01" in tab.page.inner_text("#trends-notes")
    assert tab.errors == []
    tab.page.close()
