"""Compare runs: the per-job data files ``<job>~compare.js``, the project's ``compare.html``, the
catalog's tick boxes, and how incremental builds keep the data files (written, repaired, removed)."""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from reportgen.records import Commit, GitFile, Job, LogFile, NodeGroup, Output, OutputData
from reportgen.site import compare
from reportgen.site.build import BuildOptions, build_site
from reportgen.site.paths import build_slug
from tests.site.helpers import site_digest, writable_copy
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

QUIET = BuildOptions(workers=1, show_progress=False)
T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


# ---------------------------------------------------------------- hand-built jobs
def _output(name: str, shape: tuple, kind: str = "float", units: str = "V") -> Output:
    return Output(name, f"/n/{name}", "", units, kind, "float64", shape, shape[0], 8, (), False, None)


def _job(outputs: tuple[Output, ...] = (), files: tuple[GitFile, ...] = (), attrs: tuple = (),
         state: str = "present") -> Job:
    params = Commit("params", "a" * 40, state, files=files)  # type: ignore[arg-type]
    workflow = Commit("workflow", "b" * 40, "present")
    node = NodeGroup("n", "/n", "Node", "", "", (), outputs)
    return Job("p", "j1", "p/j1.hdf5", "p/j1", 10, T0, attrs, "a run", "#/j1", "ts", T0, T0, "output-time",
               (node,), (), workflow, params, "ok", ())


def _data_of(text: str) -> dict:
    prefix, suffix = "window.reportgenCompare && window.reportgenCompare.add(", ");\n"
    assert text.startswith(prefix) and text.endswith(suffix)
    return json.loads(text[len(prefix):-len(suffix)])


def _floats(spec: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(spec["bdata"]), "<" + spec["dtype"]).astype(np.float64)


# ---------------------------------------------------------------- the data file
def test_parameters_are_flattened_to_dotted_keys_with_json_text() -> None:
    files = (GitFile("parameters.json", 1, "x", '{"scan": {"points": [1, 2.5], "n": 3}, "name": "a", "e": {}}'),
             GitFile("notes.txt", 1, "y", "free text\n"), GitFile("blob.bin", 1, "z", None),
             GitFile("broken.json", 1, "w", "{not json"))
    rows, note = compare.build_params_rows(_job(files=files).params)
    assert dict(rows) == {
        "parameters.json:e": "{}", "parameters.json:name": '"a"', "parameters.json:scan.n": "3",
        "parameters.json:scan.points": "[1, 2.5]", "notes.txt": '"free text\\n"',
        "blob.bin": "(binary or over the size budget)", "broken.json": '"{not json"',
    }
    assert note == ""
    rows, note = compare.build_params_rows(_job(state="missing").params)
    assert rows == [] and note.startswith("parameters commit missing")


def test_parameters_and_long_values_are_bounded_but_still_differ() -> None:
    many = json.dumps({f"k{i:04d}": i for i in range(compare.MAX_PARAMS + 7)})
    rows, note = compare.build_params_rows(_job(files=(GitFile("p.json", 1, "x", many),)).params)
    assert len(rows) == compare.MAX_PARAMS and note.startswith("7 of ")
    long_a, long_b = "x" * 5000 + "a", "x" * 5000 + "b"
    text_a, text_b = compare.build_value_text(long_a), compare.build_value_text(long_b)
    assert len(text_a) < compare.MAX_TEXT + 80 and text_a != text_b and "5,001 characters" in text_a
    deep = "[" * 5000 + "]" * 5000  # nested past the stack: compared as text, no crash
    rows, _ = compare.build_params_rows(_job(files=(GitFile("d.json", 1, "x", deep),)).params)
    assert rows[0][0] == "d.json"


def test_series_are_numeric_1d_outputs_downsampled_with_their_spike() -> None:
    y = np.sin(np.linspace(0, 60, 50_000))
    y[31_337] = 500.0
    outputs = (_output("long", (50_000,)), _output("flag", (4,), "bool", ""), _output("matrix", (3, 4)),
               _output("text", (2,), "str"))
    datas = {"/n/long": OutputData("/n/long", "float", y, (), stride=3),
             "/n/flag": OutputData("/n/flag", "bool", np.array([True, False, True, True]), ()),
             "/n/matrix": OutputData("/n/matrix", "float", np.ones((3, 4)), ()),
             "/n/text": OutputData("/n/text", "str", ("a", "b"), ())}
    series = compare.build_series(_job(outputs), datas)
    assert [s["key"] for s in series] == ["/n/long", "/n/flag"]
    long, flag = series
    kept_y, kept_x = _floats(long["y"]), _floats(long["x"])
    assert len(kept_y) <= compare.MAX_POINTS and kept_y.max() == 500.0
    assert kept_x[np.argmax(kept_y)] == 31_337 * 3  # x is the set number in the file (every 3rd set read)
    assert (long["points"], long["read"], long["units"]) == (len(kept_y), 50_000, "V")
    assert _floats(flag["y"]).tolist() == [1.0, 0.0, 1.0, 1.0] and _floats(flag["x"]).tolist() == [0, 1, 2, 3]


