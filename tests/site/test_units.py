"""Pure stages of the site: slugs, JSON escaping, figures, contexts, rendering, template lint."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from reportgen.records import Commit, GitFile, Job, LogFile, NodeGroup, Output, OutputData, Problem, Timestamps
from reportgen.site import figures
from reportgen.site.contexts import (
    DownloadLinks,
    build_diff_lines,
    build_job_context,
    build_log_view,
    build_png_uri,
)
from reportgen.site.jsonsafe import render_json
from reportgen.site.paths import build_slug, build_slugs
from reportgen.site.render import build_safe_href, render_catalog_js, render_job
from site_templates import TEMPLATE_DIR

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
XSS = '</script><script>alert(1)</script> " onmouseover="alert(2) javascript:alert(3) \u2028'


# ----------------------------------------------------------------- slugs
@pytest.mark.parametrize("name", ["../../x", "CON", "con.txt", "é" * 150, "index", "a/b", "", "..", "A"])
def test_slug_is_a_safe_file_name_with_a_hash_when_it_differs(name: str) -> None:
    slug = build_slug(name)
    assert re.fullmatch(r"[a-z0-9._-]+", slug), slug
    assert len(slug.encode()) <= 80 and not slug.startswith(".")
    assert slug != name and re.search(r"-[0-9a-f]{8}$", slug)


def test_plain_names_keep_their_slug_and_clashes_get_distinct_ones() -> None:
    assert build_slug("j1") == "j1"
    slugs = build_slugs(["Job", "job", "JOB", "job-x", "a b", "a_b"])
    assert len(set(slugs.values())) == 6


# ----------------------------------------------------------------- JSON into pages
def test_script_json_cannot_close_the_tag_and_round_trips() -> None:
    value = {"label": XSS, "n": [1.5, float("nan")]}
    text = render_json(value)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text)["label"] == XSS


# ----------------------------------------------------------------- figures
def _output(name: str = "out", shape: tuple = (5,), kind: str = "float", units: str = "MHz") -> Output:
    return Output(name, f"/node/{name}", "desc", units, kind, "float64", shape, shape[0] if shape else 0,
                  8 * int(np.prod(shape)), (), False, None)


def test_long_series_is_downsampled_and_keeps_its_spike() -> None:
    y = np.sin(np.linspace(0, 50, 200_000))
    y[123_457] = 1000.0
    times = tuple(T0 + timedelta(milliseconds=i) for i in range(len(y)))
    spec = figures.build_figure(_output(shape=y.shape), OutputData("/node/out", "float", y, times))
    trace = spec["data"][0]
    kept = np.frombuffer(base64.b64decode(trace["y"]["bdata"]), "<f8")
    assert len(kept) <= figures.MAX_POINTS and kept.max() == 1000.0
    assert spec["layout"]["xaxis"]["type"] == "date" and len(trace["x"]) == len(kept)


def test_unsorted_times_are_sorted_before_drawing() -> None:
    times = (T0 + timedelta(seconds=2), T0, T0 + timedelta(seconds=1))
    spec = figures.build_figure(_output(shape=(3,)), OutputData("/node/out", "float", np.array([3.0, 1.0, 2.0]), times))
    y = np.frombuffer(base64.b64decode(spec["data"][0]["y"]["bdata"]), "<f8")
    assert list(y) == [1.0, 2.0, 3.0]


def test_big_heatmap_is_pooled_to_float32_under_the_cell_budget() -> None:
    values = np.random.default_rng(0).random((3000, 1500))
    spec = figures.build_figure(_output(shape=values.shape), OutputData("/node/out", "float", values, ()))
    z = spec["data"][0]["z"]
    rows, cols = map(int, z["shape"].split(","))
    assert z["dtype"] == "f4" and rows <= 1000 and cols <= 1000 and rows * cols <= figures.MAX_CELLS


def test_stacked_2d_sets_get_bounded_steps() -> None:
    values = np.arange(40 * 64 * 64, dtype=float).reshape(40, 64, 64)
    spec = figures.build_figure(_output(shape=values.shape), OutputData("/node/out", "float", values, ()))
    assert 1 < len(spec["steps"]) <= figures.MAX_STEPS == len(spec["step_labels"])
    cells = sum(int(np.prod([int(n) for n in s["shape"].split(",")])) for s in spec["steps"])
    assert cells <= figures.MAX_CELLS


def test_few_1d_sets_overlay_many_become_a_heatmap() -> None:
    few = figures.build_figure(_output(shape=(3, 100)), OutputData("/n/o", "float", np.ones((3, 100)), ()))
    many = figures.build_figure(_output(shape=(50, 100)), OutputData("/n/o", "float", np.ones((50, 100)), ()))
    assert [t["type"] for t in few["data"]] == ["scatter"] * 3
    assert many["data"][0]["type"] == "heatmap"


def test_labels_are_html_escaped_before_plotly_sees_them() -> None:
    spec = figures.build_figure(_output(name="<b>x</b>", units="<a href=javascript:1>u</a>"),
                                OutputData("/n/o", "float", np.ones(5), ()))
    text = json.dumps(spec)
    assert "<b>" not in text and "<a " not in text and "&lt;b&gt;" in text


def test_figures_are_deterministic() -> None:
    values = np.random.default_rng(1).random((7, 30))
    data = OutputData("/n/o", "float", values, ())
    assert render_json(figures.build_figure(_output(shape=values.shape), data)) == render_json(
        figures.build_figure(_output(shape=values.shape), data))


# ----------------------------------------------------------------- contexts
def test_png_is_shown_only_when_it_really_is_a_png() -> None:
    good = {"png": base64.b64encode(PNG).decode()}
    assert build_png_uri(good).startswith("data:image/png;base64,")
    assert build_png_uri({"png": base64.b64encode(b"<svg onload=alert(1)>").decode()}) == ""
    assert build_png_uri({"png": "not base64 !!"}) == ""
    assert build_png_uri({"png": 5}) == "" and build_png_uri("png") == ""


def _log(preview: str, errors=(), tracebacks=()) -> LogFile:
    return LogFile("node", "p/j1/node.log", len(preview), T0, preview, False, preview.count("\n"),
                   tuple(errors), tuple(tracebacks), False)


def test_long_logs_keep_their_tail_and_mark_errors() -> None:
    text = "".join(f"line {i}\n" for i in range(1, 2001))
    view = build_log_view(_log(text, errors=[1999], tracebacks=[2000]), "j1/logs/node.log")
    assert view.lines[-1].number == 2000 and view.lines[-1].kind == "traceback"
    assert view.lines[-2].kind == "error" and len(view.lines) == 500 and view.notes


def test_param_diff_shows_only_changed_lines() -> None:
    old = Commit("params", "a" * 40, "present", files=(GitFile("parameters.json", 1, "b", '{\n"x": 1,\n"y": 2\n}'),))
    new = Commit("params", "c" * 40, "present", files=(GitFile("parameters.json", 1, "d", '{\n"x": 1,\n"y": 3\n}'),))
    lines = build_diff_lines(old, new)
    assert [line.text for line in lines if line.kind in ("add", "del")] == ['-"y": 2', '+"y": 3']


def hand_built_job(text: str = XSS) -> tuple[Job, dict[str, OutputData]]:
    """A job with hostile text in every field, built by hand (no files)."""
    times = Timestamps(3, T0, T0, True, 0, ())
    scalar = Output("v" + text, f"/{text}/v", text, text, "float", "float64", (3,), 3, 24, (1.0,), False, times,
                    ((text, text),))
    js = Output("j", f"/{text}/j", text, "png", "json", "str", (2,), 2, 10, (), False, times)
    node = NodeGroup(text, f"/{text}", text, text, text, ((text, text),), (scalar, js))
    commit = Commit("params", "a" * 40, "present", "", text, text, text, "x@y", T0,
                    (GitFile(text, 3, "b" * 40, text),))
    job = Job("proj" + text, text, "p/j.hdf5", "p/j", 10, T0, ((text, text),), text, text, "ts", T0, T0,
              "output-time", (node,), (_log(text + "\n", errors=[1]),), commit, commit, "ok",
              (Problem("warning", "x", text, text, text),))
    datas = {
        scalar.hdf5_path: OutputData(scalar.hdf5_path, "float", np.array([1.0, 2.0, 3.0]), (T0, T0, T0)),
        js.hdf5_path: OutputData(js.hdf5_path, "json", ({"png": base64.b64encode(PNG).decode()}, {"k": text}), ()),
    }
    return job, datas


def test_hand_built_job_renders_escaped() -> None:
    job, datas = hand_built_job()
    page = build_job_context(job, datas, {}, {"node": "j/logs/node.log"}, "j~params-diff.html")
    html = render_job(page)
    assert "<script>alert" not in html and 'onmouseover="alert' not in html
    assert html.count("<script") == html.count("</script>")
    assert 'src="data:image/png;base64,' in html and 'type="application/json"' in html
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all('type="application/json"' in s or 'src="../assets/' in s for s in scripts), scripts


def test_unsafe_hrefs_are_neutralised() -> None:
    for bad in ("javascript:alert(1)", " JaVaScRiPt:x", "java\tscript:x", "data:text/html,x", "vbscript:x"):
        assert build_safe_href(bad) == "#"
    for good in ("a/b.html", "https://x.org", "mailto:a@b", "#frag", "../x.html"):
        assert build_safe_href(good) == good


def test_download_hrefs_allow_only_inert_base64_data_uris() -> None:
    from reportgen.site.downloads import build_data_uri
    from reportgen.site.render import build_download_href

    for fmt in ("npy", "csv"):
        uri = build_data_uri(b"\x93NUMPY <b>,\n", fmt)
        assert build_download_href(uri) == uri and base64.b64decode(uri.split(",", 1)[1]) == b"\x93NUMPY <b>,\n"
    for bad in ("data:text/html;base64,PHNjcmlwdD4=", "data:text/csv;charset=utf-8,<script>",
                "data:application/octet-stream;base64,AA==\"><script>", "data:text/csv;charset=utf-8;base64,AA==\n",
                "javascript:alert(1)"):
        assert build_download_href(bad) == "#"
    assert build_download_href("j1/n~o.npy") == "j1/n~o.npy"


def test_small_downloads_go_in_the_page_within_its_budget(tmp_path) -> None:
    """Each download up to INLINE_MAX_BYTES is a data: URI until the page's budget is spent; the rest are files."""
    from reportgen.site.downloads import INLINE_MAX_BYTES, INLINE_PAGE_BYTES
    from reportgen.site.jobpage import write_downloads

    job, _ = hand_built_job()
    small = [_output(f"s{i}", shape=(40,)) for i in range(120)]  # 40 floats: a 448-byte NPY, a ~1 KB CSV
    big = _output("big", shape=(2000,))
    node = NodeGroup("n", "/n", "t", "", "", (), (*small, big))
    job = dataclasses.replace(job, nodes=(node,))
    datas = {o.hdf5_path: OutputData(o.hdf5_path, "float", np.arange(o.shape[0], dtype=float) / 3, ()) for o in node.outputs}
    links = write_downloads(job, datas, tmp_path / "j", "j")
    inline = [(href, name) for d in links.values() for _, href, name in d.links if href.startswith("data:")]
    files = [(href, name) for d in links.values() for _, href, name in d.links if not href.startswith("data:")]
    inline_bytes = sum(len(base64.b64decode(href.split(",", 1)[1])) for href, _ in inline)
    assert 0 < inline_bytes <= INLINE_PAGE_BYTES and len(inline) < 240 and files
    assert {name for _, name in files} == {p.name for p in (tmp_path / "j").iterdir()}
    assert all((tmp_path / href).stat().st_size > INLINE_MAX_BYTES or name.startswith("n~s") for href, name in files)
    assert [h for h, n in inline + files if n == "n~big.npy"] == ["j/n~big.npy"]  # 16 KB: always a file


