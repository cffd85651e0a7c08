"""Reductions of array outputs (``build --config``'s ``[[reduce]]``): each set of an array output
becomes one number per reduction, carried in the job's ``~compare.js`` as a derived series that
``compare.html`` and ``trends.html`` draw like a one-number output.

Real HDF5 files written with the test builders, real builds; the expected numbers are computed
here, set by set, from the arrays read back with h5py; bad configs with the invariants of every
negative test (one error line, exit 78, nothing written)."""

from __future__ import annotations

import base64
import json
import math
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from reportgen.readers.hdf5 import read_output_data
from reportgen.records import ReadLimits
from reportgen.site import compare
from reportgen.site import config as cfg
from reportgen.site.build import BuildOptions, build_site
from reportgen.site.figures import AxisView
from tests.invariants import assert_one_error_line, run_cli, tree_digest
from tests.readers.builders import Node, Out, metadata, write_job, write_log
from tests.site.helpers import site_digest

ALL = ["mean", "min", "max", "rms", "std", "median", "sum", "ptp"]
CONFIG = """\
[[views]]
output = "/QPU/level"
y_log = true
[[reduce]]
output = "/QPU/signal"
how = ["mean", "min", "max", "rms", "std", "median", "sum", "ptp"]
[[reduce]]
output = "/QPU/*"            # every other output of the QPU: its mean (a series or text is left alone)
how = ["mean"]
[projects.other]
reduce = [ { output = "/QPU/signal", how = ["max"] } ]
"""


def _signal(sets: int, seed: int) -> np.ndarray:
    """``sets`` sets of 50 samples, a few NaN, one set of NaN only, one with an infinity."""
    values = np.random.default_rng(seed).normal(size=(sets, 50)) * 3 + seed
    values[0, [3, 17, 40]] = np.nan
    values[2, :] = np.nan
    values[3, 5] = np.inf
    return values


def _job(store: Path, project: str, job: str, outputs: list[Out]) -> Path:
    path = write_job(store / project / f"{job}.hdf5", metadata(project, job), [Node("QPU", outputs)])
    write_log(store / project / job / "QPU.log", "done\n")
    return path


def write_store(store: Path) -> None:
    iq = np.random.default_rng(7).normal(size=(3, 8)) + 1j * np.random.default_rng(8).normal(size=(3, 8))
    _job(store, "lab", "a", [
        Out("signal", _signal(6, 1), units="V"),
        Out("iq", iq),  # complex: the magnitudes are reduced
        Out("z", np.array([3 + 4j, -1j, 0j])),  # complex, one number per set: its magnitude per set
        Out("once", np.linspace(-1.0, 4.0, 20).reshape(1, 20), units="mm"),  # a single array: one number
        Out("counts", np.arange(40, dtype=np.int64).reshape(4, 10)),
        Out("flags", np.arange(48).reshape(3, 16) % 3 == 0),  # bool: the fraction true, and so on
        Out("level", np.array([1.0, 2.0, 3.0, 4.0, 5.0])),  # one number per set: a series already
        Out("label", [["x", "y"], ["z", "w"]]),  # text: nothing to reduce
    ])
    last_empty = _signal(4, 2)
    last_empty[-1, :] = np.nan
    _job(store, "lab", "b", [Out("signal", last_empty, units="V")])
    _job(store, "other", "o1", [Out("signal", _signal(5, 3)), Out("trace", np.ones((2, 4)))])


