"""Session 14 audit findings of export (/tmp/audit-exp/FINDINGS.md F2, F3, F10, F11).

F2. A data_store file written to while export runs (a node still logging, an HDF5 file being
    flushed, a stray file) is refused with one line, exit 65, nothing left at the output; the
    size and SHA-256 data.json records are those of the bytes stored (the archive used to say
    "valid" and restore refused it).  ``REPORTGEN_CHANGE_AT`` changes the file for real between
    its hashing and its copying, so the race is deterministic.
F3. An HDF5 dataset of object or region references no longer makes its job "corrupt" in the
    export (the worker could not send h5py.Reference back), and the site builds.
F10. An HDF5 enum output prints no numpy warning.
F11. Every symlink export leaves out is recorded in the archive and counted in the summary.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from tests.export.helpers import assert_same_store
from tests.export.test_audit_fixes import write_store
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli


def read_data_json(archive: Path) -> dict:
    with zipfile.ZipFile(archive) as zf:
        return json.loads(zf.read("data.json"))


def carried_files(data: dict) -> dict[str, dict]:
    """Every data_store file the archive carries (raw and other files), by data_store path."""
    return {item["path"]: item for attrs in data["node_attributes"].values()
            if attrs.get("entropy_role") in ("raw-files", "other-files") for item in attrs["entropy_files"]}


# ---------------------------------------------------------------- F2. a file that changes while export runs
@pytest.mark.parametrize(("kind", "rel"), [
    ("grow", "proj/j1/QPU.log"),  # a node still logging
    ("grow", "proj/j1.hdf5"),  # a job file being flushed
    ("rewrite", "proj/j1/QPU.log"),  # same size, same mtime: only the digest of what is streamed differs
    ("grow", "notes.txt"),  # a stray file, carried by the "other files" node
])
def test_file_changed_while_export_runs_is_refused(tmp_path: Path, kind: str, rel: str):
    store = tmp_path / "data_store"
    write_store(store)
    (store / "notes.txt").write_text("a stray file\n")
    out = tmp_path / "out.aiida"
    run = run_cli("export", store, "-o", out, env={"REPORTGEN_CHANGE_AT": f"{kind}:{rel}"})
    assert_one_error_line(run, 65, "changed while it was read; rerun when the job is done", rel)
    assert not out.exists()
    assert_no_staging_left(tmp_path)


def test_unchanged_store_exports_the_recorded_bytes_and_restores(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store)
    (store / "notes.txt").write_text("a stray file\n")
    out = tmp_path / "out.aiida"
    run = run_cli("export", store, "-o", out, env={"REPORTGEN_CHANGE_AT": "grow:no/such/file"})
    assert run.code == 0, run.stderr
    recorded = carried_files(read_data_json(out))
    assert set(recorded) >= {"proj/j1/QPU.log", "proj/j1.hdf5", "notes.txt"}
    for path, item in recorded.items():
        data = (store / path).read_bytes()
        assert item["size"] == len(data), path
        assert item["sha256"] == hashlib.sha256(data).hexdigest(), path
    restored = tmp_path / "restored"
    assert run_cli("restore", out, "-o", restored).code == 0
    assert_same_store(store, restored)


# ---------------------------------------------------------------- F3. datasets of HDF5 references
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


# ---------------------------------------------------------------- F10. enum outputs
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


# ---------------------------------------------------------------- F11. symlinks left out leave a trace
def add_symlinks(store: Path) -> None:
    os.symlink("proj", store / "alias_project")  # a folder link at the top
    os.symlink("nonexistent", store / "dangling")
    os.symlink(b"caf\xe9", os.fsencode(store / "latin1"))  # a target that is not UTF-8
    os.symlink("/etc/hostname", store / "proj" / "j1" / "link.log")  # in a job's log folder


def symlinks_recorded(archive: Path) -> list[dict]:
    data = read_data_json(archive)
    [other] = [a for a in data["node_attributes"].values() if a.get("entropy_role") == "other-files"]
    return other["entropy_symlinks"]


def test_every_symlink_left_out_is_recorded_and_counted(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store)
    add_symlinks(store)
    first, second = tmp_path / "a.aiida", tmp_path / "b.aiida"
    run = run_cli("export", store, "-o", first)
    assert run.code == 0, run.stderr
    assert "; 4 symlinks recorded (not followed)" in run.stdout
    assert symlinks_recorded(first) == [
        {"path": "alias_project", "target": "proj"},
        {"path": "dangling", "target": "nonexistent"},
        {"path": "latin1", "target": "caf\ufffd", "target_hex": "636166e9"},
        {"path": "proj/j1/link.log", "target": "/etc/hostname"},
    ]
    assert run_cli("archive", "validate", "--strict", first).code == 0
    assert run_cli("export", store, "-o", second).code == 0
    assert first.read_bytes() == second.read_bytes()  # still deterministic


def test_store_without_symlinks_says_nothing_of_them(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store)
    run = run_cli("export", store, "-o", tmp_path / "a.aiida")
    assert run.code == 0, run.stderr
    assert "symlinks recorded" not in run.stdout
    assert symlinks_recorded(tmp_path / "a.aiida") == []