def test_catalog_js_is_a_script_assignment_with_escaped_json() -> None:
    job, _ = hand_built_job()
    from reportgen.site.contexts import build_catalog_row

    text = render_catalog_js("p", [build_catalog_row(job, "x.html")])
    assert text.startswith("window.REPORTGEN_CATALOG = {") and "<" not in text
    assert json.loads(text.split(" = ", 1)[1].rstrip(";\n"))["rows"][0][0] == XSS


# ----------------------------------------------------------------- template lint
def test_templates_quote_every_attribute_and_never_mark_data_safe() -> None:
    for path in TEMPLATE_DIR.rglob("*.html"):
        text = path.read_text()
        assert "|safe" not in text.replace(" ", "") and "Markup" not in text, path
        assert not re.search(r"=\{\{", text), f"unquoted attribute in {path}"
        assert not re.search(r"\son[a-z]+=", text), f"inline handler in {path}"
        assert not re.search(r"<script(?![^>]*(src=|type=\"application/json\"))", text), f"inline script in {path}"


def test_static_scripts_never_fetch_or_use_modules() -> None:
    for path in (TEMPLATE_DIR / "static").glob("*.js"):
        text = path.read_text()
        assert "fetch(" not in text and "import " not in text and "innerHTML" not in text and "eval(" not in text, path


