"""HDF5 files in the Entropy layout written by other tools and library settings (HDF5 variant audit).

Each input is built here with h5py as another writer would leave it: damaged
chunks, a dtype h5py cannot convert, ``_time`` stamps in other ISO 8601 forms,
1-element array attributes, a scalar dataset, NaN in JSON, compound and
complex outputs, a ``_time`` dataset with attributes.  Behaviour is checked
through the real CLI or the public reader, download and figure functions.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np
import pytest

from reportgen.readers.hdf5 import parse_time, read_hdf5_job, read_output_data
from reportgen.site.downloads import build_csv_text, build_download_plan
from reportgen.site.figures import build_figure
from tests.invariants import ERROR_LINE, run_cli, tree_digest
from tests.readers.builders import STR, make_repo, metadata, times, write_log

UTC = timezone.utc


def new_job(root: Path, job_id: str, **attrs: object) -> tuple[h5py.File, h5py.Group]:
    """An open job file with Entropy's root attributes (``attrs`` override them) and one node ``N``."""
    path = root / "p" / f"{job_id}.hdf5"
    path.parent.mkdir(parents=True, exist_ok=True)
    f = h5py.File(path, "w")
    for key, value in {**metadata("p", job_id), **attrs}.items():
        f.attrs[key] = value
    group = f.create_group("N")
    group.attrs.update(type="T", description="a node", bin="x.py")
    write_log(root / "p" / job_id / "N.log", "done\n")
    return f, group


def add_output(group: h5py.Group, name: str, data: object, stamps: list[str] | None = None, **options: object
               ) -> h5py.Dataset:
    count = len(data) if np.ndim(data) else 1  # type: ignore[arg-type]
    group.create_dataset(name + "_time", data=np.array(stamps or times(count), dtype=object), dtype=STR)
    ds = group.create_dataset(name, data=data, **options)
    ds.attrs.update(description="an output", units="u")
    return ds


def damage_last_chunk(path: Path, hdf5_path: str) -> None:
    """XOR bytes inside the last chunk of a chunked dataset: the first rows still read."""
    with h5py.File(path, "r") as f:
        ds = f[hdf5_path]
        info = ds.id.get_chunk_info(ds.id.get_num_chunks() - 1)
    raw = bytearray(path.read_bytes())
    for offset in range(info.byte_offset + 5, info.byte_offset + min(info.size, 60)):
        raw[offset] ^= 0x5A
    path.write_bytes(bytes(raw))


def archive_nodes(archive: Path) -> tuple[dict, zipfile.ZipFile]:
    zf = zipfile.ZipFile(archive)
    return json.loads(zf.read("data.json")), zf


