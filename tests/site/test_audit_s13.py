"""Audit s13 of the static-site build: valid Entropy data_stores that broke ``build``/``export``/``inspect``.

Each test writes its data_store in code with h5py, as Entropy's writer would
(reference ``entropyhub-layout.md``), and checks the behaviour the audit asked for.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from pathlib import Path

import h5py
import numpy as np

from tests.invariants import run_cli

STR = h5py.string_dtype("utf-8")


# ----------------------------------------------------------------- data_store writers
def write_root_attrs(f: h5py.File, job: str, timestamp: str = "2022-06-25T14:41:05.123456+02:00") -> None:
    for key, value in (("project", "p"), ("job_eui", "#/" + job), ("job_description", "d"),
                       ("workflow_eui", "#/w1"), ("parameters_eui", "#/p1"), ("creation_timestamp", timestamp)):
        f.attrs.create(key, value, dtype=STR)


def write_node(f: h5py.File, name: str = "n") -> h5py.Group:
    group = f.create_group(name)
    for key, value in (("type", "T"), ("description", "node"), ("bin", "n.py")):
        group.attrs.create(key, value, dtype=STR)
    return group


def stamps(n: int) -> np.ndarray:
    return np.array([f"2022-06-25T12:52:14.{i % 1000:03d}Z" for i in range(n)], dtype=object)


def write_output(group: h5py.Group, name: str, data, times=None, units: str = "u", **kw) -> h5py.Dataset:
    n = len(data) if getattr(data, "ndim", 1) else 1
    group.create_dataset(name + "_time", data=stamps(n) if times is None else times, dtype=STR)
    ds = group.create_dataset(name, data=data, **kw)
    ds.attrs.create("description", "desc", dtype=STR)
    ds.attrs.create("units", units, dtype=STR)
    return ds


def new_store(tmp_path: Path, timestamp: str = "2022-06-25T14:41:05.123456+02:00"):
    """(store, open job file, node group) of one project ``p`` with one job ``j1``; close the file."""
    store = tmp_path / "store"
    (store / "p" / "j1").mkdir(parents=True)
    (store / "p" / "j1" / "n.log").write_bytes(b"ok\n")
    f = h5py.File(store / "p" / "j1.hdf5", "w")
    write_root_attrs(f, "j1", timestamp)
    return store, f, write_node(f)


def page_text(site: Path) -> str:
    raw = (site / "p" / "j1.html").read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


def build(store: Path, site: Path) -> None:
    from reportgen.site.build import BuildOptions, build_site

    build_site(store, site, BuildOptions(workers=1, show_progress=False))


def read_job_of(store: Path):
    from reportgen.readers.datastore import read_job, scan_data_store
    from reportgen.readers.git import CommitCache

    ref = scan_data_store(store).projects[0].jobs[0]
    return read_job(store, ref, commits=CommitCache())


# ----------------------------------------------------------------- F1 lone surrogate in a JSON value
LONE = json.dumps({"file": b"data_\xff.bin".decode("utf-8", "surrogateescape")})  # '{"file": "data_\\udcff.bin"}'


def test_f1_lone_surrogate_escape_in_json_value_builds_and_exports(tmp_path):
    store, f, group = new_store(tmp_path)
    with f:
        write_output(group, "files", np.array([LONE, LONE], dtype=object), dtype=STR, units="JSON")
    site = tmp_path / "site"
    run = run_cli("build", store, "-o", site)
    assert run.code == 0, run.stderr
    page = (site / "p" / "j1.html").read_text(encoding="utf-8")
    assert "data_\ufffd.bin" in html.unescape(page)  # shown replaced
    downloads = [p for p in (site / "p").rglob("*.csv")]
    csv_texts = [p.read_text(encoding="utf-8") for p in downloads]
    inline = re.findall(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', page)
    import base64

    csv_texts += [base64.b64decode(b).decode("utf-8") for b in inline]
    assert csv_texts and all("data_\ufffd.bin" in text for text in csv_texts)  # the same replacement
    archive = tmp_path / "runs.zip"
    run = run_cli("export", store, "-o", archive)
    assert run.code == 0, run.stderr
    with zipfile.ZipFile(archive) as z:
        data = z.read("data.json")
    # U+FFFD in the decoded node (a lone surrogate's escape is refused by AiiDA's databases and
    # every strict reader); the exact bytes stay in the raw HDF5 file, which restore gives back
    assert "data_\ufffd.bin" in data.decode("utf-8") and b"\\udcff" not in data
    assert run_cli("archive", "validate", archive).code == 0
    restored = tmp_path / "restored"
    assert run_cli("restore", archive, "-o", restored).code == 0
    assert (restored / "p" / "j1.hdf5").read_bytes() == (store / "p" / "j1.hdf5").read_bytes()


def test_f1_lone_surrogate_in_params_and_catalog_json_is_replaced():
    from reportgen.site.jsonsafe import render_json
    from reportgen.site.render import render_catalog_js

    assert render_json({"k\udcff": ["a\ud800"]}) == '{"k\ufffd":["a\ufffd"]}'
    assert "\udcff" not in render_catalog_js("p\udcff", [])


# ----------------------------------------------------------------- F4 creation timestamp beyond UTC
def test_f4_creation_timestamp_whose_utc_overflows_is_a_warning(tmp_path):
    for number, timestamp in enumerate(("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59.999999-12:00")):
        store, f, _ = new_store(tmp_path / str(number), timestamp)
        f.close()
        run = run_cli("build", store, "-o", tmp_path / str(number) / "site")
        assert run.code == 0, run.stderr
        run = run_cli("inspect", "--json", store)
        assert run.code == 0, run.stderr
        problems = [p for p in json.loads(run.stdout)["problems"] if p["code"] == "bad-creation-timestamp"]
        assert len(problems) == 1 and problems[0]["severity"] == "warning", problems
        assert timestamp in problems[0]["reason"]


# ----------------------------------------------------------------- F6 a _time stamp in year 0000
def test_f6_year_zero_stamp_is_one_unparsable_stamp_not_a_corrupt_job(tmp_path):
    store, f, group = new_store(tmp_path)
    with f:
        times = np.array(["0000-01-01T00:00:00.000Z", "2022-06-25T12:00:00.000Z", "9999-12-31T23:59:59.999Z"], dtype=object)
        write_output(group, "o", np.arange(3.0), times=times)
    job = read_job_of(store)
    assert job.status != "corrupt", job.problems
    output = job.nodes[0].outputs[0]
    assert output.times.unparsable == 1 and output.times.count == 3
    assert output.times.first.year == 2022 and output.times.last.year == 9999
    site = tmp_path / "site"
    build(store, site)
    assert "1 unparsable" in page_text(site)


# ----------------------------------------------------------------- F5 stamps past the read budget
def test_f5_stamps_past_the_read_budget_are_not_read_not_unparsable(tmp_path):
    from reportgen.readers.datastore import read_job, scan_data_store
    from reportgen.readers.git import CommitCache
    from reportgen.records import ReadLimits
    from reportgen.site.contexts import _times_text

    store, f, group = new_store(tmp_path)
    with f:
        times = np.datetime_as_string(np.datetime64("2022-06-25T12:00:00.000", "ms") + np.arange(300).astype("timedelta64[s]"), unit="ms")
        write_output(group, "o", np.arange(300.0), times=np.char.add(times, "Z").astype(object))
    ref = scan_data_store(store).projects[0].jobs[0]
    job = read_job(store, ref, ReadLimits(max_read_bytes=64 * 100), CommitCache())  # 100 stamps read
    output = job.nodes[0].outputs[0]
    assert (output.times.count, output.times.unparsable, output.times.unread) == (300, 0, 200)
    text = _times_text(output)
    assert "unparsable" not in text
    assert "300 stamps; of the first 100 read (the other 200 not read): 2022-06-25 12:00:00 to 2022-06-25 12:01:39" in text


# ----------------------------------------------------------------- F3 the read budget for one huge set
def test_f3_one_set_over_the_read_budget_is_read_thinned_and_said_so(tmp_path):
    from reportgen.readers.hdf5 import read_output_data
    from reportgen.records import ReadLimits

    store, f, group = new_store(tmp_path)
    with f:
        group.create_dataset("o_time", data=stamps(1), dtype=STR)
        ds = group.create_dataset("o", data=np.arange(100_000, dtype="f8").reshape(1, -1), chunks=(1, 10_000))
        ds.attrs.create("description", "", dtype=STR)
        ds.attrs.create("units", "", dtype=STR)
    data = read_output_data(store / "p" / "j1.hdf5", "/n/o", ReadLimits(max_read_bytes=80_000))  # a tenth
    assert data.values.nbytes <= 80_000 and data.values.shape == (1, 10_000)
    assert data.values[0, 1] == 10.0 and not data.complete
    assert data.note == "kept the one set, thinned to every 10th value along axis 1, to stay within 80,000 bytes"
    data = read_output_data(store / "p" / "j1.hdf5", "/n/o", ReadLimits(max_read_bytes=400_000))  # half
    assert data.values.shape == (1, 50_000) and "every 2nd value" in data.note


def test_f3_thinned_sets_note_is_grammatical():
    from reportgen.readers.hdf5 import build_read_note

    assert build_read_note(50, 100, 2, (1,), 1000) == "kept 50 of 100 sets (every 2nd set), to stay within 1,000 bytes"
    assert "every 21st set" in build_read_note(5, 100, 21, (), 1000)
    assert "every 12th set" in build_read_note(5, 100, 12, (), 1000)
    assert build_read_note(7, 100, 1, (), 1000).startswith("kept the first 7 of 100 sets,")


# ----------------------------------------------------------------- F7 long strings on the page
def test_f7_long_strings_are_cut_at_64k_on_the_page_and_whole_in_the_download(tmp_path):
    store, f, group = new_store(tmp_path)
    texts = [("line é %d\n" % i) * 30_000 for i in range(4)]  # ~300 kB each
    with f:
        write_output(group, "report", np.array(texts, dtype=object), dtype=STR, units="")
        write_output(group, "js", np.array([json.dumps({"t": texts[0]})], dtype=object), dtype=STR, units="JSON")
    site = tmp_path / "site"
    build(store, site)
    page = (site / "p" / "j1.html").read_text(encoding="utf-8")
    assert len(page.encode()) < 6 * 65_536 + 200_000, len(page)  # 5 cut strings, not 1.5 MB
    text = page_text(site)
    size = len(texts[0].encode())
    assert f"set 0 (first 65,536 of {size:,} bytes)" in text
    assert "strings over 65,536 bytes are cut on this page; the CSV download holds them whole" in text
    (report,) = [p for p in site.rglob("*report.csv")]
    csv.field_size_limit(10**7)
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8"))))
    assert [row[2] for row in rows[1:]] == texts


# ----------------------------------------------------------------- F10 scalars and (N, k) strings
def csv_rows(site: Path, name: str) -> list[list[str]]:
    page = (site / "p" / "j1.html").read_text(encoding="utf-8")
    import base64

    for href, saved in re.findall(r'<a class="download" href="([^"]+)" download="([^"]+)"', page):
        if saved == f"n~{name}.csv":
            href = html.unescape(href)
            body = base64.b64decode(href.split(",", 1)[1]) if href.startswith("data:") else (site / "p" / href).read_bytes()
            return list(csv.reader(io.StringIO(body.decode("utf-8"))))
    raise AssertionError(f"no CSV download of {name}")


def test_f10_scalars_are_one_set_and_strings_are_text_cells(tmp_path):
    store, f, group = new_store(tmp_path)
    with f:
        group.create_dataset("scal_time", data=stamps(1), dtype=STR)
        group.create_dataset("scal", data=3.5).attrs.create("units", "u", dtype=STR)
        group.create_dataset("scalstr_time", data=stamps(1), dtype=STR)
        group.create_dataset("scalstr", data="hello", dtype=STR)
        write_output(group, "str2d", np.array([["a", "b"], ["c", "d,e"]], dtype=object), dtype=STR)
        write_output(group, "fixed", np.array([b"abc", b"de"], dtype="S5"))
    job = read_job_of(store)
    outputs = {o.name: o for o in job.nodes[0].outputs}
    assert outputs["scal"].n_sets == 1 and outputs["scalstr"].n_sets == 1
    site = tmp_path / "site"
    build(store, site)
    assert re.search(r"scal \[u\] .*? sets 1 ", page_text(site))
    assert csv_rows(site, "scalstr")[1][2] == "hello"
    assert [row[2:] for row in csv_rows(site, "str2d")] == [["v0", "v1"], ["a", "b"], ["c", "d,e"]]
    assert [row[2] for row in csv_rows(site, "fixed")[1:]] == ["abc", "de"]
    assert "['a', 'b']" not in page_text(site) and '["a", "b"]' in page_text(site)


# ----------------------------------------------------------------- F11 JSON sets in set order
def test_f11_png_and_json_sets_of_a_json_output_are_shown_in_set_order(tmp_path):
    import base64

    from reportgen.example.png import render_noise_png

    image = json.dumps({"png": base64.b64encode(render_noise_png(1, 4, 4)).decode("ascii")})
    store, f, group = new_store(tmp_path)
    with f:
        write_output(group, "o", np.array(['{"a": 1}', image, '[2]'], dtype=object), dtype=STR, units="JSON")
    site = tmp_path / "site"
    build(store, site)
    page = (site / "p" / "j1.html").read_text(encoding="utf-8")
    order = [m.group(1) for m in re.finditer(r"(?:<figcaption>|<summary>)(set \d)", page)]
    assert order == ["set 0", "set 1", "set 2"], order
    assert '<figcaption>set 1</figcaption>' in page
