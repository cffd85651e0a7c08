"""HDF5 datasets of uncommon dtypes export: object and region references become paths (the job is
not made "corrupt", and the site shows them), and an enum output prints no numpy warning."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import h5py
import numpy as np

from tests.export.archives import carried_files, read_data_json
from tests.export.test_audit_fixes import write_store
from tests.invariants import run_cli


# ---------------------------------------------------------------- datasets of HDF5 references
def add_reference_outputs(job_file: Path) -> None:
    """Object references (one null), region references and a scalar reference, as h5py writes them."""
    with h5py.File(job_file, "a") as f:
        node, image = f["QPU"], f["QPU/image"]
        node.create_dataset("targets", data=np.array([image.ref, node.ref, h5py.Reference()], dtype=h5py.ref_dtype))
        node.create_dataset("targets_time", data=np.array(["2022-06-25T12:52:0%d.000Z" % i for i in range(3)],
                                                          dtype=object), dtype=h5py.string_dtype())
        node.create_dataset("window", data=np.array([image.regionref[1:3]], dtype=h5py.regionref_dtype))
        node.create_dataset("window_time", data=np.array(["2022-06-25T12:52:00.000Z"], dtype=object),
                            dtype=h5py.string_dtype())
        node.create_dataset("origin", data=f.ref, dtype=h5py.ref_dtype)
        node.create_dataset("origin_time", data=np.array(["2022-06-25T12:52:00.000Z"], dtype=object),
                            dtype=h5py.string_dtype())


def nodes_by_label(data: dict) -> dict[str, tuple[dict, dict]]:
    return {node["label"]: (data["node_attributes"][pk], data["node_extras"][pk])
            for pk, node in data["export_data"]["Node"].items()}


def test_reference_outputs_export_as_paths_and_the_job_stays_ok(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store, values=np.arange(5.0))
    add_reference_outputs(store / "proj" / "j1.hdf5")
    out = tmp_path / "out.aiida"
    run = run_cli("export", store, "-o", out)
    assert run.code == 0, run.stderr
    data = read_data_json(out)
    nodes = nodes_by_label(data)
    job = next(attrs for attrs, _extras in nodes.values() if attrs.get("entropy_status"))
    assert job["entropy_status"] == "ok"
    assert nodes["targets"][0] == {"list": ["/QPU/image", "/QPU", ""]}
    assert nodes["targets"][1]["entropy_dtype"] == "object reference"
    assert nodes["window"][0] == {"value": "/QPU/image[1:3]"}
    assert nodes["window"][1]["entropy_dtype"] == "region reference"
    assert nodes["origin"][0] == {"value": "/"}
    assert nodes["image"][0] == {"array|times": [5], "array|values": [5]}  # the job's other outputs are there
    raw = carried_files(data)["proj/j1.hdf5"]
    assert raw["sha256"] == hashlib.sha256((store / "proj" / "j1.hdf5").read_bytes()).hexdigest()


def test_reference_outputs_are_shown_as_paths_on_the_site(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store, values=np.arange(5.0))
    add_reference_outputs(store / "proj" / "j1.hdf5")
    run = run_cli("build", store, "-o", tmp_path / "site")
    assert run.code == 0, run.stderr
    pages = "".join(p.read_text() for p in (tmp_path / "site").rglob("*.html"))
    assert "/QPU/image[1:3]" in pages
    assert "object reference" in pages


# ---------------------------------------------------------------- enum outputs
def test_enum_output_exports_without_a_numpy_warning(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store)
    colour = h5py.enum_dtype({"RED": 0, "GREEN": 1, "BLUE": 2}, basetype="i1")
    pair = np.dtype([("n", "<i4"), ("colour", colour)])
    with h5py.File(store / "proj" / "j1.hdf5", "a") as f:
        for name, data in (("colour", np.array([2, 0, 1], dtype=colour)),
                           ("pair", np.array([(1, 2), (3, 0), (5, 1)], dtype=pair))):
            f["QPU"].create_dataset(name, data=data)
            f["QPU"].create_dataset(name + "_time", data=np.array(["2022-06-25T12:52:00.000Z"] * 3, dtype=object),
                                    dtype=h5py.string_dtype())
    out = tmp_path / "out.aiida"
    run = run_cli("export", store, "-o", out, env={"PYTHONWARNINGS": "default"})
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    data = read_data_json(out)
    nodes = nodes_by_label(data)
    with zipfile.ZipFile(out) as zf:
        for label, expected in (("colour", [2, 0, 1]), ("pair", [(1, 2), (3, 0), (5, 1)])):
            uuid = next(n["uuid"] for n in data["export_data"]["Node"].values() if n["label"] == label)
            member = f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}/path/values.npy"
            values = np.load(io.BytesIO(zf.read(member)), allow_pickle=False)
            assert values.tolist() == expected
            assert nodes[label][0]["array|values"] == [3]
