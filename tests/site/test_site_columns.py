"""``reportgen build --config FILE``: configurable catalog columns (outputs, parameters, attributes).

Real data_stores (the example generator, and a small store written with h5py as Entropy's writer
would), real builds through the CLI, values read back from ``catalog-data.js``; bad configs with the
invariants of every negative test; incremental rebuilds; a Chromium run of the catalog's sort and
"Columns" chooser.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from reportgen.site import config as cfg
from tests.invariants import assert_one_error_line, run_cli, tree_digest
from tests.site.catalog_data import catalog_rows
from tests.site.helpers import site_digest
from tests.site.one_job_store import write_node, write_output, write_root_attrs
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

EXAMPLE_CONFIG = """\
[[columns]]
title = "Final count"
output = "/QPU/final_data"
[[columns]]
title = "Instrument"
parameter = "parameters.json:calibration_1.instrumentAddress"
[[columns]]
title = "Params EUI"
attribute = "parameters_eui"
[[columns]]
title = "Correction"
output = "/correction_1/correction_data"
[[columns]]
title = "Scan points"
parameter = "parameters.json:scan_list.scan_points"
[projects.qpu_bench]
columns = [ { title = "Last count", output = "/QPU/final_data" } ]
[projects."Not here"]
columns = []
"""


def _config(folder: Path, text: str, name: str = "catalog.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _build(store: Path, site: Path, *extra: object) -> str:
    run = run_cli("build", store, "-o", site, "--workers", "1", *extra)
    assert run.code == 0, run.stderr
    return run.stdout


def _catalog(site: Path, project: str) -> dict:
    text = (site / project / "catalog-data.js").read_text(encoding="utf-8")
    return json.loads(text.split(" = ", 1)[1].rstrip(";\n"))


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp("columns-example") / "data_store"
    write_example(root, seed=0, jobs_per_project=2)
    return root


# ----------------------------------------------------------------- a store of chosen values
def _write_job(store: Path, job: str, minute: int, outputs: dict, operator: str | None, log: bytes = b"ok\n") -> None:
    (store / "p" / job).mkdir(parents=True)
    (store / "p" / job / "n.log").write_bytes(log)
    with h5py.File(store / "p" / f"{job}.hdf5", "w") as f:
        write_root_attrs(f, job, f"2022-06-25T14:{minute:02d}:05.123456+02:00")
        if operator is not None:
            f.attrs.create("operator", operator, dtype=h5py.string_dtype("utf-8"))
        node = write_node(f)
        for name, data in outputs.items():
            write_output(node, name, data)


@pytest.fixture(scope="module")
def values_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Project ``p``: j1 ... j4 whose last ``score`` sorts differently as numbers and as text, and
    j3 without it; one job with every kind of value a cell can hold.  j2 failed (a traceback in its
    log): it is newly failing, and j3 after it recovered."""
    store = tmp_path_factory.mktemp("columns-values") / "store"
    _write_job(store, "j1", 1, {"score": np.array([1.5, 10.0])}, "ada")
    _write_job(store, "j2", 2, {"score": np.array([9.0])}, None,
               b"Traceback (most recent call last):\n  File \"n.py\", line 1\nValueError: bad\n")
    _write_job(store, "j3", 3, {}, "bob")
    _write_job(store, "j4", 4, {
        "score": np.array([100.5]),
        "big": np.array([2**60], dtype=np.int64),
        "f32": np.array([0.1], dtype=np.float32),
        "nan": np.array([1.0, np.nan]),
        "arr": np.zeros((2, 3)),
        "label": np.array(["first", "x" * 500], dtype=object),
        "flag": np.array([True, False]),
    }, "x" * 300)
    return store


VALUES_CONFIG = """\
[[columns]]
title = "Score"
output = "/n/score"
[[columns]]
title = "Big"
output = "/n/big"
[[columns]]
title = "F32"
output = "/n/f32"
[[columns]]
title = "NaN"
output = "/n/nan"
[[columns]]
title = "Array"
output = "/n/arr"
[[columns]]
title = "Label"
output = "/n/label"
[[columns]]
title = "Flag"
output = "/n/flag"
[[columns]]
title = "Operator"
attribute = "operator"
[[columns]]
title = "Shots"
parameter = "parameters.json:shots"
"""