def test_diff_pairs_match_the_obvious_quadratic_rule() -> None:
    import random

    from reportgen.site.build import build_diff_pairs
    from reportgen.site.manifest import JobEntry

    rng = random.Random(3)
    entries = {f"j{i}": JobEntry("", f"j{i}", (), (), (), rng.choice("aab"), rng.random() > 0.1,
                                 f"2024-01-{rng.randint(1, 28):02d}", 0) for i in range(300)}
    pairs = build_diff_pairs(entries)
    ordered = sorted((e.end, j) for j, e in entries.items() if e.params_present)
    for n, (_, job) in enumerate(ordered):
        sha = entries[job].params_sha
        want = next((j for _, j in reversed(ordered[:n]) if entries[j].params_sha != sha), "")
        assert pairs[job][0] == want and pairs[job][2] == sha


def test_values_from_the_preview_equal_what_the_reader_reads(example_store) -> None:
    from reportgen.readers.datastore import read_job, scan_data_store
    from reportgen.readers.hdf5 import read_output_data
    from reportgen.site.jobpage import SITE_LIMITS, build_data_from_preview

    refs = [ref for project in scan_data_store(example_store).projects for ref in project.jobs][:4]
    compared = 0
    for ref in refs:
        job = read_job(example_store, ref, SITE_LIMITS)
        for output in (o for node in job.nodes for o in node.outputs):
            quick = build_data_from_preview(output)
            if quick is None:
                continue
            full = read_output_data(example_store / job.hdf5_file, output.hdf5_path, SITE_LIMITS)
            assert quick.kind == full.kind and quick.times == full.times
            if isinstance(full.values, np.ndarray):
                assert quick.values.dtype == full.values.dtype and np.array_equal(quick.values, full.values)
            else:
                assert quick.values == full.values
            compared += 1
    assert compared > 0


