"""Export then restore gives back the same files and commits; exporting is deterministic."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from reportgen.export import ExportOptions, export_archive, restore_data_store
from tests.export.helpers import assert_same_store, contents


@pytest.mark.parametrize("fmt", ["zip", "tar.zst"])  # tar.gz: in the property test
def test_export_twice_is_byte_identical(example_store: Path, tmp_path: Path, unchanged, fmt: str):
    unchanged(example_store)
    first = export_archive(example_store, tmp_path / "a", ExportOptions(fmt=fmt))
    export_archive(example_store, tmp_path / "b", ExportOptions(fmt=fmt))
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
    assert first.jobs > 0 and first.nodes > first.jobs and first.groups == len(first.parameters["projects"])


def test_example_round_trip(example_store: Path, tmp_path: Path, unchanged):
    unchanged(example_store)
    export_archive(example_store, tmp_path / "a.tar.zst")
    summary = restore_data_store(tmp_path / "a.tar.zst", tmp_path / "restored")
    assert summary.origin == "complete" and summary.repositories > 0
    assert_same_store(example_store, tmp_path / "restored")


def test_edge_case_round_trip(edge_store: Path, tmp_path: Path, unchanged):
    """Corrupt HDF5, hostile names, empty repositories, stray files: all come back byte for byte."""
    unchanged(edge_store)
    export_archive(edge_store, tmp_path / "e.zip")
    restore_data_store(tmp_path / "e.zip", tmp_path / "restored")
    assert_same_store(edge_store, tmp_path / "restored")
    with zipfile.ZipFile(tmp_path / "e.zip") as zf:
        data = json.loads(zf.read("data.json"))
    statuses = {a.get("entropy_status") for a in data["node_attributes"].values()}
    assert "corrupt" in statuses  # unreadable HDF5 jobs are still in the graph


def test_selected_jobs_only(example_store: Path, tmp_path: Path):
    project = sorted(p.name for p in example_store.iterdir() if p.is_dir() and p.name != "git")[0]
    job = sorted(p.stem for p in (example_store / project).glob("*.hdf5"))[0]
    summary = export_archive(example_store, tmp_path / "one.zip", ExportOptions(projects=(project,), jobs=(job,)))
    assert summary.jobs == 1 and summary.groups == 1
    restore = restore_data_store(tmp_path / "one.zip", tmp_path / "r")
    assert restore.origin == "selective"
    restored = contents(tmp_path / "r")
    assert f"{project}/{job}.hdf5" in restored
    assert restored[f"{project}/{job}.hdf5"] == contents(example_store)[f"{project}/{job}.hdf5"]
    assert not any(p.endswith(".hdf5") and p != f"{project}/{job}.hdf5" for p in restored)


@pytest.mark.parametrize("version", ["0.4", "0.10", "main_0001"])
def test_other_export_versions_validate_and_restore(example_store: Path, tmp_path: Path, version: str):
    """--export-version goes through converters' chain (down to 0.4, up to AiiDA 2.x) and back."""
    from converters import is_valid, read_version, validate

    archive = tmp_path / f"a-{version}.zip"
    export_archive(example_store, archive, ExportOptions(export_version=version))
    assert read_version(archive) == version
    problems = validate(archive)
    assert is_valid(problems), problems
    restore_data_store(archive, tmp_path / "restored")
    assert_same_store(example_store, tmp_path / "restored")
    assert not list(tmp_path.glob(".restored.convert-*"))  # the 0.13 copy is gone
