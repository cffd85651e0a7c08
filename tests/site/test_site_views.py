"""Figure views (``build --config``'s ``[[views]]`` and the ``@axes`` convention): an output drawn
against another output of the same job, log axes, and why a view was not applied.

Real HDF5 files written with the test builders, real builds; the figure specs are read back from
the job pages; bad configs with the invariants of every negative test; one Chromium run of the
figure's "Show data as table"."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import h5py
import numpy as np
import pytest

from reportgen.readers.hdf5 import read_output_data
from reportgen.records import ReadLimits
from reportgen.site import config as cfg
from reportgen.site.build import BuildOptions, build_site
from reportgen.site.figures import AxisView, build_view_figure
from tests.invariants import assert_one_error_line, run_cli, tree_digest
from tests.readers.builders import Node, Out, metadata, write_job, write_log
from tests.site.helpers import site_digest
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

FREQUENCY = np.array([5.0, 1.0, 3.0, 1.0, 4.0])  # a scan not in order, with a tie
CONFIG = """\
[[views]]
output = "/QPU/signal"
x = "frequency"
y_log = true
[[views]]
output = "/*/spectrum"
x = "/QPU/axis"
x_log = true
y_log = true
[[views]]
output = "/QPU/sweep"
x = "grid"
[[views]]
output = "/QPU/noise"
x = "frequency"
[[views]]
output = "/QPU/power"          # no x: the automatic figure, and @axes is not used
[[views]]
output = "/QPU/map"
x = "frequency"
y_log = true
[[views]]
output = "/QPU/cube"
x = "label"
[[views]]
output = "/QPU/count"
x = "label"
[projects.other]
views = [ { output = "/QPU/signal", x_log = true } ]
"""


def _job(store: Path, project: str, job: str, outputs: list[Out]) -> Path:
    path = write_job(store / project / f"{job}.hdf5", metadata(project, job), [Node("QPU", outputs)])
    write_log(store / project / job / "QPU.log", "done\n")
    return path


def _set_axes(path: Path, output: str, value) -> None:
    with h5py.File(path, "a") as f:
        f["QPU"][output].attrs["axes"] = value


def write_store(store: Path) -> Path:
    scan = _job(store, "lab", "scan", [
        Out("frequency", FREQUENCY, units="Hz"),
        Out("signal", np.array([50.0, 10.0, -30.0, 11.0, 0.0]), units="V"),  # two values a log axis cannot show
        Out("axis", np.linspace(0.0, 9.0, 10).reshape(1, 10), units="GHz"),  # an axis written once
        Out("spectrum", np.arange(1.0, 31.0).reshape(3, 10)),
        Out("grid", np.array([np.arange(10.0)[::-1], np.arange(10.0) * 2]), units="mm"),  # an x per set
        Out("sweep", np.arange(20.0).reshape(2, 10)),
        Out("noise", np.arange(7.0)),  # 7 sets against 5 of frequency
        Out("power", np.array([1.0, 2.0, 3.0, 4.0, 5.0])),  # @axes, but the config's view wins
        Out("level", np.array([9.0, 8.0, 7.0, 6.0, 5.0])),  # @axes="frequency:time": against frequency
        Out("map", np.ones((30, 4))),  # a heatmap: the view does not apply, and says so
        Out("cube", np.arange(8.0).reshape(2, 2, 2)),  # a 2-D array per set
        Out("label", ["a", "b"]),  # not numeric
        Out("count", np.array([3, 4])),
    ])
    _set_axes(scan, "power", "frequency")
    _set_axes(scan, "level", "frequency:time")
    _job(store, "lab", "plain", [Out("signal", np.array([1.0, 2.0]), units="V")])  # no frequency in this job
    _job(store, "other", "o1", [Out("frequency", FREQUENCY, units="Hz"), Out("signal", np.array([1.0, 2, 3, 4, 5]))])
    return scan


def _config(folder: Path, text: str, name: str = "views.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _build(store: Path, site: Path, config: Path | None):
    return build_site(store, site, BuildOptions(workers=1, show_progress=False, config_file=config))


@pytest.fixture(scope="module")
def views_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("views")
    write_store(root / "store")
    _build(root / "store", root / "site", _config(root, CONFIG))
    return root


def figure_of(page: Path, path: str) -> tuple[dict, str]:
    """(figure spec, figure note) of the output ``path`` on a job page."""
    text = page.read_text(encoding="utf-8")
    section = re.search(r'<section class="output"[^>]*data-ds="' + re.escape(path) + r'">(.*?)</section>', text, re.S)
    assert section, path
    spec = re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', section.group(1), re.S)
    note = re.search(r'</script>\n<p class="note">(.*?)</p>', section.group(1))
    return json.loads(spec.group(1)), html.unescape(note.group(1)) if note else ""


def values(spec) -> list[float]:
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<" + spec["dtype"]).tolist()


# ----------------------------------------------------------------- figures on a real build
def test_a_scalar_scan_is_drawn_against_its_x_sorted_with_a_log_y(views_site: Path) -> None:
    spec, note = figure_of(views_site / "site" / "lab" / "scan.html", "/QPU/signal")
    (trace,) = spec["data"]
    assert values(trace["x"]) == [1.0, 1.0, 3.0, 4.0, 5.0]
    assert values(trace["y"]) == [10.0, 11.0, -30.0, 0.0, 50.0]  # ties keep the file's order (stable)
    assert trace["mode"] == "lines+markers"
    assert spec["layout"]["xaxis"] == {"title": {"text": "frequency [Hz]"}}
    assert spec["layout"]["yaxis"]["type"] == "log"
    assert note == "log y axis: 2 values <= 0 not shown"


def test_arrays_against_an_axis_written_once_and_against_an_x_per_set(views_site: Path) -> None:
    page = views_site / "site" / "lab" / "scan.html"
    spectrum, note = figure_of(page, "/QPU/spectrum")
    assert [t["name"] for t in spectrum["data"]] == ["set 0", "set 1", "set 2"]
    assert all(values(t["x"]) == list(np.linspace(0.0, 9.0, 10)) for t in spectrum["data"])
    assert spectrum["layout"]["xaxis"]["title"]["text"] == "axis [GHz]"
    assert spectrum["layout"]["xaxis"]["type"] == spectrum["layout"]["yaxis"]["type"] == "log"
    assert note == "log x axis: 1 value <= 0 not shown"  # the axis's 0, counted once, not per set
    sweep, note = figure_of(page, "/QPU/sweep")
    first, second = sweep["data"]
    assert values(first["x"]) == list(range(10)) and values(first["y"]) == list(range(9, -1, -1))  # sorted by x
    assert values(second["x"]) == [2.0 * i for i in range(10)] and values(second["y"]) == list(range(10, 20))
    assert sweep["layout"]["xaxis"]["title"]["text"] == "grid [mm]" and note == ""


def test_a_view_that_cannot_apply_draws_the_default_figure_and_says_why(views_site: Path) -> None:
    page = views_site / "site" / "lab" / "scan.html"
    noise, note = figure_of(page, "/QPU/noise")
    assert noise["layout"]["xaxis"]["type"] == "date"
    assert note == "view not applied: x /QPU/frequency has 5 sets, this output 7; drawn against time (UTC)"
    heatmap, note = figure_of(page, "/QPU/map")
    assert heatmap["data"][0]["type"] == "heatmap" and "type" not in heatmap["layout"]["yaxis"]
    assert note == ("view not applied: 30 sets (a view's x is drawn for at most 20); drawn as a heatmap; "
                    "log axes do not apply to a heatmap")
    cube, note = figure_of(page, "/QPU/cube")
    assert cube["data"][0]["type"] == "heatmap" and len(cube["steps"]) == 2
    assert note == "view not applied: x /QPU/label is not numeric; drawn as a heatmap"
    count, note = figure_of(page, "/QPU/count")
    assert note == "view not applied: x /QPU/label is not numeric; drawn against time (UTC)"
    missing, note = figure_of(views_site / "site" / "lab" / "plain.html", "/QPU/signal")
    assert missing["layout"]["xaxis"]["type"] == "date" and missing["layout"]["yaxis"]["type"] == "log"
    assert note == "view not applied: x /QPU/frequency is not an output of this job; drawn against time (UTC)"


def test_axes_attribute_is_used_unless_a_view_matches(views_site: Path) -> None:
    page = views_site / "site" / "lab" / "scan.html"
    level, note = figure_of(page, "/QPU/level")
    assert level["layout"]["xaxis"]["title"]["text"] == "frequency [Hz]" and note == ""
    assert values(level["data"][0]["y"]) == [8.0, 6.0, 7.0, 5.0, 9.0]
    power, _ = figure_of(page, "/QPU/power")  # a view without x: the config wins over @axes
    assert power["layout"]["xaxis"]["type"] == "date"


def test_a_projects_views_come_first_and_the_global_ones_still_apply(views_site: Path) -> None:
    spec, note = figure_of(views_site / "site" / "other" / "o1.html", "/QPU/signal")
    assert spec["layout"]["xaxis"]["type"] == "date"  # the project's view (no x) matched first
    assert note == "x_log applies to a view's x only"
    config = cfg.read_site_config(_config(views_site, CONFIG, "again.toml"))
    assert [v.output for v in config.views_for("other")][:2] == ["/QPU/signal", "/QPU/signal"]
    assert config.columns_for("other") == ()  # a views-only project table leaves the columns alone


# ----------------------------------------------------------------- the reader's strides
def test_sets_are_matched_by_the_files_set_numbers(tmp_path: Path) -> None:
    path = _job(tmp_path, "p", "j", [Out("x", np.arange(1000.0)[::-1]), Out("y", np.arange(1000.0))])
    from reportgen.readers.datastore import read_job, scan_data_store

    outputs = {o.name: o for o in read_job(tmp_path, scan_data_store(tmp_path).projects[0].jobs[0]).nodes[0].outputs}
    x2, y4 = (read_output_data(path, p, ReadLimits(max_read_bytes=b)) for p, b in (("/QPU/x", 4000), ("/QPU/y", 2000)))
    assert (x2.stride, y4.stride) == (2, 4)
    spec = build_view_figure(outputs["y"], y4, AxisView("/QPU/x"), outputs["x"], x2)
    assert values(spec["data"][0]["y"]) == list(range(996, -1, -4))  # every y set kept found its x
    assert values(spec["data"][0]["x"]) == [999.0 - y for y in range(996, -1, -4)] and spec["note"] == ""
    y2, x4 = (read_output_data(path, p, ReadLimits(max_read_bytes=b)) for p, b in (("/QPU/y", 4000), ("/QPU/x", 2000)))
    spec = build_view_figure(outputs["y"], y2, AxisView("/QPU/x"), outputs["x"], x4)
    assert len(values(spec["data"][0]["x"])) == 250
    assert spec["note"] == "left out: 250 sets without an x set read (read with different strides)"


def _read_all(path: Path) -> tuple[dict, dict]:
    from reportgen.readers.datastore import read_job, scan_data_store

    store = path.parents[1]
    outputs = {o.hdf5_path: o for o in read_job(store, scan_data_store(store).projects[0].jobs[0]).nodes[0].outputs}
    return outputs, {name: read_output_data(path, name, ReadLimits()) for name in outputs}


def test_points_whose_x_is_not_finite_are_counted_for_arrays_too(tmp_path: Path) -> None:
    """audit-s20 03: an axis written once with NaN and inf lost those points of every set silently."""
    path = _job(tmp_path, "p", "j", [Out("axis", np.array([[1.0, np.nan, 3.0, np.inf, 5.0]])),
                                     Out("trace", np.arange(10.0).reshape(2, 5))])
    outputs, datas = _read_all(path)
    spec = build_view_figure(outputs["/QPU/trace"], datas["/QPU/trace"], AxisView("/QPU/axis"),
                             outputs["/QPU/axis"], datas["/QPU/axis"])
    assert [values(trace["x"]) for trace in spec["data"]] == [[1.0, 3.0, 5.0]] * 2
    assert spec["note"] == "left out: 4 points whose x is NaN or infinite"


def test_a_pattern_view_whose_x_is_the_output_itself_is_not_applied(tmp_path: Path) -> None:
    """audit-s20 02: output "/*/signal" with x "signal" drew the output against itself, saying nothing."""
    path = _job(tmp_path, "p", "j", [Out("signal", np.array([1.0, 3.0, 2.0]))])
    outputs, datas = _read_all(path)
    view = cfg.find_view(cfg.read_site_config(_config(tmp_path, '[[views]]\noutput = "/*/signal"\nx = "signal"')).views,
                         "/QPU/signal")
    spec = build_view_figure(outputs["/QPU/signal"], datas["/QPU/signal"], view, outputs["/QPU/signal"], datas["/QPU/signal"])
    assert spec["layout"]["xaxis"]["title"]["text"] != "signal"
    assert spec["note"].startswith("view not applied: x /QPU/signal is this output; drawn against")


def test_an_x_with_brackets_is_its_exact_name(tmp_path: Path) -> None:
    """audit-s20 06: brackets are common in lab names; x is looked up literally, never as a pattern."""
    config = cfg.read_site_config(_config(tmp_path, '[[views]]\noutput = "/QPU/power[[]dBm]"\nx = "freq[Hz]"'))
    assert cfg.find_view(config.views, "/QPU/power[dBm]") == AxisView("/QPU/freq[Hz]")


# ----------------------------------------------------------------- config
def test_good_views_parse_with_wildcards_and_bare_or_absolute_x(tmp_path: Path) -> None:
    config = cfg.read_site_config(_config(tmp_path, CONFIG))
    assert len(config.views) == 8 and config.project_views[0][0] == "other"
    assert cfg.find_view(config.views, "/QPU/signal") == AxisView("/QPU/frequency", False, True)
    assert cfg.find_view(config.views, "/Other node/spectrum") == AxisView("/QPU/axis", True, True)
    assert cfg.find_view(config.views, "/QPU/spectrum2") is None  # fnmatchcase per segment, whole segments
    wild = cfg.read_site_config(_config(tmp_path, '[[views]]\noutput = "/*/s?g*"\nx = "f"'))
    assert cfg.find_view(wild.views, "/N 2/signal").x == "/N 2/f"  # a bare x: the matched output's node
    assert cfg.render_views_key(config.views)[0] == ["/QPU/signal", "frequency", False, True]


BAD = [
    ('[[views]]\nx = "f"', "views[0]", "needs output"),
    ('[[views]]\noutput = "QPU/signal"', "views[0].output", "not an output path"),
    ('[[views]]\noutput = "/QPU/signal"\nx = "a/b"', "views[0].x", "not an output name"),
    ('[[views]]\noutput = "/QPU/signal"\nx = "/QPU/*"', "views[0].x", "without * or ?"),
    ('[[views]]\noutput = "/QPU/signal"\nx = "signal"', "views[0].x", "the view's output itself"),
    ('[[views]]\noutput = "/QPU/signal"\ny_log = "yes"', "views[0].y_log", "must be a boolean"),
    ('[[views]]\noutput = "/QPU/signal"\nx = 3', "views[0].x", "must be a string"),
    ('[[views]]\noutput = "/QPU/signal"\nz_log = true', "views[0].z_log", "unknown key"),
    ("".join('[[views]]\noutput = "/a/b"\n' for _ in range(65)), "'views'", "at most 64"),
    ('views = 3', "'views'", "array of tables"),
    ('[[views]]\noutput = "/a/b"\n[[views]]\noutput = "/a/b"\n[[views]]\noutput = "/a/b"\n[[views]]\noutput = "/a/b"\nx = ""',
     "views[3].x", "not an output name"),
    ('[projects.p]\nviews = [ { output = "/a/b", x_log = 1 } ]', "projects.p.views[0].x_log", "must be a boolean"),
]


@pytest.mark.parametrize(("text", "member", "reason"), BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_bad_views_are_one_error_line_and_exit_78(tmp_path: Path, text: str, member: str, reason: str) -> None:
    store = tmp_path / "store"
    _job(store, "p", "j", [Out("signal", np.array([1.0, 2.0]))])
    config = _config(tmp_path, text)
    before = tree_digest(tmp_path)
    run = run_cli("build", store, "-o", tmp_path / "site", "--config", config)
    line = assert_one_error_line(run, 78, reason, str(config))
    assert member in line
    assert tree_digest(tmp_path) == before  # nothing written


# ----------------------------------------------------------------- incremental
def test_a_changed_view_rebuilds_its_projects_jobs_only_and_no_views_leave_no_trace(tmp_path: Path) -> None:
    store = tmp_path / "store"
    write_store(store)
    plain, site = tmp_path / "plain", tmp_path / "site"
    _build(store, plain, None)
    first = _build(store, site, _config(tmp_path, CONFIG))
    assert first.built == 3
    assert _build(store, site, _config(tmp_path, "# same views\n" + CONFIG)).up_to_date
    changed = _build(store, site, _config(tmp_path, CONFIG.replace("x_log = true }", "y_log = true }")))
    assert (changed.built, changed.kept) == (1, 2)  # project other's own view changed: its job only
    assert _build(store, site, None).built == 3
    assert site_digest(site) == site_digest(plain)


# ----------------------------------------------------------------- in the browser
@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_the_figure_table_heads_its_first_column_with_the_x_output(browser, views_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(views_site / "site" / "lab" / "scan.html", "#ds=/QPU/signal")
    section = tab.page.locator('section.output[data-ds="/QPU/signal"]')
    section.locator("button.figure-table-toggle").click()
    rows = section.locator("table.figure-data").evaluate(
        "t => [...t.rows].map(r => [...r.cells].map(c => c.textContent))")
    assert rows[0] == ["frequency [Hz]", "V"]
    assert rows[1:] == [["1", "10"], ["1", "11"], ["3", "-30"], ["4", "0"], ["5", "50"]]
    section.locator(".main-svg").first.wait_for(state="attached", timeout=5000)  # the log axis draws
    assert tab.errors == [] and tab.dialogs == []