def test_the_data_file_escapes_script_ends_and_line_separators_and_is_deterministic() -> None:
    hostile = "</script><script>alert(1)</script>\u2028\u2029&"
    job = _job((_output(hostile, (3,)),), (GitFile("p.json", 1, "x", json.dumps({hostile: hostile})),),
               ((hostile, hostile),))
    datas = {f"/n/{hostile}": OutputData(f"/n/{hostile}", "float", np.array([1.0, 2.0, np.nan]), ())}
    text = compare.render_compare_js(compare.build_compare_data(job, datas, "j1"))
    assert "</script" not in text.lower() and "\u2028" not in text and "\u2029" not in text and "<" not in text
    data = _data_of(text)
    assert [f"@{hostile}", hostile] in data["meta"] and data["series"][0]["name"] == hostile
    assert data["params"] == [[f"p.json:{hostile}", json.dumps(hostile, ensure_ascii=False)]]
    assert (data["slug"], data["href"], data["id"], data["status"]) == ("j1", "j1.html", "j1", "ok")
    again = compare.render_compare_js(compare.build_compare_data(job, datas, "j1"))
    assert again == text


def test_series_beyond_the_byte_budget_are_left_out_with_a_note() -> None:
    outputs = tuple(_output(f"o{i}", (5000,)) for i in range(6))
    datas = {o.hdf5_path: OutputData(o.hdf5_path, "float", np.random.default_rng(i).random(5000), ())
             for i, o in enumerate(outputs)}
    built = compare.build_compare_data(_job(outputs), datas, "j1")
    whole = compare.render_compare_js(built, limit=10**7)
    assert len(_data_of(whole)["series"]) == 6 and _data_of(whole)["notes"] == []
    limit = len(whole.encode()) // 2
    cut = compare.render_compare_js(built, limit=limit)
    data = _data_of(cut)
    assert len(cut.encode()) <= limit and 0 < len(data["series"]) < 6
    assert data["notes"] == [f"{6 - len(data['series'])} of 6 numeric outputs left out: "
                             f"the data file of a job is at most {limit // 1024:,} KiB"]


def test_compare_is_a_reserved_slug() -> None:
    assert build_slug("compare") != "compare" and build_slug("compare.x").startswith("compare.x-")


# ---------------------------------------------------------------- in a built site
@pytest.fixture(scope="module")
def compare_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp("compare")
    write_example(root / "data_store", seed=0, jobs_per_project=4)
    build_site(root / "data_store", root / "site", QUIET)
    return root / "site"


def _project_data(site: Path, project: str = "default_project") -> dict[str, dict]:
    return {p.name.split("~")[0]: _data_of(p.read_text()) for p in sorted((site / project).glob("*~compare.js"))}


def _pair_with_different_params(datas: dict[str, dict]) -> tuple[str, str, str, str]:
    """Two jobs whose parameters differ in one key and agree in another: (a, b, differing, equal)."""
    for a in datas:
        for b in datas:
            pa, pb = dict(datas[a]["params"]), dict(datas[b]["params"])
            differ = sorted(k for k in pa if pa[k] != pb.get(k))
            same = sorted(k for k in pa if pa[k] == pb.get(k))
            if a < b and differ and same:
                return a, b, differ[0], same[0]
    raise AssertionError("the example should have two jobs with different parameters")


def test_every_job_has_a_data_file_owned_by_it_and_each_project_a_compare_page(compare_site: Path) -> None:
    manifest = json.loads((compare_site / "build-manifest.json").read_text())
    for project, entries in manifest["jobs"].items():
        slug = manifest["projects"][project]["slug"]
        assert f"{slug}/compare.html" in manifest["projects"][project]["files"]["files"]
        for entry in entries.values():
            name = f"{slug}/{entry['slug']}~compare.js"
            assert name in entry["files"]["files"] and (compare_site / name).is_file()
    datas = _project_data(compare_site)
    assert all(d["series"] and d["params"] and d["meta"] for d in datas.values())
    sizes = [p.stat().st_size for p in compare_site.glob("*/*~compare.js")]
    assert max(sizes) < compare.COMPARE_DATA_BYTES


