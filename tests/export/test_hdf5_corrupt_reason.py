"""An ``hdf5-corrupt`` reason keeps libhdf5's own words and no Python class name (fuzz audit L3)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from reportgen.readers.hdf5 import read_hdf5_job


def test_a_damaged_b_tree_is_said_in_libhdf5s_words(tmp_path: Path):
    path = tmp_path / "j1.hdf5"
    with h5py.File(path, "w", libver="earliest") as f:  # old-style groups: indexed by B-trees
        for i in range(3):
            f.create_group(f"node{i}").create_dataset("out", data=np.arange(4))
    raw = bytearray(path.read_bytes())
    second = raw.find(b"TREE", raw.find(b"TREE") + 1)
    raw[second + 4] = 1  # a group's B-tree node now claims to index chunks
    path.write_bytes(bytes(raw))
    (problem,) = read_hdf5_job(path, "j1.hdf5").problems
    assert problem.code == "hdf5-corrupt"
    assert problem.reason == "not a valid HDF5 file (Link visitation failed (incorrect B-tree node type))"