def node_values(data: dict, zf: zipfile.ZipFile, job_id: str, label: str) -> np.ndarray:
    """``values.npy`` of the ArrayData ``label`` returned by job ``job_id``."""
    nodes = data["export_data"]["Node"]
    job_pk = next(pk for pk, n in nodes.items() if n["label"] == job_id and "workflow" in n["node_type"])
    uuids = {n["uuid"]: pk for pk, n in nodes.items()}
    for link in data["links_uuid"]:
        pk = uuids[link["output"]]
        if uuids[link["input"]] == job_pk and link["type"] == "return" and nodes[pk]["label"] == label:
            uuid = link["output"]
            return np.load(io.BytesIO(zf.read(f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}/path/values.npy")))
    raise KeyError(f"{job_id}: no output {label!r}")


# ---------------------------------------------------------------- 1. a value read libhdf5 refuses
@pytest.fixture(scope="module")
def damaged_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three jobs whose output ``x`` cannot be read whole (gzip chunk, fletcher32 checksum, array of
    vlen strings), each with a healthy output ``y``; and a healthy job."""
    root = tmp_path_factory.mktemp("damaged") / "data_store"
    for job_id, options in (("gzip_bad", {"compression": "gzip"}), ("fletcher_bad", {"fletcher32": True})):
        f, group = new_job(root, job_id)
        with f:
            add_output(group, "x", np.arange(1000.0), chunks=(100,), **options)
            add_output(group, "y", np.arange(3.0))
        damage_last_chunk(root / "p" / f"{job_id}.hdf5", "/N/x")
    f, group = new_job(root, "arrvlen")
    with f:
        add_output(group, "y", np.arange(3.0))
        group.create_dataset("x_time", data=np.array(times(3), dtype=object), dtype=STR)
        vlen_pair = h5py.h5t.array_create(h5py.h5t.py_create(STR), (2,))  # h5py shows ('V8', (2,)), cannot convert
        h5py.h5d.create(group.id, b"x", vlen_pair, h5py.h5s.create_simple((3,)))
        group["x"].attrs.update(description="d", units="u")
    f, group = new_job(root, "healthy")
    with f:
        add_output(group, "x", np.arange(10.0))
    return root


BAD_JOBS = ("arrvlen", "fletcher_bad", "gzip_bad")


def test_build_shows_an_unreadable_output_as_a_warning_and_builds_the_rest(damaged_store: Path, tmp_path: Path):
    before = tree_digest(damaged_store)
    run = run_cli("build", damaged_store, "-o", tmp_path / "site")
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr and "None" not in run.stderr
    report = json.loads((tmp_path / "site" / "build-report.json").read_text())
    unreadable = [p for p in report["problems"] if p["code"] == "values-unreadable"]
    assert sorted((p["file"], p["member"]) for p in unreadable) == [(f"p/{j}.hdf5", "/N/x") for j in BAD_JOBS]
    assert all(p["reason"].startswith("cannot read dataset (") for p in unreadable)
    for job_id in (*BAD_JOBS, "healthy"):
        page = (tmp_path / "site" / "p" / f"{job_id}.html").read_text()
        assert "y.csv" in page or job_id == "healthy"  # the healthy output keeps its downloads
    assert tree_digest(damaged_store) == before


def test_export_leaves_only_the_unreadable_output_out(damaged_store: Path, tmp_path: Path):
    archive = tmp_path / "out.aiida"
    run = run_cli("export", damaged_store, "-o", archive)
    assert run.code == 0, run.stderr
    data, zf = archive_nodes(archive)
    with zf:
        messages = [log["message"] for log in data["export_data"]["Log"].values()]
        assert not any("reader failed" in m for m in messages), messages
        for job_id in BAD_JOBS:
            assert node_values(data, zf, job_id, "y").tolist() == [0.0, 1.0, 2.0]
            with pytest.raises(KeyError):
                node_values(data, zf, job_id, "x")
        skipped = [m for m in messages if m.startswith("output 'x'")]
        assert len(skipped) == len(BAD_JOBS)
        assert all(m.startswith("output 'x' (cannot read dataset (") for m in skipped), skipped  # libhdf5's reason
        assert node_values(data, zf, "healthy", "x").tolist() == list(np.arange(10.0))
    assert run_cli("archive", "validate", archive).code == 0
    restored = tmp_path / "restored"
    assert run_cli("restore", archive, "-o", restored).code == 0
    for job_id in (*BAD_JOBS, "healthy"):  # the raw files are carried byte for byte, damage and all
        rel = Path("p") / f"{job_id}.hdf5"
        assert (restored / rel).read_bytes() == (damaged_store / rel).read_bytes()


def test_bundle_completes_with_an_unreadable_output(damaged_store: Path, tmp_path: Path):
    run = run_cli("bundle", damaged_store, "-o", tmp_path / "bundle")
    assert run.code == 0, run.stderr


def test_the_reader_names_file_and_dataset_of_a_refused_read(damaged_store: Path):
    from reportgen.errors import BadInputError

    for job_id in BAD_JOBS:
        with pytest.raises(BadInputError) as caught:
            read_output_data(damaged_store / "p" / f"{job_id}.hdf5", "/N/x")
        assert caught.value.member == "/N/x" and caught.value.file.endswith(f"{job_id}.hdf5")


_RAISE_IN_A_COMMAND = """
import errno, sys
import click
from reportgen import cli
@cli.cli.command("boom")
def boom():
    raise {error}
cli.main(["boom"])
"""


@pytest.mark.parametrize(("error", "code", "text"), [
    ('OSError("Can\'t synchronously read data (filter returned failure during read)")', 70, "internal error"),
    ('OSError(errno.ENOSPC, "No space left on device")', 74, "I/O error: No space left on device"),
    ('OSError(errno.ENOSPC, "No space left on device", "/out/x")', 74, "'/out/x': No space left on device"),
])
def test_an_os_error_without_a_file_name_is_never_printed_as_none(error: str, code: int, text: str):
    done = subprocess.run([sys.executable, "-c", _RAISE_IN_A_COMMAND.format(error=error)],
                          capture_output=True, text=True, timeout=60, check=False)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == code and len(lines) == 1, done.stderr
    assert ERROR_LINE.match(lines[0]) and text in lines[0] and "None" not in lines[0]


# ---------------------------------------------------------------- 2. _time stamps in other ISO 8601 forms
@pytest.mark.parametrize(("text", "expected"), [
    ("2022-06-25T12:52:14.435Z", datetime(2022, 6, 25, 12, 52, 14, 435000, tzinfo=UTC)),
    ("2022-06-25T12:52:14.435999+00:00", datetime(2022, 6, 25, 12, 52, 14, 435000, tzinfo=UTC)),  # cut, not rounded
    ("2022-06-25 12:52:14.435Z", datetime(2022, 6, 25, 12, 52, 14, 435000, tzinfo=UTC)),
    ("2022-06-25T14:52:14+02:00", datetime(2022, 6, 25, 12, 52, 14, tzinfo=UTC)),
    ("2022-06-25T12:52:14.435+0000", datetime(2022, 6, 25, 12, 52, 14, 435000, tzinfo=UTC)),
    ("2022-06-25T12:52:14.435", None),  # no offset: not assumed to be UTC
    ("2022-06-25", None),
    ("yesterday", None),
])
def test_parse_time_reads_iso_stamps_with_an_offset(text: str, expected: datetime | None):
    assert parse_time(text) == expected


def test_other_iso_forms_are_parsed_and_the_rest_reported(tmp_path: Path):
    root = tmp_path / "data_store"
    f, group = new_job(root, "j1", creation_timestamp="2022-06-25T13:00:00Z")
    with f:
        add_output(group, "iso", np.arange(3.0), ["2022-06-25T12:52:14.435000+00:00", "2022-06-25 14:52:14.5+02:00",
                                                  "2022-06-25T12:52:15.000Z"])
        add_output(group, "naive", np.arange(2.0), ["2022-06-25T12:52:14.435", "2022-06-25T12:52:15.435"])
        group.create_dataset("epoch_time", data=np.array([1.6e9, 1.6e9 + 1]))
        group.create_dataset("epoch", data=np.arange(2.0)).attrs.update(description="d", units="u")
    data = read_output_data(root / "p" / "j1.hdf5", "/N/iso")
    assert list(data.times) == [datetime(2022, 6, 25, 12, 52, 14, 435000, tzinfo=UTC),
                                datetime(2022, 6, 25, 12, 52, 14, 500000, tzinfo=UTC),
                                datetime(2022, 6, 25, 12, 52, 15, tzinfo=UTC)]
    run = run_cli("inspect", "--json", root)
    report = json.loads(run.stdout)
    problems = {(p["code"], p["member"]): p["reason"] for p in report["problems"]}
    naive = problems[("time-unparsable", "/N/naive_time")]
    assert "2 of 2 stamps" in naive and "'2022-06-25T12:52:14.435'" in naive and "not assumed to be UTC" in naive
    assert "2 stamps not read" in problems[("time-unparsable", "/N/epoch_time")]
    assert ("time-unparsable", "/N/iso_time") not in problems
    job = report["projects"][0]["jobs"][0]
    assert job["start_time"].startswith("2022-06-25T12:52:14.435")  # from the ISO stamps, not a log's mtime
    text = run_cli("inspect", root).stdout
    assert "time-unparsable 'p/j1.hdf5':'/N/naive_time'" in text


def test_a_start_after_the_end_is_reported(tmp_path: Path):
    root = tmp_path / "data_store"
    f, group = new_job(root, "j1", creation_timestamp="2020-01-01T00:00:00Z")
    with f:
        add_output(group, "x", np.arange(2.0))
    report = json.loads(run_cli("inspect", "--json", root).stdout)
    late = [p for p in report["problems"] if p["code"] == "start-after-end"]
    assert len(late) == 1 and late[0]["file"] == "p/j1.hdf5" and "2022-06-25T12:52:14Z" in late[0]["reason"]


# ---------------------------------------------------------------- 3. a scalar dataset exports as a 0-d array
def test_a_scalar_dataset_exports_as_a_0d_values_npy(tmp_path: Path):
    root = tmp_path / "data_store"
    f, group = new_job(root, "j1")
    with f:
        add_output(group, "s", 3.5)
    archive = tmp_path / "out.aiida"
    assert run_cli("export", root, "-o", archive).code == 0
    data, zf = archive_nodes(archive)
    with zf:
        values = node_values(data, zf, "j1", "s")
    attributes = next(data["node_attributes"][pk] for pk, n in data["export_data"]["Node"].items() if n["label"] == "s")
    assert values.shape == () and values.item() == 3.5 and attributes["array|values"] == []
    assert run_cli("archive", "validate", archive).code == 0
    assert run_cli("restore", archive, "-o", tmp_path / "r").code == 0
    assert (tmp_path / "r" / "p" / "j1.hdf5").read_bytes() == (root / "p" / "j1.hdf5").read_bytes()


# ---------------------------------------------------------------- 5. array and empty attributes
def test_one_element_array_attributes_read_as_their_element(tmp_path: Path):
    root = tmp_path / "data_store"
    stamp = "2022-06-25T14:41:05.123456+02:00"
    f, group = new_job(root, "jarr", project=np.array([b"p"]), job_eui=np.array(["#/jarr"], dtype=STR),
                       creation_timestamp=np.array([[stamp.encode()]]), job_description=h5py.Empty("S1"))
    with f:
        ds = add_output(group, "x", np.arange(2.0))
        ds.attrs["units"] = np.array([b"MHz"])
        ds.attrs["pair"] = np.array([b"M", b"Hz"])
        ds.attrs["ragged"] = np.array([np.array([1, 2], "i4"), np.array([3], "i4")], dtype=h5py.vlen_dtype("i4"))
    job = read_hdf5_job(root / "p" / "jarr.hdf5", "p/jarr.hdf5")
    root_attrs = dict(job.root_attrs)
    assert (root_attrs["project"], root_attrs["job_eui"], root_attrs["job_description"]) == ("p", "#/jarr", "")
    output = job.nodes[0].outputs[0]
    attrs = dict(output.attrs)
    assert (output.units, attrs["pair"], attrs["ragged"]) == ("MHz", "['M', 'Hz']", "[[1, 2], [3]]")
    report = json.loads(run_cli("inspect", "--json", root).stdout)
    codes = {p["code"] for p in report["problems"]}
    assert not codes & {"job-eui-mismatch", "project-mismatch", "bad-creation-timestamp"}, codes
    assert report["projects"][0]["jobs"][0]["end_time"].startswith("2022-06-25T12:41:05.123")


# ---------------------------------------------------------------- 4. NaN and Infinity in JSON outputs
def test_non_finite_numbers_in_json_outputs_keep_their_tokens_in_the_csv(tmp_path: Path):
    root = tmp_path / "data_store"
    f, group = new_job(root, "j1")
    with f:
        add_output(group, "fit", np.array([json.dumps({"chi2": math.nan, "n": None}), json.dumps([math.inf, -math.inf])],
                                          dtype=object), dtype=STR)
    data = read_output_data(root / "p" / "j1.hdf5", "/N/fit")
    assert data.kind == "json"
    lines = build_csv_text(data).splitlines()
    assert lines[1].endswith(',"{""chi2"":NaN,""n"":null}"') and lines[2].endswith(',"[Infinity,-Infinity]"')


# ---------------------------------------------------------------- 8. a _time dataset with attributes
def test_a_time_dataset_with_attributes_is_the_times_only_and_reported(tmp_path: Path):
    root = tmp_path / "data_store"
    f, group = new_job(root, "j1")
    with f:
        add_output(group, "x", np.arange(3.0))
        group["x_time"].attrs["units"] = "UTC"
    job = read_hdf5_job(root / "p" / "j1.hdf5", "p/j1.hdf5")
    outputs = job.nodes[0].outputs
    assert [o.name for o in outputs] == ["x"] and outputs[0].times is not None and outputs[0].times.count == 3
    found = [p for p in job.problems if p.member == "/N/x_time"]
    assert [(p.severity, p.code) for p in found] == [("warning", "hdf5-unexpected")]
    assert "has attributes" in found[0].reason


# ---------------------------------------------------------------- 6. compound, opaque and complex outputs
def test_compound_outputs_have_one_csv_column_per_field(tmp_path: Path):
    root = tmp_path / "data_store"
    f, group = new_job(root, "j1")
    with f:
        add_output(group, "iq", np.array([(1.0, 2.0), (3.0, 4.0)], dtype=[("i", "<f8"), ("q", "<f8")]))
        add_output(group, "rec", np.array([([1.0, 2.0], 3), ([4.0, 5.0], 6)], dtype=[("xy", "<f4", (2,)), ("n", ">i2")]))
        add_output(group, "named", np.array([(1, b"ab")], dtype=[("n", "<i4"), ("s", "S2")]))
        add_output(group, "opaque", np.array([b"\x01\x02", b"\x00\x1b"], dtype="V2"))
        add_output(group, "iqc", np.array([3 + 4j, 1j, -2 + 0j]))
    path = root / "p" / "j1.hdf5"
    iq, rec, named, opaque, iqc = (read_output_data(path, f"/N/{n}") for n in ("iq", "rec", "named", "opaque", "iqc"))
    times_text = build_csv_text(iq).splitlines()[1].split(",")[1]
    assert build_csv_text(iq).splitlines()[0] == "set,time,i,q"
    assert build_csv_text(iq).splitlines()[1] == f"0,{times_text},1.0,2.0"
    assert [line.split(",", 2)[::2] for line in build_csv_text(rec).splitlines()] == [
        ["set", "xy[0],xy[1],n"], ["0", "1.0,2.0,3"], ["1", "4.0,5.0,6"]]
    output = read_hdf5_job(path, "p/j1.hdf5").nodes[0].outputs
    by_name = {o.name: o for o in output}
    formats, note = build_download_plan(by_name["named"], named)
    assert formats == ["npy"] and "'s' is not a number" in note
    opaque_csv = build_csv_text(opaque)
    assert not any(ord(c) < 32 and c != "\n" for c in opaque_csv) and opaque_csv.splitlines()[2].endswith(",001b")
    figure = build_figure(by_name["iqc"], iqc)
    assert figure is not None and "magnitude" in figure["note"]
    assert np.frombuffer(__import__("base64").b64decode(figure["data"][0]["y"]["bdata"]), "<f8").tolist() == [5.0, 1.0, 2.0]


def test_control_characters_in_attributes_do_not_reach_the_html_raw(tmp_path: Path):
    """A NUL in an attribute (finding 7): an HTML parser drops it, so the page showed "#/w1" for
    "#/w\\x001".  The page shows U+FFFD in its place; the export keeps the value exactly."""
    store = tmp_path / "ds"
    f, group = new_job(store, "j1", workflow_eui=np.bytes_(b"#/w\x001"))
    group.attrs["description"] = np.bytes_(b"nul\x00inside\x07bell")  # fixed-length: vlen strings hold no NUL
    add_output(group, "x", [1.0, 2.0])
    f.close()
    assert run_cli("build", store, "-o", tmp_path / "site").code == 0
    page = (tmp_path / "site" / "p" / "j1.html").read_text("utf-8")
    assert "\x00" not in page and "\x07" not in page
    assert "#/w\ufffd1" in page and "nul\ufffdinside\ufffdbell" in page
    assert run_cli("export", store, "-o", tmp_path / "a.aiida").code == 0
    with zipfile.ZipFile(tmp_path / "a.aiida") as zf:
        data = zf.read("data.json").decode("utf-8")
    assert "nul\\u0000inside\\u0007bell" in data  # the archive is not the page: nothing replaced


# ---------------------------------------------------------------- scalars and enums of other writers
def test_a_scalar_string_is_one_set_of_text_on_the_page_and_a_str_in_the_archive(tmp_path: Path):
    """Another writer's single string (``ds[()] = "hello"``) was an "other" output showing no value,
    and a bytes ArrayData in the archive; a scalar number showed no value either."""
    root = tmp_path / "data_store"
    f, group = new_job(root, "j1")
    with f:
        add_output(group, "label", "héllo wörld", dtype=STR)
        add_output(group, "fixed", np.bytes_(b"fixed bytes"))
        add_output(group, "gain", 3.25)
    job = read_hdf5_job(root / "p" / "j1.hdf5", "p/j1.hdf5")
    outputs = {o.name: o for o in job.nodes[0].outputs}
    assert (outputs["label"].kind, outputs["label"].preview, outputs["label"].n_sets) == ("str", ("héllo wörld",), 1)
    assert (outputs["fixed"].kind, outputs["fixed"].preview) == ("str", ("fixed bytes",))
    assert read_output_data(root / "p" / "j1.hdf5", "/N/label").values == ("héllo wörld",)
    assert run_cli("build", root, "-o", tmp_path / "site").code == 0
    page = (tmp_path / "site" / "p" / "j1.html").read_text("utf-8")
    for name, text in (("label", "héllo wörld"), ("fixed", "fixed bytes"), ("gain", "3.25")):
        section = page[page.index(f'id="out-n-{name}'):]
        assert f'<span class="label">value</span> <span class="text">{text}</span>' in section[:3000], name
    archive = tmp_path / "out.aiida"
    assert run_cli("export", root, "-o", archive).code == 0
    data, zf = archive_nodes(archive)
    zf.close()
    nodes = {n["label"]: (pk, n["node_type"]) for pk, n in data["export_data"]["Node"].items()}
    for name, text in (("label", "héllo wörld"), ("fixed", "fixed bytes")):
        pk, node_type = nodes[name]
        assert node_type == "data.core.str.Str." and data["node_attributes"][pk] == {"value": text}
    assert run_cli("archive", "validate", archive).code == 0


def test_an_enum_output_names_its_values(tmp_path: Path):
    root = tmp_path / "data_store"
    colour = h5py.enum_dtype({"RED": 0, "GREEN": 1, "BLUE": 7}, basetype="i1")
    f, group = new_job(root, "j1")
    with f:
        add_output(group, "colour", np.array([0, 7, 1, 7], dtype=colour), dtype=colour)
        add_output(group, "flag", np.array([True, False]))  # Flame's bool is an enum too: not named
    job = read_hdf5_job(root / "p" / "j1.hdf5", "p/j1.hdf5")
    outputs = {o.name: o for o in job.nodes[0].outputs}
    assert outputs["colour"].dtype == "enum int8 (RED=0, GREEN=1, BLUE=7)"
    assert outputs["colour"].labels == ((0, "RED"), (1, "GREEN"), (7, "BLUE"))
    assert (outputs["flag"].dtype, outputs["flag"].labels) == ("bool", ())
    figure = build_figure(outputs["colour"], read_output_data(root / "p" / "j1.hdf5", "/N/colour"))
    assert figure is not None
    assert (figure["layout"]["yaxis"]["tickvals"], figure["layout"]["yaxis"]["ticktext"]) == ([0, 1, 7],
                                                                                            ["RED", "GREEN", "BLUE"])
    archive = tmp_path / "out.aiida"
    assert run_cli("export", root, "-o", archive).code == 0
    data, zf = archive_nodes(archive)
    with zf:
        values = node_values(data, zf, "j1", "colour")
    extras = next(data["node_extras"][pk] for pk, n in data["export_data"]["Node"].items() if n["label"] == "colour")
    assert values.tolist() == [0, 7, 1, 7] and extras["entropy_dtype"] == "enum int8 (RED=0, GREEN=1, BLUE=7)"


# ---------------------------------------------------------------- found by fuzzing the readers
def test_a_year_below_1000_keeps_four_digits_and_the_export_validates(tmp_path: Path):
    """'0001-01-01T00:00:00+00:00', the common "zero time": strftime's %Y wrote '1-01-01', which
    the archive's own validate rejected as a malformed date."""
    root = tmp_path / "data_store"
    f, group = new_job(root, "j1", creation_timestamp="0001-01-01T00:00:00+00:00")
    with f:
        add_output(group, "x", np.arange(2.0), stamps=["0012-03-04T05:06:07.008Z", "2022-06-25T12:52:14.435Z"])
    assert run_cli("build", root, "-o", tmp_path / "site").code == 0
    assert "0001-01-01 00:00:00" in (tmp_path / "site" / "p" / "j1.html").read_text("utf-8")
    for version in ("0.13", "main_0001"):
        archive = tmp_path / f"{version}.aiida"
        assert run_cli("export", root, "-o", archive, "--export-version", version).code == 0
        assert run_cli("archive", "validate", archive).code == 0, version
    data, zf = archive_nodes(tmp_path / "0.13.aiida")
    zf.close()
    job = next(n for n in data["export_data"]["Node"].values() if n["label"] == "j1")
    assert job["ctime"] == "0001-01-01T00:00:00.000000"
    assert run_cli("archive", "migrate", tmp_path / "main_0001.aiida", tmp_path / "down.aiida", "--to", "0.13").code == 0
    assert run_cli("archive", "validate", tmp_path / "down.aiida").code == 0


def test_json_rows_nested_too_deep_are_text(tmp_path: Path):
    """Rows nested 300 and 600 deep parse with json.loads, but orjson writes 255 levels at most (the
    export then failed its own validate) and 600 levels cannot be pickled back from the reader's
    worker (the whole job became corrupt).  Such rows are text; a row within the bound stays JSON."""
    from reportgen.jsondepth import MAX_JSON_DEPTH

    root = tmp_path / "data_store"
    f, group = new_job(root, "j1")
    with f:
        for depth in (MAX_JSON_DEPTH, 300, 600):
            row = "[" * depth + "]" * depth
            add_output(group, f"d{depth}", np.array([row, row], dtype=object), dtype=STR)
    kinds = {o.name: o.kind for o in read_hdf5_job(root / "p" / "j1.hdf5", "p/j1.hdf5").nodes[0].outputs}
    assert kinds == {f"d{MAX_JSON_DEPTH}": "json", "d300": "str", "d600": "str"}
    assert read_output_data(root / "p" / "j1.hdf5", "/N/d600").kind == "str"
    report = json.loads(run_cli("inspect", "--json", root).stdout)
    assert report["projects"][0]["jobs"][0]["status"] == "ok"
    archive = tmp_path / "out.aiida"
    assert run_cli("export", root, "-o", archive).code == 0
    assert run_cli("archive", "validate", archive).code == 0


def test_many_attributes_are_read_in_one_pass_and_bounded(tmp_path: Path):
    """15,000 attributes on one node: read by index, libhdf5 walked its dense storage from the start
    each time (minutes; the worker's timeout made the job corrupt).  Now one pass, at most
    MAX_ATTRS of them, the layout's own attributes always, and one problem for the rest."""
    from reportgen.readers.hdf5 import MAX_ATTRS

    root = tmp_path / "data_store"
    f, group = new_job(root, "j1")
    with f:
        add_output(group, "x", np.arange(2.0))
        for i in range(MAX_ATTRS + 10):
            group.attrs[f"a{i:05d}"] = "v"
    job = read_hdf5_job(root / "p" / "j1.hdf5", "p/j1.hdf5")
    node = job.nodes[0]
    assert (node.type, node.description, node.bin) == ("T", "a node", "x.py")  # named after the a0000*: still read
    problems = [p for p in job.problems if p.member.endswith("@...")]
    assert len(problems) == 1 and "10 more attributes past the 4,096 read" in problems[0].reason, job.problems


def test_a_sparse_string_output_of_many_rows_is_read_within_the_budget(tmp_path: Path):
    """130 million declared rows with no chunk written (a few kB on disk): every empty row was read
    (75 s in export).  A row costs ROW_OVERHEAD_BYTES of the budget, so the read stops early."""
    from reportgen.records import ReadLimits

    root = tmp_path / "data_store"
    f, group = new_job(root, "j1")
    with f:
        group.create_dataset("s", shape=(5_000_000,), dtype=STR, chunks=(65536,))
    data = read_output_data(root / "p" / "j1.hdf5", "/N/s", ReadLimits(max_read_bytes=64 * 1024))
    assert 0 < len(data.values) <= 64 * 1024 // 64 and not data.complete


def test_parameters_nested_too_deep_are_carried_as_the_file_only(tmp_path: Path):
    """A parameters.json nested 300 deep: the 0.13 export exited 0 and failed its own validate, the
    main_0001 export refused its own intermediate archive (exit 65 naming a work file)."""
    root = tmp_path / "data_store"
    deep = "[" * 300 + "]" * 300
    (params_sha,) = make_repo(root / "git" / "p" / "params.git", [("deep", {"parameters.json": f'{{"a": {deep}}}'})])
    (workflow_sha,) = make_repo(root / "git" / "p" / "workflow.git", [("wf", {"workflow.py": "pass\n"})])
    f, group = new_job(root, "j1", parameters_commit=params_sha, workflow_commit=workflow_sha)
    with f:
        add_output(group, "x", np.arange(2.0))
    assert run_cli("build", root, "-o", tmp_path / "site").code == 0
    for version in ("0.13", "main_0001"):
        archive = tmp_path / f"{version}.aiida"
        run = run_cli("export", root, "-o", archive, "--export-version", version)
        assert run.code == 0, run.stderr
        assert run_cli("archive", "validate", archive).code == 0, version
    data, zf = archive_nodes(tmp_path / "0.13.aiida")
    zf.close()
    assert not any(n["label"] == "j1 parameters" for n in data["export_data"]["Node"].values())