@pytest.fixture(scope="module")
def values_site(values_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("columns-values-site")
    site = folder / "site"
    _build(values_store, site, "--config", _config(folder, VALUES_CONFIG))
    return site


def test_cells_hold_the_last_set_exactly(values_site: Path) -> None:
    rows = {row["id"]: row for row in catalog_rows(values_site, "p")}
    assert [rows[j]["c-score"] for j in ("j1", "j2", "j4")] == [10.0, 9.0, 100.5]
    assert rows["j3"]["c-score"] == {"why": "no such output in this job"}
    j4 = rows["j4"]
    assert j4["c-big"] == str(2**60)  # past 2**53: text, so a browser cannot round it
    assert j4["c-f32"] == 0.1  # float32 with its own shortest digits, not 0.10000000149011612
    assert j4["c-nan"] == "NaN"
    assert j4["c-array"] == {"why": "not a scalar: each set has shape (3,)"}
    assert j4["c-label"] == "x" * cfg.CELL_TEXT + "\u2026"
    assert j4["c-flag"] is False
    assert j4["c-operator"] == "x" * cfg.CELL_TEXT + "\u2026"
    assert rows["j1"]["c-operator"] == "ada" and rows["j2"]["c-operator"] == {"why": "no such root attribute"}
    assert rows["j1"]["c-shots"]["why"].startswith("parameters commit ")  # this store has no repositories


def test_example_store_columns_and_per_project_lists(example: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    summary = _build(example, site, "--config", _config(tmp_path, EXAMPLE_CONFIG))
    assert "1 warning in" in summary
    rows = catalog_rows(site, "default_project")
    for row in rows:
        job = example / "default_project" / f"{row['id']}.hdf5"
        with h5py.File(job, "r") as f:
            assert row["c-final-count"] == int(f["QPU/final_data"][-1])
            assert row["c-params-eui"] == f.attrs["parameters_eui"]
            sha = f.attrs["parameters_commit"]
        text = subprocess.run(["git", "-C", str(example / "git" / "default_project" / "params.git"), "show",
                               f"{sha}:parameters.json"], capture_output=True, text=True, check=True).stdout
        assert row["c-instrument"] == json.loads(text)["calibration_1"]["instrumentAddress"]
        full = json.dumps(json.loads(text)["scan_list"]["scan_points"], separators=(", ", ": "))  # a list leaf: its JSON text
        cell = row["c-scan-points"]
        assert cell == full if len(full) <= cfg.CELL_TEXT else cell == full[: cfg.CELL_TEXT] + "\u2026"
        assert row["c-correction"] == {"why": "not a scalar: each set has shape (2, 2)"}
    own = _catalog(site, "qpu_bench")
    assert [c["title"] for c in own["extra"]] == ["Last count"]  # a project's own list replaces the global one
    report = json.loads((site / "build-report.json").read_text())
    warned = [p for p in report["problems"] if p["code"] == "config-unknown-project"]
    assert len(warned) == 1 and warned[0]["member"] == 'projects."Not here"'


def test_row_text_is_bounded() -> None:
    columns = tuple(cfg.Column(f"c-{i}", str(i), "attribute", "a") for i in range(cfg.MAX_COLUMNS))
    from reportgen.records import Commit, Job

    job = Job("p", "j", None, None, 0, None, (("a", "y" * 10_000),), "", "", "", None, None, "", (), (),
              Commit("workflow", "", "absent"), Commit("params", "", "absent"), "ok", ())
    cells = cfg.build_cells(columns, job, {}, "no parameters")
    text = sum(len(c) for c in cells if isinstance(c, str))
    assert text <= cfg.ROW_TEXT and cells[-1]["why"].startswith("left out")
    assert len(json.dumps(cells)) < 8 * cfg.ROW_TEXT


# ----------------------------------------------------------------- without a config
def test_without_config_the_site_is_what_it_was(example: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    _build(example, plain)
    data = _catalog(plain, "default_project")
    assert "extra" not in data and all(len(row) == 13 for row in data["rows"])  # s23: + first_error
    assert '"columns"' not in (plain / "build-manifest.json").read_text().split('"jobs"')[0]
    # with columns, then without: the site a build without a config always makes
    other = tmp_path / "other"
    _build(example, other, "--config", _config(tmp_path, EXAMPLE_CONFIG))
    _build(example, other)
    assert site_digest(other) == site_digest(plain)


# ----------------------------------------------------------------- incremental
def test_config_changes_rebuild_and_an_unchanged_config_is_a_no_op(example: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    config = _config(tmp_path, EXAMPLE_CONFIG)
    _build(example, site, "--config", config)
    assert "(up to date)" in _build(example, site, "--config", config)
    # the normalised content counts, not the bytes or mtime of the file
    _config(tmp_path, "# a comment\n" + EXAMPLE_CONFIG.replace(" = ", "   =   "))
    assert "(up to date)" in _build(example, site, "--config", config)
    # the same columns from another file: no job is rebuilt (the warning now names the other file)
    moved = _config(tmp_path, EXAMPLE_CONFIG, "moved.toml")
    assert "0 built, 6 kept" in _build(example, site, "--config", moved)
    before = (site / "default_project" / "catalog-data.js").read_text()
    renamed = _config(tmp_path, EXAMPLE_CONFIG.replace('"Final count"', '"Final"'), "renamed.toml")
    summary = _build(example, site, "--config", renamed)
    assert "4 built, 2 kept" in summary  # the projects of the global list; qpu_bench has its own
    after = _catalog(site, "default_project")
    assert after["extra"][0] == {"key": "c-final", "source": "output /QPU/final_data", "title": "Final"}
    assert (site / "default_project" / "catalog-data.js").read_text() != before
    assert "6 built" in _build(example, site)  # dropping the config rebuilds every job with columns


# ----------------------------------------------------------------- bad configs
BAD = [
    ("columns = [", "", "not TOML"),
    ("colums = []", "'colums'", "unknown key"),
    ('[[columns]]\ntitle = "A"\noutput = "/a/b"\ncolour = "red"', "columns[0].colour", "unknown key"),
    ('[[columns]]\ntitle = 3\noutput = "/a/b"', "columns[0].title", "must be a string"),
    ('[[columns]]\ntitle = "A"\noutput = "/a/b"\nparameter = "p.json:x"', "columns[0]", "exactly one"),
    ('[[columns]]\ntitle = "A"', "columns[0]", "exactly one"),
    ('[[columns]]\ntitle = "A"\noutput = "a/b"', "columns[0].output", "not an output path"),
    ('[[columns]]\ntitle = "A"\noutput = "/a/b/c"', "columns[0].output", "not an output path"),
    ('[[columns]]\ntitle = "A"\nparameter = ":x"', "columns[0].parameter", "not <file>"),
    ('[[columns]]\ntitle = "A"\nattribute = "a"\n[[columns]]\ntitle = "A"\nattribute = "b"', "columns[1].title",
     "duplicate column"),
    ("".join(f'[[columns]]\ntitle = "T{i}"\nattribute = "a"\n' for i in range(17)), "'columns'", "at most 16"),
    ('[projects.p]\ncolumns = [ { title = "A", output = "x" } ]', "projects.p.columns[0].output", "not an output path"),
    ("columns = 5", "'columns'", "array of tables"),
]


@pytest.mark.parametrize(("text", "member", "reason"), BAD, ids=[b[2] + "-" + str(i) for i, b in enumerate(BAD)])
def test_bad_config_is_one_error_line_and_exit_78(values_store: Path, tmp_path: Path, text: str, member: str,
                                                  reason: str) -> None:
    config = _config(tmp_path, text)
    before = tree_digest(tmp_path)
    run = run_cli("build", values_store, "-o", tmp_path / "site", "--config", config)
    line = assert_one_error_line(run, 78, reason, str(config))
    assert member in line
    assert tree_digest(tmp_path) == before  # no site, no lock, no staging; the config untouched


def test_bad_config_leaves_an_existing_site_alone(values_store: Path, values_site: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, '[[columns]]\ntitle = "A"\nsource = "/n/score"')
    before = tree_digest(values_site)
    run = run_cli("build", values_store, "-o", values_site, "--config", config)
    assert_one_error_line(run, 78, "unknown key", "columns[0].source")
    assert tree_digest(values_site) == before


def test_missing_config_is_66(values_store: Path, tmp_path: Path) -> None:
    run = run_cli("build", values_store, "-o", tmp_path / "site", "--config", tmp_path / "nope.toml")
    assert_one_error_line(run, 66, "config file not found", "nope.toml")
    assert not (tmp_path / "site").exists()


# ----------------------------------------------------------------- in the browser
@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_catalog_sorts_a_numeric_column_and_hides_a_column(browser, values_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    catalog = values_site / "p" / "index.html"
    tab.open(catalog)
    ids = "#catalog-table tbody tr td:first-child"
    tab.page.click("button[data-sort='c-score']")
    assert tab.page.locator(ids).all_inner_texts() == ["j2", "j1", "j4", "j3"]  # 9 < 10 < 100.5, empty last
    assert "sort=c-score" in tab.page.url and "dir=asc" in tab.page.url
    tab.page.click("button[data-sort='c-score']")
    assert tab.page.locator(ids).all_inner_texts() == ["j4", "j1", "j2", "j3"]  # the empty cell stays last
    empty = tab.page.locator("#catalog-table tbody tr").last.locator("td.empty").first
    assert empty.get_attribute("title") == "no such output in this job"
    tab.page.click("#catalog-columns summary")
    tab.page.uncheck("#catalog-columns input[data-column='description']")
    heads = tab.page.locator("#catalog-table thead th").all_inner_texts()
    assert "Description" not in heads and "Score" in heads
    score = tab.page.locator("#catalog-table thead th", has=tab.page.locator("button[data-sort='c-score']"))
    assert score.get_attribute("aria-sort") == "descending"
    assert "hide=description" in tab.page.url
    tab.open(catalog, "#" + tab.page.url.split("#", 1)[1])  # a shared link keeps the view
    assert "Description" not in tab.page.locator("#catalog-table thead th").all_inner_texts()
    assert not tab.page.is_checked("#catalog-columns input[data-column='description']")
    assert tab.page.locator(ids).all_inner_texts() == ["j4", "j1", "j2", "j3"]
    assert tab.errors == []


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_status_change_badges_and_filter(browser, values_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(values_site / "p" / "index.html", "#sort=id&dir=asc")
    rows = tab.page.locator("#catalog-table tbody tr")
    statuses = [rows.nth(i).locator("td.status-cell").inner_text() for i in range(rows.count())]
    assert [s.split() for s in statuses] == [["ok"], ["failed-nodes", "newly", "failing"], ["ok", "recovered"], ["ok"]]
    tab.page.select_option("#catalog-status", "status-change")
    assert tab.page.locator("#catalog-table tbody tr td:first-child").all_inner_texts() == ["j2", "j3"]
    assert "status=status-change" in tab.page.url
    tab.page.select_option("#catalog-status", "recovered")
    assert tab.page.locator("#catalog-table tbody tr td:first-child").all_inner_texts() == ["j3"]
    assert tab.errors == []


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_columns_and_chooser_reflow_at_320_px(browser, values_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.page.set_viewport_size({"width": 320, "height": 800})
    tab.open(values_site / "p" / "index.html")
    tab.page.click("#catalog-columns summary")
    tab.page.screenshot(path=str(values_site.parent / "narrow.png"), full_page=True)
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= 320
    box = tab.page.locator("#catalog .table-scroll")  # the wide table scrolls in its own box (session 22)
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_long_text_cell_is_two_lines_whole_in_its_tooltip_and_dates_do_not_wrap(browser, values_site: Path) -> None:  # noqa: F811
    """A list parameter of 40 values made every row a screen tall (the demo's "Scan points")."""
    tab = Page(browser)
    tab.open(values_site / "p" / "index.html", "#sort=id&dir=asc")
    j4 = tab.page.locator("#catalog-table tbody tr").nth(3)
    heads = tab.page.locator("#catalog-table thead th").all_inner_texts()
    label = j4.locator("td").nth(heads.index("Label"))
    clamp = label.locator(".clamp")
    assert clamp.count() == 1 and clamp.text_content() == label.get_attribute("title")
    assert clamp.text_content().startswith("x" * 199) and clamp.text_content().endswith("\u2026")
    line = clamp.evaluate("c => parseFloat(getComputedStyle(c).lineHeight)")
    assert clamp.evaluate("c => c.getBoundingClientRect().height") <= 2 * line + 1
    assert clamp.evaluate("c => c.scrollHeight > c.clientHeight")  # there is more than is shown
    assert j4.locator("td").nth(heads.index("Score")).locator(".clamp").count() == 0  # short: as it is
    end = j4.locator("td").nth(heads.index("End (UTC)"))
    assert end.evaluate("td => getComputedStyle(td).whiteSpace") == "nowrap"
    assert tab.errors == []


# ----------------------------------------------------------------- audit-s19 cases
def test_text_cells_with_lone_surrogates_are_written_as_replacement_characters() -> None:
    """'"\\ud800x"' is valid JSON that Python reads to a lone surrogate, which UTF-8 cannot hold:
    the cell shows U+FFFD, as the site does everywhere, instead of failing the manifest's write."""
    from reportgen.records import Commit, Job

    columns = (cfg.Column("c-a", "a", "parameter", "p.json:a"), cfg.Column("c-b", "b", "parameter", "p.json:b"),
               cfg.Column("c-c", "c", "attribute", "op"))
    job = Job("p", "j", None, None, 0, None, (("op", "\udcffname"),), "", "", "", None, None, "", (), (),
              Commit("workflow", "", "absent"), Commit("params", "", "absent"), "ok", ())
    cells = cfg.build_cells(columns, job, {}, {"p.json:a": "\ud800x", "p.json:b": ["\ud800", 1]})
    assert cells == ["\ufffdx", '["\ufffd", 1]', "\ufffdname"]
    json.dumps(cells).encode("utf-8")  # what the manifest and catalog-data.js are written as


def test_a_config_with_a_byte_order_mark_is_read(values_store: Path, tmp_path: Path) -> None:
    config = tmp_path / "bom.toml"
    config.write_bytes(b"\xef\xbb\xbf" + VALUES_CONFIG.encode("utf-8"))  # as Notepad and PowerShell save it
    _build(values_store, tmp_path / "site", "--config", config)
    assert "c-score" in _catalog(tmp_path / "site", "p")["columns"]


def test_long_titles_that_differ_late_are_two_columns(values_store: Path, tmp_path: Path) -> None:
    title = "Readout fidelity after calibration, qubit "
    config = _config(tmp_path, "".join(f'[[columns]]\ntitle = "{title}{n}"\noutput = "/n/score"\n' for n in (1, 2)))
    _build(values_store, tmp_path / "site", "--config", config)
    assert _catalog(tmp_path / "site", "p")["columns"][-2:] == ["c-readout-fidelity-after-calibration-qubit-1",
                                                                "c-readout-fidelity-after-calibration-qubit-2"]


@pytest.fixture(scope="module")
def ties_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """j9 failed and j10 succeeded in the same second, after j8; their last ``huge`` values differ
    only past 2^53 (one double for all three)."""
    folder = tmp_path_factory.mktemp("columns-ties")
    store = folder / "store"
    failed = b"Traceback (most recent call last):\n  File \"n.py\", line 1\nValueError: bad\n"
    for job, minute, huge, log in (("j8", 1, 2**60 + 1, b"ok\n"), ("j9", 2, 2**60, failed), ("j10", 2, 2**60 + 2, b"ok\n")):
        _write_job(store, job, minute, {"huge": np.array([huge], dtype=np.int64)}, None, log)
    _build(store, folder / "site", "--config", _config(folder, '[[columns]]\ntitle = "Huge"\noutput = "/n/huge"\n'))
    return folder / "site"


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_integers_past_2_53_sort_exactly_and_ties_in_end_time_go_by_natural_job_order(browser, ties_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(ties_site / "p" / "index.html", "#sort=c-huge&dir=asc")
    ids = tab.page.locator("#catalog-table tbody tr td:first-child").all_inner_texts()
    assert ids == ["j9", "j8", "j10"]  # 2^60 < 2^60 + 1 < 2^60 + 2, though all three are the same double
    tab.page.select_option("#catalog-status", "status-change")
    rows = tab.page.locator("#catalog-table tbody tr")
    marks = {rows.nth(i).locator("td").first.inner_text(): rows.nth(i).locator("td.status-cell").inner_text().split()
             for i in range(rows.count())}
    assert marks == {"j9": ["failed-nodes", "newly", "failing"], "j10": ["ok", "recovered"]}  # j9 ran before j10
    assert tab.errors == []
