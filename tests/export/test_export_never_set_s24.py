"""Session 24 review (data_stores written by other tools): an output Flame defined but never set
(``float64 (0,)`` value and ``_time``) is an ArrayData with empty ``values.npy`` and ``times.npy``,
as docs/export.md says of empty outputs; and the outputs of a corrupt job carry the true reason in
their Log, not "not readable whole"."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import h5py
import numpy as np

from tests.invariants import run_cli
from tests.readers.builders import Node, Out, simple_job


def export(store: Path, tmp_path: Path) -> tuple[dict, zipfile.ZipFile]:
    out = tmp_path / "out.zip"
    assert run_cli("export", store, "-o", out).code in (0, 1)
    archive = zipfile.ZipFile(out)
    return json.loads(archive.read("data.json")), archive


def node_pk(data: dict, hdf5_path: str) -> str:
    return next(pk for pk, extras in data["node_extras"].items() if extras.get("entropy_hdf5_path") == hdf5_path)


def test_a_never_set_output_is_an_empty_array_data(tmp_path: Path):
    store = tmp_path / "data_store"
    simple_job(store, "lab", "j1", [Node("QPU", [Out("final_data", np.zeros((0,), np.float64), times=[]),
                                                 Out("freq", [1.5, 2.5])])])
    data, archive = export(store, tmp_path)
    pk = node_pk(data, "/QPU/final_data")
    uuid = data["export_data"]["Node"][pk]["uuid"]
    assert data["export_data"]["Node"][pk]["node_type"] == "data.core.array.ArrayData."
    folder = f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}/path/"
    values = np.load(io.BytesIO(archive.read(folder + "values.npy")))
    stamps = np.load(io.BytesIO(archive.read(folder + "times.npy")))
    assert values.shape == (0,) and stamps.shape == (0,)
    logs = [log["message"] for log in data["export_data"].get("Log", {}).values() if "final_data" in log["message"]]
    assert logs == []


def test_outputs_of_a_corrupt_job_say_why_they_are_left_out(tmp_path: Path):
    store = tmp_path / "data_store"
    simple_job(store, "lab", "j1")
    path = store / "lab" / "j1.hdf5"
    with h5py.File(path, "a") as f:  # valid HDF5, but no root attributes: a corrupt job
        for key in list(f.attrs):
            del f.attrs[key]
    data, _ = export(store, tmp_path)
    messages = [log["message"] for log in data["export_data"]["Log"].values() if "final_data" in log["message"]]
    assert messages and all("corrupt" in m and "not readable whole" not in m for m in messages), messages


def test_a_null_dataspace_keeps_its_shape_apart_from_a_scalar(tmp_path: Path):
    store = tmp_path / "data_store"
    path = simple_job(store, "lab", "j1")
    with h5py.File(path, "a") as f:
        f["QPU"].create_dataset("nothing", data=h5py.Empty("f8")).attrs.update(description="d", units="u")
        f["QPU"].create_dataset("one", data=2.5).attrs.update(description="d", units="u")
    data, _ = export(store, tmp_path)
    shapes = {extras["entropy_hdf5_path"]: extras["entropy_shape"] for extras in data["node_extras"].values()
              if "entropy_shape" in extras}
    assert shapes["/QPU/one"] == [] and shapes["/QPU/nothing"] is None
