"""``reportgen build`` against the audit's findings: names that are not UTF-8, HDF5 dtypes Flame
never writes, special files, broken ``_executor_result.json``, and the texts of odd outputs.

Inputs are built here with real h5py, real FIFOs and real git (through the readers' builders).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import warnings
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np

from reportgen.records import Output, OutputData, Timestamps
from reportgen.site.build import BuildOptions, build_site
from reportgen.site.contexts import DownloadLinks, build_output_view
from reportgen.site.downloads import build_csv_text, build_npy_bytes
from reportgen.site.manifest import JobEntry, Manifest, load_manifest, render_manifest
from tests.invariants import run_cli
from tests.readers.builders import (
    STR,
    Node,
    Out,
    make_repo,
    metadata,
    simple_job,
    times,
    write_job,
    write_log,
)
from tests.site.helpers import site_digest

SERIAL = BuildOptions(workers=1, show_progress=False)


def raw(path: Path, name: bytes) -> Path:
    """``path / name`` for a name that is not UTF-8 (held as surrogates, as os.listdir gives it)."""
    return path / os.fsdecode(name)


def report_problems(site: Path) -> list[tuple[str, str]]:
    return [(p["code"], p["file"]) for p in json.loads((site / "build-report.json").read_text())["problems"]]


# ---------------------------------------------------------------- bug 1: names that are not UTF-8
def non_utf8_store(root: Path) -> Path:
    """A job file, a log and a project folder whose names hold the byte 0xff."""
    make_repo(root / "git" / "proj" / "workflow.git", [("c", {"workflow.py": "x"})])
    write_job(raw(root / "proj", b"j\xff.hdf5"), metadata("proj", "j\\xff"), [Node("QPU", [Out("v", [1.0, 2.0])])])
    write_log(raw(root / "proj", b"j\xff") / "QPU.log", "hello\n")
    simple_job(root, "proj", "j1")
    write_log(raw(root / "proj" / "j1", b"Q\xffU.log"), "".join(f"line {n}\n" for n in range(600)))
    write_job(raw(root, b"p\xff") / "j1.hdf5", metadata("p\\xff", "j1"), [Node("QPU", [Out("v", [1.0])])])
    write_log(raw(root, b"p\xff") / "j1" / "QPU.log", "hello\n")
    return root


def test_build_shows_non_utf8_names_escaped_with_safe_files_and_a_lossless_manifest(tmp_path):
    store = non_utf8_store(tmp_path / "ds")
    site = tmp_path / "site"
    report = build_site(store, site, SERIAL)
    assert report.jobs == 3 and report.built == 3
    for path in site.rglob("*"):
        assert path.name.isascii(), path  # slugs: readable ASCII part plus a hash
        if path.suffix in (".html", ".js", ".json"):
            path.read_bytes().decode("utf-8")  # strict: never a surrogate written out
    pages = {p.relative_to(site).as_posix(): p.read_text() for p in site.rglob("*.html")}
    job_page = next(text for name, text in pages.items() if name.startswith("proj/j-") and "~" not in name)
    assert "j\\xff" in job_page and "proj/j\\xff.hdf5" in job_page
    assert any("p\\xff" in text for name, text in pages.items() if name.startswith("p-") and name.endswith("index.html"))
    copies = list(site.glob("proj/j1/logs/*.log"))  # the 600-line log is copied, found by its real name
    assert len(copies) == 1 and copies[0].read_bytes() == raw(store / "proj" / "j1", b"Q\xffU.log").read_bytes()
    text = (site / "build-manifest.json").read_text(encoding="utf-8")
    assert '"/j%FF"' in text and '"/p%FF"' in text
    manifest = load_manifest(site)[0]
    assert set(manifest.jobs) == {"proj", os.fsdecode(b"p\xff")}
    assert set(manifest.jobs["proj"]) == {"j1", os.fsdecode(b"j\xff")}
    assert ("name-not-utf8", "proj/j1/Q\\xffU.log") in report_problems(site)
    again = build_site(store, site, SERIAL)
    assert again.up_to_date and again.built == 0
    other = tmp_path / "other"
    build_site(store, other, BuildOptions(workers=2, show_progress=False))
    assert site_digest(other) == site_digest(site)  # deterministic, in the pool as in one process


def test_manifest_names_round_trip_and_never_collide():
    from reportgen.site.manifest import decode_name, encode_name

    names = ["j1", "Qubit_β", os.fsdecode(b"j\xff"), "j%FF", "j\\xff", os.fsdecode(b"\xc3\x28%2F")]
    encoded = [encode_name(name) for name in names]
    assert encoded[:2] == ["j1", "Qubit_β"] and len(set(encoded)) == len(names)
    assert [decode_name(text) for text in encoded] == names
    entry = JobEntry("fp", "slug", (), (), (), "", False, "", 0)
    manifest = Manifest(theme="t", projects={name: {"slug": "s"} for name in names},
                        jobs={name: {name: entry} for name in names})
    render_manifest(manifest).decode("utf-8")  # valid UTF-8 JSON whatever the names


def test_manifest_file_round_trips_surrogate_names(tmp_path):
    names = [os.fsdecode(b"j\xff"), "j1"]
    def entry(name: str) -> JobEntry:  # a row as the build writes it: the job's id and its own page
        return JobEntry("fp", "j-1", (repr(name), "j-1.html", "", "", "", "ok", 0, 0, "", "", 0, 0, ""), (), (), "", False, "", 0)

    manifest = Manifest(theme="t", projects={os.fsdecode(b"p\xfe"): {"slug": "p-1"}},
                        jobs={os.fsdecode(b"p\xfe"): {name: entry(name) for name in names}})
    (tmp_path / "build-manifest.json").write_bytes(render_manifest(manifest))
    back = load_manifest(tmp_path)[0]
    assert back.projects == manifest.projects and back.jobs == manifest.jobs


# ---------------------------------------------------------------- bug 2: dtypes Flame never writes
def odd_dtype_store(root: Path) -> Path:
    path = write_job(root / "proj" / "j1.hdf5", metadata("proj", "j1"), [Node("QPU")])
    write_log(root / "proj" / "j1" / "QPU.log", "hello\n")
    with h5py.File(path, "a") as f:
        group = f["QPU"]

        def output(name: str, n_times: int | None, **kwargs) -> h5py.Dataset:
            if n_times is not None:
                group.create_dataset(name + "_time", data=np.array(times(n_times), dtype=STR))
            ds = group.create_dataset(name, **kwargs)
            ds.attrs["description"] = ""
            ds.attrs["units"] = ""
            return ds

        record = np.empty(2, dtype=[("name", STR), ("v", "f8")])
        record[0], record[1] = ("<b>x</b>", 1.0), ("y", 2.0)
        output("rec", 2, data=record)
        output("refs", 1, shape=(1,), dtype=h5py.ref_dtype)[0] = f.ref
        output("rrefs", 1, shape=(1,), dtype=h5py.regionref_dtype)
        vlen = output("vlen", 2, shape=(2,), dtype=h5py.vlen_dtype("i4"))
        vlen[0], vlen[1] = [1, 2, 3], [4]
        output("null", None, shape=None, dtype="f8")
        output("scalar", 1, data=3.25)
        colors = h5py.enum_dtype({"RED": 0, "GREEN": 1, "BLUE": 7}, basetype="i1")
        output("color", 2, data=np.array([0, 7], dtype="i1"), dtype=colors)
        output("cplx", 2, data=np.array([1 + 2j, 3 - 4j]))
        output("ldbl", 2, data=np.array([0.1, 2.0], dtype=np.longdouble))
    return root


def test_build_survives_every_dtype_inspect_handles_without_warnings(tmp_path):
    store = odd_dtype_store(tmp_path / "ds")
    site = tmp_path / "site"
    run = run_cli("build", store, "-o", site, timeout=120)
    assert run.code == 0, run.stderr
    assert "Warning" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    page = (site / "proj" / "j1.html").read_text()
    parts = re.split(r'<section class="output" id="out-qpu-([a-z0-9]+)-[0-9a-f]{8}"[^>]*>', page)
    sections = dict(zip(parts[1::2], parts[2::2]))
    assert set(sections) == {"rec", "refs", "rrefs", "vlen", "null", "scalar", "color", "cplx", "ldbl"}
    for name in ("rec", "vlen"):  # object fields: NPY would need pickle
        assert "no NPY or CSV copy of this dtype" in sections[name] and "download=" not in sections[name], name
    for name, kind in (("refs", "object reference"), ("rrefs", "region reference")):  # the paths they point to
        assert kind in sections[name], name
    assert "download=" not in sections["null"]
    for name in ("scalar", "color", "cplx", "ldbl"):
        assert ".npy" in sections[name] and ".csv" in sections[name], name
    csv_uri = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', sections["scalar"]).group(1)
    assert base64.b64decode(csv_uri).decode().splitlines()[1].endswith(",3.25")


def test_build_survives_a_deeply_nested_executor_result_and_names_it(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "proj", "j1")
    (root / "proj" / "j1" / "_executor_result.json").write_text("[" * 100_000 + "]" * 100_000)
    site = tmp_path / "site"
    run = run_cli("build", root, "-o", site, timeout=120)
    assert run.code == 0, run.stderr
    assert ("executor-result-invalid", "proj/j1/_executor_result.json") in report_problems(site)
    row = json.loads((site / "proj" / "catalog-data.js").read_text().split(" = ", 1)[1].rstrip(";\n"))["rows"][0]
    assert "ok" in row  # the job's status: its HDF5 file is fine


# ---------------------------------------------------------------- bug 3: special files
def test_fifo_named_like_a_job_file_is_listed_not_opened(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "proj", "j1")
    os.mkfifo(root / "proj" / "j2.hdf5")
    os.mkfifo(root / "proj" / "j1" / "B.log")
    site = tmp_path / "site"
    run = run_cli("build", root, "-o", site, timeout=60)  # was 2 x 120 s of worker timeouts
    assert run.code == 0, run.stderr
    problems = report_problems(site)
    assert ("special-file", "proj/j2.hdf5") in problems and ("special-file", "proj/j1/B.log") in problems
    assert not list(site.glob("proj/j2*"))


# ---------------------------------------------------------------- downloads and texts
def test_npy_of_h5py_dtypes_with_metadata_saves_without_a_warning():
    enum = h5py.enum_dtype({"RED": 0, "BLUE": 7}, basetype="i1")
    nested = np.dtype([("color", enum), ("v", "f8"), ("arr", (enum, (2,)))])
    values = [np.array([0, 7], dtype=enum), np.zeros(2, dtype=nested), np.array(5, dtype=enum)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bodies = [build_npy_bytes(v) for v in values]
    for body, value in zip(bodies, values):
        back = np.load(io.BytesIO(body), allow_pickle=False)
        assert back.tobytes() == value.tobytes() and back.shape == value.shape and back.dtype.metadata is None


def test_csv_writes_complex_and_long_double_as_clean_round_trip_numbers():
    stamp = (datetime(2022, 6, 25, tzinfo=timezone.utc),)
    cplx = np.array([1 + 2j, 3 - 4j, complex(float("nan"), 0.1), -2.5j])
    ldbl = np.array([np.longdouble("0.1"), 2.0, np.inf], dtype=np.longdouble)
    cells = {}
    for name, values in (("cplx", cplx), ("ldbl", ldbl), ("c64", cplx.astype(np.complex64))):
        rows = list(csv.reader(io.StringIO(build_csv_text(OutputData("/n/o", "other", values, stamp)))))
        cells[name] = [row[2] for row in rows[1:]]
    assert cells["cplx"] == ["1+2j", "3-4j", "nan+0.1j", "-0-2.5j"]
    assert cells["ldbl"] == ["0.1", "2.0", "inf"]
    assert cells["c64"][:2] == ["1+2j", "3-4j"]
    assert np.array([complex(c) for c in cells["cplx"]]).tobytes() == cplx.tobytes()
    assert (np.array([np.longdouble(c) for c in cells["ldbl"]], dtype=np.longdouble) == ldbl).all()  # (padding bytes vary)
    one = build_csv_text(OutputData("/n/o", "other", np.asarray(3.25), stamp))  # a scalar dataset: one set
    assert one == "set,time,v0\n0,2022-06-25T00:00:00+00:00,3.25\n"


def _with_times(stamps: Timestamps) -> Output:
    return Output("o", "/n/o", "", "", "float", "float64", (3,), 3, 24, (), False, stamps)


def test_times_summary_of_never_set_and_unparsable_stamps():
    never = build_output_view(_with_times(Timestamps(0, None, None, True, 0, ())), None, None, DownloadLinks())
    assert never.times == "no stamps"
    bad = Timestamps(3, None, None, True, 0, ("yesterday", "", "x"), unparsable=3)
    assert build_output_view(_with_times(bad), None, None, DownloadLinks()).times == "3 stamps, none parsable"
    first = datetime(2022, 6, 25, 12, 52, 14, tzinfo=timezone.utc)
    some = replace(bad, first=first, last=first, unparsable=1)
    assert build_output_view(_with_times(some), None, None, DownloadLinks()).times == (
        "3 stamps, 2022-06-25 12:52:14 to 2022-06-25 12:52:14, 1 unparsable")
