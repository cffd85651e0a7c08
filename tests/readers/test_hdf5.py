"""reportgen.readers.hdf5: every dtype case of reference 2.3, bounds, and the pre-read safety check."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from reportgen.errors import BadInputError, InputMissingError
from reportgen.readers.hdf5 import read_hdf5_job, read_output_data, read_outputs_available, read_outputs_data
from reportgen.records import ReadLimits
from tests.readers.builders import STR, Node, Out, metadata, times, write_job

CANARY = b"CANARY-7f3a-do-not-read"


def read_one(tmp_path: Path, *outputs: Out, node: str = "QPU", limits: ReadLimits = ReadLimits()):
    path = write_job(tmp_path / "p" / "j1.hdf5", metadata("p", "j1"), [Node(node, list(outputs))])
    job = read_hdf5_job(path, "p/j1.hdf5", limits)
    assert job.readable, job.problems
    return {o.name: o for o in job.nodes[0].outputs}, job


def test_root_and_node_attributes_are_read_as_text(tmp_path):
    outputs, job = read_one(tmp_path, Out("x", [1]))
    attrs = dict(job.root_attrs)
    assert attrs["job_eui"] == "#/j1" and attrs["creation_timestamp"].endswith("+02:00")
    node = job.nodes[0]
    assert (node.name, node.hdf5_path, node.type, node.bin) == ("QPU", "/QPU", "QPUcircuitRunner", "circuitExec.py")
    assert dict(node.attrs)["description"] == "a node"


@pytest.mark.parametrize(
    "values, kind, dtype, shape, preview",
    [
        ([1, 2, 3], "int", "int64", (3,), (1, 2, 3)),
        ([1.2, 2.4], "float", "float64", (2,), (1.2, 2.4)),
        ([True, False], "bool", "bool", (2,), (True, False)),
        (["a", "béta"], "str", "str", (2,), ("a", "béta")),
        ([[[5, 4], [7, 4]], [[8, 2], [8, 7]]], "int", "int64", (2, 2, 2), ([[5, 4], [7, 4]], [[8, 2], [8, 7]])),
        ([[[1, 2], [3, 4]]], "int", "int64", (1, 2, 2), ([[1, 2], [3, 4]],)),
        ([["a", "b"], ["c", "d"]], "str", "str", (2, 2), (["a", "b"], ["c", "d"])),
        ([{"png": "iVBOR"}, None], "json", "str", (2,), ({"png": "iVBOR"}, None)),
        ([["a", 1]], "json", "str", (1,), (["a", 1],)),
        ([], "empty", "float64", (0,), ()),
    ],
)
def test_every_dtype_case(tmp_path, values, kind, dtype, shape, preview):
    outputs, _ = read_one(tmp_path, Out("v", values, units="u"))
    out = outputs["v"]
    assert (out.kind, out.dtype, out.shape, out.n_sets, out.preview) == (kind, dtype, shape, shape[0], preview)
    assert out.units == "u" and out.description == "an output"
    assert out.times is not None and out.times.count == shape[0]


def test_hdf5_enum_bool_on_int8_is_bool(tmp_path):
    path = tmp_path / "j.hdf5"
    with h5py.File(path, "w") as f:
        g = f.create_group("QPU")
        g.create_dataset("b_time", data=np.array(times(2), dtype=STR))
        enum = h5py.enum_dtype({"FALSE": 0, "TRUE": 1}, basetype="i1")
        ds = g.create_dataset("b", data=np.array([1, 0], dtype="i1").astype(enum))
        ds.attrs["units"] = "bool"
    out = read_hdf5_job(path, "j.hdf5").nodes[0].outputs[0]
    assert (out.kind, out.preview) == ("bool", (True, False))


def test_json_with_unicode_escapes_and_big_ints(tmp_path):
    rows = [json.dumps({"é": "µs", "n": 2**70}), "null", '"a"']
    outputs, _ = read_one(tmp_path, Out("j", np.array(rows, dtype=STR)))
    assert "\\u00e9" in rows[0]
    assert outputs["j"].kind == "json"
    assert outputs["j"].preview == ({"é": "µs", "n": 2**70}, None, "a")


def test_non_ascii_names_survive(tmp_path):
    outputs, job = read_one(tmp_path, Out("Δf", [1.0], units="°C", description="Frequenz Δ"), node="測定")
    assert job.nodes[0].name == "測定" and job.nodes[0].hdf5_path == "/測定"
    out = outputs["Δf"]
    assert (out.hdf5_path, out.units, out.description) == ("/測定/Δf", "°C", "Frequenz Δ")


def test_aborted_flush_time_without_values(tmp_path):
    outputs, _ = read_one(tmp_path, Out("ragged", None, times=times(2)))
    out = outputs["ragged"]
    assert (out.kind, out.n_sets, out.times.count) == ("missing", 2, 2)


def test_times_unsorted_duplicates_and_garbage(tmp_path):
    stamps = ["2022-06-25T12:52:14.554Z", "2022-06-25T12:52:14.435Z", "2022-06-25T12:52:14.435Z", "yesterday"]
    outputs, _ = read_one(tmp_path, Out("v", [1, 2, 3, 4], times=stamps))
    t = outputs["v"].times
    assert (t.count, t.sorted, t.duplicates, t.unparsable) == (4, False, 1, 1)
    assert t.first.isoformat() == "2022-06-25T12:52:14.435000+00:00"
    assert t.last.isoformat() == "2022-06-25T12:52:14.554000+00:00"
    assert t.preview[:2] == tuple(stamps[:2])


def test_preview_is_bounded_for_rows_and_big_rows(tmp_path):
    big = np.arange(3 * 300 * 300, dtype=np.float64).reshape(3, 300, 300)
    many = np.arange(1000, dtype=np.int64)
    outputs, _ = read_one(tmp_path, Out("big", big), Out("many", many))
    assert outputs["many"].preview == (0, 1, 2, 3, 4) and outputs["many"].preview_truncated
    rows = outputs["big"].preview
    assert len(rows) == 3 and outputs["big"].preview_truncated
    assert sum(len(r) * len(r[0]) for r in rows) <= 3 * 8192
    assert outputs["big"].nbytes == big.nbytes and outputs["big"].shape == (3, 300, 300)


def test_long_strings_are_capped(tmp_path):
    png = {"png": "A" * 200_000}
    limits = ReadLimits(preview_string_bytes=1000)
    outputs, _ = read_one(tmp_path, Out("plot", [png]), Out("s", ["x" * 5000]), limits=limits)
    assert outputs["plot"].kind == "json" and outputs["plot"].preview_truncated
    assert len(outputs["plot"].preview[0]) <= 1000
    assert outputs["s"].preview == ("x" * 1000,) and outputs["s"].preview_truncated


def test_invalid_utf8_attribute_is_replaced(tmp_path):
    path = write_job(tmp_path / "j.hdf5", metadata("p", "j"), [Node("QPU")])
    with h5py.File(path, "a") as f:
        f.attrs.create("job_description", data=b"\xff\xfe<script>", dtype=STR)
    job = read_hdf5_job(path, "j.hdf5")
    text = dict(job.root_attrs)["job_description"]
    assert text == "\ufffd\ufffd<script>"
    text.encode("utf-8")  # never a lone surrogate


@pytest.mark.parametrize(
    "content, keyword",
    [(b"", "not a valid HDF5 file"), (b"\x89HDF\r\n\x1a\n" + b"\0" * 50, "not a valid HDF5 file"), (b"garbage" * 99, "signature")],
)
def test_corrupt_files_are_problems(tmp_path, content, keyword):
    path = tmp_path / "j.hdf5"
    path.write_bytes(content)
    job = read_hdf5_job(path, "j.hdf5")
    assert not job.readable
    assert job.problems[0].severity == "error" and keyword in job.problems[0].reason


def test_truncated_file_is_corrupt(tmp_path):
    path = write_job(tmp_path / "j.hdf5", metadata("p", "j"), [Node("QPU", [Out("v", np.zeros(20000))])])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    job = read_hdf5_job(path, "j.hdf5")
    assert not job.readable or any(p.severity == "error" for p in job.problems)


# ---------------------------------------------------------------- safety rows 23-25
def canary_file(tmp_path: Path) -> Path:
    canary = tmp_path / "secret.bin"
    canary.write_bytes(CANARY * 4)
    return canary


def assert_refused(job, keyword: str) -> None:
    assert not job.readable
    assert any(keyword in p.reason and p.severity == "error" for p in job.problems), job.problems
    assert CANARY.decode() not in repr(job)


def test_external_storage_is_refused(tmp_path):
    canary = canary_file(tmp_path)
    path = tmp_path / "j.hdf5"
    with h5py.File(path, "w") as f:
        f.create_group("QPU").create_dataset("leak", shape=(len(CANARY),), dtype="u1", external=[(str(canary), 0, len(CANARY))])
    assert_refused(read_hdf5_job(path, "j.hdf5"), "external storage not allowed")
    with pytest.raises(BadInputError, match="external storage"):
        read_output_data(path, "/QPU/leak")


def test_external_link_is_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.frombuffer(CANARY, dtype="u1")
    path = tmp_path / "j.hdf5"
    with h5py.File(path, "w") as f:
        f.create_group("QPU")["x"] = h5py.ExternalLink(str(other), "/data")
    assert_refused(read_hdf5_job(path, "j.hdf5"), "external link")


def test_virtual_dataset_with_other_file_is_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.frombuffer(CANARY, dtype="u1")
    layout = h5py.VirtualLayout(shape=(len(CANARY),), dtype="u1")
    layout[:] = h5py.VirtualSource(str(other), "data", shape=(len(CANARY),))
    path = tmp_path / "j.hdf5"
    with h5py.File(path, "w") as f:
        f.create_group("QPU").create_virtual_dataset("v", layout)
    assert_refused(read_hdf5_job(path, "j.hdf5"), "virtual dataset")


def test_huge_declared_dataset_is_marked_not_read(tmp_path):
    path = tmp_path / "j.hdf5"
    with h5py.File(path, "w") as f:
        f.attrs.update(metadata("p", "j"))
        g = f.create_group("QPU")
        g.create_dataset("bomb", shape=(10**12,), dtype="f8", chunks=(1024,), compression="gzip")
        g["bomb"].attrs["units"] = ""
    assert path.stat().st_size < 100_000
    job = read_hdf5_job(path, "j.hdf5")
    out = job.nodes[0].outputs[0]
    assert out.too_large and out.preview == () and out.nbytes == 8 * 10**12
    assert any("larger than budget" in p.reason for p in job.problems)
    with pytest.raises(BadInputError, match="larger than budget"):
        read_output_data(path, "/QPU/bomb")


# ---------------------------------------------------------------- on-demand values
def test_read_output_data_values_and_times(tmp_path):
    path = write_job(tmp_path / "j.hdf5", metadata("p", "j"), [Node("QPU", [Out("v", [1.5, 2.5]), Out("j", [{"a": 1}, None])])])
    data = read_output_data(path, "/QPU/v")
    assert data.kind == "float" and data.values.tolist() == [1.5, 2.5] and data.complete
    assert [t.isoformat() for t in data.times] == ["2022-06-25T12:52:14+00:00", "2022-06-25T12:52:14.010000+00:00"]
    assert read_output_data(path, "/QPU/j").values == ({"a": 1}, None)
    with pytest.raises(InputMissingError):
        read_output_data(path, "/QPU/nope")


def test_read_outputs_data_reads_many_outputs_in_one_call_like_one_at_a_time(tmp_path):
    path = write_job(tmp_path / "j.hdf5", metadata("p", "j"), [Node("QPU", [Out("v", [1.5, 2.5]), Out("j", [{"a": 1}, None])])])
    many = read_outputs_data(path, ["/QPU/j", "/QPU/v"])
    assert [d.hdf5_path for d in many] == ["/QPU/j", "/QPU/v"]
    one = read_output_data(path, "/QPU/v")
    assert many[1].values.tolist() == one.values.tolist() and many[1].times == one.times
    assert many[0].values == ({"a": 1}, None)
    with pytest.raises(InputMissingError):
        read_outputs_data(path, ["/QPU/v", "/QPU/nope"])


def test_read_outputs_available_leaves_out_what_cannot_be_read(tmp_path):
    path = write_job(tmp_path / "j.hdf5", metadata("p", "j"), [Node("QPU", [Out("v", [1.5, 2.5])])])
    found = read_outputs_available(path, ["/QPU/nope", "/QPU/v"])
    assert list(found) == ["/QPU/v"] and found["/QPU/v"].values.tolist() == [1.5, 2.5]
    assert read_outputs_available(tmp_path / "missing.hdf5", ["/QPU/v"]) == {}


def test_read_output_data_strides_over_budget(tmp_path):
    path = write_job(tmp_path / "j.hdf5", metadata("p", "j"), [Node("QPU", [Out("v", np.arange(1000, dtype=np.float64))])])
    data = read_output_data(path, "/QPU/v", ReadLimits(max_read_bytes=800))
    assert data.stride == 10 and not data.complete and data.values.tolist()[:3] == [0.0, 10.0, 20.0]
    assert len(data.times) == len(data.values) == 100 and data.note


def test_unknown_filter_is_refused_before_any_plugin_loads(tmp_path):
    from h5py import h5d, h5p, h5s, h5t, h5z

    path = tmp_path / "j.hdf5"
    with h5py.File(path, "w") as f:
        group = f.create_group("QPU")
        plist = h5p.create(h5p.DATASET_CREATE)
        plist.set_chunk((4,))
        plist.set_filter(32015, h5z.FLAG_OPTIONAL)  # zstd: a plugin, never built in
        ds = h5py.Dataset(h5d.create(group.id, b"z", h5t.NATIVE_DOUBLE, h5s.create_simple((8,)), dcpl=plist))
        ds[:] = np.arange(8.0)
    job = read_hdf5_job(path, "j.hdf5")
    assert not job.readable and job.problems[0].code == "hdf5-unknown-filter"
    with pytest.raises(BadInputError, match="filter 32015"):
        read_output_data(path, "/QPU/z")


def test_soft_links_are_not_followed(tmp_path):
    path = write_job(tmp_path / "j.hdf5", metadata("p", "j"), [Node("QPU", [Out("v", [1])])])
    with h5py.File(path, "a") as f:
        f["alias"] = h5py.SoftLink("/QPU")
    job = read_hdf5_job(path, "j.hdf5")
    assert [n.name for n in job.nodes] == ["QPU"]
    assert [p.code for p in job.problems] == ["hdf5-soft-link"]