def test_the_data_files_are_repaired_and_removed_with_their_job(compare_site: Path, tmp_path: Path) -> None:
    store = writable_copy(compare_site.parent / "data_store", tmp_path / "store")
    site = tmp_path / "site"
    build_site(store, site, QUIET)
    victim = site / "default_project" / "j1~compare.js"
    kept = victim.read_bytes()
    victim.unlink()
    (site / "qpu_bench" / "compare.html").write_text("edited")
    report = build_site(store, site, QUIET)
    assert (report.built, report.repaired) == (1, 2)  # the job, and the project whose compare page was edited
    assert victim.read_bytes() == kept
    assert site_digest(site) == site_digest(compare_site)
    assert build_site(store, site, QUIET).up_to_date

    (store / "default_project" / "j1.hdf5").unlink()
    shutil.rmtree(store / "default_project" / "j1")
    assert build_site(store, site, QUIET).removed == 1
    assert not victim.exists() and not (site / "default_project" / "j1.html").exists()
    assert (site / "default_project" / "compare.html").is_file()


# ---------------------------------------------------------------- in Chromium
def _wait_ready(tab: Page, state: str = "ready") -> None:
    """Until the page has drawn the jobs of its hash (a hash-only change of address redraws it)."""
    tab.page.wait_for_selector(f"body[data-compare={state}]", state="attached", timeout=10_000)


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_the_compare_page_diffs_fields_and_overlays_series(browser, compare_site: Path) -> None:  # noqa: F811
    datas = _project_data(compare_site)
    a, b, differing, equal = _pair_with_different_params(datas)
    tab = Page(browser)
    tab.open(compare_site / "default_project" / "compare.html", f"#jobs={a},{b}")
    _wait_ready(tab)
    assert tab.page.get_attribute("body", "data-compare") == "ready"
    assert tab.page.locator("#compare-jobs li a").all_inner_texts() == [a, b]

    def row_for(key: str):
        return tab.page.locator(f'#compare-table tbody tr[data-key="{key}"]')

    assert row_for(differing).is_visible() and "differs" in row_for(differing).get_attribute("class")
    assert row_for(equal).count() == 1 and row_for(equal).is_hidden()
    tab.page.click("#compare-only-diff")  # keyboard-reachable checkbox: all fields now
    assert row_for(equal).is_visible()
    tab.page.keyboard.press("Space")  # still focused: back to the differences only
    assert row_for(equal).is_hidden()

    figure = tab.page.locator(".compare-figure").first
    figure.scroll_into_view_if_needed()
    figure.locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    traces = figure.evaluate("box => box.data.map(t => [t.name, t.line.color])")
    assert [name for name, _ in traces] == [f"A ({a})", f"B ({b})"] and traces[0][1] != traces[1][1]
    before = figure.evaluate("box => box._fullLayout.paper_bgcolor")
    tab.page.click("#theme-toggle")  # the plotly template follows the theme
    assert figure.evaluate("box => box._fullLayout.paper_bgcolor") != before
    assert tab.errors == [] and tab.dialogs == []

    for bad in ("#jobs=", f"#jobs={a}", "#jobs=..%2Fx,%3Cb%3E,ZZ", "#nothing"):
        tab.open(compare_site / "default_project" / "compare.html", bad)
        _wait_ready(tab, "empty")
        assert "Choose 2 to 8 jobs" in tab.page.inner_text("#compare-status")
        assert tab.page.locator("#compare-table").count() == 0
    tab.open(compare_site / "default_project" / "compare.html", "#jobs=..%2Fx,%3Cb%3E")
    _wait_ready(tab, "empty")
    assert "not job names of this site: ../x, <b>" in tab.page.inner_text("#compare-status")
    assert tab.errors == [] and tab.dialogs == []

    tab.open(compare_site / "default_project" / "compare.html", f"#jobs={a},gone,{b}")  # a removed job
    _wait_ready(tab)  # the two others are still compared
    assert "No comparison data for gone" in tab.page.inner_text("#compare-status")
    assert [e for e in tab.errors if "Failed to load resource" not in e] == []  # the missing file, only
    tab.page.close()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_catalog_ticks_survive_sorting_and_open_the_comparison(browser, compare_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(compare_site / "default_project" / "index.html")
    link = tab.page.locator("#compare-link")
    assert link.get_attribute("href") is None and link.get_attribute("aria-disabled") == "true"
    boxes = tab.page.locator("#catalog-table input.compare-tick")
    first_label = boxes.nth(0).get_attribute("aria-label")
    boxes.nth(0).focus()
    tab.page.keyboard.press("Space")  # ticked with the keyboard
    boxes.nth(1).click()
    slugs = [boxes.nth(i).get_attribute("value") for i in (0, 1)]
    assert first_label.startswith("compare ") and link.inner_text() == "Compare (2)"
    assert link.get_attribute("href") == f"compare.html#jobs={slugs[0]},{slugs[1]}"
    tab.page.click("button[data-sort=id]")  # the ticks live in the catalog's state, not in the DOM
    tab.page.click("button[data-sort=id]")
    ticked = sorted(b.get_attribute("value") for b in tab.page.locator("input.compare-tick:checked").all())
    assert ticked == sorted(slugs)
    link.click()
    tab.page.wait_for_url(f"**/compare.html#jobs={slugs[0]},{slugs[1]}")
    _wait_ready(tab)
    assert tab.page.get_attribute("body", "data-compare") == "ready"
    assert tab.errors == []
    tab.page.close()


def test_the_diff_page_links_the_comparison_with_its_previous_job(compare_site: Path) -> None:
    import re

    linked = 0
    for page in sorted(compare_site.glob("*/*~params-diff.html")):
        text = page.read_text()
        previous = re.search(r'the previous job <a href="([^"]+)\.html">', text)
        match = re.search(r'<a class="compare-previous" href="compare\.html#jobs=([^",]+),([^"]+)">', text)
        assert bool(previous) == bool(match), page
        if match:
            assert match.groups() == (previous.group(1), page.name.split("~")[0])
            assert all((page.parent / f"{slug}~compare.js").is_file() for slug in match.groups())
            linked += 1
    assert linked


# ---------------------------------------------------------------- logs
def _log(node: str, text: str, errors: tuple[int, ...] = (), tracebacks: tuple[int, ...] = (), tail: str = "",
         total: int = 0) -> LogFile:
    lines = text.count("\n")
    return LogFile(node, f"p/j1/{node}.log", len(text) + len(tail) * bool(tail), T0, text, bool(tail), lines, errors,
                   tracebacks, False, tail, total or lines)


def test_log_health_rows_and_log_ends_are_bounded() -> None:
    whole = "".join(f"line {i}\n" for i in range(1, 1001))  # 8.9 KB: its end is cut at a whole line
    cut_tail = "...d-line\n" + "".join(f"end {i}\n" for i in range(5))
    job = replace(_job(), logs=(_log("a", "ok\n"), replace(_log("b", whole, errors=(3, 7)), warning_lines=(9,)),
                                _log("c", "head\n", tracebacks=(5000,), tail=cut_tail, total=5000)))
    assert compare.build_log_rows(job) == ([
        ("a: error lines", "0"), ("a: warning lines", "0"), ("a: traceback", "no"),
        ("b: error lines", "2"), ("b: warning lines", "1"), ("b: traceback", "no"),
        ("c: error lines", "0 (in the preview of a cut log)"), ("c: warning lines", "0 (in the preview of a cut log)"),
        ("c: traceback", "yes")], "")
    ends, note = compare.build_log_ends(job)
    assert note == "" and [e["node"] for e in ends] == ["a", "b", "c"]
    assert ends[0] == {"node": "a", "first": 1, "text": "ok\n", "note": "the whole log (1 lines)"}
    b = ends[1]
    assert len(b["text"]) <= compare.MAX_LOG_TAIL and b["text"].endswith("line 1000\n")
    assert b["text"].startswith(f"line {b['first']}\n") and b["note"].startswith("the last ")
    c = ends[2]  # a cut log: the reader's tail, numbered back from the file's last line
    assert c["text"] == cut_tail and c["first"] == 5000 - 6 + 1

    many = replace(job, logs=tuple(_log(f"n{i:02d}", whole) for i in range(40)))
    ends, note = compare.build_log_ends(many)
    assert sum(len(e["text"]) for e in ends) <= compare.MAX_LOG_TAILS and 0 < len(ends) < 40
    assert note == f"the log ends of {40 - len(ends)} of 40 nodes left out (at most 48 KB in all)"
    data = _data_of(compare.render_compare_js(compare.build_compare_data(many, {}, "j1")))
    assert data["format"] == 2 and note in data["notes"] and len(data["log_ends"]) == len(ends)
    assert data["logs"][:3] == [["n00: error lines", "0"], ["n00: warning lines", "0"], ["n00: traceback", "no"]]


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_the_compare_page_flags_log_health_draws_differences_to_a_and_aligns_log_ends(
        browser, compare_site: Path) -> None:  # noqa: F811
    datas = _project_data(compare_site)
    failed = next(slug for slug, d in datas.items() if any(v == "yes" for _, v in d["logs"]))
    fine = next(slug for slug, d in datas.items() if slug != failed)
    tab = Page(browser)
    tab.open(compare_site / "default_project" / "compare.html", f"#jobs={fine},{failed}")
    _wait_ready(tab)
    node = next(k.split(":")[0] for k, v in datas[failed]["logs"] if v == "yes")
    row = tab.page.locator(f'#compare-table tbody tr[data-key="{node}: traceback"]')
    assert row.is_visible() and "differs" in row.get_attribute("class")  # shown by "Only differences"
    assert row.locator("td").all_inner_texts() == ["no", "yes"]

    key = tab.page.locator(".compare-output p.meta").first.inner_text()
    tab.page.click("#compare-diff-a")
    figure = tab.page.locator(".compare-figure").first
    figure.scroll_into_view_if_needed()
    figure.locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    traces = figure.evaluate("box => box.data.map(t => [t.name, Array.from(t.x), Array.from(t.y)])")
    a, b = ({s["key"]: s for s in datas[slug]["series"]}[key] for slug in (fine, failed))
    base = dict(zip(_floats(a["x"]), _floats(a["y"])))
    expected = [(x, y - base[x]) for x, y in zip(_floats(b["x"]), _floats(b["y"])) if x in base]
    assert [name for name, _, _ in traces] == [f"B \u2212 A ({failed})"]
    assert traces[0][1] == [x for x, _ in expected] and traces[0][2] == pytest.approx([y for _, y in expected])
    assert "difference to A" in figure.evaluate("box => box._fullLayout.yaxis.title.text")

    tab.page.select_option("#compare-log-node", node)  # the node whose log ends in a traceback
    log_rows = tab.page.locator("#compare-log-table tbody tr")
    assert log_rows.count() > 0 and tab.page.locator("#compare-log-table tr.differs").count() > 0
    assert any("Traceback" in text for text in tab.page.locator("#compare-log-table tr.differs").all_inner_texts())
    assert "lines differ" in tab.page.inner_text("#compare-log-count")
    tab.page.select_option("#compare-log-right", "0")  # a job against itself: nothing differs
    assert tab.page.locator("#compare-log-table tr.differs").count() == 0
    assert tab.errors == [] and tab.dialogs == []
    tab.page.close()


def test_log_ends_that_do_not_fit_once_escaped_are_left_out_first() -> None:
    hostile = "<" * 2000 + "\n"  # each "<" is escaped to 6 bytes
    job = replace(_job(), logs=tuple(_log(f"n{i}", hostile) for i in range(10)))
    built = compare.build_compare_data(job, {}, "j1")
    assert len(built.body["log_ends"]) == 10
    text = compare.render_compare_js(built, limit=60_000)
    data = _data_of(text)
    assert len(text.encode()) <= 60_000 and data["log_ends"] == []
    assert data["notes"] == ["the log ends left out: the data file of a job is at most 58 KiB"]
    assert len(data["logs"]) == 30  # the health rows stay


def test_numbers_of_every_type_reach_the_comparison(tmp_path: Path) -> None:
    """float32, int8, uint16, int32 and big-endian outputs are drawn on the job page (the reader
    calls their kind "other"): they are series of the compare and trends data too; complex and
    compound values are not one number per set and stay out."""
    import h5py

    from tests.site.one_job_store import write_node, write_output, write_root_attrs

    store = tmp_path / "store"
    numbers = {"f32": np.array([0.5, 0.25], "f4"), "i8": np.array([-1, 2], "i1"), "u16": np.array([1, 65535], "u2"),
               "i32": np.array([1, -2], "i4"), "be": np.array([0.5, 0.25], ">f8"), "f64": np.array([1.0, 2.0])}
    others = {"cplx": np.array([1 + 2j, 3j]), "pair": np.array([(1, 2), (3, 4)], dtype=[("i", "f8"), ("q", "f8")])}
    (store / "p" / "j1").mkdir(parents=True)
    (store / "p" / "j1" / "n.log").write_bytes(b"ok\n")
    with h5py.File(store / "p" / "j1.hdf5", "w") as f:
        write_root_attrs(f, "j1", "2022-06-25T14:01:05+02:00")
        node = write_node(f)
        for name, data in {**numbers, **others}.items():
            write_output(node, name, data)
    build_site(store, tmp_path / "site", QUIET)
    series = {s["key"]: s for s in _data_of((tmp_path / "site" / "p" / "j1~compare.js").read_text())["series"]}
    assert sorted(series) == sorted(f"/n/{name}" for name in numbers)
    for name, values in numbers.items():
        assert _floats(series[f"/n/{name}"]["y"]).tolist() == values.astype(np.float64).tolist()