# ----------------------------------------------------------------- CSV downloads (fast path)
def _csv_module_text(values: np.ndarray, times: tuple) -> str:
    """What ``csv.writer`` writes for a numeric output: the fast path must match it byte for byte."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    flat = values.reshape(len(values), -1) if values.ndim > 1 else values.reshape(-1, 1)
    writer.writerow(["set", "time", *[f"v{i}" for i in range(flat.shape[1])]])
    for number, row in enumerate(flat):
        moment = times[number] if number < len(times) else None
        writer.writerow([number, moment.isoformat() if moment else "", *row.tolist()])
    return buffer.getvalue()


@pytest.mark.parametrize("values", [
    np.array([1.5, np.nan, np.inf, -0.0, 1e300, 5e-324, 1e-05, 1e16]),
    np.arange(24, dtype=np.int64).reshape(3, 4, 2) - 7,
    np.array([True, False, True]),
    np.linspace(0, 1, 6, dtype=np.float32).reshape(3, 2),
    np.arange(6, dtype=np.uint8).reshape(3, 2),
    np.zeros((3, 0)),
    np.zeros(0),
])
def test_numeric_csv_reads_back_exactly_and_matches_the_csv_module_layout(values: np.ndarray) -> None:
    """Same rows, header and time cells as ``csv.writer``; every number parses back bit for bit."""
    import csv

    from reportgen.site.downloads import build_csv_text

    start = datetime(2022, 6, 23, 0, 36, 9, 357000, tzinfo=timezone.utc)
    for times in ((), (start,), tuple(start + timedelta(seconds=n) for n in range(len(values)))):
        data = OutputData("/n/o", "float", values, times)
        ours = list(csv.reader(io.StringIO(build_csv_text(data))))
        theirs = list(csv.reader(io.StringIO(_csv_module_text(values, times))))
        assert [row[:2] for row in ours] == [row[:2] for row in theirs] and ours[0] == theirs[0]
        flat = values.reshape(len(values), -1) if values.ndim > 1 else values.reshape(-1, 1)
        parse = (lambda cell: cell == "True") if values.dtype.kind == "b" else float
        back = np.array([[parse(cell) for cell in row[2:]] for row in ours[1:]], dtype=values.dtype).reshape(flat.shape)
        assert back.tobytes() == flat.tobytes()


@pytest.mark.parametrize("kind, values", [
    ("str", ("plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "", "Qubit_β ✓", ["nested", "row"])),
    ("json", ({"png": "iVBOR+/="}, {"k": 'q"uote, comma', "β": [1, 2.5, None]}, [1, 2**70], None, "text")),
])
def test_text_csv_reads_back_as_the_csv_module_writes_it(kind: str, values: tuple) -> None:
    """Strings and JSON cells: what ``csv.reader`` gets back is what the csv module would have written."""
    import csv

    from reportgen.site.downloads import build_csv_text

    start = datetime(2022, 6, 23, 0, 36, 9, 357000, tzinfo=timezone.utc)
    data = OutputData("/n/o", kind, values, (start,))
    rows = list(csv.reader(io.StringIO(build_csv_text(data), newline="")))
    assert rows[0] == ["set", "time", "value"] and [r[:2] for r in rows[1:]] == [
        [str(n), start.isoformat() if n == 0 else ""] for n in range(len(values))]
    cells = [r[2] for r in rows[1:]]
    if kind == "json":
        assert [json.loads(cell) for cell in cells] == list(values)
    else:
        assert cells == [v if isinstance(v, str) else str(v) for v in values]


def test_downloads_keep_to_their_size_budgets() -> None:
    """NPY up to 32 MiB of values, CSV up to 8 MiB; past both, or when the read was cut, the snippet is the way."""
    from dataclasses import replace

    from reportgen.site.downloads import MAX_CSV_BYTES, MAX_NPY_BYTES, build_download_plan

    def plan(nbytes: int, kind: str = "float", complete: bool = True) -> tuple[list[str], str]:
        values = np.zeros(3) if kind == "float" else ("a", "b", "c")
        return build_download_plan(replace(_output(kind=kind), nbytes=nbytes),
                                   OutputData("/node/out", kind, values, (), complete=complete))

    assert plan(MAX_CSV_BYTES) == (["npy", "csv"], "")
    formats, note = plan(MAX_CSV_BYTES + 1)
    assert formats == ["npy"] and "CSV skipped" in note
    formats, note = plan(MAX_NPY_BYTES + 1)
    assert formats == [] and "h5py snippet" in note
    assert plan(10, kind="str") == (["csv"], "")
    formats, note = plan(10, complete=False)
    assert formats == [] and "h5py snippet" in note
    assert build_download_plan(_output(), None) == ([], "values not read: no download")
