"""search.html: cross-job search over metadata, parameters and log lines (reportgen/site/search.py,
site_templates/static/search.js).

Real data_stores (the example generator's, plus a project written with h5py holding hostile names,
a job split into node pages, a 10 MB log line, 10,000 error lines and a traceback past the preview),
real builds, the records read back from ``search-data.js`` and every link checked against the page
it names; incremental rebuilds; Chromium over file:// and http.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import re
import shutil
import threading
from pathlib import Path

import h5py
import numpy as np
import pytest

from reportgen.site import search as srch
from reportgen.site.build import BuildOptions, build_site
from reportgen.site.manifest import MANIFEST_NAME, load_manifest
from tests.site.helpers import writable_copy
from tests.site.one_job_store import write_node, write_output, write_root_attrs
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

HOSTILE_ID = "x<script>\"'\u202e&amp;"
HOSTILE_LINE = "ERROR: <img src=x onerror=alert(1)> </script> \u202e hostilemark \udcff"
FLOOD = 10_000
BIG_NODES = 65  # past jobpage.SPLIT_NODES: a page per node


def _hostile_job(project: Path, job: str, minute: int, nodes: int = 1, operator: str = "") -> None:
    (project / job).mkdir(parents=True)
    with h5py.File(project / f"{job}.hdf5", "w") as f:
        write_root_attrs(f, job, f"2022-06-25T14:{minute:02d}:05.123456+02:00")
        f.attrs.create("project", "hostile", dtype=h5py.string_dtype("utf-8"))
        if operator:
            f.attrs.create("operator", operator, dtype=h5py.string_dtype("utf-8"))
        for i in range(nodes):
            write_output(write_node(f, f"n{i:02d}"), "v", np.array([1.0]))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp("search") / "store"
    write_example(root, seed=0, jobs_per_project=3)
    with open(root / "default_project" / "j2" / "QPU.log", "a") as log:
        log.write("ERROR: TimeoutError waiting for the zorblax fridge\nWARNING: quuxle drift\n")
    (root / "default_project" / "j2" / "stray.log").write_text("ok\nERROR: orphanmark lost\n")  # no node group
    hostile = root / "hostile"
    _hostile_job(hostile, HOSTILE_ID, 1)
    (hostile / HOSTILE_ID / "n00.log").write_text(HOSTILE_LINE.encode("utf-8", "surrogateescape").decode("utf-8", "replace") + "\n")
    _hostile_job(hostile, "big", 2, nodes=BIG_NODES, operator="alice")
    for i in range(BIG_NODES):
        (hostile / "big" / f"n{i:02d}.log").write_text("ERROR: splitmark\n" if i == 7 else "fine\n")
    _hostile_job(hostile, "long", 3, nodes=2)
    (hostile / "long" / "n00.log").write_text("".join(f"ERROR flood {k:05d}\n" for k in range(FLOOD)))
    with open(hostile / "long" / "n01.log", "w") as log:
        log.write("ERROR: hugeline " + "a" * 10 * 1024**2 + "\nafter\n")
        log.write('Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nStopIteration\n')
    return root


def _build(store: Path, site: Path) -> object:
    return build_site(store, site, BuildOptions(workers=1, show_progress=False))


@pytest.fixture(scope="module")
def site(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("search-site") / "site"
    _build(store, site)
    return site


DATA_PREFIX = "window.reportgenSearch && window.reportgenSearch.add("


def read_data(site: Path, project: str) -> dict:
    text = (site / project / srch.SEARCH_DATA_NAME).read_text(encoding="utf-8")
    assert text.startswith(DATA_PREFIX) and text.endswith(");\n")
    return json.loads(text[len(DATA_PREFIX):-3])


def home_order(site: Path) -> list[str]:
    """The project folders in the order search.html (like the home page) lists them."""
    return re.findall(r'<option value="([^"]+)" data-src=', (site / "search.html").read_text(encoding="utf-8"))


def newest_first(jobs: list[dict]) -> list[str]:
    """The ids in search.html's order (s23 F9): newest end first, no end last; else as listed."""
    ended = sorted((job for job in jobs if job["end"]), key=lambda job: job["end"], reverse=True)  # stable
    return [job["id"] for job in ended + [job for job in jobs if not job["end"]]]


