"""Session 24 review (data_stores written by other tools): what the HDF5 reader says of objects
Entropy never writes but a lab's own writer may."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from reportgen.readers.hdf5 import read_hdf5_job
from tests.readers.builders import Node, Out, metadata, write_job


def test_a_nested_group_is_named_with_what_it_holds_and_what_happens_to_it(tmp_path: Path):
    path = write_job(tmp_path / "j1.hdf5", metadata("p", "j1"), [Node("QPU", [Out("x", [1.0])])])
    with h5py.File(path, "a") as f:
        calib = f["QPU"].create_group("calib")
        for i in range(7):
            calib.create_dataset(f"d{i}", data=np.arange(2))
        f["QPU"].create_group("hollow")
    problems = {p.member: p for p in read_hdf5_job(path, "j1.hdf5").problems}
    calib = problems["/QPU/calib"]
    assert calib.code == "hdf5-unexpected" and calib.severity == "warning"
    assert "holds 7 members ('d0', 'd1', 'd2', 'd3', 'd4' and 2 more)" in calib.reason
    assert "not shown or exported" in calib.reason
    assert "nested group, empty;" in problems["/QPU/hollow"].reason


def test_a_null_dataspace_is_not_a_scalar(tmp_path: Path):
    path = write_job(tmp_path / "j1.hdf5", metadata("p", "j1"), [Node("QPU", [Out("x", [1.0])])])
    with h5py.File(path, "a") as f:
        f["QPU"].create_dataset("nothing", data=h5py.Empty("f8"))
        f["QPU"].create_dataset("one", data=2.5)
    outputs = {o.name: o for o in read_hdf5_job(path, "j1.hdf5").nodes[0].outputs}
    assert outputs["nothing"].is_null and outputs["nothing"].n_sets == 0
    assert not outputs["one"].is_null and outputs["one"].shape == () and outputs["one"].n_sets == 1
    assert not outputs["x"].is_null