def _config(folder: Path, text: str, name: str = "reduce.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _build(store: Path, site: Path, config: Path | None):
    return build_site(store, site, BuildOptions(workers=1, show_progress=False, config_file=config))


@pytest.fixture(scope="module")
def reduce_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reduce")
    write_store(root / "store")
    _build(root / "store", root / "site", _config(root, CONFIG))
    return root


def compare_data(site: Path, project: str, job: str) -> dict:
    text = (site / project / f"{job}~compare.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def series_of(site: Path, project: str, job: str) -> dict[str, dict]:
    return {s["key"]: s for s in compare_data(site, project, job)["series"]}


def decoded(spec: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<" + spec["dtype"])


def expected(sets: np.ndarray, how: str) -> list[float]:
    """One reduction of each set, set by set with numpy's nan functions; NaN where there is no
    finite result (no value to reduce, or an infinite one): no point."""
    out = []
    for one in sets.reshape(len(sets), -1):
        one = np.abs(one) if one.dtype.kind == "c" else one.astype(np.float64)
        if np.isnan(one).all():
            out.append(math.nan)
            continue
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            out.append(float({
                "mean": np.nanmean, "min": np.nanmin, "max": np.nanmax, "std": np.nanstd, "median": np.nanmedian,
                "sum": np.nansum, "ptp": lambda v: np.nanmax(v) - np.nanmin(v),
                "rms": lambda v: np.sqrt(np.nanmean(v * v)),
            }[how](one)))
    return [v if math.isfinite(v) else math.nan for v in out]


def read_back(store: Path, project: str, job: str, output: str) -> np.ndarray:
    with h5py.File(store / project / f"{job}.hdf5", "r") as f:
        return f["QPU"][output][()]


# ----------------------------------------------------------------- derived series of a real build
def test_each_reduction_of_each_set_is_a_derived_series_after_the_plain_ones(reduce_site: Path) -> None:
    site, store = reduce_site / "site", reduce_site / "store"
    series = series_of(site, "lab", "a")
    signal = read_back(store, "lab", "a", "signal")
    for how in ALL:
        s = series[f"/QPU/signal \u00b7 {how}"]
        assert (s["node"], s["name"], s["units"]) == ("QPU", f"signal \u00b7 {how}", "V")
        assert (s["sets"], s["read"], s["points"]) == (6, 6, 6)
        assert decoded(s["x"]).tolist() == [0, 1, 2, 3, 4, 5]  # set numbers, as a plain series' x
        np.testing.assert_allclose(decoded(s["y"]), expected(signal, how), rtol=1e-12, equal_nan=True)
        assert s["derived"]["of"] == "/QPU/signal" and s["derived"]["how"] == how
        assert s["derived"]["values"] == 50 and s["derived"]["magnitude"] is False
    # set 2 is NaN only: no value for any reduction; set 3 has an infinity: its mean, max, sum are
    # infinite and its std not a number (no point either: NaN in the data), its min and median are numbers
    assert all(series[f"/QPU/signal \u00b7 {how}"]["derived"]["no_value"] >= 1 for how in ALL)
    assert series["/QPU/signal \u00b7 min"]["derived"]["no_value"] == 1
    assert series["/QPU/signal \u00b7 mean"]["derived"]["no_value"] == 2
    assert np.isnan(decoded(series["/QPU/signal \u00b7 max"]["y"])[3])  # not inf: no point on either page
    keys = list(series)
    assert keys[0] == "/QPU/level"  # the plain series first: a derived one never pushes it out of the file
    assert all("derived" in series[key] for key in keys[1:])


def test_complex_single_integer_and_bool_arrays_and_what_is_left_alone(reduce_site: Path) -> None:
    site, store = reduce_site / "site", reduce_site / "store"
    series = series_of(site, "lab", "a")
    iq = series["|/QPU/iq| \u00b7 mean"]  # the magnitudes, and the name says so
    assert iq["name"] == "|iq| \u00b7 mean" and iq["derived"]["magnitude"] is True
    np.testing.assert_allclose(decoded(iq["y"]), expected(read_back(store, "lab", "a", "iq"), "mean"), rtol=1e-12)
    assert decoded(series["|/QPU/z| \u00b7 mean"]["y"]).tolist() == [5.0, 1.0, 0.0]
    once = series["/QPU/once \u00b7 mean"]  # one array set once: one number
    assert once["read"] == 1 and decoded(once["y"]).tolist() == pytest.approx([1.5])
    counts = decoded(series["/QPU/counts \u00b7 mean"]["y"])
    assert counts.tolist() == [4.5, 14.5, 24.5, 34.5]
    flags = decoded(series["/QPU/flags \u00b7 mean"]["y"])
    np.testing.assert_allclose(flags, expected(read_back(store, "lab", "a", "flags"), "mean"))
    # /QPU/* matches these too, but a series is drawn as it is and text has nothing to reduce
    assert not [key for key in series if key.startswith(("/QPU/level \u00b7", "/QPU/label \u00b7"))]
    assert "/QPU/signal \u00b7 mean" in series and len([k for k in series if k.startswith("/QPU/signal")]) == 8


def test_a_set_of_nan_only_is_no_value_and_the_last_one_too(reduce_site: Path) -> None:
    series = series_of(reduce_site / "site", "lab", "b")
    for how in ALL:
        y = decoded(series[f"/QPU/signal \u00b7 {how}"]["y"])
        assert math.isnan(y[2]) and math.isnan(y[-1])  # as a plain series holds a NaN it read
        assert series[f"/QPU/signal \u00b7 {how}"]["derived"]["no_value"] >= 2


def test_a_projects_own_reduction_wins_and_the_global_ones_still_apply(reduce_site: Path) -> None:
    series = series_of(reduce_site / "site", "other", "o1")
    assert [key for key in series if key.startswith("/QPU/signal")] == ["/QPU/signal \u00b7 max"]
    assert decoded(series["/QPU/trace \u00b7 mean"]["y"]).tolist() == [1.0, 1.0]


def test_a_set_over_the_read_budget_is_reduced_from_the_values_read_and_says_so(tmp_path: Path) -> None:
    path = _job(tmp_path, "p", "j", [Out("wide", np.arange(4000.0).reshape(1, 4000))])  # one set of 32,000 bytes
    output = compare_output(tmp_path, "/QPU/wide")
    data = read_output_data(path, "/QPU/wide", ReadLimits(max_read_bytes=16_000))
    assert data.value_strides == (2,)  # the reader kept every 2nd value of the set
    (s,) = compare.build_derived_series("QPU", output, data, ("max",))
    assert decoded(s["y"]).tolist() == [3998.0]  # the largest value read, not 3999
    assert s["derived"]["values"] == 2000
    assert s["derived"]["note"].startswith("of the values read (kept the one set, thinned to every 2nd value")


def compare_output(store: Path, hdf5_path: str):
    from reportgen.readers.datastore import read_job, scan_data_store
    from reportgen.readers.git import CommitCache

    ref = scan_data_store(store).projects[0].jobs[0]
    job = read_job(store, ref, commits=CommitCache())
    return next(o for n in job.nodes for o in n.outputs if o.hdf5_path == hdf5_path)


def test_a_set_larger_than_a_block_is_reduced_in_parts_to_the_same_numbers(monkeypatch) -> None:
    """The working memory is a block of values: a set larger than one is joined part by part."""
    rng = np.random.default_rng(5)
    cases = [rng.normal(size=(4, 301)) * 1e3 + 1e6, (rng.normal(size=(3, 257)) * 50).astype(np.int8),
             rng.normal(size=(2, 100)) + 1j * rng.normal(size=(2, 100)), rng.normal(size=(3, 90)) > 0]
    cases[0][1, ::7] = np.nan
    cases[0][2, :] = np.nan
    whole = [compare.build_reductions(values, tuple(ALL)) for values in cases]
    monkeypatch.setattr(compare, "REDUCE_BLOCK_VALUES", 64)  # sets of 90 to 301 values: 2 to 5 parts each
    for values, want in zip(cases, whole):
        parts = compare.build_reductions(values, tuple(ALL))
        for how in ALL:
            np.testing.assert_allclose(parts[how], want[how], rtol=1e-9, equal_nan=True)
            np.testing.assert_allclose(parts[how], expected(values, how), rtol=1e-9, equal_nan=True)


# ----------------------------------------------------------------- no reduction, no trace
def test_a_reduction_that_matches_nothing_changes_no_file_but_the_manifest(tmp_path: Path) -> None:
    store = tmp_path / "store"
    write_store(store)
    plain = _build(store, tmp_path / "plain", None)
    _build(store, tmp_path / "site", _config(tmp_path, '[[reduce]]\noutput = "/Nope/*"\nhow = ["mean", "max"]\n'))
    assert plain.built == 3
    want, got = site_digest(tmp_path / "plain"), site_digest(tmp_path / "site")
    assert want.pop("build-manifest.json") != got.pop("build-manifest.json")  # the jobs' fingerprints cover it
    assert got == want


def test_a_changed_reduction_rebuilds_its_projects_jobs_and_none_leaves_no_trace(tmp_path: Path) -> None:
    store = tmp_path / "store"
    write_store(store)
    plain, site = tmp_path / "plain", tmp_path / "site"
    _build(store, plain, None)
    assert _build(store, site, _config(tmp_path, CONFIG)).built == 3
    assert _build(store, site, _config(tmp_path, "# the same, in other words\n" + CONFIG.replace(" = ", "="))).up_to_date
    changed = _build(store, site, _config(tmp_path, CONFIG.replace('how = ["max"]', 'how = ["max", "min"]')))
    assert (changed.built, changed.kept) == (1, 2)  # project other's own reduction: its job only
    assert "/QPU/signal \u00b7 min" in series_of(site, "other", "o1")
    assert _build(store, site, None).built == 3
    assert site_digest(site) == site_digest(plain)


# ----------------------------------------------------------------- config
def test_good_reductions_parse_and_travel_after_the_views(tmp_path: Path) -> None:
    config = cfg.read_site_config(_config(tmp_path, CONFIG))
    assert config.reduce == (cfg.Reduce("/QPU/signal", tuple(ALL)), cfg.Reduce("/QPU/*", ("mean",)))
    assert config.project_reduce == (("other", (cfg.Reduce("/QPU/signal", ("max",)),)),)
    rules = config.views_for("other")
    assert rules[0] == cfg.View("/QPU/level", y_log=True) and rules[1:] == config.reduce_for("other")
    assert cfg.find_reduce(rules, "/QPU/signal") == ("max",)  # the project's first
    assert cfg.find_reduce(config.views_for("lab"), "/QPU/signal") == tuple(ALL)
    assert cfg.find_reduce(rules, "/QPU/anything") == ("mean",) and cfg.find_reduce(rules, "/Other/x") == ()
    assert cfg.find_view(rules, "/QPU/signal") is None  # a reduction is no view
    assert cfg.find_view(rules, "/QPU/level") == AxisView("", False, True)
    assert cfg.render_views_key(rules)[1:] == [["reduce", "/QPU/signal", ["max"]], ["reduce", "/QPU/signal", ALL],
                                                ["reduce", "/QPU/*", ["mean"]]]
    # a project table of reductions only keeps the global columns, as one of views only does
    both = cfg.read_site_config(_config(tmp_path, '[[columns]]\ntitle = "T"\noutput = "/a/b"\n' + CONFIG))
    assert both.columns_for("other") == both.columns
    warned = cfg.build_config_problems(config, ["lab"])
    assert [p.member for p in warned] == ["projects.other"]


BAD = [
    ('[[reduce]]\nhow = ["mean"]', "reduce[0]", "needs output"),
    ('[[reduce]]\noutput = "/QPU/signal"', "reduce[0]", "and how"),
    ('[[reduce]]\noutput = "QPU/signal"\nhow = ["mean"]', "reduce[0].output", "not an output path"),
    ('[[reduce]]\noutput = 3\nhow = ["mean"]', "reduce[0].output", "must be a string"),
    ('[[reduce]]\noutput = "/QPU/signal"\nhow = "mean"', "reduce[0].how", "non-empty array of reductions"),
    ('[[reduce]]\noutput = "/QPU/signal"\nhow = []', "reduce[0].how", "non-empty array of reductions"),
    ('[[reduce]]\noutput = "/QPU/signal"\nhow = ["mean", "avg"]', "reduce[0].how[1]", "'avg' is not a reduction"),
    ('[[reduce]]\noutput = "/QPU/signal"\nhow = [1]', "reduce[0].how[0]", "1 is not a reduction"),
    ('[[reduce]]\noutput = "/QPU/signal"\nhow = ["max", "min", "max"]', "reduce[0].how[2]", "named twice"),
    ('[[reduce]]\noutput = "/QPU/signal"\nhow = ["mean"]\nx = "f"', "reduce[0].x", "unknown key"),
    ("".join('[[reduce]]\noutput = "/a/b"\nhow = ["sum"]\n' for _ in range(65)), "'reduce'", "at most 64"),
    ('reduce = 3', "'reduce'", "array of tables"),
    ('reduce = [3]', "reduce[0]", "must be a table"),
    ('[projects.p]\nreduce = [ { output = "/a/b", how = ["mode"] } ]', "projects.p.reduce[0].how[0]", "not a reduction"),
    ('[projects.p]\nreduce = { output = "/a/b" }', "projects.p.reduce", "array of tables"),
]


@pytest.mark.parametrize(("text", "member", "reason"), BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_bad_reductions_are_one_error_line_and_exit_78(tmp_path: Path, text: str, member: str, reason: str) -> None:
    store = tmp_path / "store"
    _job(store, "p", "j", [Out("signal", np.ones((2, 3)))])
    config = _config(tmp_path, text)
    before = tree_digest(tmp_path)
    run = run_cli("build", store, "-o", tmp_path / "site", "--config", config)
    line = assert_one_error_line(run, 78, reason, str(config))
    assert member in line
    assert tree_digest(tmp_path) == before  # nothing written