def jobs_of(site: Path, project: str) -> dict[str, dict]:
    return {job["id"]: job for job in read_data(site, project)["jobs"]}


# ----------------------------------------------------------------- the records
def test_record_holds_attributes_parameters_and_marked_log_lines(site: Path) -> None:
    data = read_data(site, "default_project")
    assert data["format"] == srch.FORMAT and data["project"] == "default_project"
    j2 = {job["id"]: job for job in data["jobs"]}["j2"]
    assert j2["href"] == "default_project/j2.html" and j2["status"] == "incomplete"  # a log naming no node
    assert "job_eui=#/j2" in j2["attrs"]
    assert any(p.startswith("parameters.json:calibration_1.instrumentAddress=") for p in j2["params"])
    assert any(p.startswith("parameters.json:scan_list.scan_points=[") for p in j2["params"])  # a list: its JSON text
    lines = {line[3]: line for line in j2["lines"]}
    error = lines["ERROR: TimeoutError waiting for the zorblax fridge"]
    assert error[:2] == ["QPU", "error"]
    assert re.fullmatch(rf"default_project/j2\.html#node-qpu-[0-9a-f]{{8}}-L{error[2]}", error[4])  # QPU: hashed slug
    assert lines["WARNING: quuxle drift"][1] == "warning"
    orphan = lines["ERROR: orphanmark lost"]
    assert orphan[0] == "stray" and re.fullmatch(r"default_project/j2\.html#orphan-[0-9]+-L2", orphan[4])
    ends = [job["end"] for job in data["jobs"]]
    assert ends == sorted(ends, reverse=True)  # newest first


def test_every_link_is_an_id_of_the_page_it_names(site: Path) -> None:
    """The job page (or a split job's node page) has an element with exactly the line's id."""
    checked = 0
    for data_file in site.glob(f"*/{srch.SEARCH_DATA_NAME}"):
        for job in read_data(site, data_file.parent.name)["jobs"]:
            assert (site / job["href"]).is_file()
            for node, kind, number, text, href in job["lines"]:
                page, target = href.split("#")
                assert target.endswith(f"-L{number}")
                assert f'id="{target}"' in (site / page).read_text(encoding="utf-8"), href
                checked += 1
    assert checked > 10


def test_split_job_tail_traceback_and_exception_line(site: Path) -> None:
    jobs = jobs_of(site, "hostile")
    big = jobs["big"]
    assert "operator=alice" in big["attrs"]
    [line] = big["lines"]
    assert line[:4] == ["n07", "error", 1, "ERROR: splitmark"] and line[4] == "hostile/big~node-n07.html#node-n07-L1"
    long_lines = jobs["long"]["lines"]
    assert len(long_lines) == srch.MAX_LINES
    assert jobs["long"]["left_out"][2] > 400  # 500 shown flood lines, the tail's, the huge line
    kinds = {(line[0], line[1]) for line in long_lines}
    assert ("n01", "traceback") in kinds and ("n01", "exception") in kinds  # kept first, from the log's end
    tail = [line for line in long_lines if line[1] in ("traceback", "exception")]
    assert [line[3] for line in tail] == ["Traceback (most recent call last):", "StopIteration"]
    assert all("hostile/long.html#node-n01-tail-L" in line[4] for line in tail)  # the end of a log past its preview
    [huge] = [line for line in long_lines if line[0] == "n01" and line[1] == "error"]
    assert huge[3] == ("ERROR: hugeline " + "a" * srch.MAX_TEXT)[:srch.MAX_TEXT - 1] + "\u2026" and huge[2] == 1
    assert all(len(line[3]) <= srch.MAX_TEXT for line in long_lines)
    flood = [line[3] for line in long_lines if line[0] == "n00"]
    assert flood == [f"ERROR flood {k:05d}" for k in range(FLOOD - len(flood), FLOOD)]  # the last ones, in order


def test_hostile_text_is_data(site: Path) -> None:
    raw = (site / "hostile" / srch.SEARCH_DATA_NAME).read_text(encoding="utf-8").split("(", 1)[1]
    assert "<" not in raw and ">" not in raw and "&" not in raw  # escaped as in catalog-data.js
    job = jobs_of(site, "hostile")[HOSTILE_ID]
    assert job["lines"][0][3].startswith("ERROR: <img src=x onerror=alert(1)> </script> \u202e hostilemark")


def test_bounds_cut_as_documented() -> None:
    assert srch.cut_text("a" * 10 * 1024**2) == "a" * (srch.MAX_TEXT - 1) + "\u2026"
    assert srch.cut_text("x\udcff") == "x\ufffd"
    deep: dict = {"leaf": 1}
    for _ in range(40):
        deep = {"k": deep}
    leaves = [("parameters.json:deep", deep)] + [(f"parameters.json:p{i:04d}", "v" * 100) for i in range(500)]
    params, left_out = srch.build_bounded_texts(srch.build_param_texts(leaves), srch.MAX_PARAMS_TEXT)
    assert params[0].startswith('parameters.json:deep={"k": {"k"') and params[0].endswith("\u2026")
    assert sum(map(len, params)) <= srch.MAX_PARAMS_TEXT and left_out == 501 - len(params) > 0
    assert list(srch.build_param_texts("parameters commit missing")) == []
    assert list(srch.build_param_texts([("a.json:s", "text"), ("a.json:b", True), ("a.json:n", None)])) == [
        "a.json:s=text", "a.json:b=true", "a.json:n=null"]


def test_search_page_lists_every_project_with_its_versioned_data(site: Path) -> None:
    page = (site / "search.html").read_text(encoding="utf-8")
    for project in ("default_project", "ion_trap_scan", "qpu_bench", "hostile"):
        assert re.search(rf'<option value="{project}" data-src="{project}/search-data\.js\?v=[0-9a-f]{{8}}">', page)
    assert 'href="search.html">Search</a>' in (site / "index.html").read_text(encoding="utf-8")
    assert 'href="../search.html">Search</a>' in (site / "hostile" / "big.html").read_text(encoding="utf-8")


def test_two_builds_are_byte_identical(store: Path, site: Path, tmp_path: Path) -> None:
    other = tmp_path / "site"
    _build(store, other)
    for name in ["search.html", *(f"{p}/{srch.SEARCH_DATA_NAME}" for p in ("default_project", "hostile"))]:
        assert (other / name).read_bytes() == (site / name).read_bytes(), name


# ----------------------------------------------------------------- incremental builds and the manifest
def _one_project_site(store: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(store, site): a writable copy of ``store`` with only ``default_project``, built."""
    own = writable_copy(store, tmp_path / "store")
    for name in ("ion_trap_scan", "qpu_bench", "hostile"):
        shutil.rmtree(own / name)
    _build(own, tmp_path / "site")
    return own, tmp_path / "site"


def test_incremental_rebuild_keeps_changes_and_removes_records(store: Path, tmp_path: Path) -> None:
    own, site = _one_project_site(store, tmp_path)
    before = (site / "default_project" / srch.SEARCH_DATA_NAME).read_bytes()
    report = _build(own, site)
    assert report.up_to_date and (site / "default_project" / srch.SEARCH_DATA_NAME).read_bytes() == before
    old = jobs_of(site, "default_project")
    with open(own / "default_project" / "j1" / "QPU.log", "a") as log:
        log.write("ERROR: freshmark\n")
    report = _build(own, site)
    assert report.built == 1
    new = jobs_of(site, "default_project")
    assert any(line[3] == "ERROR: freshmark" for line in new["j1"]["lines"])
    assert new["j2"] == old["j2"] and new["j3"] == old["j3"]
    shutil.rmtree(own / "default_project" / "j3")
    (own / "default_project" / "j3.hdf5").unlink()
    report = _build(own, site)
    assert report.removed == 1 and set(jobs_of(site, "default_project")) == {"j1", "j2"}
    page = (site / "search.html").read_text(encoding="utf-8")  # the new data file's version
    version = srch.build_search_src("default_project", (site / "default_project" / srch.SEARCH_DATA_NAME).read_text())
    assert f'data-src="{version}"' in page


def test_manifest_without_records_rebuilds_and_a_forged_record_is_refused(store: Path, tmp_path: Path) -> None:
    own, site = _one_project_site(store, tmp_path)
    expected = (site / "default_project" / srch.SEARCH_DATA_NAME).read_bytes()
    manifest = json.loads((site / MANIFEST_NAME).read_text())
    forged = json.loads(json.dumps(manifest))
    for entries in manifest["jobs"].values():
        for entry in entries.values():
            del entry["search"]  # as a build before search wrote it
    (site / MANIFEST_NAME).write_text(json.dumps(manifest))
    loaded, _ = load_manifest(site)
    assert loaded is not None and all(e.search is None for e in loaded.jobs["default_project"].values())
    report = _build(own, site)
    assert report.built == 3 and (site / "default_project" / srch.SEARCH_DATA_NAME).read_bytes() == expected
    forged["jobs"]["default_project"]["j1"]["search"]["lines"] = [["n", "error", 1, "t", "../../x.html", "node-n-L1"]]
    (site / MANIFEST_NAME).write_text(json.dumps(forged))
    assert load_manifest(site) == (None, "")  # a full build, never a link the build did not make


# ----------------------------------------------------------------- in the browser
def _open_search(browser, site: Path, hash_: str = "") -> Page:  # noqa: F811
    tab = Page(browser)
    tab.open(site / "search.html", hash_)
    return tab


def _results(tab: Page) -> list[str]:
    return tab.page.locator("#search-results .search-job").all_inner_texts()


def _wait_searched(tab: Page) -> str:
    """The status line once the search typed or chosen last has run on every project's data."""
    tab.page.wait_for_selector("#search-results[data-pending='0']", state="attached", timeout=5000)
    return tab.page.locator("#search-status").inner_text()


def test_a_log_error_finds_its_one_job_and_links_to_the_line(browser, site: Path) -> None:  # noqa: F811
    tab = _open_search(browser, site)
    assert tab.page.locator("#search-results li").count() == 0
    tab.page.keyboard.press("?")  # the help lists "/"
    assert "focus the search box" in tab.page.locator("#keys-help").inner_text()
    tab.page.keyboard.press("Escape")
    tab.page.keyboard.press("/")  # keys.js focuses the search box
    tab.page.keyboard.type("zorblax")
    assert _wait_searched(tab).startswith("1 job matches; searched 4 of 4 projects")
    assert _results(tab) == ["j2"]
    link = tab.page.locator(".search-snippet a.search-where").first
    href = link.get_attribute("href")
    assert re.fullmatch(r"default_project/j2\.html#node-qpu-[0-9a-f]{8}-L[0-9]+", href)
    assert tab.page.locator(".search-snippet mark").first.inner_text().lower() == "zorblax"
    assert tab.page.url.endswith("#q=zorblax")
    link.click()
    tab.page.wait_for_url("**/j2.html#node-qpu-*")
    line = tab.page.locator(f"[id='{href.split('#')[1]}']")
    line.wait_for(state="visible", timeout=5000)
    assert "zorblax" in line.inner_text()
    assert tab.errors == [] and tab.dialogs == []


def test_parameters_terms_selects_and_the_hash(browser, site: Path) -> None:  # noqa: F811
    term = "instrumentAddress=123.192.41.5"
    expected = newest_first([job for p in ("default_project", "ion_trap_scan", "qpu_bench", "hostile")
                             for job in read_data(site, p)["jobs"] if any(term.lower() in t.lower() for t in job["params"])])
    assert 1 < len(expected)
    tab = _open_search(browser, site, "#q=" + term.upper())  # any case; restored from the hash
    _wait_searched(tab)
    assert _results(tab) == expected and tab.page.input_value("#search-q") == term.upper()
    tab.page.select_option("#search-scope", "logs")
    _wait_searched(tab)
    assert _results(tab) == []
    tab.page.select_option("#search-scope", "parameters")
    tab.page.select_option("#search-project", "qpu_bench")
    _wait_searched(tab)
    assert _results(tab) == [j for j in expected if j in jobs_of(site, "qpu_bench")]
    assert "project=qpu_bench" in tab.page.url and "scope=parameters" in tab.page.url
    tab.page.go_back()  # the project choice undone, the scope kept
    tab.page.wait_for_function("document.getElementById('search-project').value === ''")
    _wait_searched(tab)
    assert len(_results(tab)) == len(expected)
    tab.page.reload()
    _wait_searched(tab)
    assert tab.page.input_value("#search-scope") == "parameters" and len(_results(tab)) == len(expected)
    tab.page.fill("#search-q", '"operator=alice" splitmark')  # a phrase and a word, both in one job
    tab.page.select_option("#search-scope", "")
    _wait_searched(tab)
    assert _results(tab) == ["big"]
    tab.page.fill("#search-q", "operator=alice zorblax")  # in two different jobs: none
    _wait_searched(tab)
    assert _results(tab) == [] and tab.errors == []


def test_hostile_text_renders_as_text(browser, site: Path) -> None:  # noqa: F811
    tab = _open_search(browser, site, "#q=hostilemark")
    _wait_searched(tab)
    assert _results(tab) == [HOSTILE_ID]
    results = tab.page.locator("#search-results")
    assert results.locator("img, script, b").count() == 0
    assert "<img src=x onerror=alert(1)> </script>" in results.locator(".search-text").first.inner_text()
    tab.page.set_viewport_size({"width": 320, "height": 640})  # reflows: no sideways scrolling
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= 320
    tab.page.click("#theme-toggle")
    assert tab.errors == [] and tab.dialogs == []


def test_works_over_http(browser, site: Path) -> None:  # noqa: F811
    with _serve(site) as url:
        tab = Page(browser)
        tab.page.goto(url + "search.html#q=splitmark")
        _wait_searched(tab)
        assert _results(tab) == ["big"] and tab.errors == []


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serve(site: Path, gates: dict[str, threading.Event] | None = None, missing: tuple[str, ...] = ()):
    """The site over http; a project's search-data.js waits for its gate, or is missing (404)."""
    gates = gates if gates is not None else {}

    class Handler(_QuietHandler):
        def do_GET(self) -> None:
            project = self.path.lstrip("/").split("/", 1)[0]
            if srch.SEARCH_DATA_NAME in self.path and project in missing:
                self.send_error(404)
                return
            if srch.SEARCH_DATA_NAME in self.path and project in gates:
                gates[project].wait(10)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        for gate in gates.values():
            gate.set()
        server.shutdown()
        server.server_close()


WATCH_STATUS = """() => { window.said = []; const line = document.getElementById('search-status');
  new MutationObserver(() => window.said.push([performance.now(), line.textContent]))
    .observe(line, {childList: true, characterData: true, subtree: true}); }"""


def _release(gates: dict[str, threading.Event]) -> None:
    for gate in gates.values():
        gate.set()


def test_arriving_projects_keep_the_focus_order_and_a_quiet_status(browser, site: Path) -> None:  # noqa: F811
    """A project's results go in place as its file arrives: the focused link stays focused (the same
    element), the order is the home page's however the files arrive, and the live status line is
    not re-read for every project."""
    order = home_order(site)
    expected = newest_first([job for p in order for job in read_data(site, p)["jobs"]])  # job_eui: in every job
    gates = {p: threading.Event() for p in order[1:]}  # the later projects wait
    with _serve(site, gates) as url:
        tab = Page(browser)
        tab.page.goto(url + "search.html#q=job_eui", wait_until="commit")  # "load" waits for the held files
        tab.page.locator("a.search-job").first.focus()
        tab.page.evaluate("window.kept = document.activeElement")
        assert tab.page.get_attribute("#search-status", "aria-busy") == "true"
        tab.page.evaluate(WATCH_STATUS)
        _release(gates)
        status = _wait_searched(tab)
        assert tab.page.evaluate("document.activeElement === window.kept && window.kept.isConnected")
        assert _results(tab) == expected and status == f"{len(expected)} jobs match; searched 4 of 4 projects."
        said = tab.page.evaluate("window.said")
        assert said[-1][1] == status and tab.page.get_attribute("#search-status", "aria-busy") is None
        times = [t for t, _ in said[:-1]]  # before the final line: at most one change a second
        assert all(later - earlier > 900 for earlier, later in zip(times, times[1:])), said

        gates.update({p: threading.Event() for p in order[:-1]})  # now the earlier projects arrive last
        tab = Page(browser)  # a new context: nothing cached
        tab.page.goto(url + f"search.html#q=job_eui&project={order[-1]}")
        _wait_searched(tab)
        tab.page.select_option("#search-project", "")  # a new search: drawn anew, the others loading
        tab.page.locator("a.search-job").first.focus()
        tab.page.evaluate("window.kept = document.activeElement")
        _release(gates)
        _wait_searched(tab)
        assert _results(tab) == expected
        assert tab.page.evaluate("document.activeElement === window.kept && window.kept.isConnected")
        assert tab.errors == []


def test_a_project_that_fails_to_load_is_not_counted_as_searched(browser, site: Path) -> None:  # noqa: F811
    with _serve(site, missing=("hostile",)) as url:
        tab = Page(browser)
        tab.page.goto(url + "search.html#q=job_eui")
        status = _wait_searched(tab)
    assert status.startswith("9 jobs match; searched 3 of 4 projects. Not searched: hostile (its data file could not be loaded")
    assert len(_results(tab)) == 9


def _synthetic_site(site: Path, target: Path, per_project: int) -> list[str]:
    """search.html and its assets with ``per_project`` made-up jobs in each project's data file:
    more than a page of results.  Returns the job ids in the order the results must come."""
    target.mkdir()
    shutil.copy(site / "search.html", target)
    shutil.copytree(site / "assets", target / "assets")
    ids = []
    for project in home_order(site):
        jobs = [{"id": f"{project}-{k:03d}", "href": f"{project}/{k}.html", "status": "ok", "end": "", "description": "",
                 "attrs": ["pagemark=1"], "params": [], "lines": []} for k in range(per_project)]
        (target / project).mkdir()
        data = {"format": srch.FORMAT, "project": project, "slug": project, "jobs": jobs}
        (target / project / srch.SEARCH_DATA_NAME).write_text(DATA_PREFIX + json.dumps(data) + ");\n", encoding="utf-8")
        ids += [job["id"] for job in jobs]
    return ids


def test_show_more_pages_while_projects_arrive_in_place(browser, site: Path, tmp_path: Path) -> None:  # noqa: F811
    ids = _synthetic_site(site, tmp_path / "site", per_project=60)
    order = home_order(site)
    gates = {p: threading.Event() for p in order[:-1]}
    with _serve(tmp_path / "site", gates) as url:
        tab = Page(browser)
        tab.page.goto(url + f"search.html#q=pagemark&project={order[-1]}")
        _wait_searched(tab)
        assert _results(tab) == ids[-60:] and tab.page.locator("#search-more").is_hidden()
        tab.page.select_option("#search-project", "")
        tab.page.locator("a.search-job").first.focus()  # pushed past the first page: the focus goes to Show more
        _release(gates)
        assert _wait_searched(tab) == "240 jobs match (showing the first 100); searched 4 of 4 projects."
        assert _results(tab) == ids[:100]
        assert tab.page.evaluate("document.activeElement.id") == "search-more"
        tab.page.keyboard.press("Enter")
        assert _results(tab) == ids[:200]
        assert tab.page.evaluate("document.activeElement.textContent") == ids[100]  # the keyboard goes on there
        tab.page.click("#search-more")
        assert _results(tab) == ids and tab.page.locator("#search-more").is_hidden()
        assert tab.page.locator("#search-status").inner_text() == "240 jobs match; searched 4 of 4 projects."
        assert tab.errors == []


def test_a_project_past_its_budget_keeps_its_older_jobs_metadata_only_and_says_so(browser, store: Path, tmp_path: Path,  # noqa: F811
                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """5,000 jobs of 40 long error lines made one 64 MB file (audit s20): a project's file is capped."""
    full = jobs_of(_one_project_site(store, tmp_path / "full")[1], "default_project")
    newest = next(iter(full.values()))
    budget = (sum(map(len, newest["attrs"] + newest["params"] + newest["nodes"]))  # s23: node names count too
              + sum(len(line[3]) + len(line[4]) for line in newest["lines"]))
    monkeypatch.setattr(srch, "MAX_PROJECT_TEXT", budget)  # room for the newest job's texts only
    site = _one_project_site(store, tmp_path / "cut")[1]
    data = read_data(site, "default_project")
    assert data["cut"] == len(full) - 1
    assert data["jobs"][0] == newest  # the newest job whole
    for job in data["jobs"][1:]:  # the older ones: metadata only
        assert job["params"] == [] and job["lines"] == [] and job["attrs"] == full[job["id"]]["attrs"]
    tab = _open_search(browser, site, "#q=zorblax")
    status = _wait_searched(tab)
    assert _results(tab) == [] and f"Searched by metadata only: the {len(full) - 1} oldest jobs of default_project" in status
    tab.page.fill("#search-q", "j2")
    tab.page.wait_for_function("() => document.querySelectorAll('#search-results .search-job').length > 0")
    assert "j2" in _results(tab)  # the metadata of a cut job is still searched
    assert tab.errors == []
